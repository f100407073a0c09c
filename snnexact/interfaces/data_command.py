"""``snnexact data info PATH [--raster OUT.png --sample I]``: print data-set statistics."""
from __future__ import annotations

from pathlib import Path

from snnexact.data.info import dataset_info, save_raster
from snnexact.data.shd import SHDDataset


def register(subparsers):
    """Add the ``data`` command (with its ``info`` subcommand) to an argparse subparsers object."""
    data = subparsers.add_parser("data", help="inspect spike data sets")
    sub = data.add_subparsers(dest="data_command", required=True)
    info = sub.add_parser("info", help="statistics of an SHD-layout file or a directory")
    info.add_argument("path", type=Path, help="an .h5/.h5.gz file, or a directory: each *.h5 in it")
    info.add_argument("--raster", type=Path, default=None, metavar="OUT.png",
                      help="write a raster plot of one sample (file PATH only)")
    info.add_argument("--sample", type=int, default=0, metavar="I",
                      help="sample index for --raster (default 0)")
    info.set_defaults(func=run_info)
    return data


def format_info(info):
    """Human-readable multi-line report of a DatasetInfo."""
    return "\n".join([
        f"{info.name}",
        f"  samples          {info.n_samples:,}",
        f"  classes          {info.n_classes}  (samples per label: "
        f"{', '.join(str(c) for c in info.label_counts)})",
        f"  spikes total     {info.total_spikes:,}",
        f"  spikes/sample    mean {info.spikes_mean:,.1f}  median {info.spikes_median:,.1f}  "
        f"min {info.spikes_min:,}  max {info.spikes_max:,}",
        f"  duration         {info.duration:.6g}  (latest spike time)",
        f"  active channels  {info.active_channels} of {info.n_channels}",
        f"  ties/sample      mean {info.ties_mean:,.1f}  median {info.ties_median:,.1f}  "
        f"(spikes sharing a time stamp with an earlier spike)",
    ])


def _files(path):
    if path.is_dir():
        files = sorted(path.glob("*.h5")) + sorted(path.glob("*.h5.gz"))
        if not files:
            raise ValueError(f"path: no *.h5 or *.h5.gz files in directory {path}")
        return files
    return [path]


def run_info(args):
    files = _files(args.path)
    if args.raster is not None and len(files) != 1:
        raise ValueError("--raster needs PATH to be a single file, not a directory")
    for k, f in enumerate(files):
        ds = SHDDataset(f)
        if k:
            print()
        print(format_info(dataset_info(ds)))
        if args.raster is not None:
            n = len(ds)
            if not -n <= args.sample < n:
                raise ValueError(f"--sample: index {args.sample} out of range for {n} samples")
            out = save_raster(ds[args.sample], args.raster, n_channels=ds.n_channels)
            print(f"  raster of sample {args.sample % n} written to {out}")
        ds.close()
    return 0
