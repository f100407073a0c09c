"""Subcommands ``snnexact train``, ``snnexact evaluate`` and ``snnexact compare`` (with
``--landscape``, followed by ``snnexact landscape`` on its checkpoints)."""

import json
import os
from pathlib import Path
import sys
import time

from snnexact.training import checkpoint
from dataclasses import fields

from snnexact.interfaces.landscape_command import BAR_KEYS, LandscapeOptions, landscape_report
from snnexact.training.config import TrainConfig, config_from_json, load_config, prefixed
from snnexact.training.compare import MODELS, compare
from snnexact.data.splits import load_splits
from snnexact.training.parallel import executor
from snnexact.training.train import CHECKPOINT, build_network, check_output_dir, evaluate_split, train

# flags shared by train and compare: name -> (type, help)
_FLAGS = {
    "model": (str, "lif or qif"), "hidden": (int, "hidden layer sizes", "+"),
    "recurrent": (None, "recurrent hidden layers"), "tau_m": (float, "membrane time constant"),
    "T": (float, "trial length"), "readout": (str, "first_spike, max_voltage or integral"),
    "optimiser": (str, "adam or adabelief"), "lr": (float, "learning rate"),
    "lr_schedule": (str, "constant, cosine or step"), "epochs": (int, "epochs"),
    "batch_size": (int, "batch size"), "clip_norm": (float, "gradient clipping (global norm)"),
    "seed": (int, "random seed"), "n_jobs": (int, "parallel jobs: this process and n_jobs - 1 workers"),
    "backend": (str, "loky, threads or dask"), "scheduler": (str, "Dask scheduler address"),
    "pool": (int, "pool input channels by this factor"), "max_samples": (int, "use only the first N samples of each split"),
    "chunk_size": (int, "samples per parallel task"), "checkpoint_every": (int, "also checkpoint every N batches"),
}


def _flag(name):
    return "--" + name.replace("_", "-")


def _add_flags(p, skip=(), defaults=None):
    """The TrainConfig flags; each help text ends with the default the command uses."""
    base = {**{f.name: f.default for f in fields(TrainConfig)}, **(defaults or {})}
    p.add_argument("--config", help="TOML file with TrainConfig fields (flags override it)")
    p.add_argument("--data", help="SHD-layout file or folder (default: embedded Yin-Yang)")
    for name, spec in _FLAGS.items():
        if name in skip:
            continue
        default = base[name]
        shown = {"clip_norm": "off", "max_samples": "all"}.get(name, "unset") \
            if default is None else (" ".join(map(str, default)) if isinstance(default, tuple)
                                     else default)
        help_text = f"{spec[1]} (default: {shown})"
        if spec[0] is None:
            p.add_argument(_flag(name), dest=name, action="store_true", default=None,
                           help=help_text)
        else:
            p.add_argument(_flag(name), dest=name, type=spec[0],
                           nargs=spec[2] if len(spec) > 2 else None, default=None, help=help_text)


def _config(args, **defaults):
    overrides = {name: getattr(args, name, None) for name in _FLAGS}
    if overrides.get("hidden") is not None:
        overrides["hidden"] = tuple(overrides["hidden"])
    if args.data:
        overrides.update(dataset="shd", data_path=args.data)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    try:
        if args.config:
            return load_config(args.config, **overrides)
        return load_config(None, **{**defaults, **overrides})
    except (ValueError, TypeError) as exc:
        name = getattr(exc, "setting", None)
        if name in overrides and name in _FLAGS:   # name the flag the user typed
            raise prefixed(exc, _flag(name)) from None
        raise


# Testing and supervision hook: with this variable set to a file path, ``snnexact train`` writes
# "epoch batch" there after each checkpoint and waits until the file is removed, so a supervisor
# (the resume-after-kill test) can act at a point the trainer chose instead of racing a timer.
CHECKPOINT_SIGNAL_ENV = "SNNEXACT_CHECKPOINT_SIGNAL"


def _signal_checkpoint(path):
    def on_checkpoint(epoch, batch):
        tmp = Path(f"{path}.tmp")
        tmp.write_text(f"{epoch} {batch}\n")
        tmp.replace(path)
        while Path(path).exists():
            time.sleep(0.01)
    return on_checkpoint


def cmd_train(args):
    cfg = _config(args)
    out = check_output_dir(args.out)
    signal_path = os.environ.get(CHECKPOINT_SIGNAL_ENV)
    _, _, history = train(cfg, out, resume=args.resume, log=print,
                          on_checkpoint=_signal_checkpoint(signal_path) if signal_path else None)
    last = history[-1] if history else {}
    print(json.dumps({k: last[k] for k in last if not k.startswith("train_")}, indent=1))
    print(f"results in {out} (config.toml, metrics.jsonl, checkpoint.npz)")


def cmd_evaluate(args):
    path = Path(args.checkpoint)
    if path.is_dir():  # a run folder (snnexact train --out, or compare's <model>/seed<k>)
        if not (path / CHECKPOINT).is_file():
            raise FileNotFoundError(f"{path} is a folder without {CHECKPOINT}: pass a run "
                                    f"folder written by snnexact train/compare or its "
                                    f"{CHECKPOINT}")
        path = path / CHECKPOINT
    params, _, meta = checkpoint.load(path)
    cfg = config_from_json(meta["config"])
    if args.data:
        cfg = load_config(None, **{**json.loads(meta["config"]), "dataset": "shd",
                                   "data_path": args.data})
    train_set, val_set, test_set, n_in, n_out = load_splits(cfg)
    network = build_network(cfg, n_in, n_out)
    network.check_params(params)
    with executor(cfg.backend if cfg.backend != "dask" else "loky", args.n_jobs or 1) as run:
        for name, split in (("validation", val_set), ("test", test_set)):
            m = evaluate_split(run, network, params, split, cfg)
            print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in m.items()))


