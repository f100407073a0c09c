"""Equal-budget hyperparameter search for the LIF-versus-QIF comparison.

Both models get the same candidate configurations (one random draw), each trained for a short
budget and scored by its best validation accuracy; the best configuration of each model is then
trained for the full budget over several seeds (``compare``). Weights are in units of the kick
that fires a neuron from rest, so one candidate means the same for both models. Finished trials
are read back from ``search.jsonl``, so an interrupted search resumes.
"""
from dataclasses import dataclass, fields, replace
import json
from pathlib import Path

import numpy as np

from snnexact.compare import MODELS, compare, format_table
from snnexact.data.splits import load_splits
from snnexact.train import train

SAMPLER_SEED = 2026


@dataclass(frozen=True)
class SearchSpace:
    """Bounds of the random search: learning rate log-uniform in ``10**log10_lr``, initial
    weight mean and spread (kicks) and the first-spike loss's gamma (log-uniform in
    ``10**log10_gamma``) uniform; with ``log10_out_std`` also the spread of the readout
    weights (kicks, log-uniform; drawn last, so the other draws do not change). The defaults
    suit Yin-Yang (5 inputs); inputs with high spike counts need a smaller ``w_mean`` range."""

    log10_lr: tuple = (-3.0, -1.7)
    w_mean: tuple = (0.0, 1.5)
    w_std: tuple = (0.5, 1.5)
    log10_gamma: tuple = (-2.0, -0.5)
    log10_out_std: tuple = None

    def __post_init__(self):
        for f in fields(self):
            bounds = getattr(self, f.name)
            if bounds is None:
                continue
            if len(bounds) != 2 or not float(bounds[0]) <= float(bounds[1]):
                raise ValueError(f"search space: {f.name} must be (low, high) with low <= high, "
                                 f"got {bounds!r}")
            object.__setattr__(self, f.name, (float(bounds[0]), float(bounds[1])))


def sample_space(rng, space=SearchSpace()):
    """One candidate ``{lr, w_mean, w_std, gamma[, out_std]}`` drawn from ``space``."""
    hp = {"lr": float(10 ** rng.uniform(*space.log10_lr)),
          "w_mean": float(rng.uniform(*space.w_mean)),
          "w_std": float(rng.uniform(*space.w_std)),
          "gamma": float(10 ** rng.uniform(*space.log10_gamma))}
    if space.log10_out_std is not None:
        hp["out_std"] = float(10 ** rng.uniform(*space.log10_out_std))
    return hp


def equal_budget_search(base_cfg, trials, search_epochs, out_dir, splits=None, models=MODELS,
                        log=print, space=SearchSpace()):
    """Best configuration per model: ``{model: {lr, w_mean, w_std, gamma[, out_std]}}``."""
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
            hp = sample_space(rng, space)
            prev = [d for d in done if d["model"] == model and d["trial"] == trial]
            if prev:
                if any(prev[0].get(k) != v for k, v in hp.items()):
                    raise ValueError(f"{record}: trial {trial} was run with other settings "
                                     "(search space changed?); use a new output folder")
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


def search_and_compare(base_cfg, trials, search_epochs, epochs, seeds, out_dir, log=print,
                       space=SearchSpace()):
    """The search, then each model's best configuration trained with ``seeds`` for ``epochs``;
    writes ``summary.txt`` and returns ``{model: [final metrics per seed]}``."""
    out_dir = Path(out_dir)
    splits = load_splits(base_cfg)
    best = equal_budget_search(base_cfg, trials, search_epochs, out_dir, splits, log=log,
                               space=space)
    finals = {}
    for model in MODELS:
        cfg = replace(base_cfg, epochs=epochs, **best[model])
        finals[model] = compare(cfg, seeds, out_dir / f"final_{model}", resume=True,
                                progress=False, models=(model,), log=log)[model]
    table = format_table(finals)
    log(table)
    (out_dir / "summary.txt").write_text(table + "\n")
    return finals
