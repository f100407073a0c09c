#!/usr/bin/env python
"""Equal-budget hyperparameter search, then the LIF-versus-QIF comparison over seeds.

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
from dataclasses import replace
import json
from pathlib import Path

import numpy as np

from snnexact.compare import compare
from snnexact.config import TrainConfig
from snnexact.data.splits import load_splits
from snnexact.train import train

def sample_space(rng, model):
    """One configuration: log-uniform learning rate and gamma, initial weight mean and spread in
    units of the firing kick (TrainConfig's unit), so both models get the same candidates."""
    return {"lr": float(10 ** rng.uniform(-3, -1.7)),
            "w_mean": float(rng.uniform(0.0, 1.5)),
            "w_std": float(rng.uniform(0.5, 1.5)),
            "gamma": float(10 ** rng.uniform(-2, -0.5))}


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
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = dict(hidden=tuple(args.hidden), n_jobs=args.n_jobs, readout=args.readout,
                recurrent=args.recurrent)
    if args.data:
        base.update(dataset="shd", data_path=args.data)
    if args.tau_m:
        base["tau_m"] = args.tau_m
    if args.T:
        base["T"] = args.T
    base_cfg = TrainConfig(**base)
    splits = load_splits(base_cfg)
    best = {}
    log = out / "search.jsonl"
    done = [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []
    for model in ("lif", "qif"):
        rng = np.random.default_rng(2026)  # the same candidate draws for both models
        scored = []
        for trial in range(args.trials):
            hp = sample_space(rng, model)
            prev = [d for d in done if d["model"] == model and d["trial"] == trial]
            if prev:
                scored.append((prev[0]["val_acc"], hp))
                continue
            cfg = replace(base_cfg, model=model, epochs=args.search_epochs, seed=100 + trial, **hp)
            _, _, hist = train(cfg, out / "search" / f"{model}{trial}", resume=True, splits=splits,
                               progress=False)
            val = max(h["val_acc"] for h in hist)
            rec = {"model": model, "trial": trial, "val_acc": val, **hp}
            with log.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(json.dumps(rec), flush=True)
            scored.append((val, hp))
        best[model] = max(scored, key=lambda x: x[0])[1]
        print(f"best {model}: {best[model]}", flush=True)
    (out / "best.json").write_text(json.dumps(best, indent=1))
    # the comparison with each model's best configuration, same seeds and budget
    finals = {}
    for model in ("lif", "qif"):
        cfg = replace(base_cfg, epochs=args.epochs, **best[model])
        finals[model] = compare(cfg, args.seeds, out / f"final_{model}", resume=True,
                                progress=False, models=(model,))[model]
    from snnexact.compare import format_table
    table = format_table(finals)
    print(table)
    (out / "summary.txt").write_text(table + "\n")


if __name__ == "__main__":
    main()
