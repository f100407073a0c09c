"""The reverse pass against central finite differences, with a synthetic smooth loss
L = sum_l sum_i a_l[i] t_l[i] + sum_l (b_l . V_l(T) + d_l . I_l(T)), so that every sensitivity
(spike times, trial-end states, weights, recurrent weights, input times) is exercised on its own.
"""

import numpy as np
from hypothesis import assume, example, given, strategies as st

import snnexact
from snnexact.engine.backward import backward_network

from helpers import random_case, richardson_derivative
from tolerances import FD_GRAD_RTOL, FD_GRAD_ATOL, FD_STEP


def _case(model, seed, sizes, recurrent, n_in_spikes):
    net, params, times, units, T, rng = random_case(model, seed, sizes, recurrent, n_in_spikes)
    coef = [rng.normal(size=3) for _ in range(net.n_layers)]
    return net, params, times, units, T, coef


def _signature(res):
    return [(L.units.tobytes(), L.n_spikes) for L in res.layers]


def _loss(net, params, times, units, T, coef):
    res = snnexact.simulate(net, params, times, units, T, on_budget="ignore", max_spikes=80)
    total = 0.0
    for L, (a, b, d) in zip(res.layers, coef):
        V = np.where(np.isfinite(L.V), L.V, 0.0)
        total += a * L.times.sum() + b * np.tanh(V).sum() + d * L.I.sum()
    return total, res


def _grad(net, params, times, units, T, coef):
    value, res = _loss(net, params, times, units, T, coef)
    mu = [np.full(L.n_spikes, a) for L, (a, _, _) in zip(res.layers, coef)]
    lamV = [b * (1.0 - np.tanh(np.where(np.isfinite(L.V), L.V, 0.0)) ** 2)
            for L, (_, b, _) in zip(res.layers, coef)]
    lamI = [np.full(L.I.shape, d) for L, (_, _, d) in zip(res.layers, coef)]
    dW, dR, g_in = backward_network(net, res, mu, lamV, lamI)
    return value, res, dW, dR, g_in


def _check_fd(f, x0, analytic, sig0, label):
    """Richardson-extrapolated central difference of f at x0 (scalar), skipped when the spike
    sequence changes within +-h. Returns True if checked."""
    h = FD_STEP * max(1.0, abs(x0))
    num = richardson_derivative(f, x0, h, lambda res: _signature(res) == sig0)
    if num is None:
        return False
    err = abs(num - analytic) / (FD_GRAD_ATOL + FD_GRAD_RTOL * abs(num))
    assert err <= 1.0, f"{label}: analytic {analytic!r}, finite difference {num!r}"
    return True


cases = st.tuples(st.sampled_from(["lif", "qif"]), st.integers(0, 2 ** 32 - 1),
                  st.lists(st.integers(1, 4), min_size=2, max_size=3).map(tuple), st.booleans(),
                  st.integers(1, 12))


@given(cases)
@example(("lif", 1_168_715_455, (2, 3), False, 10))  # plain central differences fail here
def test_backward_matches_finite_differences(case):
    model, seed, sizes, recurrent, n_in = case
    net, params, times, units, T, coef = _case(model, seed, sizes, recurrent, n_in)
    value, res, dW, dR, g_in = _grad(net, params, times, units, T, coef)
    assume(res.status == 0 and sum(L.n_spikes for L in res.layers) > 0)
    sig0 = _signature(res)
    rng = np.random.default_rng(seed)
    checked = 0
    for l in range(net.n_layers):
        for name, arrays, grads in (("W", params.W, dW), ("R", params.R, dR)):
            if arrays[l] is None:
                continue
            idx = [tuple(rng.integers(0, s) for s in arrays[l].shape) for _ in range(3)]
            for ij in idx:
                if name == "R" and ij[0] == ij[1]:
                    continue

                def f(v, l=l, ij=ij, name=name):
                    W = [w.copy() for w in params.W]
                    R = [None if r is None else r.copy() for r in params.R]
                    (W if name == "W" else R)[l][ij] = v
                    return _loss(net, snnexact.Params(tuple(W), tuple(R)), times, units, T, coef)
                checked += _check_fd(f, arrays[l][ij], grads[l][ij], sig0, f"d{name}{l}{ij}")
    for j in range(min(len(times), 3)):
        def f(v, j=j):
            t = times.copy()
            t[j] = v
            if np.any(np.diff(t) < 0):
                return _loss(net, params, np.sort(t), units[np.argsort(t, kind="stable")], T, coef)
            return _loss(net, params, t, units, T, coef)
        checked += _check_fd(f, times[j], g_in[j], sig0, f"dt_in[{j}]")
    assume(checked > 0)
