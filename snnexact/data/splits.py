"""Train/validation/test splits for training, with the deterministic input transforms applied
once and the random augmentations applied per sample and epoch from a keyed seed."""
from dataclasses import dataclass
import itertools
from pathlib import Path

from typing import NamedTuple

import numpy as np

from snnexact.training.config import SettingError
from snnexact.data.shd import SHDDataset
from snnexact.data.transforms import (Bin, ChannelShift, Compose, Crop, MaxSpikes, PoolChannels,
                                      TimeJitter, TimeNormalise, TimeScale)
from snnexact.data.yinyang import YinYangDataset

SPLIT_SEED = 20260  # fixed, so every run and seed is validated on the same held-out samples


@dataclass(frozen=True)
class Split:
    """Pre-transformed samples of one split: lists of (times, units) and the labels."""

    name: str
    times: list
    units: list
    labels: np.ndarray
    n_channels: int
    n_classes: int

    def __len__(self):
        return self.labels.size


class Splits(NamedTuple):
    """The data of a training run: three splits and the input and class counts."""

    train: object
    validation: object
    test: object
    n_inputs: int
    n_classes: int


def load_splits(cfg):
    """``Splits(train, validation, test, n_inputs, n_classes)`` for a ``TrainConfig``.

    ``dataset = "yinyang"``: the published splits, first-spike-time encoded. Otherwise
    ``data_path`` names an SHD-layout file or a folder holding ``*train*.h5`` and ``*test*.h5``;
    the validation split is a fixed random ``validation_fraction`` of the training file
    (the same for every run seed).
    """
    if cfg.dataset == "yinyang":
        raw = {s: YinYangDataset(s, cfg.t_early, cfg.t_late, cfg.bias_time)
               for s in ("train", "validation", "test")}
        splits = [_from_dataset(raw[s], s, None, cfg.max_samples) for s in raw]
        return Splits(*splits, 5, 3)
    if cfg.data_path is None:
        raise ValueError("config: data_path is required unless dataset = 'yinyang'")
    train_file, test_file = find_split_files(cfg.data_path)
    train_ds, test_ds = SHDDataset(train_file), SHDDataset(test_file)
    for f, ds in ((train_file, train_ds), (test_file, test_ds)):
        if len(ds) == 0:
            raise ValueError(f"data_path: {f} holds 0 samples")
    if cfg.pool > 1 and cfg.pool > train_ds.n_channels // 2:
        raise SettingError("pool", f"pool = {cfg.pool} would merge the {train_ds.n_channels} "
                                   f"input channels of {train_file} into "
                                   f"{-(-train_ds.n_channels // cfg.pool)}; use at most "
                                   f"{max(1, train_ds.n_channels // 2)} (2 channels or more)")
    pool = PoolChannels(cfg.pool, train_ds.n_channels) if cfg.pool > 1 else None
    tf = Compose([*input_transform(cfg, pool).transforms, *binning(cfg)])
    n_in = pool.n_out if pool is not None else train_ds.n_channels
    n_classes = max(train_ds.n_classes, test_ds.n_classes)
    full = _from_dataset(train_ds, "train", tf, cfg.max_samples)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(full))
    n_val = int(round(cfg.validation_fraction * len(full)))
    val, train = _subset(full, order[:n_val], "validation"), _subset(full, order[n_val:], "train")
    test = _from_dataset(test_ds, "test", tf, cfg.max_samples)
    return Splits(train, val, test, n_in, n_classes)


def input_transform(cfg, pool=None):
    """The deterministic transform of every sample before binning: time scale, per-sample time
    normalisation, crop to ``[0, T)``, channel pooling, spike cap."""
    steps = [TimeScale(cfg.time_scale)] if cfg.time_scale != 1.0 else []
    if cfg.time_norm:
        steps.append(TimeNormalise(cfg.time_norm_span * cfg.T, cfg.time_norm_quantile,
                                   cfg.time_norm_margin))
    steps.append(Crop(0.0, cfg.T))
    if pool is not None:
        steps.append(pool)
    if cfg.max_input_spikes:
        steps.append(MaxSpikes(cfg.max_input_spikes))
    return Compose(steps)


def binning(cfg):
    """Binned virtual input events (``cfg.n_bins`` bins over ``[0, T)``) as a list of transforms,
    empty without binning; cropped again because a bin edge may round to ``T``."""
    return [Bin(cfg.T / cfg.n_bins), Crop(0.0, cfg.T)] if cfg.n_bins else []


def rebin(splits, cfg):
    """``splits`` as loaded by ``load_splits`` without binning, with ``binning(cfg)`` applied to
    every sample (so one loaded data set serves trials with different ``n_bins``)."""
    tf = Compose(binning(cfg))
    out = []
    for split in splits[:3]:
        pairs = [tf(t, u) for t, u in zip(split.times, split.units)]
        out.append(Split(split.name, [p[0] for p in pairs], [p[1] for p in pairs],
                         split.labels, split.n_channels, split.n_classes))
    return (*out, *splits[3:])


def augmentation(cfg, n_channels):
    """The random training augmentations of ``cfg`` (``None`` if there are none)."""
    steps = []
    if cfg.channel_shift:
        steps.append(ChannelShift(cfg.channel_shift, n_channels))
    if cfg.time_jitter:
        steps.append(TimeJitter(cfg.time_jitter))
    return Compose(steps) if steps else None


def find_split_files(path):
    """``(train_file, test_file)`` for an SHD-layout file or a folder holding ``*train*.h5``
    and ``*test*.h5`` (or ``.h5.gz``); raises naming the path if they are missing."""
    path = Path(path)
    if path.is_file():
        # only the file name says train/test (a folder named e.g. "training" stays as it is)
        test = path.with_name(_swap_last(path.name, "train", "test"))
        if test == path or not test.exists():
            raise ValueError(f"data_path {path}: cannot find the matching test file {test}")
        return path, test
    if not path.is_dir():
        raise FileNotFoundError(f"data_path {path} does not exist. SHD is published by Cramer et "
                                "al. (2020) at https://zenkelab.org/datasets/; pass the folder "
                                "holding shd_train.h5 and shd_test.h5")
    train = sorted(path.glob("*train*.h5")) + sorted(path.glob("*train*.h5.gz"))
    test = sorted(path.glob("*test*.h5")) + sorted(path.glob("*test*.h5.gz"))
    if not train or not test:
        raise ValueError(f"data_path {path}: expected files named *train*.h5 and *test*.h5")
    return train[0], test[0]


def _swap_last(name, old, new):
    i = name.rfind(old)
    return name if i < 0 else name[:i] + new + name[i + len(old):]


def _from_dataset(ds, name, tf, max_samples):
    n = len(ds) if max_samples is None else min(len(ds), int(max_samples))
    times, units, labels = [], [], []
    for s in itertools.islice(ds, n):  # iteration reads the file in blocks, not sample by sample
        t, u = (s.times, s.units) if tf is None else tf(s.times, s.units)
        times.append(np.ascontiguousarray(t, np.float64))
        units.append(np.ascontiguousarray(u, np.int64))
        labels.append(s.label)
    return Split(name, times, units, np.asarray(labels, np.int64), ds.n_channels, ds.n_classes)


def _subset(split, idx, name):
    return Split(name, [split.times[i] for i in idx], [split.units[i] for i in idx],
                 split.labels[idx], split.n_channels, split.n_classes)
