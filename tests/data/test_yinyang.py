"""Yin-Yang: bit-exact against the published arrays, geometry, spike encoding, dataset view."""
import numpy as np
import pytest

from snnexact.data import Sample, YinYangDataset, encode_yinyang, yinyang
from snnexact.data.yinyang import SPLITS, yinyang_class


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_bit_identical_to_published_arrays(shared_data, split):
    seed, n = SPLITS[split]
    got = yinyang(n, seed)
    samples = np.load(shared_data / "yinyang" / f"{split}_samples.npy")
    labels = np.load(shared_data / "yinyang" / f"{split}_labels.npy")
    assert got.samples.dtype == samples.dtype and got.labels.dtype == labels.dtype
    assert np.array_equal(got.samples, samples)
    assert np.array_equal(got.labels, labels)


def test_properties_of_generated_points():
    x_arr, y_arr = yinyang(600, seed=3)
    x, y = x_arr[:, 0], x_arr[:, 1]
    assert np.all((x - 0.5) ** 2 + (y - 0.5) ** 2 <= 0.25)
    np.testing.assert_array_equal(x_arr[:, 2], 1.0 - x)
    np.testing.assert_array_equal(x_arr[:, 3], 1.0 - y)
    assert set(np.unique(y_arr)) == {0, 1, 2}
    assert all(yinyang_class(a, b) == c for a, b, c in zip(x, y, y_arr))
    assert np.all(np.bincount(y_arr) > 150)  # balanced goal classes
    np.testing.assert_array_equal(yinyang(50, 9).samples, yinyang(50, 9).samples)


def test_geometry_reference_points():
    assert yinyang_class(0.75, 0.5) == 2 and yinyang_class(0.25, 0.5) == 2  # the dots
    # points in the upper / lower half far from the eyes lie in different regions
    assert yinyang_class(0.5, 0.95) != yinyang_class(0.5, 0.05)
    assert {yinyang_class(0.5, 0.95), yinyang_class(0.5, 0.05)} == {0, 1}


def test_encoding():
    feats = np.array([[0.0, 1.0, 0.25, 0.5]])
    (times, units), = encode_yinyang(feats, t_early=0.1, t_late=2.1, bias_time=0.3)
    assert times.dtype == np.float64 and units.dtype == np.int64
    assert list(units) == [0, 4, 2, 3, 1]
    np.testing.assert_allclose(times, [0.1, 0.3, 0.6, 1.1, 2.1])
    with pytest.raises(ValueError, match="t_early, t_late"):
        encode_yinyang(feats, 1.0, 0.5, 0.0)
    with pytest.raises(ValueError, match="samples"):
        encode_yinyang(np.zeros((2, 3)), 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="bias_time"):
        encode_yinyang(feats, 0.0, 1.0, -1.0)


def test_dataset_view():
    ds = YinYangDataset("validation", t_early=0.0, t_late=1.0, bias_time=0.5)
    assert len(ds) == 1000 and ds.n_channels == 5 and ds.n_classes == 3
    s = ds[7]
    assert isinstance(s, Sample) and len(s) == 5 and s.index == 7
    assert s.label == yinyang(1000, 41).labels[7]
    np.testing.assert_array_equal(np.sort(s.times[s.units < 4]), np.sort(ds.features[7]))
    assert s.times[s.units == 4][0] == 0.5
    with pytest.raises(ValueError, match="split"):
        YinYangDataset("dev")


def test_invalid_arguments():
    with pytest.raises(ValueError, match="n_samples"):
        yinyang(-1, 0)
    with pytest.raises(ValueError, match="r_small"):
        yinyang(3, 0, r_small=0.3)
