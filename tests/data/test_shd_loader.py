"""SHD-layout loader: tiny HDF5 fixtures written here, every bad-data case, .gz, pickle, joblib."""
import gzip
import hashlib
import pickle

import h5py
import numpy as np
import pytest
from joblib import Parallel, delayed

from snnexact.data import Sample, SHDDataset

# float16 values: 0.1 and 0.09999 round to the same float16 (a tie); 0.5 appears twice (a tie)
SAMPLES = [
    (np.array([0.1, 0.09999, 0.25, 0.5, 0.5], np.float16), np.array([3, 1, 0, 9, 2], np.uint16)),
    (np.array([], np.float16), np.array([], np.uint16)),
    (np.array([0.0, 0.03, 1.2], np.float16), np.array([699, 0, 5], np.uint16)),
    (np.array([0.7], np.float16), np.array([4], np.uint16)),
]
LABELS = [0, 1, 2, 1]


def write_shd(path, samples=SAMPLES, labels=LABELS, keys=("a", "b", "c"), drop=(), attrs=None,
              times_dtype=np.float16):
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(times_dtype))
        u = f.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (ti, ui) in enumerate(samples):
            t[i] = np.asarray(ti, times_dtype)
            u[i] = np.asarray(ui, np.uint16)
        f["labels"] = np.asarray(labels, np.uint16)
        f["extra/keys"] = np.array([k.encode() for k in keys])
        f["extra/speaker"] = np.zeros(len(labels), np.uint16)
        for key in drop:
            del f[key]
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
    return path


def expected(i):
    t, u = SAMPLES[i]
    t, u = t.astype(np.float64), u.astype(np.int64)
    order = np.lexsort((u, t))
    return t[order], u[order]


@pytest.fixture
def tiny(tmp_path):
    return write_shd(tmp_path / "tiny.h5")


def assert_same(a, b):
    assert a.label == b.label and a.index == b.index
    assert a.times.dtype == np.float64 and a.units.dtype == np.int64
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.units, b.units)


def test_reads_samples_exactly(tiny):
    ds = SHDDataset(tiny)
    assert len(ds) == 4 and ds.n_channels == 700 and ds.n_classes == 3
    np.testing.assert_array_equal(ds.labels, LABELS)
    assert ds.class_names == ("a", "b", "c")
    for i in range(4):
        s = ds[i]
        assert isinstance(s, Sample) and s.index == i and s.label == LABELS[i]
        t, u = expected(i)
        np.testing.assert_array_equal(s.times, t)  # float16 -> float64 is exact
        np.testing.assert_array_equal(s.units, u)
    assert np.count_nonzero(np.diff(ds[0].times) == 0) == 2  # the two float16 ties survive
    assert len(ds[1]) == 0 and ds[1].times.dtype == np.float64
    assert_same(ds[-1], ds[3])
    for a, b in zip(ds, [ds[i] for i in range(4)]):
        assert_same(a, b)
    assert [s.index for s in ds[1:3]] == [1, 2]
    with pytest.raises(IndexError, match="index 4 out of range"):
        ds[4]


def test_sorted_by_time_then_unit(tiny):
    s = SHDDataset(tiny)[0]
    assert np.all(np.lexsort((s.units, s.times)) == np.arange(len(s)))


def test_n_channels_argument_and_attribute(tmp_path):
    path = write_shd(tmp_path / "a.h5", attrs={"n_channels": 800})
    assert SHDDataset(path).n_channels == 800
    with pytest.raises(ValueError, match=r"a\.h5: sample 2: unit 699 out of range \[0, 100\)"):
        SHDDataset(path, n_channels=100)[2]
    with pytest.raises(ValueError, match="n_channels"):
        SHDDataset(path, n_channels=0)


