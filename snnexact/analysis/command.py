"""``snnexact landscape CHECKPOINT [CHECKPOINT ...]``: landscapes, fragmentation metrics and the
single-sample spike-change analysis around trained checkpoints (docs/landscapes.md).

Per checkpoint (a folder ``OUT/<model>``): ``landscape.npz`` (the grid arrays and the directions
``d1/...``, ``d2/...``, readable by ``--plane FILE``) and ``landscape.json`` (command, checkpoint
sha256, seeds, samples, metrics, timings); with ``--sample`` also ``line.json`` (the classified
changes). With several checkpoints, ``OUT`` gets the side-by-side figures and ``summary.json``.
"""
import hashlib
import json
from pathlib import Path
import shlex
import sys
import time

import numpy as np

from snnexact import __version__, checkpoint
from snnexact.analysis import plots
from snnexact.analysis.directions import load_directions, save_directions
from snnexact.analysis.landscape import (PLANES, Problem, evaluate_grid, landscape_metrics,
                                         make_directions)
from snnexact.analysis.lines import Line, Sample
from snnexact.analysis.spike_changes import analyse_line
from snnexact.config import config_from_json, load_config
from snnexact.data.splits import load_splits
from snnexact.parallel import executor
from snnexact.train import build_network, gather, loss_config

BAR_KEYS = ("jump_density", "jump_variation_fraction", "candidate_fraction",
            "gradient_cosine_negative_fraction", "fd_mismatch_median")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def problem_from_checkpoint(path, data=None, split="train", indices=None):
    """``(Problem, cfg)`` for a trainer checkpoint: its network and parameters, and the samples
    ``indices`` (default all) of ``split`` (``train``, ``validation`` or ``test``) of its data
    (or of ``data``, an SHD-layout path, instead)."""
    params, _, meta = checkpoint.load(path)
    cfg = config_from_json(meta["config"])
    if data:
        cfg = load_config(None, **{**json.loads(meta["config"]), "dataset": "shd",
                                   "data_path": str(data)})
    train_set, val_set, test_set, n_in, n_out = load_splits(cfg)
    chosen = {"train": train_set, "validation": val_set, "test": test_set}[split]
    network = build_network(cfg, n_in, n_out)
    network.check_params(params)
    idx = range(len(chosen)) if indices is None else indices
    bad = [i for i in idx if not 0 <= i < len(chosen)]
    if bad:
        raise ValueError(f"sample index {bad[0]} out of range: the {split} split has "
                         f"{len(chosen)} samples")
    samples = gather(chosen, idx, None, cfg, 0)
    return Problem(network, params, samples, cfg.T, loss_config(cfg), cfg.max_spikes), cfg


def _bar(enabled, total, desc):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="step", leave=False)


