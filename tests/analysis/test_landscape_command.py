"""Landscapes around a checkpoint: bitwise identical for 1 and 2 workers, directions normalised
per neuron, and the ``snnexact landscape`` command end to end (NPZ + JSON, --plane FILE)."""
import json

import numpy as np
import pytest

from snnexact.training import checkpoint, optim
from snnexact.interfaces.landscape_command import problem_from_checkpoint, sha256
from snnexact.analysis.directions import flatten, load_directions, random_direction
from snnexact.analysis.landscape import evaluate_grid, landscape_metrics, make_directions
from snnexact.interfaces.cli import main
from snnexact.training.config import TrainConfig
from snnexact.data.splits import load_splits
from snnexact.training.parallel import executor
from snnexact.training.train import build_network


def write_checkpoint(path, **fields):
    cfg = TrainConfig(hidden=(6,), recurrent=True, max_samples=12, **fields)
    _, _, _, n_in, n_out = load_splits(cfg)
    net = build_network(cfg, n_in, n_out)
    params = net.init_params([cfg.seed, 1], w_mean=cfg.w_mean * net.kick)
    checkpoint.save(path, params, optim.init_state(params), 1, 0, cfg.to_json(), [])
    return path


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("ck") / "checkpoint.npz", model="qif")


def test_random_directions_are_normalised_per_neuron(ckpt):
    problem, _ = problem_from_checkpoint(ckpt, indices=[0])
    p = problem.params
    d = random_direction(p, 3)
    for dw, pw in zip(d.W + tuple(r for r in d.R if r is not None),
                      p.W + tuple(r for r in p.R if r is not None)):
        np.testing.assert_allclose(np.linalg.norm(dw, axis=1), np.linalg.norm(pw, axis=1),
                                   rtol=1e-12)
    assert np.all(np.diag(d.R[0]) == 0.0)


def test_gradient_direction_points_downhill(ckpt):
    problem, _ = problem_from_checkpoint(ckpt, indices=[0, 1, 2])
    d1, d2 = make_directions(problem, "gradient", 0)
    land = evaluate_grid(problem, d1, d2, [0.0], [0.0], lambda f, xs: [f(x) for x in xs])
    assert land.dd_a[0, 0] < 0 < land.grad_norm[0, 0]  # D = g . d1 with d1 ~ -g row by row


@pytest.mark.parametrize("backend", ["loky", "threads"])
def test_landscape_bitwise_identical_for_one_and_two_workers(ckpt, backend):
    problem, _ = problem_from_checkpoint(ckpt, indices=[0, 1, 2, 3])
    d1, d2 = make_directions(problem, "random", 1)
    a = np.linspace(-0.4, 0.4, 4)
    out = []
    for n_jobs in (1, 2):
        with executor(backend, n_jobs) as run:
            land = evaluate_grid(problem, d1, d2, a, a, run, rows_per_call=3)
            fr = landscape_metrics(problem, d1, d2, land, run, levels=3, max_refine=5)
        out.append((land, fr))
    (l1, f1), (l2, f2) = out
    for key, value in l1.arrays().items():
        np.testing.assert_array_equal(value, l2.arrays()[key], err_msg=key)
    assert f1 == f2 and f1.n_refined == 5
    assert np.ptp(l1.loss) > 0, "a flat landscape makes the comparison vacuous"


