"""``snnexact landscape CHECKPOINT [CHECKPOINT ...]``: landscapes, fragmentation metrics and the
single-sample spike-change analysis around trained checkpoints (docs/landscapes.md).

Per checkpoint (a folder ``OUT/<model>``): ``landscape.npz`` (the grid arrays and the directions
``d1/...``, ``d2/...``, readable by ``--plane FILE``) and ``landscape.json`` (command, checkpoint
sha256, seeds, samples, metrics, timings); with ``--sample`` also ``line.json`` (the classified
changes). With several checkpoints, ``OUT`` gets the side-by-side figures and ``summary.json``.
"""
from dataclasses import asdict, dataclass, fields
import hashlib
import json
from pathlib import Path
import shlex
import sys
import time

import numpy as np

from snnexact import __version__
from snnexact.training import checkpoint
from snnexact.checks import check_fields
from snnexact.interfaces import landscape_plots as plots
from snnexact.analysis.directions import load_directions, save_directions
from snnexact.analysis.landscape import (PLANES, Problem, evaluate_grid, landscape_metrics,
                                         make_directions)
from snnexact.analysis.lines import Line, Sample
from snnexact.analysis.spike_changes import analyse_line
from snnexact.training.config import config_from_json, load_config
from snnexact.data.splits import load_splits
from snnexact.training.parallel import executor
from snnexact.training.train import CHECKPOINT, build_network, gather, loss_config

BAR_KEYS = ("jump_density", "jump_variation_fraction", "candidate_fraction",
            "gradient_cosine_negative_fraction", "fd_mismatch_median")


@dataclass(frozen=True)
class LandscapeOptions:
    """The settings of ``snnexact landscape`` (the flags of the same names)."""

    data: str = None
    split: str = "train"
    plane: str = "random"
    line: bool = False
    grid: int = 21
    span: float = 0.5
    samples: int = 16
    sample: int = None
    refine: int = 10
    max_refine: int = 256
    line_points: int = 401
    max_changes: int = 20
    seed: int = 0
    n_jobs: int = 1
    backend: str = "loky"
    progress: bool = True

    def __post_init__(self):
        checks = [("grid", self.grid >= 3, ">= 3"), ("span", self.span > 0, "> 0"),
                  ("samples", self.samples >= 1, ">= 1"), ("refine", self.refine >= 0, ">= 0"),
                  ("max_refine", self.max_refine >= 1, ">= 1"),
                  ("line_points", self.line_points >= 3, ">= 3"),
                  ("n_jobs", self.n_jobs >= 1, ">= 1"),
                  ("split", self.split in ("train", "validation", "test"),
                   "train, validation or test")]
        check_fields("landscape", self, checks)


@dataclass(frozen=True)
class CheckpointLandscape:
    """What ``run_one`` found for one checkpoint: the ``Landscape``, its metrics (a dict), the
    single-sample ``SampleLineAnalysis`` (or ``None``) and the JSON record."""

    landscape: object
    metrics: dict
    analysis: object
    record: dict


def _finite_or_none(x):
    """``x`` for JSON: nan becomes ``None`` (strict JSON has no NaN), recursively."""
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite_or_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_or_none(v) for v in x]
    return x


def _dump(path, obj):
    path.write_text(json.dumps(_finite_or_none(obj), indent=1, allow_nan=False))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checkpoint_file(path):
    """``path`` itself, or the ``checkpoint.npz`` in it if it is a run folder."""
    path = Path(path)
    return path / CHECKPOINT if path.is_dir() else path


def problem_from_checkpoint(path, data=None, split="train", indices=None):
    """``(Problem, cfg)`` for a trainer checkpoint (a ``checkpoint.npz`` or a run folder): its
    network and parameters, and the samples ``indices`` (default all) of ``split`` (``train``,
    ``validation`` or ``test``) of its data (or of ``data``, an SHD-layout path, instead)."""
    params, _, meta = checkpoint.load(checkpoint_file(path))
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


