#!/usr/bin/env python
"""All performance figures of docs/performance.md in one run, for LIF and QIF.

    python benchmarks/run_all.py [--json OUT] [--quick] [--synthetic] [--skip-cold-start]
                                [--cold-repeats N]

Measures and prints, for each model:

1. ``snnexact.simulate`` and ``snnexact.value_and_grad`` (first-spike loss, label 0): median and
   minimum wall time over ``--repeats`` calls on one sample, FSDD-SHD test sample 32
   (``--data-file``, ``--sample``); network (700, 128, 20), recurrent hidden layer,
   tau_m = 20 ms, T = 1 s, weights ``init_params(0)`` scaled to the training regime
   (LIF x2, QIF x12; see ``workload.py``);
2. the tracemalloc peak of one ``value_and_grad`` call on that sample;
3. the training pass of one epoch of a 700-128(recurrent)-10 network on FSDD-SHD's training
   split (``--data-dir``) with ``snnexact.training.train.train``, for n_jobs = 1 and 2 (loky
   processes, the default backend, and threads), each configuration run ``--epoch-rounds``
   times in turn (the machine's speed drifts by several per cent within minutes): the medians,
   the parallel efficiency t1 / (2 t2) of the medians (and of each round), and whether the
   parameters after the epoch are bitwise equal for all runs; the same for
   LIF at about QIF's hidden activity (``lif_at_qif_activity``, ``w_mean = 0.03`` kicks: at
   the default initialisation most LIF samples run into the spike budget, see
   ``workload.py``);
4. cold start: the first ``value_and_grad`` of each model (LIF, then QIF) in a fresh
   subprocess with an empty ``NUMBA_CACHE_DIR``, ``--cold-repeats`` times (each with its own
   empty folder; the run with the median LIF + QIF time is reported, every run is kept), and
   the import plus first calls of a subprocess with the last folder filled.

``--json OUT`` writes every figure together with the machine (CPU, cores, Python, NumPy and
Numba versions, git commit) and the load average at the start and the end (the figures are
wall times, so they mean little without it). Without the data folder, or with ``--synthetic``,
a seeded synthetic stand-in replaces the sample and the training split (the output says so).
``--quick`` takes fewer repeats and 64 training samples, to check that the command runs.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as wl  # noqa: E402

LABEL = 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", metavar="OUT", help="write every figure and the machine facts here")
    p.add_argument("--quick", action="store_true",
                   help="5 repeats and 64 training samples (a smoke test, not a measurement)")
    p.add_argument("--synthetic", action="store_true",
                   help="use the synthetic stand-ins even if the data folder exists")
    p.add_argument("--skip-cold-start", action="store_true",
                   help="leave out the cold-start subprocesses (their figures are null)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per figure (default 30)")
    p.add_argument("--cold-repeats", type=int, default=None,
                   help="fresh-cache subprocesses of the cold start (default 3; --quick: 1)")
    p.add_argument("--epoch-rounds", type=int, default=None,
                   help="times each epoch configuration runs, in turn (default 3; --quick: 1)")
    p.add_argument("--max-samples", type=int, default=None,
                   help="training samples for the epoch (default: all; --quick: 64)")
    p.add_argument("--data-file", default=wl.TEST_FILE, help="file of the one-sample figures")
    p.add_argument("--sample", type=int, default=32, help="sample index in --data-file")
    p.add_argument("--data-dir", default=wl.DATA_DIR, help="FSDD-SHD folder of the epoch figure")
    p.add_argument("--seed", type=int, default=0, help="init_params seed of the one-sample figures")
    p.add_argument("--cold-child", metavar="JSON", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.repeats is None:
        a.repeats = 5 if a.quick else 30
    if a.epoch_rounds is None:
        a.epoch_rounds = 1 if a.quick else 3
    if a.cold_repeats is None:
        a.cold_repeats = 1 if a.quick else 3
    if a.max_samples is None and a.quick:
        a.max_samples = 64
    if a.repeats < 1:
        p.error("--repeats must be >= 1")
    if a.epoch_rounds < 1:
        p.error("--epoch-rounds must be >= 1")
    if a.cold_repeats < 1:
        p.error("--cold-repeats must be >= 1")
    return a


def sample_figures(model, times, units, repeats, seed, np):
    """Figures 1 and 2 for ``model``: forward and value-and-grad times, peak memory."""
    import snnexact
    net = wl.network(model)
    params = wl.scaled_params(net, seed, wl.SCALES[model])

    def forward():
        return snnexact.simulate(net, params, times, units, wl.T, on_budget="ignore")

    def vg():
        return snnexact.value_and_grad(net, params, times, units, LABEL, wl.T)

    vg()  # compile or load the kernels
    fw_med, fw_min, res = wl.time_calls(forward, repeats, np)
    vg_med, vg_min, _ = wl.time_calls(vg, repeats, np)
    peak = wl.peak_memory(vg)
    return {"forward_median_ms": 1e3 * fw_med, "forward_min_ms": 1e3 * fw_min,
            "value_and_grad_median_ms": 1e3 * vg_med, "value_and_grad_min_ms": 1e3 * vg_min,
            "value_and_grad_peak_mb": peak / 2 ** 20, "events": int(res.n_events),
            "hidden_spikes": int(res.layers[0].n_spikes),
            "output_spikes": int(res.layers[1].n_spikes), "status": int(res.status)}


def epoch_figures(model, splits, data_dir, w_mean=None, rounds=3):
    """Figure 3 for ``model``: the training pass of one epoch per configuration (n_jobs = 1,
    n_jobs = 2 with loky processes, n_jobs = 2 with threads), run ``rounds`` times in turn; the
    medians, the efficiencies of the medians, and every round's times."""
    configs = {"n_jobs_1_s": (1, "loky"), "n_jobs_2_s": (2, "loky"),
               "n_jobs_2_threads_s": (2, "threads")}
    times, finals = {key: [] for key in configs}, set()
    for _ in range(rounds):
        for key, (n_jobs, backend) in configs.items():
            seconds, final = wl.time_epoch(model, n_jobs, splits, data_dir, backend=backend,
                                           w_mean=w_mean)
            times[key].append(seconds)
            finals.add(final)
    out = {key: statistics.median(ts) for key, ts in times.items()}
    out["rounds"] = times
    t1, t2, t2_threads = out["n_jobs_1_s"], out["n_jobs_2_s"], out["n_jobs_2_threads_s"]
    out["efficiency"] = t1 / (2 * t2)
    out["efficiency_threads"] = t1 / (2 * t2_threads)
    out["efficiency_per_round"] = [a / (2 * b) for a, b in zip(times["n_jobs_1_s"],
                                                                times["n_jobs_2_s"])]
    out["ms_per_sample_n_jobs_1"] = 1e3 * t1 / len(splits[0])
    out["bitwise_identical"] = len(finals) == 1
    return out


