"""The main job: train LIF and QIF networks with identical architecture, readout, budget and
seeds on one data set, then print a side-by-side table and write figures."""
from dataclasses import replace
import json
from pathlib import Path

import numpy as np

from snnexact.data.splits import load_splits
from snnexact.engine.gradients import evaluate
from snnexact.interfaces.plotting import sample_figure, training_curves
from snnexact.engine.neurons import MODELS as NEURON_MODELS
from snnexact.engine.traces import voltage_trace
from snnexact.training.train import check_output_dir, train

MODELS = tuple(NEURON_MODELS)  # every registered neuron model, trained alike
COLUMNS = [("test_acc", "test acc", "{:.2%}"), ("test_acc_no_pseudo", "acc w/o pseudo", "{:.2%}"),
           ("test_loss", "test loss", "{:.3f}"),
           ("test_silent_hidden_fraction", "silent hidden", "{:.1%}"),
           ("test_hidden_spikes_per_sample", "hidden spikes/sample", "{:.1f}"),
           ("epoch_seconds", "s/epoch", "{:.1f}"),
           ("compile_seconds", "compile s (once)", "{:.1f}")]


def compare(base_cfg, seeds, out_dir, resume=False, progress=True, log=print, models=MODELS,
            settings_note=None):
    """Train every (model, seed) pair; returns ``{model: [final metrics per seed]}``.
    ``settings_note`` (a sentence saying which settings these are) is printed and written to
    ``summary.txt``."""
    out_dir = check_output_dir(out_dir)
    splits = load_splits(base_cfg)
    n_classes = splits.n_classes
    log(f"data: {base_cfg.dataset if base_cfg.data_path is None else base_cfg.data_path} "
        f"({len(splits.train)} train / {len(splits.validation)} validation / "
        f"{len(splits.test)} test samples, "
        f"{splits.n_inputs} inputs, {n_classes} classes; chance level {1 / n_classes:.1%})")
    log(f"network: {splits.n_inputs}-{'-'.join(map(str, base_cfg.hidden))}-{n_classes}"
        f"{' recurrent' if base_cfg.recurrent else ''}, readout {base_cfg.readout}, "
        f"{base_cfg.epochs} epochs, batch {base_cfg.batch_size}, lr {base_cfg.lr:g}, "
        f"seeds {', '.join(map(str, seeds))}")
    if settings_note:
        log(settings_note)
    finals, histories, trained = {m: [] for m in models}, {m: [] for m in models}, {}
    for seed in seeds:
        for model in models:
            cfg = replace(base_cfg, model=model, seed=int(seed))
            net, params, hist = train(cfg, out_dir / model / f"seed{seed}", resume=resume,
                                      progress=progress, splits=splits, log=log)
            histories[model].append(hist)
            final = dict(hist[-1]) if hist else {}
            final["epoch_seconds"] = float(np.mean([h["epoch_seconds"] for h in hist])) if hist else np.nan
            final["compile_seconds"] = next((h["compile_seconds"] for h in hist
                                             if "compile_seconds" in h), np.nan)
            finals[model].append(final)
            trained.setdefault(model, (cfg, net, params))
            log(f"{model.upper()} seed {seed}: test accuracy {final.get('test_acc', np.nan):.2%}")
    table = format_table(finals) + "\n" + _notes(finals, n_classes, base_cfg)
    if settings_note:
        table += "\n" + settings_note
    log(table)
    (out_dir / "summary.txt").write_text(table + "\n")
    (out_dir / "results.json").write_text(json.dumps(finals, indent=1))
    training_curves(histories, out_dir / "training_curves.png", chance=1 / n_classes,
                    title=f"{base_cfg.dataset if base_cfg.data_path is None else 'data'}: "
                          f"LIF vs QIF, {splits.n_inputs}-{'-'.join(map(str, base_cfg.hidden))}-"
                          f"{n_classes}, readout {base_cfg.readout}")
    _sample_panels(trained, splits.test, out_dir / "sample.png")
    log(f"figures: {out_dir / 'training_curves.png'}, {out_dir / 'sample.png'}")
    return finals


