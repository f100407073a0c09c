"""Readouts and losses: values against brute-force oracles, derivatives against central differences.

The oracles below use numpy/scipy only: the readout membrane is summed spike by spike, its maximum
found on a fine grid per inter-event piece and refined with ``scipy.optimize``, its weighted
integral taken with ``scipy.integrate.quad`` piece by piece.
"""
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, optimize, special

from snnexact.engine import losses
from snnexact.engine.losses import ARGMAX_END, ARGMAX_EVENT, ARGMAX_VERTEX, ARGMAX_ZERO
from tolerances import (FD_GRAD_ATOL, FD_GRAD_RTOL, FD_STEP, READOUT_ATOL, READOUT_RTOL,
                        scaled_error)


# ----------------------------------------------------------------------------- oracles

def membrane(s, times, units, W, tau):
    """u(s), shape (n_out, len(s)): sum_j W[:, i_j] k(s - t_j), k(d) = x - x^2, x = exp(-d/tau)
    for d > 0, else 0."""
    s = np.atleast_1d(np.asarray(s, float))
    d = s[:, None] - np.asarray(times, float)[None, :]
    x = np.exp(-np.where(d > 0, d, 0.0) / tau)
    k = np.where(d > 0, x - x * x, 0.0)
    return W[:, np.asarray(units, np.int64)] @ k.T


def pieces(times, T):
    edges = np.unique(np.concatenate([[0.0], [t for t in times if t < T], [T]]))
    return list(zip(edges[:-1], edges[1:]))


def oracle_max(times, units, W, tau, T, n_grid=65):
    """Max over [0, T]: best grid point of each piece, refined by bounded Brent between its
    neighbours (u is unimodal on a piece: a parabola in x = exp(-t/tau))."""
    best = np.zeros(W.shape[0])   # u(0) = 0
    for a, b in pieces(times, T):
        grid = np.linspace(a, b, n_grid)
        vals = membrane(grid, times, units, W, tau)
        for o in range(W.shape[0]):
            m = int(np.argmax(vals[o]))
            best[o] = max(best[o], vals[o, m])
            lo, hi = grid[max(m - 1, 0)], grid[min(m + 1, n_grid - 1)]
            def neg_u(s):
                return -membrane(s, times, units, W[o:o + 1], tau)[0, 0]
            res = optimize.minimize_scalar(neg_u, bounds=(lo, hi), method="bounded",
                                           options={"xatol": 1e-14 * T})
            best[o] = max(best[o], -res.fun)
    return best


def oracle_integral(times, units, W, tau, T):
    out = np.zeros(W.shape[0])
    for o in range(W.shape[0]):
        def f(s):
            return membrane(s, times, units, W[o:o + 1], tau)[0, 0] * np.exp(-s / T)
        for a, b in pieces(times, T):
            val, _ = integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)
            out[o] += val
    return out


# ----------------------------------------------------------------------------- cases

@dataclass
class Case:
    times: np.ndarray
    units: np.ndarray
    W: np.ndarray
    tau: float
    T: float


@st.composite
def cases(draw, ties=True, beyond_T=True):
    """1-5 hidden units, 0-20 spikes, 1-4 outputs. ``ties``: some times on a coarse grid (equal
    time stamps); ``beyond_T``: some spikes at t >= T (must be ignored)."""
    n_hidden = draw(st.integers(1, 5))
    n_out = draw(st.integers(1, 4))
    n = draw(st.integers(0, 20))
    T = draw(st.floats(0.5, 2.0))
    tau = T * draw(st.floats(0.02, 0.5))
    frac = st.floats(0.0, 1.1 if beyond_T else 1.0, exclude_max=True)
    if ties:
        frac = st.one_of(frac, st.integers(0, 15).map(lambda k: k / 16))
    times = np.sort(np.array(draw(st.lists(frac, min_size=n, max_size=n)), float)) * T
    units = np.array(draw(st.lists(st.integers(0, n_hidden - 1), min_size=n, max_size=n)),
                     np.int64)
    # O(1) weights or exactly 0: a central difference with step 1e-6 cannot resolve the
    # curvature of a vertex made by weights of 1e-5 next to weights of 1
    weight = st.one_of(st.just(0.0), st.floats(0.05, 2.0), st.floats(-2.0, -0.05))
    W = draw(hnp.arrays(np.float64, (n_out, n_hidden), elements=weight))
    return Case(times, units, W, tau, T)


