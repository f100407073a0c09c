"""Every setting is checked in one place: each bad value from a flag or a TOML file gives an
error naming the setting (and the file and line), or is handled correctly. One test per case
found by probing the command line as a new user would (issue 12)."""
import dataclasses
import math
import os
from pathlib import Path
import warnings

import numpy as np
import pytest

from snnexact.interfaces.cli import main
from snnexact.training.config import SETTINGS, SettingError, SettingTypeError, TrainConfig, load_config
from snnexact.data.splits import find_split_files, load_splits

from data.test_shd_loader import write_shd


def _error(capsys, argv):
    """Run the CLI; it must refuse with exit code 2 and a one-line message (no traceback)."""
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and err.startswith("snnexact: error: ")
    return err


# ----------------------------------------------------------------------------- the table

def test_every_field_has_exactly_one_rule():
    """A new TrainConfig field is one new row in SETTINGS; this names a forgotten one."""
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sorted(names) == sorted(SETTINGS), set(names) ^ set(SETTINGS)


def test_every_default_passes_its_own_rule():
    cfg = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        assert getattr(cfg, f.name) is not None or SETTINGS[f.name].optional, f.name


@pytest.mark.parametrize("name,value,exc,match", [
    ("clip_norm", -1.0, SettingError, r"clip_norm must be a finite number > 0"),
    ("clip_norm", math.nan, SettingError, r"clip_norm must be a finite number > 0.*got nan"),
    ("checkpoint_every", -1, SettingError, r"checkpoint_every must be an integer >= 0"),
    ("batch_size", True, SettingTypeError, r"batch_size must be an integer >= 1, got True \(bool\)"),
    ("max_samples", 0, SettingError, r"max_samples must be an integer >= 1"),
    ("epochs", "ten", SettingTypeError, r"epochs must be an integer >= 0, got 'ten' \(str\)"),
    ("epochs", 1.5, SettingTypeError, r"epochs must be an integer >= 0, got 1.5 \(float\)"),
    ("seed", -1, SettingError, r"seed must be an integer >= 0"),
    ("lr", math.inf, SettingError, r"lr must be a finite number > 0, got inf"),
    ("lr", 0.0, SettingError, r"lr must be a finite number > 0"),
    ("hidden", [60, 0], SettingError, r"hidden must be a list of integers \(each >= 1\)"),
    ("hidden", "60", SettingTypeError, r"hidden must be a list of integers"),
    ("recurrent", 1, SettingTypeError, r"recurrent must be true or false, got 1 \(int\)"),
    ("model", "izhikevich", SettingError, r"model must be one of 'lif', 'qif'"),
    ("T", -1.0, SettingError, r"T must be a finite number > 0"),
    ("validation_fraction", 1.0, SettingError, r"validation_fraction must be .* < 1"),
    ("pool", 0, SettingError, r"pool must be an integer >= 1"),
    ("n_jobs", 0, SettingError, r"n_jobs must be an integer >= 1"),
    ("max_spikes", 0, SettingError, r"max_spikes must be an integer >= 1"),
])
def test_bad_values_are_refused_naming_the_setting(name, value, exc, match):
    with pytest.raises(exc, match=match) as info:
        TrainConfig(**{name: value})
    assert info.value.setting == name


def test_hidden_as_a_single_integer_means_one_layer():
    assert TrainConfig(hidden=60).hidden == (60,)


# ----------------------------------------------------------------------------- TOML files

@pytest.mark.parametrize("line,match", [
    ('epochs = "ten"', r"line 2: epochs must be an integer >= 0, got 'ten'"),
    ("epochs = 1.5", r"line 2: epochs must be an integer >= 0, got 1.5"),
    ("batch_size = true", r"line 2: batch_size must be an integer >= 1, got True"),
    ("clip_norm = -1.0", r"line 2: clip_norm must be a finite number > 0"),
    ("clip_norm = nan", r"line 2: clip_norm must be a finite number > 0"),
    ("lr = inf", r"line 2: lr must be a finite number > 0"),
])
def test_toml_errors_name_the_file_and_line(tmp_path, line, match):
    f = tmp_path / "run.toml"
    f.write_text(f'model = "qif"\n{line}\n')
    with pytest.raises((ValueError, TypeError), match=rf"config file {f}, {match}"):
        load_config(f)


def test_toml_hidden_as_an_integer(tmp_path):
    f = tmp_path / "run.toml"
    f.write_text("hidden = 60\n")
    assert load_config(f).hidden == (60,)


def test_toml_syntax_error_names_the_file(tmp_path, capsys):
    f = tmp_path / "broken.toml"
    f.write_text("epochs = = 3\n")
    err = _error(capsys, ["train", "--config", str(f), "--out", str(tmp_path / "o")])
    assert f"config file {f}: not valid TOML" in err and "line 1" in err


def test_missing_config_file_is_named(tmp_path, capsys):
    err = _error(capsys, ["train", "--config", str(tmp_path / "nope.toml")])
    assert "nope.toml does not exist" in err


# ----------------------------------------------------------------------------- flags

@pytest.mark.parametrize("argv,match", [
    (["--clip-norm", "-1"], "--clip-norm: clip_norm must be a finite number > 0"),
    (["--clip-norm", "nan"], "--clip-norm: clip_norm must be a finite number > 0"),
    (["--checkpoint-every", "-1"], "--checkpoint-every: checkpoint_every must be an integer >= 0"),
    (["--max-samples", "0"], "--max-samples: max_samples must be an integer >= 1"),
    (["--seed", "-1"], "--seed: seed must be an integer >= 0"),
    (["--lr", "inf"], "--lr: lr must be a finite number > 0"),
    (["--epochs", "-2"], "--epochs: epochs must be an integer >= 0"),
])
def test_bad_flags_are_refused_before_training(tmp_path, capsys, argv, match):
    out = tmp_path / "o"
    err = _error(capsys, ["train", *argv, "--out", str(out)])
    assert match in err
    assert not out.exists()  # nothing started


