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
        [--config BASE.toml] [--lr-range 1e-3 2e-2] [--w-mean-range 0 0.5]

Flags override the fields of ``--config``; the search space flags replace its defaults.
"""
import argparse
import math

from snnexact.config import load_config
from snnexact.search import SearchSpace, search_and_compare


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/search")
    p.add_argument("--config", help="TOML file with the fixed TrainConfig fields")
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--search-epochs", type=int, default=10)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-jobs", type=int)
    p.add_argument("--hidden", type=int, nargs="+")
    p.add_argument("--data")
    p.add_argument("--tau-m", type=float)
    p.add_argument("--T", type=float)
    p.add_argument("--readout")
    p.add_argument("--recurrent", action="store_true", default=None)
    p.add_argument("--lr-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="learning rates, log-uniform (default 1e-3 to 10**-1.7)")
    p.add_argument("--w-mean-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="initial weight mean in kicks, uniform (default 0 to 1.5)")
    p.add_argument("--w-std-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="initial weight spread in kicks, uniform (default 0.5 to 1.5)")
    p.add_argument("--out-std-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="readout weight spread in kicks, log-uniform (default: not searched)")
    args = p.parse_args(argv)
    overrides = dict(hidden=args.hidden, n_jobs=args.n_jobs, readout=args.readout,
                     recurrent=args.recurrent, tau_m=args.tau_m, T=args.T)
    if args.data:
        overrides.update(dataset="shd", data_path=args.data)
    space = {}
    if args.lr_range:
        space["log10_lr"] = tuple(math.log10(x) for x in args.lr_range)
    if args.w_mean_range:
        space["w_mean"] = tuple(args.w_mean_range)
    if args.out_std_range:
        space["log10_out_std"] = tuple(math.log10(x) for x in args.out_std_range)
    if args.w_std_range:
        space["w_std"] = tuple(args.w_std_range)
    search_and_compare(load_config(args.config, **overrides), args.trials, args.search_epochs,
                       args.epochs, args.seeds, args.out,
                       log=lambda msg: print(msg, flush=True), space=SearchSpace(**space))


if __name__ == "__main__":
    main()
