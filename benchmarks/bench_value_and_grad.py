#!/usr/bin/env python
"""Value-and-gradient benchmark on one SHD-size sample (issue target: forward plus backward
<= 12 ms per sample on one core, peak memory <= 50 MB).

Same workload as ``bench_forward.py`` (network (700, 128, 20), recurrent hidden layer,
tau_m = 20 ms, T = 1 s, the FSDD-SHD training sample closest to 5,000 spikes or a synthetic
stand-in; weights of ``init_params(seed)`` scaled to the training regime) and the first-spike
loss with label 0 (QIF silent outputs use pseudospikes). Reports, per model, the median and
minimum wall time of ``value_and_grad`` and of ``simulate`` alone over ``--repeats`` calls,
their ratio, the tracemalloc peak of one ``value_and_grad`` call, and the spike counts.

    python benchmarks/bench_value_and_grad.py [--repeats N] [--data PATH] [--sample N] [--json OUT]

The shared workload and helpers are in ``workload.py``; ``run_all.py`` takes these figures too.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload import (SCALES, T, TRAIN_FILE, load_sample, network, peak_memory,  # noqa: E402
                      scaled_params)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--data", default=TRAIN_FILE)
    p.add_argument("--sample", type=int, default=None,
                   help="sample index in --data (default: the one closest to 5,000 spikes)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    import numpy as np
    import snnexact
    times, units, desc = load_sample(args.data, np, args.sample)
    print(f"input: {desc}")
    rows = []
    for model in ("lif", "qif"):
        net = network(model)
        for seed in args.seeds:
            params = scaled_params(net, seed, SCALES[model])
            t0 = time.perf_counter()
            snnexact.value_and_grad(net, params, times, units, 0, T)
            first = time.perf_counter() - t0
            vg, fw = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                loss, grads, ev = snnexact.value_and_grad(net, params, times, units, 0, T)
                vg.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                snnexact.simulate(net, params, times, units, T)
                fw.append(time.perf_counter() - t0)
            peak = peak_memory(lambda: snnexact.value_and_grad(net, params, times, units, 0, T))
            spikes = [L.n_spikes for L in ev.simulation.layers]
            rows.append(dict(model=model, seed=seed, scale=SCALES[model],
                             vg_median_ms=1e3 * float(np.median(vg)), vg_min_ms=1e3 * min(vg),
                             fw_median_ms=1e3 * float(np.median(fw)), fw_min_ms=1e3 * min(fw),
                             first_call_s=first, peak_mb=peak / 2 ** 20,
                             hidden_spikes=spikes[0], output_spikes=spikes[1],
                             events=ev.simulation.n_events, finite=bool(all(
                                 np.all(np.isfinite(g)) for g in grads.named().values()))))
    print(f"{'model':<5} {'seed':>4} {'hidden':>7} {'out':>5} {'events':>7} {'v&g med':>9} "
          f"{'v&g min':>9} {'fwd med':>9} {'ratio':>6} {'peak MB':>8} {'1st call s':>10}")
    for r in rows:
        print(f"{r['model']:<5} {r['seed']:>4} {r['hidden_spikes']:>7} {r['output_spikes']:>5} "
              f"{r['events']:>7} {r['vg_median_ms']:>8.2f}ms {r['vg_min_ms']:>8.2f}ms "
              f"{r['fw_median_ms']:>8.2f}ms {r['vg_median_ms'] / r['fw_median_ms']:>6.2f} "
              f"{r['peak_mb']:>8.2f} {r['first_call_s']:>10.2f}")
    for model in ("lif", "qif"):
        med = np.median([r["vg_median_ms"] for r in rows if r["model"] == model])
        print(f"{model.upper()}: value_and_grad median over seeds {med:.2f} ms per sample "
              f"(target <= 12 ms)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"input": desc, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