def cold_child(spec):
    """In a fresh process: the import time and the first ``value_and_grad`` of each model."""
    t0 = time.perf_counter()
    import numpy as np
    import snnexact
    out = {"import_s": time.perf_counter() - t0}
    times, units, _ = wl.load_sample(spec["data_file"], np, spec["sample"])
    for model in wl.MODELS:
        net = wl.network(model)
        params = wl.scaled_params(net, 0, wl.SCALES[model])
        t1 = time.perf_counter()
        snnexact.value_and_grad(net, params, times, units, LABEL, wl.T)
        out[f"{model}_first_call_s"] = time.perf_counter() - t1
    out["import_and_first_calls_s"] = time.perf_counter() - t0
    print(json.dumps(out))


def cold_start(data_file, sample, repeats=3):
    """Figure 4: ``repeats`` subprocesses, each with an empty Numba cache folder of its own (the
    one with the median LIF + QIF first-call time is ``empty_cache``, all are in
    ``empty_cache_runs``), then one with the last folder filled."""
    spec = json.dumps({"data_file": data_file, "sample": sample})
    runs = []
    for i in range(repeats):
        with tempfile.TemporaryDirectory(prefix="snnexact_bench_numba_") as cache:
            runs.append(_cold_child_run(spec, cache))
            if i == repeats - 1:
                filled = _cold_child_run(spec, cache)
    return {"empty_cache": median_run(runs), "empty_cache_runs": runs, "filled_cache": filled}