def test_compare_refuses_a_repeated_seed(tmp_path, capsys):
    err = _error(capsys, ["compare", "--seeds", "0", "0", "--out", str(tmp_path / "o")])
    assert "--seeds: seed 0 is listed more than once" in err


def test_compare_refuses_a_negative_seed(tmp_path, capsys):
    err = _error(capsys, ["compare", "--seeds", "-1", "--out", str(tmp_path / "o")])
    assert "--seeds: seeds must be >= 0" in err


# ----------------------------------------------------------------------------- output folders

def test_out_blocked_by_a_file_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    err = _error(capsys, ["train", "--max-samples", "10", "--out", str(blocker)])
    assert f"--out {blocker}: a file of that name exists" in err
    err = _error(capsys, ["compare", "--max-samples", "10", "--out", str(blocker / "sub")])
    assert "a part of the path is a file" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_is_refused_before_training(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        err = _error(capsys, ["train", "--max-samples", "10", "--out", str(ro / "run")])
    finally:
        ro.chmod(0o700)
    assert "no permission to write there" in err


# ----------------------------------------------------------------------------- data

def _samples(rng, n, n_channels=700):
    out = []
    for _ in range(n):
        k = int(rng.integers(5, 20))
        out.append((np.sort(rng.uniform(0, 1.0, k)).astype(np.float16),
                    rng.integers(0, n_channels, k).astype(np.uint16)))
    return out


def test_data_file_with_zero_samples_is_named(tmp_path):
    rng = np.random.default_rng(0)
    write_shd(tmp_path / "x_train.h5", [], [], keys=())
    write_shd(tmp_path / "x_test.h5", _samples(rng, 3), [0, 1, 2])
    cfg = TrainConfig(dataset="shd", data_path=str(tmp_path), tau_m=0.02, T=1.0)
    with pytest.raises(ValueError, match=r"x_train.h5 holds 0 samples"):
        load_splits(cfg)


def test_pool_that_leaves_one_channel_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    write_shd(tmp_path / "x_train.h5", _samples(rng, 4), [0, 1, 2, 0])
    write_shd(tmp_path / "x_test.h5", _samples(rng, 3), [0, 1, 2])
    cfg = TrainConfig(dataset="shd", data_path=str(tmp_path), tau_m=0.02, T=1.0, pool=100000)
    with pytest.raises(SettingError, match=r"pool = 100000 would merge the 700 input channels"):
        load_splits(cfg)
    load_splits(dataclasses.replace(cfg, pool=350))   # 2 channels: allowed


def test_pool_with_yinyang_is_refused(capsys, tmp_path):
    err = _error(capsys, ["train", "--pool", "100000", "--out", str(tmp_path / "o")])
    assert "--pool: pool applies to SHD-layout data (--data) only" in err


def test_train_file_inside_a_folder_named_train(tmp_path):
    """Only the file name is changed to find the test file, not the folder's."""
    folder = tmp_path / "my_training_data"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_shd(folder / "shd_train.h5", _samples(rng, 2), [0, 1])
    write_shd(folder / "shd_test.h5", _samples(rng, 2), [0, 1])
    assert find_split_files(folder / "shd_train.h5") == (folder / "shd_train.h5",
                                                         folder / "shd_test.h5")


# ----------------------------------------------------------------------------- evaluate, budget

def test_evaluate_accepts_a_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--max-samples", "20", "--hidden", "3",
                 "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    assert "test: loss" in capsys.readouterr().out
    err = _error(capsys, ["evaluate", str(tmp_path)])
    assert "is a folder without checkpoint.npz" in err


def test_warning_when_most_samples_hit_the_spike_budget(tmp_path):
    from snnexact.engine.simulate import SpikeBudgetWarning
    from snnexact.training.train import train
    cfg = TrainConfig(hidden=(4,), epochs=1, max_samples=12, max_spikes=1, w_mean=3.0)
    with pytest.warns(SpikeBudgetWarning, match=r"of 24 validation and test samples hit the "
                                                r"spike budget \(max_spikes = 1\)"):
        train(cfg, tmp_path / "run", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(dataclasses.replace(cfg, max_spikes=None), tmp_path / "run2", progress=False)


def test_version_flag(capsys):
    import snnexact
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"snnexact {snnexact.__version__}"


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 12)" in out and "(default: 0.005)" in out and "(default: runs/compare)" in out


def test_rate_upper_inf_means_no_bound():
    """Configs written before rate_upper became optional hold ``rate_upper = inf``."""
    from snnexact.training.config import TrainConfig
    assert TrainConfig(rate_upper=float("inf")).rate_upper is None
    assert TrainConfig(rate_upper=2.0).rate_upper == 2.0


def test_tau_s_selects_the_general_lif_and_is_refused_for_qif():
    from snnexact.engine.neurons.lif_general import LIFGeneralKernel
    from snnexact.training.train import build_network
    net = build_network(TrainConfig(model="lif", tau_m=1.0, tau_s=0.3), 4, 2)
    assert isinstance(net.neuron.kernel, LIFGeneralKernel) and net.neuron.tau_s == 0.3
    with pytest.raises(ValueError, match="tau_s"):
        build_network(TrainConfig(model="qif", tau_s=0.3), 4, 2)
