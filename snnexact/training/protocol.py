"""The final stage of the LIF-versus-QIF protocol: each model's searched configuration trained
with several seeds, the cross runs (each configuration with the other model's neurons) and the
QIF ablations, summarised with a Welch confidence interval of the QIF minus LIF difference.

Variants (``variants``), all trained with the same seeds and epochs:

* ``lif``, ``qif``: the best configuration of each model's search;
* ``lif@qif-config``, ``qif@lif-config``: each best configuration with the other neurons;
* ``qif-no-pseudo``: the QIF configuration without pseudospikes anywhere (no first-spike
  pseudospikes, no readout window, no silence regulariser);
* ``qif-no-window``: without the readout window; ``qif-no-time-norm``: raw input times.

Every run resumes from its checkpoint, so an interrupted stage continues where it stopped.
"""
from dataclasses import replace
import json
import os
from pathlib import Path
import tomllib

import numpy as np

from snnexact.training.config import TrainConfig
from snnexact.training.train import train

METRICS = ("test_acc", "test_acc_no_pseudo", "val_acc", "test_silent_hidden_fraction",
           "test_hidden_spikes_per_sample", "epoch_seconds")


def load_best(search_dir):
    """``{model: TrainConfig}`` from the ``best_<model>.toml`` files of a search report."""
    best = {}
    for model in ("lif", "qif"):
        path = Path(search_dir) / f"best_{model}.toml"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `snnexact search` (its report "
                                    "writes the best configuration of each model) first")
        values = tomllib.loads(path.read_text())
        best[model] = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in values.items()})
    return best


def variants(best):
    """``{name: TrainConfig}`` of the final stage (see the module docstring)."""
    lif, qif = best["lif"], best["qif"]
    return {
        "lif": lif,
        "qif": qif,
        "lif@qif-config": replace(qif, model="lif"),
        "qif@lif-config": replace(lif, model="qif"),
        "qif-no-pseudo": replace(qif, pseudo=False, window=0.0, silence_reg=0.0),
        "qif-no-window": replace(qif, window=0.0),
        "qif-no-time-norm": replace(qif, time_norm=False),
    }


def run_finals(best, seeds, epochs, out_dir, names=None, n_jobs=None, log=print):
    """Train every variant (or those in ``names``) for every seed; returns ``{name: [run
    summary per seed]}`` and writes ``finals.json``."""
    out_dir = Path(out_dir)
    todo = variants(best)
    names = list(todo) if names is None else list(names)
    unknown = set(names) - set(todo)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; choose from {list(todo)}")
    results = {}
    for name in names:
        results[name] = []
        for seed in seeds:
            cfg = replace(todo[name], epochs=int(epochs), seed=int(seed),
                          **({} if n_jobs is None else {"n_jobs": int(n_jobs)}))
            _, _, hist = train(cfg, out_dir / name / f"seed{seed}", resume=True, progress=False)
            results[name].append(run_summary(hist, seed))
            log(f"{name} seed {seed}: test accuracy {results[name][-1]['final']['test_acc']:.2%}")
        _merge_into(out_dir / "finals.json", {name: results[name]})
    return results


def _merge_into(path, update):
    """Add ``update`` to the JSON object in ``path`` (so processes that run different variants
    into one folder keep each other's results), written atomically."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(update)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def collect(out_dir, epochs):
    """``{variant: [run summary per seed]}`` of the runs under ``out_dir`` that have finished
    ``epochs`` epochs (a summary of a stage still in progress, read from the run folders)."""
    results = {}
    for run in sorted(Path(out_dir).glob("*/seed*/metrics.jsonl")):
        history = [json.loads(line) for line in run.read_text().splitlines()]
        if len(history) >= epochs:
            seed = int(run.parent.name[len("seed"):])
            results.setdefault(run.parent.parent.name, []).append(run_summary(history, seed))
    for runs in results.values():
        runs.sort(key=lambda r: r["seed"])
    return results


def histories(out_dir):
    """``{variant: [history per seed]}`` of every run under ``out_dir``, finished or not."""
    out = {}
    for run in sorted(Path(out_dir).glob("*/seed*/metrics.jsonl")):
        out.setdefault(run.parent.parent.name, []).append(
            [json.loads(line) for line in run.read_text().splitlines()])
    return out


def run_summary(history, seed):
    """The final epoch's metrics and those of the epoch with the best validation accuracy."""
    best = max(history, key=lambda h: h["val_acc"])
    pick = lambda h: {k: h[k] for k in METRICS if k in h}  # noqa: E731
    return {"seed": int(seed), "epochs": len(history), "final": pick(history[-1]),
            "best_val_epoch": best["epoch"], "at_best_val": pick(best)}


def welch_difference(a, b, confidence=0.95):
    """Mean of ``a`` minus mean of ``b`` with Welch's ``confidence`` interval (unequal
    variances); ``None`` bounds with fewer than two values on a side."""
    from scipy import stats
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2 or (a.std() == 0 and b.std() == 0):
        return {"difference": diff, "low": None, "high": None, "p_value": None}
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(confidence)
    return {"difference": diff, "low": float(ci.low), "high": float(ci.high),
            "p_value": float(res.pvalue)}


def summary_table(results):
    """Markdown table: mean +- std over seeds per variant, and the QIF - LIF difference."""
    cols = [("final", "test_acc", "test acc (final)"), ("at_best_val", "test_acc",
                                                       "test acc (best val epoch)"),
            ("final", "test_acc_no_pseudo", "without pseudospikes"),
            ("final", "test_silent_hidden_fraction", "silent hidden"),
            ("final", "test_hidden_spikes_per_sample", "hidden spikes/sample")]
    lines = ["| variant | seeds | " + " | ".join(c[2] for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for name, runs in results.items():
        cells = []
        for where, key, _ in cols:
            v = np.array([r[where].get(key, np.nan) for r in runs], float)
            pct = key != "test_hidden_spikes_per_sample"
            f = (lambda x: f"{100 * x:.1f} %") if pct else (lambda x: f"{x:.0f}")
            cells.append(f"{f(np.mean(v))} +- {f(np.std(v, ddof=1)) if v.size > 1 else '-'}")
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    if "lif" in results and "qif" in results:
        for where in ("final", "at_best_val"):
            d = welch_difference([r[where]["test_acc"] for r in results["qif"]],
                                 [r[where]["test_acc"] for r in results["lif"]])
            ci = ("n/a" if d["low"] is None else
                  f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}] points, p = {d['p_value']:.3g}")
            lines.append(f"\nQIF - LIF test accuracy ({where}): {100 * d['difference']:+.1f} "
                         f"points, 95 % Welch CI {ci}")
    return "\n".join(lines) + "\n"
