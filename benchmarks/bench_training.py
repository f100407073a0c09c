#!/usr/bin/env python
"""Training-speed benchmark: one FSDD-SHD epoch of a 700-128-10 recurrent network
(issue target for QIF: <= 60 s on 2 cores; parallel efficiency of n_jobs = 2 versus 1 >= 85 %).

Data: ``../shared/data/fsdd_shd`` (real spoken digits converted with the SHD cochlea model; NOT
SHD), cropped to T = 1 s, 700 input channels, 10 classes; the training split is the training
file minus a fixed 10 % validation hold-out (2,430 samples). Network: tau_m = 20 ms,
128 recurrent hidden neurons, max-voltage readout, Adam, batch 32, default initialisation
(``workload.epoch_config``). The figure is the wall time of the training pass of one epoch (all
batches: parallel value_and_grad, reduction, optimiser step), excluding data loading, kernel
compilation and evaluation, for each ``n_jobs``; efficiency = t(1) / (n t(n)). Also checks that
the parameters after the epoch are bitwise identical for every n_jobs.

    python benchmarks/bench_training.py [--data DIR] [--n-jobs 1 2] [--max-samples N] [--json OUT]

``run_all.py`` takes this figure for both models at once.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload import DATA_DIR, time_epoch, training_splits  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DATA_DIR)
    p.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--max-samples", type=int, default=None)
    p.add_argument("--model", default="qif", choices=["lif", "qif"])
    p.add_argument("--json")
    args = p.parse_args(argv)
    if not os.path.isdir(args.data):
        sys.exit(f"no data at {args.data}: this benchmark needs ../shared/data/fsdd_shd "
                 f"(run_all.py --synthetic runs without it)")
    splits, desc = training_splits(args.data, args.max_samples)
    print(desc)
    rows, finals = [], {}
    for n_jobs in args.n_jobs:
        t, finals[n_jobs] = time_epoch(args.model, n_jobs, splits, args.data)
        rows.append({"n_jobs": n_jobs, "train_seconds": t,
                     "ms_per_sample": 1e3 * t / len(splits[0])})
        print(f"n_jobs={n_jobs}: training epoch {t:.1f} s ({rows[-1]['ms_per_sample']:.2f} ms per "
              f"sample)")
    t1 = next((r["train_seconds"] for r in rows if r["n_jobs"] == 1), None)
    for r in rows:
        if t1 and r["n_jobs"] > 1:
            r["efficiency"] = t1 / (r["n_jobs"] * r["train_seconds"])
            print(f"parallel efficiency n_jobs={r['n_jobs']}: {r['efficiency']:.1%} "
                  f"(target >= 85 %)")
    same = len(set(finals.values())) == 1
    print(f"parameters bitwise identical across n_jobs: {same}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": args.model, "data": desc, "rows": rows, "bitwise_identical": same},
                      fh, indent=1)


if __name__ == "__main__":
    main()
