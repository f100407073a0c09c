"""Trainer: bitwise determinism across workers and backends, exact resume after kill -9,
atomic checkpoints, config handling, optimisers."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from snnexact.training import checkpoint, optim
from snnexact.interfaces.commands import CHECKPOINT_SIGNAL_ENV
from snnexact.training.config import TrainConfig, load_config
from snnexact.data.splits import load_splits
from snnexact.training.train import train

TINY = dict(hidden=(6,), epochs=2, batch_size=16, max_samples=48, chunk_size=4, lr=1e-2, w_mean=1.0,
            w_std=0.75)


@pytest.fixture(scope="module")
def tiny_splits():
    return load_splits(TrainConfig(**TINY))


def _params_bytes(params):
    return b"".join(a.tobytes() for a in params.named().values())


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_n_jobs_1_and_2_are_bitwise_identical(tmp_path, tiny_splits, model):
    runs = {}
    for n_jobs, backend in ((1, "loky"), (2, "loky"), (2, "threads")):
        cfg = TrainConfig(**TINY, model=model, n_jobs=n_jobs, backend=backend)
        _, params, hist = train(cfg, tmp_path / f"{n_jobs}{backend}", progress=False,
                                splits=tiny_splits)
        runs[(n_jobs, backend)] = (_params_bytes(params), [h["val_loss"] for h in hist])
    ref = runs[(1, "loky")]
    for key, val in runs.items():
        assert val == ref, f"{key} differs from n_jobs=1"
    # and training moved the weights
    cfg = TrainConfig(**TINY, model=model)
    from snnexact.training.train import build_network
    net = build_network(cfg, 5, 3)
    assert _params_bytes(net.init_params([cfg.seed, 1])) != ref[0]


def _start_training(cfg, run_dir, tmp_path, signal_file, resume=False):
    """``snnexact train`` in a subprocess that stops after each checkpoint until
    ``signal_file`` (holding "epoch batch") is removed."""
    cfg_file = tmp_path / f"{run_dir.name}.toml"
    cfg_file.write_text(cfg.to_toml())
    cmd = [sys.executable, "-m", "snnexact.interfaces.cli", "train", "--config", str(cfg_file),
           "--out", str(run_dir)] + (["--resume"] if resume else [])
    env = {**os.environ, CHECKPOINT_SIGNAL_ENV: str(signal_file)}
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _next_checkpoint(proc, signal_file, timeout=300):
    """Wait for the trainer to signal a checkpoint; ``(epoch, batch)``, or None if it ended."""
    deadline = time.monotonic() + timeout
    while not signal_file.exists():
        if proc.poll() is not None:
            return None
        assert time.monotonic() < deadline, "the trainer signalled no checkpoint in time"
        time.sleep(0.01)
    epoch, batch = map(int, signal_file.read_text().split())
    return epoch, batch


def test_resume_after_kill_gives_the_uninterrupted_result(tmp_path, tiny_splits):
    """Killed (SIGKILL) right after the checkpoint of epoch 1, batch 1 -- a point the trainer
    signals and waits at, so the test never races the training -- and resumed, the run ends
    with the weights of an uninterrupted run."""
    cfg = TrainConfig(**{**TINY, "epochs": 3}, model="qif", checkpoint_every=1)
    _, params, _ = train(cfg, tmp_path / "full", progress=False, splits=tiny_splits)
    run_dir = tmp_path / "killed"
    signal_file = tmp_path / "checkpoint-signal"
    proc = _start_training(cfg, run_dir, tmp_path, signal_file)
    seen = []
    while True:
        at = _next_checkpoint(proc, signal_file)
        assert at is not None, f"training ended before (1, 1): {proc.stderr.read().decode()}"
        seen.append(at)
        if at == (1, 1):
            proc.send_signal(signal.SIGKILL)
            break
        signal_file.unlink()
    proc.wait()
    proc.stderr.close()
    ckpt = run_dir / "checkpoint.npz"
    meta = checkpoint.load(ckpt)[2]
    assert (meta["epoch"], meta["batch"]) == (1, 1) and seen[0] == (0, 1)
    subprocess.run([sys.executable, "-m", "snnexact.interfaces.cli", "train", "--config",
                    str(tmp_path / "killed.toml"), "--out", str(run_dir), "--resume"],
                   check=True, stdout=subprocess.DEVNULL)
    resumed = checkpoint.load(ckpt)[0]
    assert _params_bytes(resumed) == _params_bytes(params)
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(l)["epoch"] for l in lines] == [1, 2, 3]


def test_loky_workers_end_when_the_trainer_is_killed(tmp_path):
    """kill -9 of a trainer with 2 loky workers: the workers notice and exit."""
    psutil = pytest.importorskip("psutil")
    cfg = TrainConfig(**{**TINY, "epochs": 2}, model="qif", checkpoint_every=1, n_jobs=2)
    signal_file = tmp_path / "checkpoint-signal"
    proc = _start_training(cfg, tmp_path / "run", tmp_path, signal_file)
    at = _next_checkpoint(proc, signal_file)
    assert at is not None, proc.stderr.read().decode()
    children = psutil.Process(proc.pid).children(recursive=True)
    workers = [c for c in children if "loky" in " ".join(c.cmdline())]
    assert workers, f"no loky workers among {[c.cmdline() for c in children]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    gone, alive = psutil.wait_procs(workers, timeout=30)
    for p in alive:  # clean up before failing
        p.kill()
    assert not alive, f"{len(alive)} loky workers outlived the trainer"


def test_checkpoint_roundtrip_and_corrupt_file(tmp_path):
    from snnexact.engine.network import Network
    from snnexact.engine.neurons import QIF
    net = Network(QIF(1.0), (3, 4, 2), recurrent=True)
    params = net.init_params(0)
    state = optim.init_state(params)
    optim.apply("adam", params, net.init_params(1), state, 0.1)
    path = tmp_path / "c.npz"
    checkpoint.save(path, params, state, 2, 5, "{}", [{"epoch": 1}])
    p2, s2, meta = checkpoint.load(path)
    assert _params_bytes(p2) == _params_bytes(params) and s2.step == 1
    assert _params_bytes(s2.m) == _params_bytes(state.m)
    assert meta["epoch"] == 2 and meta["batch"] == 5 and meta["history"] == [{"epoch": 1}]
    assert not list(tmp_path.glob("*.tmp"))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable snnexact checkpoint"):
        checkpoint.load(path)


def test_config_validation_and_toml_roundtrip(tmp_path):
    with pytest.raises(ValueError, match="model"):
        TrainConfig(model="izhikevich")
    with pytest.raises(ValueError, match="scheduler"):
        TrainConfig(backend="dask")
    cfg = TrainConfig(hidden=(7, 5), lr=3e-3, recurrent=True)
    f = tmp_path / "c.toml"
    f.write_text(cfg.to_toml())
    assert load_config(f) == cfg
    f.write_text("not_a_field = 1\n")
    with pytest.raises(ValueError, match="unknown keys"):
        load_config(f)


def test_committed_benchmark_configs_load():
    """The configs that docs/results.md quotes stay valid as TrainConfig evolves."""
    configs = sorted((Path(__file__).parents[1] / "benchmarks" / "configs").glob("*.toml"))
    assert configs, "benchmarks/configs/*.toml not found"
    for path in configs:
        cfg = load_config(path)
        assert cfg.epochs > 0 and (cfg.dataset == "shd" or "yinyang" in path.name), path


def test_optimisers_descend_a_quadratic():
    """Both optimisers reduce sum(p^2) from a fixed start (a derivation-free sanity check that
    the update has the right sign and bias correction)."""
    from snnexact.engine.network import Params
    for kind in optim.OPTIMISERS:
        p = Params((np.array([[3.0, -2.0]]),), (None,))
        state = optim.init_state(p)
        for _ in range(200):
            g = Params((2 * p.W[0],), (None,))
            optim.apply(kind, p, g, state, 0.05)
        assert np.abs(p.W[0]).max() < 0.2, kind


def test_dask_cluster_matches_local_run(tmp_path, tiny_splits):
    distributed = pytest.importorskip("distributed")
    cfg = TrainConfig(**TINY, model="qif")
    _, local, _ = train(cfg, tmp_path / "local", progress=False, splits=tiny_splits)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        dcfg = TrainConfig(**TINY, model="qif", backend="dask", scheduler=cluster.scheduler_address)
        _, remote, _ = train(dcfg, tmp_path / "dask", progress=False, splits=tiny_splits)
    assert _params_bytes(remote) == _params_bytes(local)


def test_cli_defaults_and_overrides():
    from snnexact.interfaces.cli import build_parser
    from snnexact.interfaces.commands import COMPARE_DEFAULTS, _config
    parse = build_parser().parse_args
    assert _config(parse(["compare"]), **COMPARE_DEFAULTS).epochs == COMPARE_DEFAULTS["epochs"]
    cfg = _config(parse(["compare", "--epochs", "3", "--hidden", "7", "5"]), **COMPARE_DEFAULTS)
    assert cfg.epochs == 3 and cfg.hidden == (7, 5) and cfg.n_jobs == COMPARE_DEFAULTS["n_jobs"]


def test_compare_end_to_end(tmp_path, capsys):
    """The main job on a tiny budget: table, results and figures are written, and the
    checkpoints it leaves can be evaluated."""
    from snnexact.interfaces.cli import main
    out = tmp_path / "cmp"
    rc = main(["compare", "--epochs", "1", "--max-samples", "40", "--hidden", "4", "--n-jobs",
               "1", "--no-progress", "--out", str(out)])
    assert rc == 0
    table = (out / "summary.txt").read_text()
    assert "LIF" in table and "QIF" in table and "test acc" in table
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"lif", "qif"} and all(len(v) == 1 for v in results.values())
    for fig in ("training_curves.png", "sample.png"):
        assert (out / fig).stat().st_size > 10_000
    for model in ("lif", "qif"):
        assert (out / model / "seed0" / "config.toml").exists()
    capsys.readouterr()
    assert main(["evaluate", str(out / "qif" / "seed0" / "checkpoint.npz")]) == 0
    printed = capsys.readouterr().out
    assert "validation: loss" in printed and "test: loss" in printed


def test_resume_with_other_workers_but_not_other_settings(tmp_path, tiny_splits):
    """n_jobs/backend do not change the result, so a run may resume with other values; any
    other change (here the number of epochs, which shapes the cosine schedule) is refused."""
    cfg = TrainConfig(**TINY, model="qif")
    _, ref, _ = train(cfg, tmp_path / "run", progress=False, splits=tiny_splits)
    with pytest.raises(ValueError, match=r"differs .* in \['epochs'\]"):
        train(TrainConfig(**{**TINY, "epochs": 3}, model="qif"), tmp_path / "run", resume=True,
              progress=False, splits=tiny_splits)
    _, again, _ = train(TrainConfig(**TINY, model="qif", n_jobs=2, backend="threads"),
                        tmp_path / "run", resume=True, progress=False, splits=tiny_splits)
    assert _params_bytes(again) == _params_bytes(ref)


def test_training_on_shd_layout_files(tmp_path):
    """The SHD path of the trainer: files found by name, cropped to T, channels pooled, a fixed
    validation hold-out, one epoch of training that writes its metrics."""
    from data.test_shd_loader import write_shd
    rng = np.random.default_rng(0)

    def samples(n):
        out = []
        for _ in range(n):
            k = int(rng.integers(5, 40))
            out.append((np.sort(rng.uniform(0, 1.5, k)).astype(np.float16),
                        rng.integers(0, 700, k).astype(np.uint16)))
        return out
    write_shd(tmp_path / "x_train.h5", samples(20), list(rng.integers(0, 3, 20)))
    write_shd(tmp_path / "x_test.h5", samples(6), list(rng.integers(0, 3, 6)))
    cfg = TrainConfig(dataset="shd", data_path=str(tmp_path), tau_m=0.02, T=1.0, pool=10,
                      hidden=(5,), readout="integral", epochs=1, batch_size=8,
                      validation_fraction=0.25)
    tr, va, te, n_in, n_out = load_splits(cfg)
    assert (n_in, n_out) == (70, 3) and (len(tr), len(va), len(te)) == (15, 5, 6)
    assert all(t.max(initial=0) < 1.0 and u.max(initial=0) < 70 for t, u in zip(tr.times, tr.units))
    _, params, hist = train(cfg, tmp_path / "run", progress=False, splits=(tr, va, te, n_in, n_out))
    assert params.W[0].shape == (5, 70) and len(hist) == 1 and "test_acc" in hist[0]


@pytest.mark.parametrize("kind", optim.OPTIMISERS)
def test_optimiser_step_matches_the_numpy_formulas_bitwise(kind):
    """The compiled update equals the module docstring's formulas written as NumPy array
    expressions, bit for bit, over several steps (C- and Fortran-ordered arrays)."""
    from snnexact.engine.network import Params
    rng = np.random.default_rng(5)
    shapes = [(7, 5), (5, 3)]
    p = Params((rng.normal(size=shapes[0]), np.asfortranarray(rng.normal(size=shapes[1]))),
               (rng.normal(size=(5, 5)), None))
    assert not p.W[1].flags.c_contiguous
    expect = p.copy()
    state = optim.init_state(p)
    m = {k: np.zeros_like(a) for k, a in p.named().items()}
    v = {k: np.zeros_like(a) for k, a in p.named().items()}
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    for t in range(1, 6):
        g = p.map(lambda a: rng.normal(size=a.shape) * 10.0 ** rng.integers(-8, 3))
        optim.apply(kind, p, g, state, lr)
        c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        for k, gg in g.named().items():
            m[k] = b1 * m[k] + (1.0 - b1) * gg
            d = gg - m[k]
            v[k] = b2 * v[k] + ((1.0 - b2) * d * d + eps if kind == "adabelief"
                                else (1.0 - b2) * gg * gg)
            expect.named()[k][...] -= lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + eps)
    assert _params_bytes(p) == _params_bytes(expect)
    assert all(np.array_equal(state.m.named()[k], m[k]) and np.array_equal(state.v.named()[k], v[k])
               for k in m)