def test_missing_file_points_to_official_page(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        SHDDataset(tmp_path / "shd_train.h5")
    msg = str(err.value)
    assert "shd_train.h5" in msg and "Cramer et al. 2020" in msg
    assert "https://zenkelab.org/datasets/" in msg and "explicitly" in msg


def test_gzip_is_decompressed_once_and_original_untouched(tiny, tmp_path):
    gz = tmp_path / "tiny.h5.gz"
    gz.write_bytes(gzip.compress(tiny.read_bytes()))
    digest = hashlib.sha256(gz.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    ds = SHDDataset(gz, cache_dir=cache)
    plain = SHDDataset(tiny)
    for i in range(len(plain)):
        assert_same(ds[i], plain[i])
    cached = list(cache.glob("*.h5"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    ds.close()
    assert_same(SHDDataset(gz, cache_dir=cache)[0], plain[0])
    assert cached[0].stat().st_mtime_ns == mtime  # reused, not rewritten
    assert hashlib.sha256(gz.read_bytes()).hexdigest() == digest


def test_bad_gzip(tmp_path):
    gz = tmp_path / "bad.h5.gz"
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"bad\.h5\.gz.*gzip"):
        len(SHDDataset(gz, cache_dir=tmp_path / "c"))


def test_corrupt_and_truncated_files_name_the_file(tiny, tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match=r"junk\.h5.*not a readable HDF5 file"):
        len(SHDDataset(junk))
    cut = tmp_path / "cut.h5"
    cut.write_bytes(tiny.read_bytes()[: tiny.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"cut\.h5"):
        ds = SHDDataset(cut)
        [s for s in ds]


@pytest.mark.parametrize("key", ["spikes/times", "spikes/units", "labels"])
def test_missing_key(tmp_path, key):
    path = write_shd(tmp_path / "nokey.h5", drop=(key,))
    with pytest.raises(ValueError, match=rf"nokey\.h5: missing dataset '{key}'"):
        len(SHDDataset(path))


def _bad(samples_2):
    samples = list(SAMPLES)
    samples[2] = samples_2
    return samples


BAD_SAMPLE = {
    "length": ((np.array([0.1, 0.2]), np.array([1])), "2 spike times but 1 units"),
    "range": ((np.array([0.1, 0.2]), np.array([1, 700])), r"unit 700 out of range \[0, 700\)"),
    "negative": ((np.array([-0.1, 0.2]), np.array([1, 2])), "negative spike time"),
    "nan": ((np.array([0.1, np.nan]), np.array([1, 2])), "NaN or inf"),
    "inf": ((np.array([0.1, np.inf]), np.array([1, 2])), "NaN or inf"),
    "unsorted": ((np.array([0.3, 0.2]), np.array([1, 2])), "unsorted at position 1"),
}


@pytest.mark.parametrize("case", sorted(BAD_SAMPLE))
def test_bad_sample_names_file_sample_and_problem(tmp_path, case):
    bad, problem = BAD_SAMPLE[case]
    path = write_shd(tmp_path / f"bad_{case}.h5", samples=_bad(bad))
    ds = SHDDataset(path)
    assert len(ds[1]) == 0  # other samples stay readable
    with pytest.raises(ValueError, match=rf"bad_{case}\.h5: sample 2: .*{problem}"):
        ds[2]
    with pytest.raises(ValueError, match=rf"bad_{case}\.h5: sample 2: .*{problem}"):
        list(ds)


def test_label_count_mismatch(tmp_path):
    path = write_shd(tmp_path / "lab.h5", labels=[0, 1, 2])
    with pytest.raises(ValueError,
                       match=r"lab\.h5: 'spikes/times' has 4 samples but 'labels' has 3"):
        len(SHDDataset(path))


def test_label_beyond_class_names(tmp_path):
    path = write_shd(tmp_path / "lab.h5", labels=[0, 1, 5, 1])
    with pytest.raises(ValueError, match=r"lab\.h5: label 5 >= number of class names"):
        SHDDataset(path).labels


def test_not_vlen(tmp_path):
    path = tmp_path / "flat.h5"
    with h5py.File(path, "w") as f:
        f["spikes/times"] = np.zeros(3)
        f["spikes/units"] = np.zeros(3, np.uint16)
        f["labels"] = np.zeros(3, np.uint16)
    with pytest.raises(ValueError, match=r"flat\.h5: 'spikes/times' must be a 1-D variable-length"):
        len(SHDDataset(path))


def test_pickle_drops_handle(tiny):
    ds = SHDDataset(tiny)
    first = ds[0]
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._file is None
    assert_same(clone[0], first)


def _read(ds, i):
    s = ds[i]
    return s.times, s.units, s.label, s.index


def test_joblib_loky_workers_read_identical_samples(tiny):
    ds = SHDDataset(tiny)
    ds[0]  # open in the parent first: workers must reopen, not reuse the handle
    got = Parallel(n_jobs=2, backend="loky")(delayed(_read)(ds, i) for i in range(len(ds)))
    for i, (t, u, label, index) in enumerate(got):
        assert_same(Sample(t, u, label, index), ds[i])


def test_float32_times_accepted(tmp_path):
    samples = _bad((np.float32([0.0, 0.03, 1.2]), np.array([699, 0, 5])))
    path = write_shd(tmp_path / "f32.h5", samples=samples, times_dtype=np.float32)
    np.testing.assert_array_equal(SHDDataset(path)[2].times, np.float32([0.0, 0.03, 1.2]))


@pytest.mark.slow
@pytest.mark.parametrize("split, n, per_digit, total",
                         [("train", 2700, 270, 10_954_274), ("test", 300, 30, 1_218_320)])
def test_real_fsdd_shd_files(shared_data, split, n, per_digit, total):
    """Counts from shared/data/fsdd_shd/README.md (FSDD-SHD, our conversion; not SHD)."""
    ds = SHDDataset(shared_data / "fsdd_shd" / f"fsdd_shd_{split}.h5")
    assert len(ds) == n and ds.n_classes == 10 and ds.n_channels == 700
    np.testing.assert_array_equal(np.bincount(ds.labels), [per_digit] * 10)
    assert sum(len(s) for s in ds) == total
