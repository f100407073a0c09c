"""Transforms: sorted float64/int64 output, determinism with a seed, exactness where promised."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snnexact.data.transforms import (Bin, ChannelShift, Compose, Crop, MaxSpikes, PoolChannels,
                                      TimeJitter, TimeNormalise, TimeScale, tied_events)

N_CH = 700


@st.composite
def spikes(draw, max_size=60):
    n = draw(st.integers(0, max_size))
    # few distinct float16-like times so that exact ties are frequent
    grid = draw(st.lists(st.floats(0, 2, allow_nan=False).map(lambda x: float(np.float16(x))),
                         min_size=1, max_size=8))
    times = np.array(draw(st.lists(st.sampled_from(grid), min_size=n, max_size=n)), np.float64)
    units = np.array(draw(st.lists(st.integers(0, N_CH - 1), min_size=n, max_size=n)), np.int64)
    return times, units


ALL = [TimeScale(1e3), TimeNormalise(1.0, 0.05, 0.1), Crop(0.1, 1.0), Crop(0.2, 1.5, shift=True), PoolChannels(7),
       PoolChannels(3), Bin(0.01), MaxSpikes(5), ChannelShift(20), TimeJitter(0.01),
       Compose([Crop(0.0, 1.0), PoolChannels(10, N_CH), ChannelShift(3, 70), TimeJitter(1e-3)])]


def is_sorted(t, u):
    return np.array_equal(np.lexsort((u, t)), np.arange(t.size))


@pytest.mark.parametrize("tf", ALL, ids=lambda tf: type(tf).__name__)
@given(data=spikes(), seed=st.integers(0, 2**32 - 1))
def test_output_sorted_typed_and_deterministic(tf, data, seed):
    t, u = data
    t2, u2 = tf(t[::-1], u[::-1], rng=seed)  # input order must not matter
    assert t2.dtype == np.float64 and u2.dtype == np.int64 and t2.shape == u2.shape
    assert is_sorted(t2, u2)
    t3, u3 = tf(t, u, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(t2, t3)
    np.testing.assert_array_equal(u2, u3)
    assert t2.size <= t.size or isinstance(tf, TimeScale)


@given(data=spikes())
def test_pooling_ranges_and_counts(data):
    t, u = data
    pool = PoolChannels(7)
    assert pool.n_out == 100
    t2, u2 = pool(t, u)
    assert t2.size == t.size and (u2.size == 0 or (u2.min() >= 0 and u2.max() < 100))
    np.testing.assert_array_equal(np.sort(u2), np.sort(u // 7))
    assert PoolChannels(3).n_out == 234


def test_pooling_validates():
    with pytest.raises(ValueError, match="factor"):
        PoolChannels(0)
    with pytest.raises(ValueError, match="factor"):
        PoolChannels(2.5)
    with pytest.raises(ValueError, match=r"units must lie in \[0, 700\)"):
        PoolChannels(2)(np.array([0.1]), np.array([700]))


@given(data=spikes())
def test_tied_events_round_trip_exact(data):
    t, u = data
    tied = tied_events(t, u)
    assert np.all(np.diff(tied.times) > 0)
    assert tied.offsets[0] == 0 and tied.offsets[-1] == t.size
    assert tied.offsets.size == tied.times.size + 1 and np.all(np.diff(tied.offsets) >= 1)
    t2, u2 = tied.expand()
    order = np.lexsort((u, t))
    np.testing.assert_array_equal(t2, t[order])
    np.testing.assert_array_equal(u2, u[order])
    for k, tk in enumerate(tied.times):
        group = tied.units[tied.offsets[k]:tied.offsets[k + 1]]
        np.testing.assert_array_equal(np.sort(u[t == tk]), group)


def test_tied_events_empty_and_example():
    tied = tied_events(np.array([]), np.array([], np.int64))
    assert tied.times.size == 0 and list(tied.offsets) == [0]
    tied = tied_events(np.array([0.5, 0.1, 0.5]), np.array([4, 2, 1]))
    assert list(tied.times) == [0.1, 0.5] and list(tied.offsets) == [0, 1, 3]
    assert list(tied.units) == [2, 1, 4]


@given(data=spikes())
def test_crop_and_maxspikes(data):
    t, u = data
    t2, _ = Crop(0.25, 1.0)(t, u)
    assert np.all((t2 >= 0.25) & (t2 < 1.0)) and t2.size == np.count_nonzero((t >= 0.25) & (t < 1))
    t3, _ = Crop(0.25, 1.0, shift=True)(t, u)
    np.testing.assert_array_equal(t3, t2 - 0.25)
    t4, u4 = MaxSpikes(3)(t, u)
    order = np.lexsort((u, t))[:3]
    np.testing.assert_array_equal(t4, t[order])
    np.testing.assert_array_equal(u4, u[order])


@given(data=spikes())
def test_bin_moves_times_by_less_than_dt(data):
    t, u = data
    t2, u2 = Bin(0.01)(t, u)
    np.testing.assert_array_equal(np.sort(u2), np.sort(u))
    d = np.sort(t) - np.sort(t2)
    assert np.all((d > -1e-12) & (d < 0.01 + 1e-12))


@given(data=spikes(), seed=st.integers(0, 1000))
def test_channel_shift_is_one_integer_shift(data, seed):
    t, u = data
    t2, u2 = ChannelShift(5)(t, u, rng=seed)
    assert u2.size == 0 or (u2.min() >= 0 and u2.max() < N_CH)
    s = int(np.random.default_rng(seed).integers(-5, 6))
    keep = (u + s >= 0) & (u + s < N_CH)
    ref_t, ref_u = t[keep], u[keep] + s
    order = np.lexsort((ref_u, ref_t))
    np.testing.assert_array_equal(t2, ref_t[order])
    np.testing.assert_array_equal(u2, ref_u[order])


@given(data=spikes(), seed=st.integers(0, 1000))
def test_time_jitter_nonnegative_and_keeps_units(data, seed):
    t, u = data
    t2, u2 = TimeJitter(0.05)(t, u, rng=seed)
    assert t2.size == t.size and np.all(t2 >= 0)
    np.testing.assert_array_equal(np.sort(u2), np.sort(u))
    t0, _ = TimeJitter(0.0)(t, u)
    np.testing.assert_array_equal(t0, np.sort(t))


def test_compose_threads_one_generator():
    t, u = np.linspace(0, 1, 50), np.arange(50)
    tf = Compose([TimeJitter(0.01), ChannelShift(4)])
    a = tf(t, u, rng=7)
    b = tf(t, u, rng=7)
    c = tf(t, u, rng=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    rng = np.random.default_rng(7)
    manual = ChannelShift(4)(*TimeJitter(0.01)(t, u, rng=rng), rng=rng)
    np.testing.assert_array_equal(a[0], manual[0])
    np.testing.assert_array_equal(a[1], manual[1])


@pytest.mark.parametrize("make, name", [
    (lambda: TimeScale(0), "factor"), (lambda: TimeScale(np.inf), "factor"),
    (lambda: Crop(1.0, 0.5), "t0, t1"), (lambda: Bin(-1), "dt"), (lambda: MaxSpikes(-1), "n"),
    (lambda: ChannelShift(-2), "max_shift"), (lambda: TimeJitter(-0.1), "sigma"),
    (lambda: Compose([1]), "transforms")])
def test_invalid_parameters_name_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_mismatched_inputs():
    with pytest.raises(ValueError, match="equal length"):
        TimeScale(2)(np.zeros(3), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="rng"):
        ChannelShift(1)(np.zeros(1), np.zeros(1, np.int64), rng="seed")


@given(data=spikes(), quantile=st.sampled_from([0.0, 0.05, 0.2]),
       margin=st.sampled_from([0.0, 0.1, 0.5]))
def test_time_normalise_maps_the_quantile_window_onto_the_span(data, quantile, margin):
    t, u = data
    span = 0.8
    tf = TimeNormalise(span, quantile, margin)
    t2, u2 = tf(t, u)
    assert is_sorted(t2, u2) and np.all((t2 >= 0) & (t2 < span))
    if t.size == 0:
        assert t2.size == 0
        return
    ts = np.sort(t)
    start, width = tf.window(ts)
    if width == 0:  # only the spikes at the window's one time remain, moved to the middle
        assert np.all(t2 == span / 2) and t2.size == np.sum(ts == start)
        return
    # the kept spikes are exactly those inside the window, mapped by the linear map
    inside = (ts - start) * (span / width)
    assert t2.size == np.sum((inside >= 0) & (inside < span))
    np.testing.assert_allclose(np.sort(t2), np.sort(inside[(inside >= 0) & (inside < span)]))
    # the quantile spikes themselves land at margin / (1 + 2 margin) of the span
    lo = ts[int(np.floor(quantile * (ts.size - 1)))]
    np.testing.assert_allclose((lo - start) * span / width, span * margin / (1 + 2 * margin),
                               rtol=1e-12, atol=1e-12)


def test_time_normalise_drops_the_tails_and_rejects_bad_settings():
    t = np.arange(100.0)
    t2, _ = TimeNormalise(1.0, quantile=0.05)(t, np.zeros(100, np.int64))
    # the window runs from spike floor(0.05*99) = 4 to spike ceil(0.95*99) = 95; spikes 4..94
    # map into [0, 1), spike 95 maps to exactly 1.0 and is dropped (the span is half-open)
    assert t2.size == 91 and t2[0] == 0.0 and t2[-1] == 90 / 91
    for kw in ({"span": 0.0}, {"span": 1.0, "quantile": 0.5}, {"span": 1.0, "margin": -1.0}):
        with pytest.raises(ValueError):
            TimeNormalise(**kw)