def median_run(runs):
    """The run with the median LIF + QIF first-call time (of an even count, the lower middle)."""
    by_time = sorted(runs, key=lambda r: r["lif_first_call_s"] + r["qif_first_call_s"])
    return by_time[(len(by_time) - 1) // 2]


def _cold_child_run(spec, cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "NUMBA_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, os.path.abspath(__file__), "--cold-child", spec],
                         env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"cold-start subprocess failed:\n{run.stderr}")
    out = json.loads(run.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.cold_child:
        cold_child(json.loads(args.cold_child))
        return 0
    os.environ["NUMBA_NUM_THREADS"] = "1"
    load_start = wl.load_average()
    import numpy as np
    data_file = None if args.synthetic else args.data_file
    data_dir = None if args.synthetic else args.data_dir
    times, units, sample_desc = wl.load_sample(data_file, np, args.sample)
    splits, epoch_desc = wl.training_splits(data_dir, args.max_samples)
    for desc in (sample_desc, epoch_desc):
        if desc.startswith("SYNTHETIC"):
            print(f"NOTE: {desc} (no data at {args.data_dir} or --synthetic); the figures are "
                  f"not comparable with the FSDD-SHD ones")
    print(f"one-sample figures: {sample_desc}; epoch: {epoch_desc}")
    out = {"command": " ".join(["benchmarks/run_all.py", *(argv or sys.argv[1:])]),
           "machine": wl.machine_facts(np), "load_average_start": load_start,
           "workload": {"sample": sample_desc, "sizes": [wl.N_IN, wl.N_HID, wl.N_OUT],
                        "recurrent": True, "tau_m_s": wl.TAU_M, "T_s": wl.T, "label": LABEL,
                        "init_seed": args.seed, "weight_scales": wl.SCALES,
                        "repeats": args.repeats, "epoch_rounds": args.epoch_rounds,
                        "cold_repeats": args.cold_repeats,
                        "epoch_data": epoch_desc,
                        "epoch_sizes": [wl.N_IN, wl.N_HID, splits[4]],
                        "epoch_training_samples": len(splits[0]),
                        "quick": args.quick},
           "sample": {}, "epoch": {},
           "cold_start": {"empty_cache": None, "empty_cache_runs": [], "filled_cache": None}}
    out["memory_method"] = ("tracemalloc peak (Numba kernel allocations verified to be traced)"
                            if wl.tracemalloc_sees_numba(np) else
                            "tracemalloc peak (WARNING: Numba allocations NOT traced)")
    for model in wl.MODELS:
        s = out["sample"][model] = sample_figures(model, times, units, args.repeats, args.seed, np)
        print(f"{model}: forward {s['forward_median_ms']:.2f} ms median "
              f"({s['forward_min_ms']:.2f} min), value_and_grad {s['value_and_grad_median_ms']:.2f}"
              f" ms median ({s['value_and_grad_min_ms']:.2f} min), peak "
              f"{s['value_and_grad_peak_mb']:.2f} MB, {s['events']} events, "
              f"{s['hidden_spikes']}/{s['output_spikes']} hidden/output spikes", flush=True)
    for key, model, w_mean in (*((m, m, None) for m in wl.MODELS),
                               ("lif_at_qif_activity", "lif", wl.LIF_MATCHED_W_MEAN)):
        e = out["epoch"][key] = epoch_figures(model, splits, data_dir, w_mean, args.epoch_rounds)
        per_round = ", ".join(f"{x:.1%}" for x in e["efficiency_per_round"])
        print(f"{key} (medians of {args.epoch_rounds}): epoch n_jobs=1 {e['n_jobs_1_s']:.2f} s, "
              f"n_jobs=2 {e['n_jobs_2_s']:.2f} s, efficiency {e['efficiency']:.1%} (per round "
              f"{per_round}); threads, n_jobs=2 {e['n_jobs_2_threads_s']:.2f} s, efficiency "
              f"{e['efficiency_threads']:.1%}; bitwise identical: {e['bitwise_identical']}",
              flush=True)
    if not args.skip_cold_start:
        c = out["cold_start"] = cold_start(data_file, args.sample, args.cold_repeats)
        sums = ", ".join(f"{r['lif_first_call_s'] + r['qif_first_call_s']:.2f}"
                         for r in c["empty_cache_runs"])
        print(f"cold start, LIF + QIF first calls of each empty-cache run: {sums} s (the median "
              f"run below)")
        for key in ("empty_cache", "filled_cache"):
            print(f"cold start, {key.replace('_', ' ')}: import {c[key]['import_s']:.2f} s, first "
                  f"value_and_grad LIF {c[key]['lif_first_call_s']:.2f} s, QIF "
                  f"{c[key]['qif_first_call_s']:.2f} s, process {c[key]['process_s']:.2f} s")
    out["load_average_end"] = wl.load_average()
    print(f"load average: start {out['load_average_start']}, end {out['load_average_end']} "
          f"({os.cpu_count()} CPUs)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