@st.composite
def separated_cases(draw):
    """Like ``cases`` without ties: consecutive gaps (and those to 0 and T) are at least
    T/2100 > 100 FD steps, so a time perturbation by +-h keeps the spike order and every spike
    inside (0, T)."""
    case = draw(cases(ties=False, beyond_T=False))
    n = case.times.size
    gaps = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=n + 1, max_size=n + 1)))
    case.times = (np.cumsum(gaps) / gaps.sum() * case.T)[:n]
    return case


def separated(times, T, h):
    """No two spike times (nor 0, nor T) closer than 100 h."""
    edges = np.concatenate([[0.0], times, [T]])
    return bool(np.all(np.diff(edges) > 100 * h))


# ----------------------------------------------------------------------------- finite differences

def fd_jacobian(fn, case, key):
    """Central differences of the logits: (n_out, n_W) for W and (n_out, n_spikes) for times,
    and for each output whether its argmax (piece, kind) stayed the same under every perturbation
    (always True for readouts without an argmax)."""
    base = fn(case.times, case.units, case.W, case.tau, case.T)
    n_out = case.W.shape[0]
    stable = np.ones(n_out, bool)
    cols = []
    params = case.W if key == "W" else case.times
    for idx in np.ndindex(params.shape):
        h = FD_STEP * (max(1.0, abs(params[idx])) if key == "W" else case.T)
        vals = []
        for sign in (1.0, -1.0):
            p = params.copy()
            p[idx] += sign * h
            args = (p, case.units, case.W) if key == "times" else (case.times, case.units, p)
            r = fn(*args, case.tau, case.T)
            if hasattr(r, "argmax_kind"):
                stable &= ((r.argmax_kind == base.argmax_kind)
                           & (r.argmax_piece == base.argmax_piece))
            vals.append(r.logits)
        cols.append((vals[0] - vals[1]) / (2 * h))
    jac = np.array(cols).T.reshape(n_out, -1) if cols else np.zeros((n_out, 0))
    return base, jac, stable


def exact_jacobian(readout, case, key):
    rows = []
    for o in range(case.W.shape[0]):
        g = np.zeros(case.W.shape[0])
        g[o] = 1.0
        grad = readout.vjp(g)
        rows.append(grad.dW.ravel() if key == "W" else grad.dtimes)
    return np.array(rows)


def assert_fd(readout_fn, case, key):
    base, fd, stable = fd_jacobian(readout_fn, case, key)
    assume(stable.any())   # outputs whose argmax piece changes within +-h are not compared
    exact = exact_jacobian(base, case, key)
    err = scaled_error(exact[stable], fd[stable], FD_GRAD_RTOL, FD_GRAD_ATOL)
    assert err.size == 0 or err.max() <= 1.0, (key, exact[stable], fd[stable])


# ----------------------------------------------------------------------------- readout values

@given(cases())
def test_max_readout_matches_oracle(case):
    r = losses.max_voltage_readout(case.times, case.units, case.W, case.tau, case.T)
    ref = oracle_max(case.times, case.units, case.W, case.tau, case.T)
    assert scaled_error(r.logits, ref, READOUT_RTOL, READOUT_ATOL).max(initial=0) <= 1.0
    # the reported argmax time attains the maximum
    at = np.array([membrane(r.t_max[o], case.times, case.units, case.W[o:o + 1], case.tau)[0, 0]
                   for o in range(case.W.shape[0])])
    assert scaled_error(at, r.logits, READOUT_RTOL, READOUT_ATOL).max(initial=0) <= 1.0
    assert np.all((r.t_max >= 0) & (r.t_max <= case.T))


@given(cases())
def test_integral_readout_matches_oracle(case):
    r = losses.integral_readout(case.times, case.units, case.W, case.tau, case.T)
    ref = oracle_integral(case.times, case.units, case.W, case.tau, case.T)
    assert scaled_error(r.logits, ref, READOUT_RTOL, READOUT_ATOL).max(initial=0) <= 1.0


@pytest.mark.parametrize("fn", [losses.max_voltage_readout, losses.integral_readout],
                         ids=["max", "integral"])
