"""Equal-budget hyperparameter search for the LIF-versus-QIF comparison, on Optuna.

Each model gets its own study with the same search space, sampler (TPE, fixed seed), pruner
(median rule on the per-epoch validation accuracy) and trial budget. A trial trains one
configuration for ``epochs`` epochs and scores its validation accuracy at the last epoch.
Scales are in each model's natural unit (weights in kicks, ``Network.kick``; the membrane time
constant as the fraction ``tau_m / T``), so one point of the space means the same for both
models.

Resuming: studies live in an Optuna storage (SQLite by default); trials keep a heartbeat, so a
trial whose process died is marked failed and retried with the same parameters, and it resumes
from its own checkpoint (trial folders are keyed by the configuration's hash). Several processes
may share one storage. ``export_trials`` / ``import_trials`` carry finished trials over to a
fresh storage on another machine as JSON.
"""
from dataclasses import asdict, dataclass, fields, replace
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

from snnexact.engine.neurons import MODELS as NEURON_MODELS
from snnexact.training.config import TrainConfig
from snnexact.training.train import EXECUTION_FIELDS, train

SAMPLER_SEED = 2026
MODELS = tuple(NEURON_MODELS)  # one study per registered neuron model, same space and budget
READOUT_CHOICES = ("first_spike", "integral", "max_voltage")


@dataclass(frozen=True)
class SearchSpace:
    """Bounds of the search (log-uniform where the name starts with ``log10_``, else uniform;
    tuples of choices for the categorical settings). Weights are in kicks."""

    log10_tau_ratio: tuple = (-1.0, 0.3)        # tau_m / T from 0.1 to 2
    log10_lr: tuple = (-3.0, -1.5)
    optimiser: tuple = ("adabelief", "adam")
    batch_size: tuple = (16, 32, 64)
    readout: tuple = READOUT_CHOICES
    log10_gamma: tuple = (-3.0, -0.5)           # first-spike readout only
    w_mean: tuple = (-0.2, 0.5)
    log10_w_std: tuple = (-1.0, 0.5)
    log10_out_std: tuple = (-1.5, 0.5)          # voltage readouts only
    recurrent: tuple = (False, True)
    depth: tuple = (1, 2)
    n_bins: tuple = (50, 100, 200)
    train_v0: tuple = (False, True)
    window: tuple = (0.0, 0.5)                  # readout window / T, voltage readouts only
    silence_reg: tuple = (0.0, 0.1, 1.0)        # acts on models with pseudodynamics only
    rate_reg: tuple = (0.0, 0.1, 1.0)           # band from the base config (rate_lower, ...)

    def __post_init__(self):
        for name, bounds in asdict(self).items():
            if not isinstance(bounds, tuple) or not bounds:
                raise ValueError(f"search space: {name} must be a non-empty tuple, got {bounds!r}")
            if name.startswith("log10_") or name == "w_mean":
                if len(bounds) != 2 or not float(bounds[0]) <= float(bounds[1]):
                    raise ValueError(f"search space: {name} must be (low, high) with low <= "
                                     f"high, got {bounds!r}")
        bad = set(self.readout) - set(READOUT_CHOICES)
        if bad:
            raise ValueError(f"search space: unknown readouts {sorted(bad)}")


def load_space(path):
    """``SearchSpace`` with the bounds of the TOML file ``path`` (names as the fields; lists
    become tuples); an unknown name is a ``ValueError`` naming it and the file."""
    import tomllib
    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    known = {f.name for f in fields(SearchSpace)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown search-space names {unknown}; known: {sorted(known)}")
    return SearchSpace(**{k: tuple(v) if isinstance(v, list) else v for k, v in table.items()})


def suggest(trial, space, base):
    """The ``TrainConfig`` of one Optuna trial: ``base`` with the suggested settings."""
    def log_uniform(name):
        lo, hi = getattr(space, "log10_" + name)
        return float(10 ** trial.suggest_float("log10_" + name, lo, hi))

    readout = trial.suggest_categorical("readout", list(space.readout))
    width = base.hidden[0] if base.hidden else 128
    hp = {"tau_m": log_uniform("tau_ratio") * base.T,
          "lr": log_uniform("lr"),
          "optimiser": trial.suggest_categorical("optimiser", list(space.optimiser)),
          "batch_size": trial.suggest_categorical("batch_size", list(space.batch_size)),
          "readout": readout,
          "w_mean": trial.suggest_float("w_mean", *space.w_mean),
          "w_std": log_uniform("w_std"),
          "recurrent": trial.suggest_categorical("recurrent", list(space.recurrent)),
          "hidden": (width,) * trial.suggest_categorical("depth", list(space.depth)),
          "n_bins": trial.suggest_categorical("n_bins", list(space.n_bins)),
          "train_v0": trial.suggest_categorical("train_v0", list(space.train_v0)),
          "silence_reg": trial.suggest_categorical("silence_reg", list(space.silence_reg)),
          "rate_reg": trial.suggest_categorical("rate_reg", list(space.rate_reg))}
    if readout == "first_spike":
        hp.update(gamma=log_uniform("gamma"), out_std=None, window=0.0)
    else:
        hp.update(out_std=log_uniform("out_std"),
                  window=trial.suggest_categorical("window", list(space.window)) * base.T)
    return replace(base, **hp)


def config_key(cfg):
    """Short hash of everything in ``cfg`` that changes the result (names a trial's folder)."""
    values = {k: v for k, v in asdict(cfg).items() if k not in EXECUTION_FIELDS}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _optuna():
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - optuna is a dependency
        raise ImportError("snnexact search needs optuna (pip install optuna)") from exc
    return optuna


def open_study(storage, name, model, load_only=False):
    """The study ``{name}-{model}`` in ``storage`` (an Optuna URL or a ``.db`` path), with TPE
    (seed ``SAMPLER_SEED``), median pruning, heartbeats and retry of trials whose process died."""
    optuna = _optuna()
    # heartbeats, trial retry and the multivariate TPE are marked experimental by Optuna
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if "://" not in str(storage):
        Path(storage).parent.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(storage).resolve()}"
    rdb = optuna.storages.RDBStorage(
        storage, heartbeat_interval=60, grace_period=300,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2))
    sampler = optuna.samplers.TPESampler(seed=SAMPLER_SEED, n_startup_trials=10,
                                         multivariate=True, group=True)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3)
    study_name = f"{name}-{model}"
    if load_only:
        return optuna.load_study(study_name=study_name, storage=rdb, sampler=sampler,
                                 pruner=pruner)
    return optuna.create_study(study_name=study_name, storage=rdb, sampler=sampler,
                               pruner=pruner, direction="maximize", load_if_exists=True)


