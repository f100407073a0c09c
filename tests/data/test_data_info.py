"""``data info``: statistics on a tiny SHD-layout file against values computed here by hand."""
import argparse

import h5py
import numpy as np
import pytest

from snnexact.data import SHDDataset, dataset_info, randman
from snnexact.interfaces.data_command import register

# times already on the float16 grid; sample 0 has one tie at 0.5 (two spikes) and a triple at 0.25
TIMES = [[0.125, 0.25, 0.25, 0.25, 0.5, 0.5], [], [0.0, 1.5], [0.75]]
UNITS = [[3, 1, 2, 9, 0, 4], [], [699, 0], [5]]
LABELS = [0, 1, 1, 2]


def write_tiny(path):
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (4,), dtype=h5py.vlen_dtype(np.float16))
        u = f.create_dataset("spikes/units", (4,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(4):
            t[i] = np.array(TIMES[i], np.float16)
            u[i] = np.array(UNITS[i], np.uint16)
        f["labels"] = np.array(LABELS, np.uint16)
    return path


@pytest.fixture
def tiny(tmp_path):
    return write_tiny(tmp_path / "tiny.h5")


def test_statistics_match_hand_computation(tiny):
    info = dataset_info(tiny)
    counts = [len(t) for t in TIMES]                                   # 6, 0, 2, 1
    ties = [len(t) - len(set(t)) for t in TIMES]                       # 3, 0, 0, 0
    assert info.n_samples == 4 and info.n_classes == 3 and info.n_channels == 700
    assert info.label_counts == (1, 2, 1)
    assert info.total_spikes == sum(counts) == 9
    assert info.spikes_mean == np.mean(counts) and info.spikes_median == np.median(counts)
    assert (info.spikes_min, info.spikes_max) == (0, 6)
    assert info.duration == 1.5
    assert info.active_channels == len(set(sum(UNITS, [])))           # 8 distinct units
    assert info.ties_mean == np.mean(ties) == 0.75 and info.ties_median == 0.0
    assert dataset_info(SHDDataset(tiny)) == info


def test_info_of_in_memory_dataset():
    ds = randman(2, 6, 4, seed=1)
    info = dataset_info(ds, name="randman")
    assert info.name == "randman" and info.total_spikes == 48 and info.active_channels == 6


def _run(argv):
    parser = argparse.ArgumentParser(prog="snnexact")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_file_and_raster(tiny, tmp_path, capsys):
    out = tmp_path / "raster.png"
    assert _run(["data", "info", str(tiny), "--raster", str(out), "--sample", "0"]) == 0
    text = capsys.readouterr().out
    assert "samples          4" in text and "spikes total     9" in text
    assert "min 0  max 6" in text and "active channels  8 of 700" in text
    assert "ties/sample      mean 0.8  median 0.0" in text and "raster of sample 0" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_directory_reports_each_file(tiny, tmp_path, capsys):
    write_tiny(tmp_path / "second.h5")
    assert _run(["data", "info", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "second.h5" in text and "tiny.h5" in text and text.count("samples  ") == 2
    with pytest.raises(ValueError, match="--raster"):
        _run(["data", "info", str(tmp_path), "--raster", str(tmp_path / "x.png")])


def test_cli_errors(tiny, tmp_path):
    with pytest.raises(ValueError, match="--sample"):
        _run(["data", "info", str(tiny), "--raster", str(tmp_path / "x.png"), "--sample", "9"])
    with pytest.raises(ValueError, match="no \\*.h5"):
        (tmp_path / "empty").mkdir()
        _run(["data", "info", str(tmp_path / "empty")])
    with pytest.raises(FileNotFoundError, match="zenkelab"):
        _run(["data", "info", str(tmp_path / "nope.h5")])
