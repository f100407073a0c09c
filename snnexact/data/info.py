"""Summary statistics of a spike data set (``snnexact data info``) and a raster plot of one sample.

Per sample with n spikes and m distinct time stamps, ``ties = n - m``: the number of spikes that
share their time stamp with an earlier spike of the same sample.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnexact.data.shd import SHDDataset


@dataclass(frozen=True)
class DatasetInfo:
    """Statistics over all samples; spike counts and ties are per sample, ``duration`` is the latest
    spike time of any sample, ``active_channels`` the channels with at least one spike."""

    name: str
    n_samples: int
    n_classes: int
    n_channels: int
    label_counts: tuple
    total_spikes: int
    spikes_mean: float
    spikes_median: float
    spikes_min: int
    spikes_max: int
    duration: float
    active_channels: int
    ties_mean: float
    ties_median: float


def dataset_info(dataset, name=None):
    """Compute :class:`DatasetInfo` for a data set with the Sample interface, or a path to an
    SHD-layout file (.h5 / .h5.gz)."""
    if isinstance(dataset, (str, Path)):
        dataset = SHDDataset(dataset)
    name = name if name is not None else str(getattr(dataset, "path", repr(dataset)))
    counts, ties = [], []
    duration = 0.0
    seen = np.zeros(dataset.n_channels, dtype=bool)
    for s in dataset:
        n = len(s)
        counts.append(n)
        if n:
            ties.append(n - 1 - int(np.count_nonzero(np.diff(s.times))))
            duration = max(duration, float(s.times[-1]))
            seen[s.units] = True
        else:
            ties.append(0)
    counts = np.asarray(counts, dtype=np.int64)
    ties = np.asarray(ties, dtype=np.int64)
    labels = np.asarray(dataset.labels, dtype=np.int64)
    label_counts = tuple(int(c) for c in np.bincount(labels, minlength=dataset.n_classes))
    empty = counts.size == 0

    return DatasetInfo(
        name=name, n_samples=int(counts.size), n_classes=int(dataset.n_classes),
        n_channels=int(dataset.n_channels), label_counts=label_counts,
        total_spikes=int(counts.sum()),
        spikes_mean=float("nan") if empty else float(counts.mean()),
        spikes_median=float("nan") if empty else float(np.median(counts)),
        spikes_min=0 if empty else int(counts.min()),
        spikes_max=0 if empty else int(counts.max()),
        duration=duration, active_channels=int(seen.sum()),
        ties_mean=float("nan") if empty else float(ties.mean()),
        ties_median=float("nan") if empty else float(np.median(ties)))


def save_raster(sample, path, n_channels=None, title=None):
    """Write a raster plot (time vs unit) of one :class:`Sample` to ``path`` (PNG via Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter(sample.times, sample.units, s=1.0, c="k", marker=".", linewidths=0)
    ax.set_xlabel("time")
    ax.set_ylabel("unit")
    if n_channels is not None:
        ax.set_ylim(-0.5, n_channels - 0.5)
    ax.set_title(title if title is not None else
                 f"sample {sample.index}, label {sample.label}, {len(sample)} spikes")
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)
