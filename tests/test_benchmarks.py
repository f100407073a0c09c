"""``benchmarks/run_all.py`` runs end to end in its quickest mode and writes every figure; the
timings themselves are not checked (they depend on the machine and its load)."""
import json
from pathlib import Path
import subprocess
import sys

RUN_ALL = Path(__file__).resolve().parents[1] / "benchmarks" / "run_all.py"
SAMPLE_KEYS = {"forward_median_ms", "forward_min_ms", "value_and_grad_median_ms",
               "value_and_grad_min_ms", "value_and_grad_peak_mb", "events", "hidden_spikes",
               "output_spikes", "status"}
EPOCH_KEYS = {"n_jobs_1_s", "n_jobs_2_s", "efficiency", "n_jobs_2_threads_s", "efficiency_threads",
              "ms_per_sample_n_jobs_1", "rounds", "efficiency_per_round",
              "bitwise_identical"}
MACHINE_KEYS = {"cpu", "n_cpus", "platform", "python", "numpy", "numba", "git_commit",
                "snnexact_package"}


def test_run_all_quick_synthetic_writes_every_figure(tmp_path):
    out = tmp_path / "perf.json"
    run = subprocess.run([sys.executable, str(RUN_ALL), "--quick", "--synthetic",
                          "--skip-cold-start", "--repeats", "1", "--max-samples", "8",
                          "--epoch-rounds", "2",
                          "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "SYNTHETIC" in run.stdout
    res = json.loads(out.read_text())
    assert {"command", "machine", "load_average_start", "load_average_end", "workload",
            "memory_method", "sample", "epoch", "cold_start"} <= set(res)
    assert MACHINE_KEYS <= set(res["machine"])
    assert len(res["load_average_start"]) == len(res["load_average_end"]) == 3
    assert res["workload"]["sample"].startswith("SYNTHETIC")
    for model in ("lif", "qif"):
        assert SAMPLE_KEYS <= set(res["sample"][model])
    for key in ("lif", "qif", "lif_at_qif_activity"):
        assert EPOCH_KEYS <= set(res["epoch"][key])
        assert res["epoch"][key]["bitwise_identical"] is True
        assert all(len(ts) == 2 for ts in res["epoch"][key]["rounds"].values())
    assert set(res["cold_start"]) == {"empty_cache", "empty_cache_runs", "filled_cache"}


def test_cold_start_reports_the_median_run():
    sys.path.insert(0, str(RUN_ALL.parent))
    try:
        import run_all
    finally:
        sys.path.remove(str(RUN_ALL.parent))
    runs = [{"lif_first_call_s": a, "qif_first_call_s": b, "i": i}
            for i, (a, b) in enumerate([(3.0, 6.0), (2.0, 5.0), (4.0, 4.5), (3.5, 6.0)])]
    assert run_all.median_run(runs[:3])["i"] == 2  # sums 9.0, 7.0, 8.5
    assert run_all.median_run(runs)["i"] == 2      # 7.0, 8.5 | 9.0, 9.5: the lower middle
    assert run_all.median_run(runs[:1])["i"] == 0
