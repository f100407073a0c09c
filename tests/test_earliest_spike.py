"""The event loop's search for the earliest spike (``simulate.earliest_spike``) computes the
exact time only of the neurons whose key is within rounding of the earliest; it must pick the
same neuron and time as computing every flagged neuron's time, ties to the lowest index."""
import math

import numpy as np
import pytest

import snnexact
from snnexact.engine.neurons import interface
from snnexact.engine.simulate import TIE_WINDOW, earliest_spike as _earliest_spike, flag_buffers

earliest_spike = _earliest_spike.python_twin()  # an inner kernel: Python calls its twin

MODELS = {"lif": snnexact.LIF(0.02), "qif": snnexact.QIF(0.02),
          "general lif": snnexact.LIF(0.02, tau_s=0.007)}


def every_time(p, S, flags, t_cur, t_end, last):
    """The rule without keys: every flagged neuron's time, the earliest inside, lowest index
    (the times searched up to the same horizon: a model may stop looking beyond it)."""
    t_best, who = math.inf, -1
    horizon = (t_end - t_cur) + TIE_WINDOW * t_end
    for n in np.flatnonzero(flags):
        ts = t_cur + interface.key_dt(p, interface.spike_key(p, S, n, horizon))
        inside = ts < t_end or (ts == t_end and not last)
        if inside and ts < t_best:
            t_best, who = ts, int(n)
    return t_best, who


def states_with_near_ties(model, rng, n_pairs=20):
    """Neurons about to fire; each followed by a copy nudged by one ulp towards firing earlier,
    so that the later index may have the smaller key while both times round alike."""
    V = rng.uniform(0.5, 0.95, n_pairs) if model != "qif" else rng.uniform(5.0, 50.0, n_pairs)
    I = rng.uniform(2.0, 6.0, n_pairs)
    V = np.repeat(V, 2)
    I = np.repeat(I, 2)
    V[1::2] = np.nextafter(V[1::2], np.inf)
    return V, I


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("t_cur", [0.0, 0.37, 0.9999])
@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize("drop", [0, 3])
def test_same_spike_as_computing_every_time(model, t_cur, last, drop):
    p = MODELS[model].kernel
    rng = np.random.default_rng(4)
    V, I = states_with_near_ties(model, rng)
    V, I = V[drop:], I[drop:]  # 40 or 37 neurons: the flag scan's words and its tail
    N = V.size
    S = np.empty((interface.state_rows(p), N))
    interface.init_state(p, V, I, S)
    picked = 0
    for dt in (1e-7, 1e-5, 1e-3, 0.05):
        t_end = t_cur + dt
        x, s = interface.interval_factors(p, dt)
        flags, words = flag_buffers(N)
        n_flag = interface.sweep(p, S, np.empty_like(S), flags, x, s)
        if n_flag == 0:
            continue
        got = earliest_spike(p, S, flags, words, np.empty(N), np.empty(N, np.int64), t_cur,
                             t_end, last)
        want = every_time(p, S, flags, t_cur, t_end, last)
        assert got == want, (dt, got, want)
        picked += want[1] >= 0
    assert picked >= 2  # the cases exercise spikes inside the interval, not only misses


@pytest.mark.parametrize("N", [1, 7, 8, 9, 37, 128])
def test_flagged_neurons_listed_in_index_order(N):
    """``which`` lists the flagged neurons in index order (the event loop redoes their end
    states): the scan reads the flags eight bytes at a time, the last word padded."""
    p = MODELS["lif"].kernel
    rng = np.random.default_rng(N)
    S = np.empty((2, N))
    interface.init_state(p, np.zeros(N), np.full(N, -1.0), S)  # no neuron fires
    flags, words = flag_buffers(N)
    for density in (0.0, 0.1, 0.5, 1.0, 0.3):
        flags[:] = rng.random(N) < density
        which = np.full(N, -1, np.int64)
        got = earliest_spike(p, S, flags, words, np.empty(N), which, 0.0, 0.01, False)
        assert got == (math.inf, -1)
        k = int(flags.sum())
        assert np.array_equal(which[:k], np.flatnonzero(flags))