@given(case=cases())
def test_unchecked_readout_equals_checked(fn, case):
    """``check=False`` (the gradients' path, on a simulation's own spikes) skips only the
    validation: the same logits and VJP, bit for bit, on valid float64/int64 arguments."""
    t = np.asarray(case.times, np.float64)
    u = np.asarray(case.units, np.int64)
    W = np.asarray(case.W, np.float64)
    a = fn(t, u, W, case.tau, case.T)
    b = fn(t, u, W, case.tau, case.T, check=False)
    g = np.linspace(-1.0, 1.0, W.shape[0])
    assert np.array_equal(a.logits, b.logits)
    va, vb = a.vjp(g), b.vjp(g)
    assert np.array_equal(va.dW, vb.dW) and np.array_equal(va.dtimes, vb.dtimes)


def test_readouts_match_oracle_on_quantised_times(rng):
    """SHD-like: float16 time stamps (many ties), more spikes, spikes past T."""
    times = np.sort(rng.uniform(0, 0.55, 80).astype(np.float16).astype(float))
    units = rng.integers(0, 10, times.size)
    W = rng.normal(0.0, 1.0, (3, 10))
    assert np.unique(times).size < times.size
    for fn, oracle in ((losses.max_voltage_readout, oracle_max),
                       (losses.integral_readout, oracle_integral)):
        got = fn(times, units, W, 0.02, 0.5).logits
        ref = oracle(times, units, W, 0.02, 0.5)
        assert scaled_error(got, ref, READOUT_RTOL, READOUT_ATOL).max() <= 1.0


# one hand-made case per argmax kind: (times, units, W, expected kind)
KIND_CASES = {
    "vertex": ([0.1, 0.15], [0, 1], [[1.0, 0.5]], ARGMAX_VERTEX),  # peak after both
    "event": ([0.1, 0.13], [0, 1], [[1.0, -3.0]], ARGMAX_EVENT),   # inhibition before the peak
    "end": ([0.2, 0.95], [0, 1], [[0.3, 2.0]], ARGMAX_END),       # still rising at T
    "zero": ([0.1, 0.3], [0, 1], [[-1.0, -0.5]], ARGMAX_ZERO),
}


@pytest.mark.parametrize("name", sorted(KIND_CASES))
@pytest.mark.parametrize("key", ["W", "times"])
def test_max_readout_each_kind(name, key):
    times, units, W, kind = KIND_CASES[name]
    case = Case(np.array(times), np.array(units), np.array(W), 0.1, 1.0)
    r = losses.max_voltage_readout(case.times, case.units, case.W, case.tau, case.T)
    assert r.argmax_kind[0] == kind
    ref = oracle_max(case.times, case.units, case.W, case.tau, case.T)
    assert scaled_error(r.logits, ref, READOUT_RTOL, READOUT_ATOL).max() <= 1.0
    _, fd, stable = fd_jacobian(losses.max_voltage_readout, case, key)
    assert stable.all()
    exact = exact_jacobian(r, case, key)
    assert scaled_error(exact, fd, FD_GRAD_RTOL, FD_GRAD_ATOL).max() <= 1.0
    if kind != ARGMAX_ZERO:
        assert np.abs(exact).max() > 1e-3   # a sign error could not hide behind zeros
    if name == "event" and key == "times":   # moving the inhibitory spike later lets u rise longer
        assert exact[0, 1] > 0


def test_vertex_derivative_is_x_star():
    """One kick w: the maximum is w/4 at x* = 1/2 whatever the spike time."""
    r = losses.max_voltage_readout([0.2], [0], [[3.0]], 0.1, 1.0)
    assert r.argmax_kind[0] == ARGMAX_VERTEX
    np.testing.assert_allclose(r.logits, [0.75], rtol=1e-15)
    np.testing.assert_allclose(r.t_max, [0.2 + 0.1 * np.log(2.0)], rtol=1e-15)
    grad = r.vjp([1.0])
    np.testing.assert_allclose(grad.dW, [[0.25]], rtol=1e-15)   # x* - x*^2
    assert abs(grad.dtimes[0]) < 1e-15                          # the peak moves with the spike


