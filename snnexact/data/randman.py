"""Randman: spike-timing classes on smooth random manifolds (Zenke & Vogels 2021, Neural Comput.
33:899, "The remarkable robustness of surrogate gradient learning for instilling complex function
in spiking neural networks").

Construction used here. Each class c owns M = n_units * n_spikes_per_unit smooth random functions
of a point x in the unit hypercube [0, 1]^D (D = dim_manifold):

    f_{c,j}(x) = sum_{d=1}^{D} sum_{k=1}^{K} a_{cjdk} k^(-alpha) sin(2 pi (k x_d + phi_{cjdk}))

with a, phi ~ U(0, 1) i.i.d. and K = n_modes. Larger ``alpha`` damps high frequencies faster, i.e.
gives smoother manifolds. A sample of class c draws x ~ U([0, 1]^D) and evaluates all M functions.
Each coordinate j is min-max normalised over the whole generated data set (all classes) to [0, 1]
and becomes the spike time ``duration * z`` (capped just below ``duration``) of unit
``j // n_spikes_per_unit``; every unit thus fires ``n_spikes_per_unit`` times per sample.
Sample order is a random permutation. Everything is drawn from ``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import numpy as np

from snnexact.checks import positive_real

from snnexact.data.shd import SpikeDataset


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def randman(n_classes, n_units, n_samples_per_class, dim_manifold=1, alpha=2.0,
            n_spikes_per_unit=1, duration=1.0, seed=0, n_modes=10):
    """Random-manifold spike-timing data set (construction in the module docstring).

    Returns a :class:`~snnexact.data.shd.SpikeDataset` of ``n_classes * n_samples_per_class``
    samples with ``n_units`` channels, each sample holding ``n_units * n_spikes_per_unit`` spikes
    in [0, duration). ``.points`` holds the manifold coordinates, shape (N, dim_manifold).
    """
    _check_int("n_classes", n_classes, 1)
    _check_int("n_units", n_units, 1)
    _check_int("n_samples_per_class", n_samples_per_class, 1)
    _check_int("dim_manifold", dim_manifold, 1)
    _check_int("n_spikes_per_unit", n_spikes_per_unit, 1)
    _check_int("n_modes", n_modes, 1)
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
    positive_real("duration", duration)

    rng = np.random.default_rng(seed)
    m, dim, k = n_units * n_spikes_per_unit, dim_manifold, np.arange(1, n_modes + 1)
    shape = (n_classes, m, dim, n_modes)
    amp = rng.uniform(0.0, 1.0, shape) * k ** (-float(alpha))
    phase = rng.uniform(0.0, 1.0, shape)

    n = n_samples_per_class
    points = rng.uniform(0.0, 1.0, (n_classes, n, dim))
    values = np.empty((n_classes, n, m))
    for c in range(n_classes):
        # (n, 1, D, 1) * (K,) + (M, D, K) -> (n, M, D, K); sum over D and K
        arg = 2.0 * np.pi * (points[c][:, None, :, None] * k + phase[c])
        values[c] = np.einsum("mdk,nmdk->nm", amp[c], np.sin(arg))

    flat = values.reshape(n_classes * n, m)
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    z = (flat - lo) / np.where(hi > lo, hi - lo, 1.0)
    times = np.minimum(z * duration, np.nextafter(duration, 0.0))
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), n)
    order = rng.permutation(labels.size)

    units = np.arange(m, dtype=np.int64) // n_spikes_per_unit
    ds = SpikeDataset([times[i] for i in order], [units] * labels.size, labels[order],
                      n_channels=n_units, n_classes=n_classes, name="randman")
    ds.points = points.reshape(n_classes * n, dim)[order]
    return ds