def test_landscape_command_writes_npz_and_json_and_reads_directions_back(ckpt, tmp_path):
    lif = write_checkpoint(tmp_path / "lif.npz", model="lif")
    out = tmp_path / "out"
    assert main(["landscape", str(lif), str(ckpt), "--grid", "3", "--samples", "2", "--refine",
                 "2", "--span", "0.3", "--no-progress", "--out", str(out)]) == 0
    for name in ("loss_maps.png", "loss_maps_log.png", "gradient_maps.png", "mismatch_maps.png",
                 "metrics.png"):
        assert (out / name).stat().st_size > 0
    record = json.loads((out / "qif" / "landscape.json").read_text())
    assert record["checkpoint_sha256"] == sha256(ckpt) and record["samples"] == [0, 1]
    assert record["metrics"]["n_pairs"] == 12 and record["metrics"]["levels"] == 2
    first = np.load(out / "qif" / "landscape.npz")
    # the saved directions reproduce the landscape
    problem, _ = problem_from_checkpoint(ckpt, indices=[0, 1])
    d1, d2 = load_directions(out / "qif" / "landscape.npz", problem.params)
    np.testing.assert_array_equal(flatten(d1), flatten(make_directions(problem, "random", 0)[0]))
    again = tmp_path / "again"
    assert main(["landscape", str(ckpt), "--plane", str(out / "qif" / "landscape.npz"),
                 "--grid", "3", "--samples", "2", "--refine", "0", "--span", "0.3",
                 "--no-progress", "--out", str(again)]) == 0
    np.testing.assert_array_equal(np.load(again / "qif" / "landscape.npz")["loss"],
                                  first["loss"])


def test_landscape_command_single_sample_line(ckpt, tmp_path):
    out = tmp_path / "line"
    assert main(["landscape", str(ckpt), "--line", "--sample", "1", "--grid", "5",
                 "--line-points", "21", "--refine", "3", "--no-progress", "--out",
                 str(out)]) == 0
    line = json.loads((out / "qif" / "line.json").read_text())
    assert line["summary"]["jumps_unattributed"] == 0
    # a QIF spike only (dis)appears at T
    assert all(e["at_T"] for cp in line["change_points"] for e in cp["events"])
    assert (out / "line_events.png").stat().st_size > 0


def test_bad_sample_index_is_a_clear_error(ckpt, tmp_path, capsys):
    assert main(["landscape", str(ckpt), "--sample", "999", "--out", str(tmp_path)]) == 2
    assert "sample index 999 out of range" in capsys.readouterr().err


def test_fsdd_shd_checkpoint_landscape(shared_data, tmp_path):
    """An FSDD-SHD (our conversion, not SHD) network with the integral readout: finite grid."""
    ck = write_checkpoint(tmp_path / "fsdd.npz", model="lif", dataset="shd",
                          data_path=str(shared_data / "fsdd_shd"), pool=5, tau_m=0.02, T=1.0,
                          readout="integral", w_mean=0.1, out_std=1.0)
    problem, _ = problem_from_checkpoint(ck, indices=[0, 1])
    d1, d2 = make_directions(problem, "random", 0)
    land = evaluate_grid(problem, d1, d2, [-0.1, 0.1], [-0.1, 0.1],
                         lambda f, xs: [f(x) for x in xs])
    assert np.all(np.isfinite(land.loss)) and np.all(np.isfinite(land.grad_norm))
    assert problem.network.sizes == (140, 6, 10)


def test_compare_with_landscape_runs_it_on_the_first_seeds_checkpoints(tmp_path, monkeypatch):
    import snnexact.interfaces.commands
    from types import SimpleNamespace
    calls = []

    def fake_report(runs, opts, out):
        calls.append((runs, opts, out))
        return {"LIF": SimpleNamespace(metrics={"jump_density": 0.5}),
                "QIF": SimpleNamespace(metrics={"jump_density": 0.0})}
    monkeypatch.setattr(snnexact.interfaces.commands, "landscape_report", fake_report)
    out = tmp_path / "cmp"
    assert main(["compare", "--epochs", "1", "--max-samples", "20", "--hidden", "3", "--n-jobs",
                 "1", "--seeds", "4", "5", "--no-progress", "--landscape", "--out",
                 str(out)]) == 0
    ((runs, opts, where),) = calls
    assert runs == [out / m / "seed4" / "checkpoint.npz" for m in ("lif", "qif")]
    assert all(r.exists() for r in runs) and where == out / "landscape"
    assert opts.n_jobs == 1 and not opts.progress
    summary = (out / "summary.txt").read_text()
    assert "LIF: jump_density 0.5" in summary and "QIF: jump_density 0" in summary
