"""Final stage of the protocol: variants, resumable runs, summary and the Welch interval."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from snnexact.training.config import TrainConfig
from snnexact.training.protocol import collect, load_best, run_finals, summary_table, variants, welch_difference


def test_welch_interval_matches_the_textbook_formula():
    a, b = np.array([0.80, 0.82, 0.85, 0.79, 0.81]), np.array([0.70, 0.75, 0.71, 0.69, 0.77])
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))  # Welch-Satterthwaite
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    d = welch_difference(a, b)
    assert d["difference"] == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert d["low"] == pytest.approx(a.mean() - b.mean() - half, rel=1e-9)
    assert d["high"] == pytest.approx(a.mean() - b.mean() + half, rel=1e-9)
    assert welch_difference([0.5], [0.4])["low"] is None  # one seed: no interval


def test_variants_change_only_what_they_name():
    lif = TrainConfig(model="lif", readout="integral", window=0.5, lr=1e-2)
    qif = TrainConfig(model="qif", readout="integral", window=0.5, silence_reg=1.0, lr=2e-3)
    v = variants({"lif": lif, "qif": qif})
    assert v["lif@qif-config"] == TrainConfig(**{**qif.__dict__, "model": "lif"})
    assert v["qif@lif-config"].lr == 1e-2 and v["qif@lif-config"].model == "qif"
    assert (v["qif-no-pseudo"].pseudo, v["qif-no-pseudo"].window,
            v["qif-no-pseudo"].silence_reg) == (False, 0.0, 0.0)
    assert v["qif-no-window"].window == 0.0 and v["qif-no-window"].silence_reg == 1.0
    assert v["qif-no-time-norm"].time_norm is False


def test_finals_run_resume_and_summarise(tmp_path):
    tiny = dict(hidden=(6,), batch_size=16, max_samples=48, chunk_size=4, lr=1e-2, w_mean=1.0)
    for model in ("lif", "qif"):
        (tmp_path / f"best_{model}.toml").write_text(TrainConfig(**tiny, model=model).to_toml())
    best = load_best(tmp_path)
    res = run_finals(best, [0, 1], 1, tmp_path / "finals", names=["lif", "qif"], log=print)
    assert [r["seed"] for r in res["qif"]] == [0, 1]
    again = run_finals(best, [0, 1], 1, tmp_path / "finals", names=["lif", "qif"], log=print)
    for name in res:  # resumed from the finished checkpoints: nothing retrained
        assert [r["final"]["test_acc"] for r in again[name]] == \
            [r["final"]["test_acc"] for r in res[name]]
        metrics = (tmp_path / "finals" / name / "seed0" / "metrics.jsonl").read_text()
        assert len(metrics.splitlines()) == 1
    import json
    saved = json.loads((tmp_path / "finals" / "finals.json").read_text())
    run_finals(best, [0], 1, tmp_path / "finals", names=["qif-no-window"], log=print)
    merged = json.loads((tmp_path / "finals" / "finals.json").read_text())
    assert set(merged) == {"lif", "qif", "qif-no-window"}  # a later run keeps the earlier ones
    assert merged["qif"] == saved["qif"]
    # the summary read back from the run folders equals what the runs returned
    assert collect(tmp_path / "finals", 1)["qif"] == res["qif"]
    assert collect(tmp_path / "finals", 2) == {}  # no run has finished 2 epochs
    table = summary_table(res)
    assert "| qif | 2 |" in table and "QIF - LIF test accuracy (final)" in table
    with pytest.raises(ValueError, match="unknown variants"):
        run_finals(best, [0], 1, tmp_path / "x", names=["gru"])
    with pytest.raises(FileNotFoundError, match="best_lif.toml"):
        load_best(tmp_path / "nowhere")


def test_histories_include_unfinished_runs_and_the_evidence_figure_is_written(tmp_path):
    from snnexact.interfaces.plotting import protocol_evidence
    from snnexact.training.protocol import histories
    rows = [{"epoch": e, "val_acc": 0.1 * e, "val_silent_hidden_fraction": 0.5,
             "grad_norm_W0": 1.0 / e, "grad_norm_W1": 2.0} for e in (1, 2, 3)]
    for variant, seed, n in (("lif", 0, 3), ("qif", 0, 3), ("qif", 1, 2)):
        run = tmp_path / variant / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:n]))
    got = histories(tmp_path)
    assert sorted(got) == ["lif", "qif"]
    assert [len(h) for h in got["qif"]] == [3, 2]      # the unfinished seed is included
    assert collect(tmp_path, 3).keys() == {"lif", "qif"} and len(collect(tmp_path, 3)["qif"]) == 1
    protocol_evidence(got, tmp_path / "evidence.png")
    assert (tmp_path / "evidence.png").stat().st_size > 10_000
