"""``snnexact search`` (the equal-budget Optuna search of one or both models, and its report)
and ``snnexact protocol`` (the final stage: seeds, cross runs, ablations)."""
import argparse
from pathlib import Path

from snnexact.training.config import load_config
from snnexact.interfaces.plotting import protocol_evidence
from snnexact.training.protocol import (__doc__ as protocol_doc, collect, histories, load_best,
                                        run_finals, summary_table)
from snnexact.training.search import (MODELS, SearchSpace, import_trials, load_space, open_study,
                                      run_search)
from snnexact.training.search_report import write_report


def cmd_search(args):
    overrides = {"n_jobs": args.n_jobs}
    if args.data:
        overrides.update(dataset="shd", data_path=args.data)
    base = load_config(args.config, **overrides)
    storage = args.storage or str(Path(args.out) / "study.db")
    if args.import_trials:
        for model, path in zip(args.models, args.import_trials):
            n = import_trials(open_study(storage, args.name, model), path)
            print(f"{model}: imported {n} trials from {path}")
    space = load_space(args.space) if args.space else SearchSpace()
    if not args.report_only:
        for model in args.models:
            run_search(base, model, args.trials, args.epochs, storage, args.out, args.name,
                       space, log=lambda msg: print(msg, flush=True))
    report = write_report(storage, args.name, args.out, models=args.models)
    for model, e in report.items():
        print(f"{model}: {e['complete']} complete / {e['pruned']} pruned trials, best validation "
              f"accuracy {e.get('best_val_acc', float('nan')):.4f}")
    print(f"report in {args.out} (report.md, report.json, best_so_far.png, best_<model>.toml)")


def cmd_protocol(args):
    if args.summary_only:
        results = collect(args.out, args.epochs)
    else:
        if not args.search_dir:
            raise ValueError("--search-dir is required (unless --summary-only)")
        best = load_best(args.search_dir)
        results = run_finals(best, args.seeds, args.epochs, args.out, names=args.variants,
                             n_jobs=args.n_jobs, log=lambda msg: print(msg, flush=True))
    table = summary_table(results)
    (Path(args.out) / "finals.md").write_text(table)
    protocol_evidence(histories(args.out), Path(args.out) / "evidence.png",
                      title="protocol final stage: every run so far")
    print(table)
    print(f"results in {args.out} (finals.json, finals.md, evidence.png, one run folder per "
          "variant and seed)")


def register(sub):
    p = sub.add_parser("search", help="equal-budget hyperparameter search (Optuna TPE, median "
                       "pruning, resumable SQLite storage)",
                       description=__doc__ + " The space is snnexact.training.search.SearchSpace; "
                       "--config fixes everything else (data, T, time normalisation, width).")
    p.add_argument("--config", help="TOML file with the fixed TrainConfig fields")
    p.add_argument("--data", help="SHD-layout file or folder (default: embedded Yin-Yang)")
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                   help="models to search, one study each (default: %(default)s)")
    p.add_argument("--trials", type=int, default=30,
                   help="finished trials per model (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=10,
                   help="epochs per trial; scored on validation accuracy at the last epoch "
                   "(default: %(default)s)")
    p.add_argument("--name", default="protocol", help="study name prefix (default: %(default)s)")
    p.add_argument("--storage", help="Optuna storage URL or .db path (default: OUT/study.db)")
    p.add_argument("--import-trials", nargs="+", metavar="JSON",
                   help="one trials_<model>.json per --models entry, added to a fresh storage")
    p.add_argument("--n-jobs", type=int, help="parallel jobs per trial (this process and n - 1 workers)")
    p.add_argument("--space", help="TOML file overriding bounds of the search space, e.g. "
                   "log10_lr = [-3.0, -0.5] (use a new --name or --out: a study keeps its space)")
    p.add_argument("--report-only", action="store_true", help="only write the report")
    p.add_argument("--out", default="runs/search", help="output folder (default: %(default)s)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("protocol", help="final stage of the protocol: each model's searched "
                       "configuration over seeds, cross runs and QIF ablations",
                       description=protocol_doc,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--search-dir",
                   help="folder with best_lif.toml and best_qif.toml (the search report)")
    p.add_argument("--summary-only", action="store_true",
                   help="only summarise the runs in --out that finished --epochs epochs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                   help="seeds (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=40, help="epochs (default: %(default)s)")
    p.add_argument("--variants", nargs="+", help="only these variants (default: all)")
    p.add_argument("--n-jobs", type=int, help="parallel jobs per run (this process and n - 1 workers)")
    p.add_argument("--out", default="runs/protocol/finals",
                   help="output folder (default: %(default)s)")
    p.set_defaults(func=cmd_protocol)
