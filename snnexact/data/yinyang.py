"""Yin-Yang data set (Kriener, Goeltz & Petrovici 2021, arXiv:2102.08211) and its spike encoding.

Points (x, y) lie in the disc of radius R = r_big centred at (R, R). With d_l, d_r the distances to
the eye centres (R/2, R) and (3R/2, R) and r = r_small:

    label 2:  d_r < r  or  d_l < r                                     (the dots)
    label 1:  d_r <= r  or  r < d_l <= R/2  or  (y > R and d_r > R/2)    [if not a dot]
    label 0:  otherwise

(The published arrays follow exactly this labelling; the reference code names the labels
``('yin', 'yang', 'dot')``, see ``CLASS_NAMES``.)

Generation (reproduces the published arrays bit for bit with ``numpy.random.RandomState``
seeds 42/41/40 for train/validation/test): for each sample draw a goal class ``randint(3)``, then
draw ``(x, y) = rand(2) * 2 * R`` until the point is inside the disc and of the goal class.
Features are ``[x, y, 1 - x, 1 - y]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snnexact.data.shd import SpikeDataset, sort_events

SPLITS = {"train": (42, 5000), "validation": (41, 1000), "test": (40, 1000)}
CLASS_NAMES = ("yin", "yang", "dot")


@dataclass(frozen=True)
class YinYangArrays:
    """``samples`` float64 (N, 4) = [x, y, 1-x, 1-y]; ``labels`` int64 (N,) in {0, 1, 2}."""

    samples: np.ndarray
    labels: np.ndarray

    def __iter__(self):  # allows ``samples, labels = yinyang(...)``
        return iter((self.samples, self.labels))


def yinyang_class(x, y, r_small=0.1, r_big=0.5):
    """Label (0, 1 or 2) of a point inside the disc (formulas in the module docstring)."""
    d_right = math.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)
    d_left = math.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)
    if d_right < r_small or d_left < r_small:
        return 2
    upper = (d_right <= r_small or r_small < d_left <= 0.5 * r_big
           or (y > r_big and d_right > 0.5 * r_big))
    return 1 if upper else 0


def yinyang(n_samples, seed, r_small=0.1, r_big=0.5):
    """Generate ``n_samples`` Yin-Yang points with ``numpy.random.RandomState(seed)``.

    Returns :class:`YinYangArrays`; with the published seeds and sizes (``SPLITS``) the arrays equal
    the published ones exactly.

    >>> samples, labels = yinyang(2, seed=42)
    >>> samples.shape, labels.tolist()
    ((2, 4), [2, 1])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 0:
        raise ValueError(f"n_samples must be an integer >= 0, got {n_samples!r}")
    if not (0 < r_small < 0.5 * r_big):
        raise ValueError(f"r_small must satisfy 0 < r_small < r_big / 2, got r_small={r_small}, "
                         f"r_big={r_big}")
    rs = np.random.RandomState(seed)
    samples = np.empty((n_samples, 4), dtype=np.float64)
    labels = np.empty(n_samples, dtype=np.int64)
    for i in range(n_samples):
        goal = rs.randint(3)
        while True:
            x, y = (float(v) for v in rs.rand(2) * 2.0 * r_big)
            if math.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big:
                continue
            if yinyang_class(x, y, r_small, r_big) == goal:
                break
        samples[i] = (x, y, 1.0 - x, 1.0 - y)
        labels[i] = goal
    return YinYangArrays(samples, labels)


def encode_yinyang(samples, t_early, t_late, bias_time):
    """First-spike-time code: feature f_k (k = 0..3) -> one spike of unit k at
    ``t_early + f_k * (t_late - t_early)``, plus one bias spike of unit 4 at ``bias_time``.

    Returns a list with one ``(times, units)`` pair (5 spikes, sorted by (time, unit)) per sample.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 4:
        raise ValueError(f"samples must have shape (N, 4), got {samples.shape}")
    if not (np.isfinite(t_early) and np.isfinite(t_late) and t_late > t_early >= 0):
        raise ValueError(f"t_early, t_late: need 0 <= t_early < t_late, got t_early={t_early}, "
                         f"t_late={t_late}")
    if not (np.isfinite(bias_time) and bias_time >= 0):
        raise ValueError(f"bias_time must be finite and >= 0, got {bias_time}")
    times = t_early + samples * (t_late - t_early)
    units = np.arange(5, dtype=np.int64)
    return [sort_events(np.append(row, bias_time), units) for row in times]


def YinYangDataset(split="train", t_early=0.0, t_late=1.0, bias_time=0.0, r_small=0.1,
                   r_big=0.5):
    """Published Yin-Yang split encoded as spikes: a data set with the :class:`Sample` interface
    (5 channels, 3 classes); ``.features`` holds the raw (N, 4) features."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    seed, n = SPLITS[split]
    data = yinyang(n, seed, r_small, r_big)
    pairs = encode_yinyang(data.samples, t_early, t_late, bias_time)
    ds = SpikeDataset([p[0] for p in pairs], [p[1] for p in pairs], data.labels, n_channels=5,
                      n_classes=3, name=f"yinyang-{split}")
    ds.features = data.samples
    return ds
