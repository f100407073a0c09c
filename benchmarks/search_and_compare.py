#!/usr/bin/env python
"""Equal-budget hyperparameter search, then the LIF-versus-QIF comparison over seeds
(command-line wrapper of ``snnexact.search``).

For each model the same number of configurations is drawn from the same search space with the
same sampler seed (random search over learning rate, initial weight mean/std and the
first-spike loss's gamma), each trained for ``--search-epochs`` on the training split and scored
by validation accuracy; the best configuration of each model is then trained for ``--epochs``
with each of ``--seeds`` and evaluated on the test split. Everything is written to ``--out``
(``search.jsonl``, per-run folders, ``summary.txt``, figures via ``snnexact.compare``).

    python benchmarks/search_and_compare.py --out runs/yinyang [--trials 6] [--search-epochs 10]
        [--epochs 30] [--seeds 0 1 2] [--n-jobs 2] [--data DIR --tau-m 0.02 --T 1.0 ...]
"""
import argparse

from snnexact.config import TrainConfig
from snnexact.search import search_and_compare


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/search")
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--search-epochs", type=int, default=10)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--hidden", type=int, nargs="+", default=[60])
    p.add_argument("--data")
    p.add_argument("--tau-m", type=float)
    p.add_argument("--T", type=float)
    p.add_argument("--readout", default="first_spike")
    p.add_argument("--recurrent", action="store_true")
    args = p.parse_args(argv)
    base = dict(hidden=tuple(args.hidden), n_jobs=args.n_jobs, readout=args.readout,
                recurrent=args.recurrent)
    if args.data:
        base.update(dataset="shd", data_path=args.data)
    if args.tau_m:
        base["tau_m"] = args.tau_m
    if args.T:
        base["T"] = args.T
    search_and_compare(TrainConfig(**base), args.trials, args.search_epochs, args.epochs,
                       args.seeds, args.out, log=lambda msg: print(msg, flush=True))


if __name__ == "__main__":
    main()