def run_one(path, opts, out):
    """Landscape (and, with ``opts.sample``, the line analysis) of one checkpoint, written to
    ``out``; ``opts`` is a ``LandscapeOptions``. Returns a ``CheckpointLandscape``."""
    indices = [opts.sample] if opts.sample is not None else list(range(opts.samples))
    problem, cfg = problem_from_checkpoint(path, opts.data, opts.split, indices)
    if opts.plane in PLANES:
        d1, d2 = make_directions(problem, opts.plane, opts.seed, line=opts.line)
    else:
        d1, d2 = load_directions(opts.plane, problem.params)
        d2 = None if opts.line else d2
        if d2 is None and not opts.line:
            raise ValueError(f"direction file {opts.plane} holds no d2: use --line")
    a = np.linspace(-opts.span, opts.span, opts.grid)
    b = np.zeros(1) if d2 is None else a
    out.mkdir(parents=True, exist_ok=True)
    n_refine = min(opts.max_refine, b.size * (a.size - 1) + a.size * (b.size - 1))
    bar = _bar(opts.progress, b.size + (n_refine if opts.refine else 0), cfg.model.upper())
    tick = None if bar is None else bar.update
    timings = {}
    with executor(opts.backend, opts.n_jobs) as run:
        t0 = time.perf_counter()
        land = evaluate_grid(problem, d1, d2, a, b, run, progress=tick)
        timings["grid_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        metrics = landscape_metrics(problem, d1, d2, land, run, levels=opts.refine,
                                    max_refine=opts.max_refine, seed=opts.seed,
                                    progress=tick).to_dict()
        timings["refine_seconds"] = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    analysis = None
    if opts.sample is not None:
        t0 = time.perf_counter()
        times, units, label = problem.samples[0]
        line = Line(problem.network, problem.params, Sample(times, units, label, problem.T), d1,
                    **_loss_kwargs(problem))
        analysis = analyse_line(line, np.linspace(-opts.span, opts.span, opts.line_points),
                                max_changes_per_interval=opts.max_changes)
        timings["line_seconds"] = time.perf_counter() - t0
        timings["line_evaluations"] = line.n_evaluations
        _dump(out / "line.json", _line_record(analysis))
    np.savez_compressed(out / "landscape.npz", **land.arrays(), **save_directions({"d1": d1,
                                                                                   "d2": d2}))
    record = {
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "snnexact": __version__, "checkpoint": str(path),
        "checkpoint_sha256": sha256(path), "model": cfg.model, "sizes": problem.network.sizes,
        "readout": cfg.readout, "T": problem.T, "data": cfg.data_path or cfg.dataset,
        "split": opts.split,
        "samples": indices, "plane": opts.plane, "seed": opts.seed, "line": opts.line,
        "grid": opts.grid, "span": opts.span, "refine_levels": opts.refine,
        "max_refine": opts.max_refine, "line_points": opts.line_points,
        "max_changes": opts.max_changes, "n_jobs": opts.n_jobs, "backend": opts.backend,
        "loss_at_center": float(land.loss[b.size // 2, a.size // 2]),
        "budget_hit_fraction": float(land.budget_hits.mean()), "metrics": metrics,
        "line_summary": None if analysis is None else analysis.summary(), "timings": timings,
    }
    _dump(out / "landscape.json", record)
    return CheckpointLandscape(land, metrics, analysis, record)


def _loss_kwargs(problem):
    """``snnexact.evaluate`` keywords for the problem's loss (every ``LossConfig`` field)."""
    return {**asdict(problem.loss_cfg), "max_spikes": problem.max_spikes}


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


def raster_change_point(analysis):
    """The change point to show in a raster: the one at the largest loss jump, else the first
    with a mid-trial event, else the first one (``None`` if there is none)."""
    cps = analysis.change_points
    if analysis.jumps and cps:
        j = max(analysis.jumps, key=lambda j: abs(j.refinement.size))
        return min(cps, key=lambda cp: abs(cp.alpha - j.refinement.position))
    mid = [cp for cp in cps if any(not e.at_T for e in cp.changes.events)]
    return (mid or cps or [None])[0]


def landscape_report(checkpoints, options, out, log=print):
    """``run_one`` for every checkpoint (a ``checkpoint.npz`` or a run folder) into
    ``out/<model>``, then the side-by-side figures and ``summary.json`` in ``out``. Returns
    ``{name: CheckpointLandscape}`` (names: ``LIF``, ``QIF``, ``LIF2``...)."""
    out = Path(out)
    results = {}
    for k, path in enumerate(checkpoints):
        path = checkpoint_file(path)
        model = json.loads(checkpoint.load(path)[2]["config"])["model"]
        name = model.upper() if model.upper() not in results else f"{model.upper()}{k}"
        r = results[name] = run_one(path, options, out / name.lower())
        t = r.record["timings"]
        log(f"{name}: " + ", ".join(f"{key} {r.metrics[key]:.4g}" for key in BAR_KEYS
                                    if key in r.metrics)
            + f"; grid {t['grid_seconds']:.1f} s, refinement {t['refine_seconds']:.1f} s")
        if r.analysis is not None:
            log(f"  line ({t['line_seconds']:.1f} s): "
                + json.dumps(_finite_or_none(r.record["line_summary"])))
    lands = {n: r.landscape for n, r in results.items()}
    if not options.line:
        plots.loss_maps(lands, out / "loss_maps.png")
        plots.loss_maps(lands, out / "loss_maps_log.png", log=True)
        plots.gradient_maps(lands, out / "gradient_maps.png")
        plots.mismatch_maps(lands, out / "mismatch_maps.png")
    plots.metric_bars({n: r.metrics for n, r in results.items()}, BAR_KEYS, out / "metrics.png")
    analyses = {n: r.analysis for n, r in results.items() if r.analysis is not None}
    if analyses:
        plots.line_events(analyses, out / "line_events.png")
        for n, an in analyses.items():
            chosen = raster_change_point(an)
            if chosen is not None:
                plots.change_raster(chosen, results[n].record["T"],
                                    out / f"raster_{n.lower()}.png",
                                    title=f"{n}: spikes just before / after a = "
                                          f"{chosen.alpha:.12g}")
    summary = {n: {"metrics": r.metrics, "line_summary": r.record["line_summary"],
                   "timings": r.record["timings"],
                   "checkpoint_sha256": r.record["checkpoint_sha256"]}
               for n, r in results.items()}
    _dump(out / "summary.json", summary)
    log(f"landscape results in {out}")
    return results


def cmd_landscape(args):
    names = [f.name for f in fields(LandscapeOptions)]
    landscape_report(args.checkpoints, LandscapeOptions(**{k: getattr(args, k) for k in names}),
                     args.out)


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
    p.add_argument("--max-changes", dest="max_changes", type=int, default=20,
                   help="isolate at most this many spike-count changes per line interval")
    p.add_argument("--seed", type=int, default=0, help="seed of the random directions")
    p.add_argument("--n-jobs", dest="n_jobs", type=int, default=1)
    p.add_argument("--backend", default="loky", choices=("loky", "threads"))
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_landscape)