def test_max_readout_tied_argmax_event():
    """Two inhibitory spikes share the argmax time stamp: their derivatives add up to the
    derivative of moving the event as a whole, shared equally."""
    times, units = np.array([0.1, 0.13, 0.13]), np.array([0, 1, 2])
    W = np.array([[1.0, -2.0, -1.0]])
    r = losses.max_voltage_readout(times, units, W, 0.1, 1.0)
    assert r.argmax_kind[0] == ARGMAX_EVENT
    d = r.vjp([1.0]).dtimes
    h = FD_STEP
    shift = np.array([0.0, 1.0, 1.0]) * h
    fd = (losses.max_voltage_readout(times + shift, units, W, 0.1, 1.0).logits
          - losses.max_voltage_readout(times - shift, units, W, 0.1, 1.0).logits) / (2 * h)
    assert scaled_error(d[1] + d[2], fd[0], FD_GRAD_RTOL, FD_GRAD_ATOL) <= 1.0
    assert d[1] == d[2] > 0


# ----------------------------------------------------------------------------- readout derivatives

@pytest.mark.parametrize("fn", [losses.max_voltage_readout, losses.integral_readout],
                         ids=["max", "integral"])
@pytest.mark.parametrize("key", ["W", "times"])
@given(case=separated_cases())
def test_readout_derivatives_match_fd(fn, key, case):
    assert separated(case.times, case.T, FD_STEP * case.T)
    assert_fd(fn, case, key)


def test_spikes_after_T_are_ignored():
    W = np.array([[1.0, -0.5], [0.2, 0.7]])
    for fn in (losses.max_voltage_readout, losses.integral_readout):
        a = fn([0.1, 0.4], [0, 1], W, 0.1, 1.0)
        b = fn([0.1, 0.4, 1.0, 1.3], [0, 1, 1, 0], W, 0.1, 1.0)
        np.testing.assert_array_equal(a.logits, b.logits)
        g = np.array([0.3, -1.1])
        ga, gb = a.vjp(g), b.vjp(g)
        np.testing.assert_array_equal(ga.dW, gb.dW)
        np.testing.assert_array_equal(gb.dtimes, np.concatenate([ga.dtimes, [0.0, 0.0]]))


def test_integral_kernel_vanishes_smoothly_at_T():
    """K(T) = K'(T) = 0: a spike leaving through T changes the logits continuously and
    differentiably."""
    for eps in (1e-3, 1e-5):
        r = losses.integral_readout([1.0 - eps], [0], [[1.0]], 0.1, 1.0)
        # K ~ eps^2 / (2 tau), K' ~ -eps / tau near T
        assert 0 < r.logits[0] < eps ** 2 / 0.2 * 1.01
        assert -eps / 0.1 * 1.01 < r.vjp([1.0]).dtimes[0] < 0


def test_empty_spike_train():
    W = np.ones((3, 2))
    for fn in (losses.max_voltage_readout, losses.integral_readout):
        r = fn([], [], W, 0.1, 1.0)
        np.testing.assert_array_equal(r.logits, np.zeros(3))
        g = r.vjp(np.ones(3))
        np.testing.assert_array_equal(g.dW, np.zeros((3, 2)))
        assert g.dtimes.shape == (0,)


# ----------------------------------------------------------------------------- losses

def fd_grad(f, x, h):
    g = np.empty_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


finite_vec = hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-3.0, 3.0))


@given(t=finite_vec, data=st.data(), tau_r=st.floats(0.05, 2.0), gamma=st.floats(0.0, 1.0))
def test_first_spike_loss(t, data, tau_r, gamma):
    T = 2.0
    t = np.abs(t)
    label = data.draw(st.integers(0, t.size - 1))
    res = losses.first_spike_loss(t, label, tau_r, T, gamma)
    ref = -special.log_softmax(-t / tau_r)[label] + gamma * (np.exp(t[label] / T) - 1)
    assert scaled_error(res.loss, ref, 1e-13, 1e-14) <= 1.0
    assert res.prediction == int(np.argmin(t))
    fd = fd_grad(lambda x: losses.first_spike_loss(x, label, tau_r, T, gamma).loss, t, FD_STEP)
    assert scaled_error(res.dloss_dt, fd, FD_GRAD_RTOL, FD_GRAD_ATOL).max() <= 1.0


@given(z=finite_vec, data=st.data())
def test_cross_entropy(z, data):
    label = data.draw(st.integers(0, z.size - 1))
    res = losses.cross_entropy(z, label)
    assert scaled_error(res.loss, -special.log_softmax(z)[label], 1e-13, 1e-14) <= 1.0
    assert res.prediction == int(np.argmax(z))
    fd = fd_grad(lambda x: losses.cross_entropy(x, label).loss, z, FD_STEP)
    assert scaled_error(res.dloss_dlogits, fd, FD_GRAD_RTOL, FD_GRAD_ATOL).max() <= 1.0
    assert abs(res.dloss_dlogits.sum()) < 1e-14


