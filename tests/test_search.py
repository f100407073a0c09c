"""The Optuna search: same candidates for both models, resumable storage, export/import, report."""
import json

import pytest

from snnexact.training.config import TrainConfig
from snnexact.data.splits import load_splits
from snnexact.training.search import (SearchSpace, config_key, export_trials, import_trials, open_study,
                             run_search)
from snnexact.training.search_report import write_report

BASE = dict(hidden=(6,), max_samples=40, chunk_size=4)
SMALL = SearchSpace(depth=(1,), recurrent=(False,), n_bins=(20,), batch_size=(16,))


@pytest.fixture(scope="module")
def splits():
    return load_splits(TrainConfig(**BASE))


def _quiet(msg):
    pass


def test_search_same_candidates_resume_export_import_and_report(tmp_path, splits):
    base = TrainConfig(**BASE)
    db = tmp_path / "study.db"
    for model in ("lif", "qif"):
        run_search(base, model, 2, 1, db, tmp_path, space=SMALL, splits=splits, log=_quiet)
    lif, qif = (open_study(db, "protocol", m) for m in ("lif", "qif"))
    # the random start-up trials are the same candidates for both models
    assert [t.params for t in lif.trials] == [t.params for t in qif.trials]
    assert len(lif.trials) == 2
    # resuming with the same budget runs nothing more; a larger budget continues the study
    run_search(base, "qif", 2, 1, db, tmp_path, space=SMALL, splits=splits, log=_quiet)
    assert len(open_study(db, "protocol", "qif").trials) == 2
    # every trial trained in the folder named by its configuration, with the tied input events
    for t in qif.trials:
        cfg = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in
                             __import__("tomllib").loads(t.user_attrs["config"]).items()})
        assert cfg.model == "qif" and cfg.n_bins == 20 and cfg.epochs == 1
        assert (tmp_path / "trials" / "qif" / config_key(cfg) / "metrics.jsonl").exists()
    # export, then import into a fresh storage: the same finished trials
    export_trials(qif, tmp_path / "q.json")
    fresh = open_study(tmp_path / "fresh.db", "protocol", "qif")
    assert import_trials(fresh, tmp_path / "q.json") == 2
    assert [(t.params, t.value) for t in fresh.trials] == [(t.params, t.value) for t in qif.trials]
    with pytest.raises(ValueError, match="not empty"):
        import_trials(fresh, tmp_path / "q.json")
    report = write_report(db, "protocol", tmp_path / "report")
    assert report["qif"]["complete"] == 2
    assert report["qif"]["best_val_acc"] == max(t.value for t in qif.trials)
    for name in ("report.md", "report.json", "best_so_far.png", "best_lif.toml", "best_qif.toml"):
        assert (tmp_path / "report" / name).exists()
    assert json.loads((tmp_path / "report" / "report.json").read_text())["lif"]["trials"] == 2


def test_search_space_is_validated():
    with pytest.raises(ValueError, match="w_mean"):
        SearchSpace(w_mean=(1.0, 0.0))
    with pytest.raises(ValueError, match="log10_lr"):
        SearchSpace(log10_lr=(-3.0,))
    with pytest.raises(ValueError, match="readouts"):
        SearchSpace(readout=("first_spike", "softmax"))


def test_report_computes_parameter_importances(tmp_path):
    """With enough complete trials the report ranks the parameters (PED-ANOVA, no scikit-learn)."""
    import optuna
    dist = {"log10_lr": optuna.distributions.FloatDistribution(-3.0, -1.0),
            "depth": optuna.distributions.CategoricalDistribution([1, 2])}
    cfg = TrainConfig(**BASE).to_toml()
    for model in ("lif", "qif"):
        study = open_study(tmp_path / "s.db", "protocol", model)
        for k in range(12):
            lr = -3.0 + 2.0 * k / 11
            study.add_trial(optuna.trial.create_trial(
                params={"log10_lr": lr, "depth": 1 + k % 2}, distributions=dist,
                value=0.5 + 0.2 * lr, user_attrs={"config": cfg}))
    report = write_report(tmp_path / "s.db", "protocol", tmp_path / "r")
    for model in ("lif", "qif"):
        imp = report[model]["importances"]
        assert set(imp) == {"log10_lr", "depth"} and imp["log10_lr"] > imp["depth"]
    assert "parameter importances" in (tmp_path / "r" / "report.md").read_text()


def test_space_file_overrides_bounds_and_names_unknown_entries(tmp_path):
    from snnexact.training.search import SearchSpace, load_space
    f = tmp_path / "space.toml"
    f.write_text("log10_lr = [-3.0, -0.5]\nbatch_size = [16]\n")
    space = load_space(f)
    assert space.log10_lr == (-3.0, -0.5) and space.batch_size == (16,)
    assert space.depth == SearchSpace().depth
    f.write_text("log10_learning_rate = [-3.0, -0.5]\n")
    with pytest.raises(ValueError, match="log10_learning_rate"):
        load_space(f)
    f.write_text("log10_lr = [-0.5, -3.0]\n")
    with pytest.raises(ValueError, match="log10_lr"):
        load_space(f)
