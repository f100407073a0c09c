"""Randman: determinism, shapes, ranges, and that classes differ while staying smooth."""
import numpy as np
import pytest

from snnexact.data import Sample, randman


def test_shape_and_ranges():
    ds = randman(n_classes=3, n_units=20, n_samples_per_class=15, dim_manifold=2,
                 n_spikes_per_unit=2, duration=0.5, seed=4)
    assert len(ds) == 45 and ds.n_channels == 20 and ds.n_classes == 3
    np.testing.assert_array_equal(np.bincount(ds.labels), [15, 15, 15])
    assert ds.points.shape == (45, 2)
    for s in ds:
        assert isinstance(s, Sample) and len(s) == 40
        assert np.all((s.times >= 0) & (s.times < 0.5))
        np.testing.assert_array_equal(np.bincount(s.units, minlength=20), [2] * 20)
        assert np.array_equal(np.lexsort((s.units, s.times)), np.arange(40))


def test_deterministic_with_seed():
    a = randman(2, 10, 5, seed=11)
    b = randman(2, 10, 5, seed=11)
    c = randman(2, 10, 5, seed=12)
    for sa, sb in zip(a, b):
        np.testing.assert_array_equal(sa.times, sb.times)
        np.testing.assert_array_equal(sa.units, sb.units)
        assert sa.label == sb.label
    assert not np.array_equal(a[0].times, c[0].times)


def _time_matrix(ds):
    out = np.empty((len(ds), ds.n_channels))
    for i, s in enumerate(ds):
        out[i, s.units] = s.times
    return out


def test_smooth_manifold_and_distinct_classes():
    ds = randman(2, 30, 200, dim_manifold=1, alpha=2.0, seed=0)
    T, x = _time_matrix(ds), ds.points[:, 0]
    for c in range(2):
        idx = np.flatnonzero(ds.labels == c)
        idx = idx[np.argsort(x[idx])]
        # nearby manifold points -> nearby spike times (Lipschitz-like smoothness)
        step = np.abs(np.diff(T[idx], axis=0)).max(axis=1) / np.diff(x[idx])
        assert np.median(step) < 5.0
    # the two classes' manifolds differ: mean spike times differ per unit
    m0, m1 = T[ds.labels == 0].mean(0), T[ds.labels == 1].mean(0)
    assert np.abs(m0 - m1).mean() > 0.02


@pytest.mark.parametrize("kwargs, name", [
    ({"n_classes": 0}, "n_classes"), ({"n_units": 0}, "n_units"),
    ({"dim_manifold": 0}, "dim_manifold"), ({"alpha": -1.0}, "alpha"),
    ({"duration": 0.0}, "duration"), ({"n_spikes_per_unit": 0}, "n_spikes_per_unit")])
def test_validation(kwargs, name):
    args = {"n_classes": 2, "n_units": 5, "n_samples_per_class": 3} | kwargs
    with pytest.raises(ValueError, match=name):
        randman(**args)