COMPARE_DEFAULTS = dict(epochs=12, n_jobs=2)
# the checks of validation/report.py (listed here so that --help works without the source tree)
VALIDATE_CHECKS = ("ode", "gradients", "mpmath", "continuity", "nan_free", "determinism", "speed")


def cmd_compare(args):
    seeds = args.seeds if args.seeds else [0]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"--seeds: seed {repeated[0]} is listed more than once (each seed is "
                         f"one independent run)")
    for s in seeds:
        if s < 0:
            raise ValueError(f"--seeds: seeds must be >= 0, got {s}")
    cfg = _config(args, **COMPARE_DEFAULTS)
    check_output_dir(args.out)
    compare(cfg, seeds, args.out, resume=args.resume, progress=not args.no_progress,
            settings_note=_settings_note(args))

    if args.landscape:
        out = Path(args.out)
        runs = [out / model / f"seed{seeds[0]}" / CHECKPOINT for model in MODELS]
        opts = LandscapeOptions(n_jobs=cfg.n_jobs, backend="threads" if cfg.backend == "threads"
                                else "loky", progress=not args.no_progress)
        results = landscape_report(runs, opts, out / "landscape")
        lines = ["", f"landscapes around seed {seeds[0]} (docs/landscapes.md; figures in "
                     f"{out / 'landscape'}):"]
        lines += [f"  {name}: " + ", ".join(f"{key} {r.metrics[key]:.3g}" for key in BAR_KEYS
                                           if key in r.metrics)
                  for name, r in results.items()]
        with open(out / "summary.txt", "a") as fh:
            fh.write("\n".join(lines) + "\n")


def _settings_note(args):
    """What was run: the searched configuration or the defaults, and how to get the other."""
    if args.config:
        return f"settings: {args.config} (plus any flags given)"
    return ("settings: the defaults shown by `snnexact compare --help`, the same for both "
            "models and NOT searched. The README's accuracies come from a per-model "
            "hyperparameter search; to reproduce them run (from a clone): "
            "snnexact train --config benchmarks/configs/yinyang_qif_searched.toml (QIF), or "
            "search both models with snnexact search (docs/protocol.md)")


def source_tree():
    """The repository folder that holds ``snnexact/`` next to ``reference/`` and
    ``validation/`` (an editable install or a clone), put on ``sys.path`` so that both import;
    ``ValueError`` if snnexact was installed without them (a wheel)."""
    import snnexact
    root = Path(snnexact.__file__).resolve().parents[1]
    if not ((root / "reference" / "__init__.py").is_file()
            and (root / "validation" / "report.py").is_file()):
        raise ValueError(f"snnexact validate needs the source tree (reference/ and validation/ "
                         f"next to snnexact/, not found in {root}): clone the repository and "
                         f"install it with pip install -e .")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root


def cmd_validate(args):
    source_tree()
    from validation.report import run
    level = "quick" if args.quick else "thorough" if args.thorough else "default"
    out = check_output_dir(args.out)
    print(f"snnexact validate ({level}): writing {out / 'report.md'} and {out / 'report.json'}")
    checks = run(level, out, checks=args.checks)
    failed = [c.name for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed"
          + (f"; FAILED: {', '.join(failed)}" if failed else "") + f". Report: {out / 'report.md'}")
    return 1 if failed else 0


def register(sub):
    p = sub.add_parser("train", help="train one network (flags and/or a TOML config)")
    _add_flags(p)
    p.add_argument("--out", default="runs/train", help="output folder (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint or a run folder")
    p.add_argument("checkpoint", help="a run folder (holding checkpoint.npz) or the file itself")
    p.add_argument("--data", help="SHD-layout file or folder (default: the run's data)")
    p.add_argument("--n-jobs", dest="n_jobs", type=int, default=1,
                   help="parallel jobs: this process and n_jobs - 1 workers (default: %(default)s)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("compare", help="main job: train LIF and QIF side by side and compare")
    _add_flags(p, skip=("model",), defaults=COMPARE_DEFAULTS)
    p.add_argument("--seeds", type=int, nargs="+", help="seeds, each one run per model (default: 0)")
    p.add_argument("--out", default="runs/compare", help="output folder (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue interrupted runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--landscape", action="store_true",
                   help="also landscapes around the first seed's LIF and QIF checkpoints "
                        "(snnexact landscape defaults; OUT/landscape, docs/landscapes.md)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("validate", help="run the validation suite and write a report")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="fewer cases (about 2 minutes)")
    level.add_argument("--thorough", action="store_true", help="many more cases (about an hour)")
    p.add_argument("--out", default="runs/validate", help="output folder (default: %(default)s)")
    p.add_argument("--checks", nargs="+", choices=VALIDATE_CHECKS, default=None,
                   help="run only these checks (default: all)")
    p.set_defaults(func=cmd_validate)