def format_table(finals):
    """The final metrics, one row per metric, one column per model: mean +- std over seeds, or
    the single value when there is one seed."""
    n_seeds = max((len(v) for v in finals.values()), default=0)
    rows = [f"{'metric':<22}" + "".join(f"{m.upper():>20}" for m in finals)]
    for key, label, fmt in COLUMNS:
        cells = []
        for m in finals:
            vals = np.array([f.get(key, np.nan) for f in finals[m]], float)
            if np.all(np.isnan(vals)):
                cells.append(f"{'-':>20}")
                continue
            mean, std = np.nanmean(vals), np.nanstd(vals)
            text = fmt.format(mean) if n_seeds == 1 else fmt.format(mean) + " +- " + fmt.format(std)
            cells.append(f"{text:>20}")
        rows.append(f"{label:<22}" + "".join(cells))
    rows.append("(final epoch, one seed)" if n_seeds == 1
                else f"(final epoch, mean +- std over {n_seeds} seeds)")
    return "\n".join(rows)


def _notes(finals, n_classes, cfg):
    """Plain-language notes under the table: chance level and why accuracy can fall below it."""
    lines = [f"chance level: {1 / n_classes:.1%} ({n_classes} classes). s/epoch excludes the "
             f"one-off kernel compilation (paid once per process and model, and not at all "
             f"once Numba's on-disk cache holds the kernels)."]
    for m, runs in finals.items():
        acc = np.mean([f.get("test_acc", np.nan) for f in runs])
        silent = np.mean([f.get("test_no_output_fraction", 0.0) for f in runs])
        if acc < 1 / n_classes:
            why = ("a network that has not learned yet tends to answer one class for most "
                   "samples, and classes need not be equally frequent")
            if cfg.readout == "first_spike" and silent > 0:
                why = (f"in {silent:.0%} of the test samples no output neuron fired at all "
                       f"(counted as wrong" + (f"; a silent {m.upper()} output gets no gradient, "
                                               "so it may never learn to fire"
                                               if not NEURON_MODELS[m].has_pseudospikes else "")
                       + "), and " + why)
            lines.append(f"{m.upper()} is below chance ({acc:.1%}): {why}.")
    return "\n".join(lines)


def _sample_panels(trained, test, path):
    panels = {}
    T = None
    for model, (cfg, net, params) in trained.items():
        T = cfg.T
        times, units, label = test.times[0], test.units[0], int(test.labels[0])
        ev = evaluate(net, params, times, units, label, cfg.T, readout=cfg.readout,
                      max_spikes=cfg.max_spikes, on_budget="ignore")
        res = ev.simulation
        spiking_out = cfg.readout == "first_spike"  # else the last simulated layer is hidden
        names = [f"hidden {l}" for l in range(len(net.sizes) - 2)] + ["output"]
        layers = [(L.times, L.units, names[l], net.sizes[l + 1])
                  for l, L in enumerate(res.layers)]
        tt = np.linspace(0.0, cfg.T, 400)
        out_layer = len(res.layers) - 1
        n_show = min(net.sizes[out_layer + 1], 3)
        traces = voltage_trace(net, res, out_layer, list(range(n_show)), tt)
        labels = [f"output {k}" + (" (label)" if k == label else "") if spiking_out
                  else f"hidden unit {k}" for k in range(n_show)]
        pred = "no output fired" if ev.prediction < 0 else f"predicted {ev.prediction}"
        mark = "correct" if ev.prediction == label else "wrong"
        panels[model] = dict(inputs=(times, units), n_inputs=net.sizes[0], layers=layers,
                             trace_t=tt, traces=traces, trace_labels=labels,
                             subtitle=f"test sample 0, label {label}, {pred} ({mark})")
    sample_figure(panels, T, path)