def test_losses_are_stable_for_extreme_inputs():
    ce = losses.cross_entropy([1e4, -1e4, 0.0], 1)
    assert ce.loss == pytest.approx(2e4) and np.all(np.isfinite(ce.dloss_dlogits))
    fs = losses.first_spike_loss([0.0, 50.0, 1.0], 1, 1e-3, 1.0, 0.0)
    assert fs.loss == pytest.approx(5e4) and np.all(np.isfinite(fs.dloss_dt))
    assert fs.prediction == 0


def test_signs_descend(rng):
    """A small step against every returned derivative lowers the loss by about eta |grad|^2.
    This fails if any derivative had its sign flipped."""
    eta = 1e-4

    def check(loss_of, p, grad):
        drop = loss_of(p) - loss_of(p - eta * grad)
        expect = eta * np.sum(grad ** 2)
        assert expect > 0 and drop == pytest.approx(expect, rel=0.05)

    t = np.array([0.3, 0.2, 0.5])
    fs = losses.first_spike_loss(t, 2, 0.1, 1.0, 0.05)
    check(lambda x: losses.first_spike_loss(x, 2, 0.1, 1.0, 0.05).loss, t, fs.dloss_dt)
    z = np.array([0.3, -0.2, 1.0])
    check(lambda x: losses.cross_entropy(x, 0).loss, z, losses.cross_entropy(z, 0).dloss_dlogits)

    times = np.sort(rng.uniform(0.05, 0.9, 12))
    units = rng.integers(0, 4, 12)
    W = rng.normal(0.0, 1.0, (3, 4))
    for fn in (losses.max_voltage_readout, losses.integral_readout):
        def loss(tm, w):
            return losses.cross_entropy(fn(tm, units, w, 0.1, 1.0).logits, 1).loss
        r = fn(times, units, W, 0.1, 1.0)
        grad = r.vjp(losses.cross_entropy(r.logits, 1).dloss_dlogits)
        check(lambda w: loss(times, w), W, grad.dW)
        check(lambda tm: loss(tm, W), times, grad.dtimes)

    rr = losses.rate_regulariser(times, units, 4, 1.0, lower=0.5, upper=1.0)
    check(lambda tm: losses.rate_regulariser(tm, units, 4, 1.0, lower=0.5, upper=1.0).loss,
          times, rr.dloss_dtimes)


# ----------------------------------------------------------------------------- regulariser

@given(case=cases(ties=True, beyond_T=True), lower=st.floats(0, 3), width=st.floats(0, 3),
       strength=st.floats(0.1, 10))
