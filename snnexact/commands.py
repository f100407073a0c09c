"""Subcommands ``snnexact train``, ``snnexact evaluate`` and ``snnexact compare`` (with
``--landscape``, followed by ``snnexact landscape`` on its checkpoints)."""

import json
from pathlib import Path

from snnexact import checkpoint
from snnexact.config import config_from_json, load_config
from snnexact.analysis.command import BAR_KEYS, LandscapeOptions, landscape_report
from snnexact.compare import MODELS, compare
from snnexact.data.splits import load_splits
from snnexact.parallel import executor
from snnexact.train import CHECKPOINT, build_network, evaluate_split, train

# flags shared by train and compare: name -> (type, help)
_FLAGS = {
    "model": (str, "lif or qif"), "hidden": (int, "hidden layer sizes", "+"),
    "recurrent": (None, "recurrent hidden layers"), "tau_m": (float, "membrane time constant"),
    "T": (float, "trial length"), "readout": (str, "first_spike, max_voltage or integral"),
    "optimiser": (str, "adam or adabelief"), "lr": (float, "learning rate"),
    "lr_schedule": (str, "constant, cosine or step"), "epochs": (int, "epochs"),
    "batch_size": (int, "batch size"), "clip_norm": (float, "gradient clipping (global norm)"),
    "seed": (int, "random seed"), "n_jobs": (int, "worker processes or threads"),
    "backend": (str, "loky, threads or dask"), "scheduler": (str, "Dask scheduler address"),
    "pool": (int, "pool input channels by this factor"), "max_samples": (int, "use only the first N samples of each split"),
    "chunk_size": (int, "samples per parallel task"), "checkpoint_every": (int, "also checkpoint every N batches"),
}


def _add_flags(p, skip=()):
    p.add_argument("--config", help="TOML file with TrainConfig fields")
    p.add_argument("--data", help="SHD-layout file or folder (default: embedded Yin-Yang)")
    for name, spec in _FLAGS.items():
        if name in skip:
            continue
        flag = "--" + name.replace("_", "-")
        if spec[0] is None:
            p.add_argument(flag, dest=name, action="store_true", default=None, help=spec[1])
        else:
            p.add_argument(flag, dest=name, type=spec[0], nargs=spec[2] if len(spec) > 2 else None,
                           default=None, help=spec[1])


def _config(args, **defaults):
    overrides = {name: getattr(args, name, None) for name in _FLAGS}
    if overrides.get("hidden") is not None:
        overrides["hidden"] = tuple(overrides["hidden"])
    if args.data:
        overrides.update(dataset="shd", data_path=args.data)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.config:
        return load_config(args.config, **overrides)
    return load_config(None, **{**defaults, **overrides})


def cmd_train(args):
    cfg = _config(args)
    out = Path(args.out)
    _, _, history = train(cfg, out, resume=args.resume)
    last = history[-1] if history else {}
    print(json.dumps({k: last[k] for k in last if not k.startswith("train_")}, indent=1))
    print(f"results in {out} (config.toml, metrics.jsonl, checkpoint.npz)")


def cmd_evaluate(args):
    params, _, meta = checkpoint.load(args.checkpoint)
    cfg = config_from_json(meta["config"])
    if args.data:
        cfg = load_config(None, **{**json.loads(meta["config"]), "dataset": "shd",
                                   "data_path": args.data})
    train_set, val_set, test_set, n_in, n_out = load_splits(cfg)
    network = build_network(cfg, n_in, n_out)
    network.check_params(params)
    with executor(cfg.backend if cfg.backend != "dask" else "loky", args.n_jobs or 1) as run:
        for name, split in (("validation", val_set), ("test", test_set)):
            m = evaluate_split(run, network, params, split, cfg)
            print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in m.items()))


COMPARE_DEFAULTS = dict(epochs=12, n_jobs=2)


def cmd_compare(args):
    cfg = _config(args, **COMPARE_DEFAULTS)
    seeds = args.seeds if args.seeds else [0]
    compare(cfg, seeds, args.out, resume=args.resume, progress=not args.no_progress)
    if args.landscape:
        out = Path(args.out)
        runs = [out / model / f"seed{seeds[0]}" / CHECKPOINT for model in MODELS]
        opts = LandscapeOptions(n_jobs=cfg.n_jobs, backend="threads" if cfg.backend == "threads"
                                else "loky", progress=not args.no_progress)
        results = landscape_report(runs, opts, out / "landscape")
        lines = ["", f"landscapes around seed {seeds[0]} (docs/landscapes.md; figures in "
                     f"{out / 'landscape'}):"]
        lines += [f"  {name}: " + ", ".join(f"{key} {r.metrics[key]:.3g}" for key in BAR_KEYS
                                           if key in r.metrics)
                  for name, r in results.items()]
        with open(out / "summary.txt", "a") as fh:
            fh.write("\n".join(lines) + "\n")


def register(sub):
    p = sub.add_parser("train", help="train one network (flags and/or a TOML config)")
    _add_flags(p)
    p.add_argument("--out", default="runs/train", help="output folder")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("--data", help="SHD-layout file or folder (default: the run's data)")
    p.add_argument("--n-jobs", dest="n_jobs", type=int, default=1)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("compare", help="main job: train LIF and QIF side by side and compare")
    _add_flags(p, skip=("model",))
    p.add_argument("--seeds", type=int, nargs="+", help="seeds (default: 0)")
    p.add_argument("--out", default="runs/compare", help="output folder")
    p.add_argument("--resume", action="store_true", help="continue interrupted runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--landscape", action="store_true",
                   help="also landscapes around the first seed's LIF and QIF checkpoints "
                        "(snnexact landscape defaults; OUT/landscape, docs/landscapes.md)")
    p.set_defaults(func=cmd_compare)



