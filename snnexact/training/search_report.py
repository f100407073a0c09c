"""Report of an equal-budget search: a Markdown table, best-so-far curves of both models,
parameter importances and each model's best configuration as a TOML file."""
import json
from pathlib import Path

from snnexact.interfaces.plotting import search_curves
from snnexact.training.search import MODELS, best_config, best_so_far, open_study, trial_table


def write_report(storage, name, out_dir, models=MODELS, top=5):
    """Write ``report.md``, ``report.json``, ``best_so_far.png`` and ``best_{model}.toml`` into
    ``out_dir``; returns the report as a dict."""
    import optuna
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report, curves = {}, {}
    for model in models:
        study = open_study(storage, name, model, load_only=True)
        rows = trial_table(study)
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        entry = {"trials": len(states), "complete": states.count("COMPLETE"),
                 "pruned": states.count("PRUNED"), "failed": states.count("FAIL"), "top": rows[:top]}
        if entry["complete"]:
            entry["best_val_acc"] = study.best_value
            entry["best_trial"] = study.best_trial.number
            (out_dir / f"best_{model}.toml").write_text(best_config(study).to_toml())
        if entry["complete"] >= 4:
            imp = optuna.importance.get_param_importances(  # PED-ANOVA: needs no scikit-learn
                study, evaluator=optuna.importance.PedAnovaImportanceEvaluator())
            entry["importances"] = {k: float(v) for k, v in imp.items()}
        curves[model] = best_so_far(study)
        report[model] = entry
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
    (out_dir / "report.md").write_text(_markdown(report))
    search_curves(curves, out_dir / "best_so_far.png", f"search {name}")
    return report


def _markdown(report):
    lines = []
    for model, e in report.items():
        lines.append(f"## {model.upper()}: {e['trials']} trials ({e['complete']} complete, "
                     f"{e['pruned']} pruned, {e['failed']} failed)\n")
        if not e["top"]:
            continue
        keys = list(e["top"][0])
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        for r in e["top"]:
            lines.append("| " + " | ".join(_fmt(r.get(k)) for k in keys) + " |")
        if "importances" in e:
            lines.append("\nparameter importances (PED-ANOVA): " + ", ".join(
                f"{k} {v:.2f}" for k, v in e["importances"].items()))
        lines.append("")
    return "\n".join(lines) + "\n"


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