def test_rate_regulariser(case, lower, width, strength):
    n = case.W.shape[1]
    upper = lower + width
    r = losses.rate_regulariser(case.times, case.units, n, case.T, lower=lower, upper=upper,
                                strength=strength)
    inside = case.times < case.T
    soft = np.zeros(n)
    for t, i in zip(case.times[inside], case.units[inside]):
        soft[i] += (case.T - t) / case.T
    np.testing.assert_allclose(r.soft_counts, soft, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(r.counts, np.bincount(case.units[inside], minlength=n))
    pen = np.maximum(soft - upper, 0) ** 2 + np.maximum(lower - soft, 0) ** 2
    assert r.loss == pytest.approx(strength * pen.mean(), rel=1e-12, abs=1e-14)
    assert np.all(r.dloss_dtimes[~inside] == 0)
    h = FD_STEP * case.T
    if separated(case.times[inside], case.T, h):   # perturbations keep order and stay inside
        def f(t_in):
            tm = np.concatenate([t_in, case.times[~inside]])
            return losses.rate_regulariser(tm, case.units, n, case.T, lower=lower, upper=upper,
                                           strength=strength).loss
        fd = fd_grad(f, case.times[inside], h)
        # the hinge has kinks: skip neurons whose soft count is within 10 h / T of a band edge
        near = np.minimum(np.abs(soft - upper), np.abs(soft - lower)) < 10 * h / case.T
        ok = ~near[case.units[inside]]
        err = scaled_error(r.dloss_dtimes[inside][ok], fd[ok], FD_GRAD_RTOL, FD_GRAD_ATOL)
        assert err.max(initial=0) <= 1.0


def test_rate_regulariser_properties():
    # inside the band: no loss, no gradient
    r = losses.rate_regulariser([0.1, 0.5], [0, 1], 2, 1.0, lower=0.1, upper=2.0)
    assert r.loss == 0 and not r.dloss_dtimes.any()
    # over-active neuron: descent moves its spikes later
    r = losses.rate_regulariser([0.1, 0.2, 0.3], [0, 0, 0], 1, 1.0, upper=1.0)
    assert np.all(r.dloss_dtimes < 0)
    # continuous as a spike leaves through T
    a = losses.rate_regulariser([0.2, 1.0 - 1e-12], [0, 0], 1, 1.0, upper=0.1).loss
    b = losses.rate_regulariser([0.2, 1.0], [0, 0], 1, 1.0, upper=0.1).loss
    assert a == pytest.approx(b, rel=1e-10)
    # a silent neuron below the lower bound: penalised, but there is no spike time to move
    r = losses.rate_regulariser([0.2], [0], 2, 1.0, lower=1.0)
    assert r.loss > 0 and r.counts[1] == 0


# ----------------------------------------------------------------------------- bad input

GOOD = dict(times=[0.1, 0.2], units=[0, 1], W=np.ones((2, 3)), tau=0.1, T=1.0)


@pytest.mark.parametrize("fn", [losses.max_voltage_readout, losses.integral_readout],
                         ids=["max", "integral"])
@pytest.mark.parametrize("change,exc,match", [
    (dict(times=[0.2, 0.1]), ValueError, r"times must be sorted: times\[1\]"),
    (dict(times=[0.1, np.nan]), ValueError, r"times\[1\] is nan"),
    (dict(times=[-0.1, 0.2]), ValueError, r"times\[0\] = -0.1 is negative"),
    (dict(times=["a", "b"]), TypeError, "times must be a real array"),
    (dict(units=[0, 3]), ValueError, r"units\[1\] = 3 is outside \[0, 3\) \(W.shape\[1\]"),
    (dict(units=[-1, 0]), ValueError, r"units\[0\] = -1 is outside"),
    (dict(units=[0.0, 1.0]), TypeError, "units must be an integer array"),
    (dict(units=[0]), ValueError, "differ in length"),
    (dict(W=np.ones(3)), ValueError, "W must be 2-D"),
    (dict(W=np.array([[1.0, np.nan, 0.0]])), ValueError, r"W\[0, 1\] is nan"),
    (dict(W=np.array([["a"]])), TypeError, "W must be a real array"),
    (dict(tau=0.0), ValueError, "tau must be > 0"),
    (dict(tau=-1.0), ValueError, "tau must be > 0"),
    (dict(tau=np.inf), ValueError, "tau must be finite"),
    (dict(T=0.0), ValueError, "T must be > 0"),
    (dict(T=np.nan), ValueError, "T must be finite"),
    (dict(T="1"), TypeError, "T must be a real number"),
])
def test_readout_bad_input(fn, change, exc, match):
    with pytest.raises(exc, match=match):
        fn(**{**GOOD, **change})


@pytest.mark.parametrize("fn", [losses.max_voltage_readout, losses.integral_readout],
                         ids=["max", "integral"])
def test_vjp_bad_cotangent(fn):
    r = fn(**GOOD)
    with pytest.raises(ValueError, match=r"g must have shape \(2,\)"):
        r.vjp(np.ones(3))
    with pytest.raises(ValueError, match=r"g\[0\] is nan"):
        r.vjp([np.nan, 0.0])


@pytest.mark.parametrize("args,exc,match", [
    (([0.1, 0.2], 2, 0.1, 1.0, 0.0), ValueError, r"label = 2 is outside \[0, 2\)"),
    (([0.1, 0.2], -1, 0.1, 1.0, 0.0), ValueError, "label = -1 is outside"),
    (([0.1, 0.2], 1.0, 0.1, 1.0, 0.0), TypeError, "label must be an integer"),
    (([0.1, 0.2], True, 0.1, 1.0, 0.0), TypeError, "label must be an integer"),
    (([0.1, np.inf], 0, 0.1, 1.0, 0.0), ValueError, r"t_first\[1\] is inf"),
    (([0.1, np.nan], 0, 0.1, 1.0, 0.0), ValueError, r"t_first\[1\] is nan"),
    (([], 0, 0.1, 1.0, 0.0), ValueError, "t_first must hold at least one"),
    (([[0.1]], 0, 0.1, 1.0, 0.0), ValueError, "t_first must be 1-D"),
    (([0.1, 0.2], 0, 0.0, 1.0, 0.0), ValueError, "tau_r must be > 0"),
    (([0.1, 0.2], 0, 0.1, -1.0, 0.0), ValueError, "T must be > 0"),
    (([0.1, 0.2], 0, 0.1, 1.0, -0.1), ValueError, "gamma must be >= 0"),
])
def test_first_spike_loss_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        losses.first_spike_loss(*args)


@pytest.mark.parametrize("args,exc,match", [
    (([1.0, 2.0], 2), ValueError, "label = 2 is outside"),
    (([1.0, np.nan], 0), ValueError, r"logits\[1\] is nan"),
    (([], 0), ValueError, "logits must hold at least one"),
    (([1.0], "0"), TypeError, "label must be an integer"),
])
def test_cross_entropy_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        losses.cross_entropy(*args)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(units=[0, 2]), ValueError, r"units\[1\] = 2 is outside \[0, 2\) \(n_neurons"),
    (dict(n_neurons=0), ValueError, "n_neurons must be >= 1"),
    (dict(n_neurons=2.0), TypeError, "n_neurons must be an integer"),
    (dict(times=[0.3, 0.1]), ValueError, "times must be sorted"),
    (dict(lower=2.0, upper=1.0), ValueError, "upper = 1.0 must be >= lower = 2.0"),
    (dict(lower=-1.0), ValueError, "lower must be >= 0"),
    (dict(strength=np.nan), ValueError, "strength must be finite"),
    (dict(T=0.0), ValueError, "T must be > 0"),
])
def test_rate_regulariser_bad_input(kwargs, exc, match):
    args = {**dict(times=[0.1, 0.3], units=[0, 1], n_neurons=2, T=1.0), **kwargs}
    with pytest.raises(exc, match=match):
        losses.rate_regulariser(**args)


