#!/usr/bin/env python
"""Forward-simulation benchmark on one SHD-size sample (issue target: <= 5 ms per sample, one core).

Workload (fixed and documented in docs/performance.md):

* network ``Network(neuron, (700, 128, 20), recurrent=True)``, ``tau_m = 20 ms``, ``T = 1 s``
  (times in seconds), LIF (``theta = 1``) and QIF;
* input: the sample of ``fsdd_shd_train.h5`` whose spike count is closest to 5,000 (lowest index
  among equals), float16 times -> float64; without the file a seeded synthetic sample of 5,000
  spikes with float16-quantised times (so that ties occur as in SHD); ``--sample N`` takes
  sample N of ``--data`` instead (``run_all.py`` uses FSDD-SHD test sample 32);
* weights ``init_params(seed)`` for each seed ("default"), and the same weights with every
  array (W and R of all layers) multiplied by a per-model ``scale`` chosen so that the hidden
  layer fires at roughly 10-30 Hz ("scaled", the training regime).

Per configuration: compile time (the first call in a fresh Numba cache directory, so it is a real
compilation; LIF and QIF share one event-loop kernel, so the first model measured pays for most
of it), median and min wall time of ``simulate`` per sample over ``--repeats`` calls, events per
second (``res.n_events / median``), hidden/output spike counts and the peak memory of one call
(tracemalloc; Numba's runtime allocates NumPy arrays through Python's allocator, which this
script checks before relying on it).

``--save-spikes`` / ``--compare`` store and compare the spike trains of every configuration
(the exactness check of an optimised kernel against the previous one).

    python benchmarks/bench_forward.py [--repeats N] [--data PATH] [--sample N] [--json OUT]

The shared workload and helpers are in ``workload.py``.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload import (N_HID, N_IN, N_OUT, SCALES, T, TAU_M, TRAIN_FILE, load_sample,  # noqa: E402
                      machine_facts, network, peak_memory, scaled_params, tracemalloc_sees_numba)

DEFAULT_DATA = TRAIN_FILE


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=50, help="timed calls per configuration (default 50)")
    p.add_argument("--data", default=DEFAULT_DATA, help="SHD-layout HDF5 file (default: %(default)s)")
    p.add_argument("--sample", type=int, default=None,
                   help="sample index in --data (default: the one closest to 5,000 spikes)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="init_params seeds")
    p.add_argument("--models", nargs="+", default=["lif", "qif"], choices=["lif", "qif"])
    p.add_argument("--scale-lif", type=float, default=SCALES["lif"])
    p.add_argument("--scale-qif", type=float, default=SCALES["qif"])
    p.add_argument("--json", metavar="OUT", help="write all figures to this JSON file")
    p.add_argument("--save-spikes", metavar="NPZ", help="store every configuration's spike trains")
    p.add_argument("--compare", metavar="NPZ", help="compare spike trains with a --save-spikes file")
    p.add_argument("--warm-cache", action="store_true",
                   help="use Numba's normal on-disk cache (first call = cache load, not a compile)")
    a = p.parse_args(argv)
    if a.repeats < 1:
        p.error("--repeats must be >= 1")
    return a


def main(argv=None):
    args = parse_args(argv)
    os.environ["NUMBA_NUM_THREADS"] = "1"
    tmp_cache = None
    if not args.warm_cache:
        tmp_cache = tempfile.TemporaryDirectory(prefix="snnexact_bench_numba_")
        os.environ["NUMBA_CACHE_DIR"] = tmp_cache.name
    import gc
    import numpy as np
    import snnexact
    from snnexact.engine.events import merge_ties
    from snnexact.engine.network import Params

    times, units, desc = load_sample(args.data, np, args.sample)
    keep = times < T
    n_input_events = len(merge_ties(times[keep])[0])
    info = {"sample": desc, "input_spikes_in_trial": int(keep.sum()),
            "input_events_after_merging": int(n_input_events), "T_s": T, "tau_m_s": TAU_M,
            "sizes": [N_IN, N_HID, N_OUT], "recurrent": True, "repeats": args.repeats,
            "seeds": args.seeds, "numba_cache": "warm (on-disk)" if args.warm_cache else "cold (fresh dir)",
            **machine_facts(np)}
    sees = tracemalloc_sees_numba(np)
    info["memory_method"] = ("tracemalloc peak (verified: Numba kernel allocations are traced)" if sees
                             else "tracemalloc peak (WARNING: Numba allocations NOT traced)")
    print(f"input: {desc}; {info['input_spikes_in_trial']} spikes in [0, {T}) s, "
          f"{n_input_events} input events after merging ties")

    scales = {"lif": args.scale_lif, "qif": args.scale_qif}
    rows, spikes, ulp = [], {}, {}
    for model in args.models:
        net = network(model)
        compile_s = None
        for config in ("default", "scaled"):
            k = 1.0 if config == "default" else scales[model]
            for seed in args.seeds:
                params = scaled_params(net, seed, k)

                def call():
                    return snnexact.simulate(net, params, times, units, T, on_budget="ignore")

                t0 = time.perf_counter()
                res = call()
                first = time.perf_counter() - t0
                if compile_s is None:
                    compile_s = first
                gc.collect()
                ts = np.empty(args.repeats)
                for r in range(args.repeats):
                    t0 = time.perf_counter()
                    res = call()
                    ts[r] = time.perf_counter() - t0
                peak = peak_memory(call)
                med = float(np.median(ts))
                hid, out = res.layers
                rows.append({"model": model, "config": config, "scale": k, "seed": seed,
                             "first_call_s": first, "median_ms": 1e3 * med,
                             "min_ms": 1e3 * float(ts.min()), "n_events": int(res.n_events),
                             "events_per_s": res.n_events / med,
                             "hidden_spikes": hid.n_spikes, "output_spikes": out.n_spikes,
                             "hidden_rate_hz": hid.n_spikes / (N_HID * T),
                             "status": res.status, "peak_mem_kib": peak / 1024})
                for l, layer in enumerate(res.layers):
                    key = f"{model}_{config}_{seed}_L{l}"
                    spikes[key + "_t"] = layer.times
                    spikes[key + "_n"] = layer.units
                if args.compare:
                    # conditioning floor: the same kernel with every input weight one ulp larger
                    pu = Params((np.nextafter(params.W[0], np.inf),) + params.W[1:], params.R)
                    resu = snnexact.simulate(net, pu, times, units, T, on_budget="ignore")
                    for l, layer in enumerate(resu.layers):
                        key = f"{model}_{config}_{seed}_L{l}"
                        ulp[key + "_t"] = layer.times
                        ulp[key + "_n"] = layer.units
        info.setdefault("compile_s", {})[model] = compile_s

    summary = _summary(rows, np)
    _print_table(rows, summary, info)
    out = {"info": info, "rows": rows, "summary": summary}
    if args.compare:
        saved = dict(np.load(args.compare))
        print(f"\nspike trains vs {args.compare} (max relative spike-time deviation; 'ulp floor':"
              f" this kernel with every input weight one ulp larger, vs itself):")
        out["comparison"] = {}
        for model in args.models:
            for config in ("default", "scaled"):
                pre = f"{model}_{config}_"
                sel = {k: v for k, v in spikes.items() if k.startswith(pre)}
                c = compare_spikes(sel, saved, np)
                c["ulp_floor"] = compare_spikes({k: v for k, v in ulp.items() if k.startswith(pre)},
                                                sel, np)["max_rel_dev"]
                out["comparison"][f"{model}_{config}"] = c
                print(f"  {model} {config:8}: {c['n_compared']} layers, {c['n_mismatched']} with "
                      f"different spike counts/units, max dev {c['max_rel_dev']:.2e}, "
                      f"ulp floor {c['ulp_floor']:.2e}")
    if args.save_spikes:
        np.savez(args.save_spikes, **spikes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    if tmp_cache is not None:
        tmp_cache.cleanup()
    return 0


def _summary(rows, np):
    """Per (model, config): median over seeds of the per-seed medians, and the ranges."""
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        for config in ("default", "scaled"):
            rs = [r for r in rows if r["model"] == model and r["config"] == config]
            if not rs:
                continue
            med = float(np.median([r["median_ms"] for r in rs]))
            out.append({"model": model, "config": config, "scale": rs[0]["scale"],
                        "median_ms": med, "max_seed_median_ms": max(r["median_ms"] for r in rs),
                        "min_ms": min(r["min_ms"] for r in rs),
                        "events_per_s": float(np.median([r["events_per_s"] for r in rs])),
                        "hidden_rate_hz": float(np.mean([r["hidden_rate_hz"] for r in rs])),
                        "peak_mem_kib": max(r["peak_mem_kib"] for r in rs)})
    return out


def _print_table(rows, summary, info):
    print(f"\n{'model':5} {'config':8} {'scale':>5} {'seed':>4} {'median ms':>9} {'min ms':>7} "
          f"{'events':>6} {'Mevents/s':>9} {'hid spk':>7} {'hid Hz':>6} {'out spk':>7} "
          f"{'peak KiB':>8} {'first s':>7}")
    for r in rows:
        print(f"{r['model']:5} {r['config']:8} {r['scale']:5.1f} {r['seed']:4d} {r['median_ms']:9.3f} "
              f"{r['min_ms']:7.3f} {r['n_events']:6d} {r['events_per_s'] / 1e6:9.3f} "
              f"{r['hidden_spikes']:7d} {r['hidden_rate_hz']:6.1f} {r['output_spikes']:7d} "
              f"{r['peak_mem_kib']:8.0f} {r['first_call_s']:7.3f}" + ("" if r["status"] == 0 else " BUDGET"))
    print("\nsummary (median over seeds of the per-seed medians):")
    for s in summary:
        print(f"  {s['model']} {s['config']:8} scale {s['scale']:4.1f}: {s['median_ms']:.3f} ms/sample "
              f"(worst seed {s['max_seed_median_ms']:.3f}, min {s['min_ms']:.3f}), "
              f"{s['events_per_s'] / 1e6:.2f} M events/s, hidden {s['hidden_rate_hz']:.1f} Hz, "
              f"peak {s['peak_mem_kib']:.0f} KiB")
    print("compile (first call, " + info["numba_cache"] + " cache): " +
          ", ".join(f"{m} {v:.2f} s" for m, v in info["compile_s"].items()))
    print(f"memory: {info['memory_method']}")


def compare_spikes(new, old, np):
    """Max relative spike-time deviation over layers whose spike units agree."""
    worst, n, bad = 0.0, 0, []
    for key in sorted(k[:-2] for k in new if k.endswith("_t")):
        if key + "_t" not in old:
            continue
        n += 1
        tn, to = new[key + "_t"], old[key + "_t"]
        if tn.shape != to.shape or not np.array_equal(new[key + "_n"], old[key + "_n"]):
            bad.append(key)
            continue
        if tn.size:
            worst = max(worst, float(np.max(np.abs(tn - to) / np.abs(to))))
    return {"n_compared": n, "n_mismatched": len(bad), "mismatched": bad, "max_rel_dev": worst}


if __name__ == "__main__":
    sys.exit(main())