def run_one(path, args, out):
    """Landscape (and, with ``--sample``, the line analysis) of one checkpoint; returns the
    ``(Landscape, metrics dict, SampleLineAnalysis or None, record)``."""
    if args.grid < 3 or not args.span > 0 or args.samples < 1 or args.line_points < 3:
        raise ValueError("landscape: need --grid >= 3, --span > 0, --samples >= 1 and "
                         "--line-points >= 3")
    indices = [args.sample] if args.sample is not None else list(range(args.samples))
    problem, cfg = problem_from_checkpoint(path, args.data, args.split, indices)
    if args.plane in PLANES:
        d1, d2 = make_directions(problem, args.plane, args.seed, line=args.line)
    else:
        d1, d2 = load_directions(args.plane, problem.params)
        d2 = None if args.line else d2
        if d2 is None and not args.line:
            raise ValueError(f"direction file {args.plane} holds no d2: use --line")
    a = np.linspace(-args.span, args.span, args.grid)
    b = np.zeros(1) if d2 is None else a
    out.mkdir(parents=True, exist_ok=True)
    n_refine = min(args.max_refine, b.size * (a.size - 1) + a.size * (b.size - 1))
    bar = _bar(args.progress, b.size + (n_refine if args.refine else 0), cfg.model.upper())
    tick = None if bar is None else bar.update
    timings = {}
    with executor(args.backend, args.n_jobs) as run:
        t0 = time.perf_counter()
        land = evaluate_grid(problem, d1, d2, a, b, run, progress=tick)
        timings["grid_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        metrics = landscape_metrics(problem, d1, d2, land, run, levels=args.refine,
                                    max_refine=args.max_refine, seed=args.seed,
                                    progress=tick).to_dict()
        timings["refine_seconds"] = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    analysis = None
    if args.sample is not None:
        t0 = time.perf_counter()
        times, units, label = problem.samples[0]
        line = Line(problem.network, problem.params, Sample(times, units, label, problem.T), d1,
                    **_loss_kwargs(problem))
        analysis = analyse_line(line, np.linspace(-args.span, args.span, args.line_points))
        timings["line_seconds"] = time.perf_counter() - t0
        timings["line_evaluations"] = line.n_evaluations
        (out / "line.json").write_text(json.dumps(_line_record(analysis), indent=1))
    np.savez_compressed(out / "landscape.npz", **land.arrays(), **save_directions({"d1": d1,
                                                                                   "d2": d2}))
    record = {
        "command": shlex.join(sys.argv), "snnexact": __version__, "checkpoint": str(path),
        "checkpoint_sha256": sha256(path), "model": cfg.model, "sizes": problem.network.sizes,
        "readout": cfg.readout, "T": problem.T, "data": cfg.data_path or cfg.dataset,
        "split": args.split,
        "samples": indices, "plane": args.plane, "seed": args.seed, "line": args.line,
        "grid": args.grid, "span": args.span, "refine_levels": args.refine,
        "max_refine": args.max_refine, "n_jobs": args.n_jobs, "backend": args.backend,
        "loss_at_center": float(land.loss[b.size // 2, a.size // 2]), "metrics": metrics,
        "line_summary": None if analysis is None else analysis.summary(), "timings": timings,
    }
    (out / "landscape.json").write_text(json.dumps(record, indent=1))
    return land, metrics, analysis, record


def _loss_kwargs(problem):
    c = problem.loss_cfg
    return {"readout": c.readout, "tau_r": c.tau_r, "gamma": c.gamma, "alpha": c.alpha,
            "pseudo": c.pseudo, "max_spikes": problem.max_spikes}


def _line_record(analysis):
    def event(e):
        return {"kind": e.kind, "layer": e.layer, "neuron": e.neuron, "time": e.time,
                "at_T": e.at_T, **({} if e.kind != "move" else {"time_right": e.time_right})}
    return {
        "summary": analysis.summary(),
        "change_points": [{"alpha": cp.alpha, "width": cp.right.alpha - cp.left.alpha,
                           "events": [event(e) for e in cp.changes.events],
                           "follows_swap": list(cp.follows_swap),
                           "swaps": len(cp.changes.swaps)} for cp in analysis.change_points],
        "jumps": [{"alpha": j.refinement.position, "size": j.refinement.size,
                   "width": j.refinement.widths[-1],
                   "events": [event(e) for e in j.changes.events],
                   "swaps": [{"first": s.first, "second": s.second, "relation": s.relation}
                             for s in j.changes.swaps[:20]]} for j in analysis.jumps],
    }


def cmd_landscape(args):
    out = Path(args.out)
    names, results = [], {}
    for k, path in enumerate(args.checkpoints):
        path = Path(path)
        if path.is_dir():
            path = path / "checkpoint.npz"
        model = json.loads(checkpoint.load(path)[2]["config"])["model"]
        name = model if model not in names else f"{model}{k}"
        names.append(name)
        results[name.upper()] = run_one(path, args, out / name)
        land, metrics, _, record = results[name.upper()]
        print(f"{name.upper()}: " + ", ".join(f"{key} {metrics[key]:.4g}" for key in BAR_KEYS
                                             if key in metrics)
              + f"; grid {record['timings']['grid_seconds']:.1f} s, refinement "
                f"{record['timings']['refine_seconds']:.1f} s")
        if record["line_summary"] is not None:
            print(f"  line ({record['timings']['line_seconds']:.1f} s): "
                  + json.dumps(record["line_summary"]))
    lands = {n: r[0] for n, r in results.items()}
    if not args.line:
        plots.loss_maps(lands, out / "loss_maps.png")
        plots.loss_maps(lands, out / "loss_maps_log.png", log=True)
        plots.gradient_maps(lands, out / "gradient_maps.png")
    plots.metric_bars({n: r[1] for n, r in results.items()}, BAR_KEYS, out / "metrics.png")
    analyses = {n: r[2] for n, r in results.items() if r[2] is not None}
    if analyses:
        plots.line_events(analyses, out / "line_events.png")
        for n, an in analyses.items():
            mid = [cp for cp in an.change_points if any(not e.at_T for e in cp.changes.events)]
            chosen = (mid or an.change_points or [None])[0]
            if chosen is not None:
                plots.change_raster(chosen, results[n][3]["T"], out / f"raster_{n.lower()}.png",
                                    title=f"{n}: spikes just before / after a = "
                                          f"{chosen.alpha:.12g}")
    summary = {n: {"metrics": r[1], "line_summary": r[3]["line_summary"],
                   "timings": r[3]["timings"], "checkpoint_sha256": r[3]["checkpoint_sha256"]}
               for n, r in results.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"results in {out}")


def register(sub):
    p = sub.add_parser("landscape", help="loss/gradient landscapes and fragmentation metrics "
                                         "around checkpoints (docs/landscapes.md)")
    p.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                   help="checkpoint.npz files (or run folders) written by snnexact train")
    p.add_argument("--data", help="SHD-layout file or folder (default: the run's data)")
    p.add_argument("--split", default="train", choices=("train", "validation", "test"))
    p.add_argument("--plane", default="random",
                   help="random, gradient, or an NPZ with d1/... (and d2/...) arrays, e.g. a "
                        "landscape.npz")
    p.add_argument("--line", action="store_true", help="a 1-D line along d1 instead of a plane")
    p.add_argument("--grid", type=int, default=21, help="grid points per axis")
    p.add_argument("--span", type=float, default=0.5, help="coordinates run over [-S, S]")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--samples", type=int, default=16, help="the first K samples of the split")
    group.add_argument("--sample", type=int, help="one sample (adds the spike-change analysis)")
    p.add_argument("--refine", type=int, default=10, help="bisection levels per refined pair")
    p.add_argument("--max-refine", dest="max_refine", type=int, default=256,
                   help="refine at most this many pairs (a random subset)")
    p.add_argument("--line-points", dest="line_points", type=int, default=401,
                   help="grid of the single-sample line analysis")
    p.add_argument("--seed", type=int, default=0, help="seed of the random directions")
    p.add_argument("--n-jobs", dest="n_jobs", type=int, default=1)
    p.add_argument("--backend", default="loky", choices=("loky", "threads"))
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_landscape)
