"""The main job: train LIF and QIF networks with identical architecture, readout, budget and
seeds on one data set, then print a side-by-side table and write figures."""
from dataclasses import replace
import json
from pathlib import Path

import numpy as np

from snnexact.data.splits import load_splits
from snnexact.gradients import evaluate
from snnexact.plotting import sample_figure, training_curves
from snnexact.traces import voltage_trace
from snnexact.train import train

MODELS = ("lif", "qif")
COLUMNS = [("test_acc", "test acc", "{:.2%}"), ("test_acc_no_pseudo", "acc w/o pseudo", "{:.2%}"),
           ("test_loss", "test loss", "{:.3f}"),
           ("test_silent_hidden_fraction", "silent hidden", "{:.1%}"),
           ("test_hidden_spikes_per_sample", "hidden spikes/sample", "{:.1f}"),
           ("epoch_seconds", "s/epoch", "{:.1f}")]


def compare(base_cfg, seeds, out_dir, resume=False, progress=True, log=print, models=MODELS):
    """Train every (model, seed) pair; returns ``{model: [final metrics per seed]}``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = load_splits(base_cfg)
    log(f"data: {base_cfg.dataset if base_cfg.data_path is None else base_cfg.data_path} "
        f"({len(splits[0])} train / {len(splits[1])} validation / {len(splits[2])} test samples, "
        f"{splits[3]} inputs, {splits[4]} classes)")
    finals, histories, trained = {m: [] for m in models}, {m: [] for m in models}, {}
    for seed in seeds:
        for model in models:
            cfg = replace(base_cfg, model=model, seed=int(seed))
            net, params, hist = train(cfg, out_dir / model / f"seed{seed}", resume=resume,
                                      progress=progress, splits=splits)
            histories[model].append(hist)
            final = dict(hist[-1]) if hist else {}
            final["epoch_seconds"] = float(np.mean([h["epoch_seconds"] for h in hist])) if hist else np.nan
            finals[model].append(final)
            trained.setdefault(model, (cfg, net, params))
            log(f"{model.upper()} seed {seed}: test accuracy {final.get('test_acc', np.nan):.2%}")
    table = format_table(finals)
    log(table)
    (out_dir / "summary.txt").write_text(table + "\n")
    (out_dir / "results.json").write_text(json.dumps(finals, indent=1))
    training_curves(histories, out_dir / "training_curves.png")
    _sample_panels(trained, splits[2], out_dir / "sample.png")
    log(f"figures: {out_dir / 'training_curves.png'}, {out_dir / 'sample.png'}")
    return finals


def format_table(finals):
    """Mean +- std over seeds of the final metrics, one row per metric, one column per model."""
    rows = [f"{'metric':<22}" + "".join(f"{m.upper():>20}" for m in finals)]
    for key, label, fmt in COLUMNS:
        cells = []
        for m in finals:
            vals = np.array([f.get(key, np.nan) for f in finals[m]], float)
            if np.all(np.isnan(vals)):
                cells.append(f"{'-':>20}")
                continue
            mean, std = np.nanmean(vals), np.nanstd(vals)
            cells.append(f"{fmt.format(mean) + ' +- ' + fmt.format(std):>20}")
        rows.append(f"{label:<22}" + "".join(cells))
    n = {m: len(v) for m, v in finals.items()}
    rows.append(f"(mean +- std over {max(n.values()) if n else 0} seeds; final epoch)")
    return "\n".join(rows)


def _sample_panels(trained, test, path):
    panels = {}
    T = None
    for model, (cfg, net, params) in trained.items():
        T = cfg.T
        times, units, label = test.times[0], test.units[0], int(test.labels[0])
        ev = evaluate(net, params, times, units, label, cfg.T, readout=cfg.readout,
                      max_spikes=cfg.max_spikes, on_budget="ignore")
        res = ev.simulation
        layers = [(L.times, L.units) for L in res.layers]
        tt = np.linspace(0.0, cfg.T, 400)
        out_layer = len(res.layers) - 1
        n_out = net.sizes[out_layer + 1]
        traces = voltage_trace(net, res, out_layer, list(range(min(n_out, 3))), tt)
        spiking_out = cfg.readout == "first_spike"  # else the last simulated layer is hidden
        labels = [f"output {k}" + (" (label)" if k == label else "") if spiking_out
                  else f"hidden {k}" for k in range(min(n_out, 3))]
        panels[model] = ((times, units), layers, tt, traces, labels)
    sample_figure(panels, T, path)
