#!/usr/bin/env python
"""Landscape benchmark: a 41 x 41 plane over 256 FSDD-SHD samples around a 140-128-10 checkpoint
(issue target: <= 10 minutes on 2 cores).

Data: ``../shared/data/fsdd_shd`` (real spoken digits converted with the SHD cochlea model; NOT
SHD) with the settings of ``benchmarks/configs/fsdd_shd.toml`` (pool 5 -> 140 inputs, 128
feed-forward hidden neurons, 10 outputs, integral readout, T = 1 s). The checkpoint is given
(``snnexact train --config benchmarks/configs/fsdd_shd.toml ...``). Workload: ``--rows`` rows of
the 41 x 41 random plane (loss and exact gradient at every point, over the first 256 training
samples), timed with the landscape's own executor; the full plane is extrapolated as
``41 / rows`` times that (rows are independent tasks of equal size). Refinement (the jump
tests) is not included.

    python benchmarks/bench_landscape.py CHECKPOINT [--rows 1] [--samples 256] [--n-jobs 2]
"""
import argparse
import json
import time

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--data", help="SHD-layout folder (default: the checkpoint's data)")
    p.add_argument("--rows", type=int, default=1)
    p.add_argument("--grid", type=int, default=41)
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--json")
    args = p.parse_args(argv)
    from snnexact.interfaces.landscape_command import problem_from_checkpoint
    from snnexact.analysis.landscape import evaluate_grid, make_directions
    from snnexact.training.parallel import executor
    problem, cfg = problem_from_checkpoint(args.checkpoint, args.data,
                                           indices=list(range(args.samples)))
    d1, d2 = make_directions(problem, "random", 0)
    axis = np.linspace(-0.5, 0.5, args.grid)
    n_spikes = np.mean([t.size for t, _, _ in problem.samples])
    print(f"{cfg.model.upper()} {problem.network.sizes}, {args.samples} samples "
          f"({n_spikes:.0f} input spikes each), {args.rows} of {args.grid} rows, "
          f"n_jobs={args.n_jobs}")
    with executor("loky", args.n_jobs) as run:
        evaluate_grid(problem, d1, d2, axis[:2], axis[:1], run)  # start the workers
        t0 = time.perf_counter()
        evaluate_grid(problem, d1, d2, axis, axis[:args.rows], run, rows_per_call=args.n_jobs)
        seconds = time.perf_counter() - t0
    full = seconds * args.grid / args.rows
    per_eval = seconds / (args.rows * args.grid * args.samples)
    print(f"{seconds:.1f} s for {args.rows} row(s): {1e3 * per_eval:.2f} ms per sample and point "
          f"(wall, {args.n_jobs} workers); full {args.grid} x {args.grid} plane ~ "
          f"{full / 60:.1f} min (target <= 10 min)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": cfg.model, "sizes": problem.network.sizes, "rows": args.rows,
                       "grid": args.grid, "samples": args.samples, "n_jobs": args.n_jobs,
                       "seconds": seconds, "full_plane_minutes": full / 60,
                       "ms_per_sample_point": 1e3 * per_eval}, fh, indent=1)


if __name__ == "__main__":
    main()
