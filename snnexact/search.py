"""Equal-budget hyperparameter search for the LIF-versus-QIF comparison.

Both models get the same candidate configurations (one random draw), each trained for a short
budget and scored by its best validation accuracy; the best configuration of each model is then
trained for the full budget over several seeds (``compare``). Weights are in units of the kick
that fires a neuron from rest, so one candidate means the same for both models. Finished trials
are read back from ``search.jsonl``, so an interrupted search resumes.
"""
from dataclasses import replace
import json
from pathlib import Path

import numpy as np

from snnexact.compare import MODELS, compare, format_table
from snnexact.data.splits import load_splits
from snnexact.train import train

SAMPLER_SEED = 2026


def sample_space(rng):
    """One candidate: learning rate log-uniform in [1e-3, 2e-2], initial weight mean uniform in
    [0, 1.5] kicks and spread in [0.5, 1.5] kicks, gamma log-uniform in [0.01, 0.32]."""
    return {"lr": float(10 ** rng.uniform(-3, -1.7)),
            "w_mean": float(rng.uniform(0.0, 1.5)),
            "w_std": float(rng.uniform(0.5, 1.5)),
            "gamma": float(10 ** rng.uniform(-2, -0.5))}


def equal_budget_search(base_cfg, trials, search_epochs, out_dir, splits=None, models=MODELS,
                        log=print):
    """Best configuration per model: ``{model: {lr, w_mean, w_std, gamma}}``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = load_splits(base_cfg) if splits is None else splits
    record = out_dir / "search.jsonl"
    done = [json.loads(l) for l in record.read_text().splitlines()] if record.exists() else []
    best = {}
    for model in models:
        rng = np.random.default_rng(SAMPLER_SEED)  # the same candidates for every model
        scored = []
        for trial in range(trials):
            hp = sample_space(rng)
            prev = [d for d in done if d["model"] == model and d["trial"] == trial]
            if prev:
                scored.append((prev[0]["val_acc"], hp))
                continue
            cfg = replace(base_cfg, model=model, epochs=search_epochs, seed=100 + trial, **hp)
            _, _, hist = train(cfg, out_dir / "search" / f"{model}{trial}", resume=True,
                               splits=splits, progress=False)
            val = max(h["val_acc"] for h in hist)
            rec = {"model": model, "trial": trial, "val_acc": val, **hp}
            with record.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            log(json.dumps(rec))
            scored.append((val, hp))
        best[model] = max(scored, key=lambda x: x[0])[1]
        log(f"best {model}: {best[model]}")
    (out_dir / "best.json").write_text(json.dumps(best, indent=1))
    return best


def search_and_compare(base_cfg, trials, search_epochs, epochs, seeds, out_dir, log=print):
    """The search, then each model's best configuration trained with ``seeds`` for ``epochs``;
    writes ``summary.txt`` and returns ``{model: [final metrics per seed]}``."""
    out_dir = Path(out_dir)
    splits = load_splits(base_cfg)
    best = equal_budget_search(base_cfg, trials, search_epochs, out_dir, splits, log=log)
    finals = {}
    for model in MODELS:
        cfg = replace(base_cfg, epochs=epochs, **best[model])
        finals[model] = compare(cfg, seeds, out_dir / f"final_{model}", resume=True,
                                progress=False, models=(model,), log=log)[model]
    table = format_table(finals)
    log(table)
    (out_dir / "summary.txt").write_text(table + "\n")
    return finals