def run_search(base, model, trials, epochs, storage, out_dir, name="protocol",
               space=SearchSpace(), splits=None, log=print):
    """Run trials of ``model`` until the study holds ``trials`` finished ones (complete or
    pruned); returns the study. ``base`` fixes everything the space does not set."""
    optuna = _optuna()
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if epochs < 1 or trials < 1:
        raise ValueError(f"epochs and trials must be >= 1, got {epochs} and {trials}")
    out_dir = Path(out_dir)
    study = open_study(storage, name, model)
    if splits is None:
        from snnexact.data.splits import load_splits
        splits = load_splits(replace(base, n_bins=None))

    def objective(trial):
        cfg = replace(suggest(trial, space, base), model=model, epochs=epochs,
                      seed=SAMPLER_SEED + trial.number)
        trial.set_user_attr("config", cfg.to_toml())
        run_dir = out_dir / "trials" / model / config_key(cfg)

        def report(entry):
            trial.report(entry["val_acc"], entry["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned()

        _, _, hist = train(cfg, run_dir, resume=True, progress=False,
                           splits=_binned(splits, cfg), on_epoch=report)
        last = hist[-1]
        for key in ("test_acc", "test_acc_no_pseudo", "val_acc_no_pseudo", "train_acc",
                    "test_silent_hidden_fraction", "test_hidden_spikes_per_sample",
                    "epoch_seconds"):
            if key in last:
                trial.set_user_attr(key, float(last[key]))
        return float(last["val_acc"])

    def finished(st):
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        return len(st.get_trials(deepcopy=False, states=states))

    def stop_when_done(st, _trial):
        export_trials(st, out_dir / f"trials_{model}.json")
        if finished(st) >= trials:
            st.stop()

    while finished(study) < trials:
        study.optimize(objective, n_trials=trials - finished(study), callbacks=[stop_when_done],
                       catch=(FloatingPointError,))
    export_trials(study, out_dir / f"trials_{model}.json")
    log(f"{model}: {finished(study)} trials, best validation accuracy {study.best_value:.4f}")
    return study


def _binned(splits, cfg):
    """``splits`` (loaded without binning) with ``cfg.n_bins`` applied to every sample."""
    if not cfg.n_bins:
        return splits
    from snnexact.data.splits import rebin
    return rebin(splits, cfg)


def export_trials(study, path):
    """Finished trials of ``study`` as JSON (parameters, distributions, value, per-epoch
    values, attributes), written atomically."""
    optuna = _optuna()
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state not in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED):
            continue
        rows.append({"number": t.number, "state": t.state.name, "value": t.value,
                     "params": t.params,
                     "distributions": {k: optuna.distributions.distribution_to_json(d)
                                       for k, d in t.distributions.items()},
                     "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
                     "user_attrs": t.user_attrs})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    tmp.replace(path)


def import_trials(study, path):
    """Add the trials of an ``export_trials`` file to an empty ``study``; returns their count."""
    optuna = _optuna()
    if study.get_trials(deepcopy=False):
        raise ValueError(f"import_trials: study {study.study_name} is not empty; import "
                         f"{path} into a fresh storage")
    rows = json.loads(Path(path).read_text())
    for r in rows:
        study.add_trial(optuna.trial.create_trial(
            params=r["params"], value=r["value"] if r["state"] == "COMPLETE" else None,
            state=optuna.trial.TrialState[r["state"]],
            distributions={k: optuna.distributions.json_to_distribution(d)
                           for k, d in r["distributions"].items()},
            intermediate_values={int(k): v for k, v in r["intermediate"].items()},
            user_attrs=r["user_attrs"]))
    return len(rows)


def best_config(study):
    """The best trial's ``TrainConfig`` (from its stored TOML)."""
    import tomllib
    values = tomllib.loads(study.best_trial.user_attrs["config"])
    return TrainConfig(**values)


def trial_table(study):
    """Rows (number, state, value, test accuracy, params) of the finished trials, by value."""
    rows = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    rows.sort(key=lambda t: -t.value)
    return [{"number": t.number, "state": t.state.name, "val_acc": t.value,
             "test_acc": t.user_attrs.get("test_acc"), **t.params} for t in rows]


def best_so_far(study):
    """Trial numbers and the best completed validation accuracy up to each."""
    vals = [(t.number, t.value if t.state.name == "COMPLETE" else -np.inf)
            for t in study.get_trials(deepcopy=False) if t.state.name in ("COMPLETE", "PRUNED")]
    vals.sort()
    return [n for n, _ in vals], list(np.maximum.accumulate([v for _, v in vals]))