def direct_max_vjp(r, times, units, W, tau, g):
    """The max readout's derivatives from the module docstring's formulas, one exponential
    per spike and output at the reported argmax time (what ``_max_vjp`` computed before its
    outputs shared decay factors)."""
    dW, dtimes = np.zeros_like(W), np.zeros(times.size)
    for o in range(W.shape[0]):
        if r.argmax_kind[o] == ARGMAX_ZERO:
            continue
        t_star = r.t_max[o]
        before = times <= t_star
        x = np.exp(-(t_star - times[before]) / tau)
        np.add.at(dW[o], units[before], g[o] * (x - x * x))
        kp = W[o, units[before]] * x * (2.0 * x - 1.0) / tau
        if r.argmax_kind[o] == ARGMAX_EVENT:
            tied = times[before] == t_star
            dtimes[np.flatnonzero(before)[~tied]] -= g[o] * kp[~tied]
            dtimes[np.flatnonzero(before)[tied]] += g[o] * kp[~tied].sum() / tied.sum()
        else:
            dtimes[before] -= g[o] * kp
    return dW, dtimes


@pytest.mark.parametrize("seed", range(4))
def test_max_readout_vjp_with_shared_decay_factors(seed):
    """Hundreds of spikes (many blocks of ``DECAY_BLOCK``, argmax pieces anywhere): the vjp with
    shared factors equals the direct formulas to rounding, for every argmax kind that occurs."""
    rng = np.random.default_rng(seed)
    n = 40 * losses.DECAY_BLOCK + 7
    times = np.sort(rng.uniform(0.0, 0.5, n).astype(np.float16).astype(float))
    units = rng.integers(0, 30, n)
    W = rng.normal(0.05, 1.0, (12, 30))
    r = losses.max_voltage_readout(times, units, W, 0.02, 0.5)
    assert len(set(r.argmax_kind) - {ARGMAX_ZERO}) >= 2
    assert (r.argmax_piece >= 0).sum() >= 8
    g = rng.normal(size=W.shape[0])
    got = r.vjp(g)
    dW, dtimes = direct_max_vjp(r, times, units, W, 0.02, g)
    np.testing.assert_allclose(got.dW, dW, rtol=0, atol=1e-12 * np.abs(dW).max())
    np.testing.assert_allclose(got.dtimes, dtimes, rtol=0, atol=1e-12 * np.abs(dtimes).max())
