"""Numerical-ODE oracle: integrates the model ODEs with scipy's solve_ivp (no closed forms).

Never imports snnexact, and uses none of the closed-form flows or spike-time formulas of
reference.closed_form (only its argument checks, result type and input grouping are shared).

State per neuron, integrated for a whole layer at once between events (DOP853, rtol=atol=1e-13):

    LIF:  tau dV/dt   = -V + I                                  spike: V up through theta, V -> 0
    QIF:  tau dphi/dt = (1 - cos phi) + (I - 1/4)(1 + cos phi)  spike: phi up through pi, -> -pi
    both: tau dI/dt   = -2 I   (I is integrated numerically too, not taken from exp(-2 t / tau))

    general LIF (``simulate_ode(..., lif=LIFSpec(tau_s, v_leak, v_reset, r))``):
          tau dV/dt = (v_leak - V) + r I,   tau_s dI/dt = -I,   reset V -> v_reset

The QIF is integrated in its theta-neuron form V - 1/2 = tan(phi / 2), where the spike (V = +inf,
phi = pi) is a regular point and the reset V = -inf is phi = -pi, so initial states V0 = -inf need
no special case. V at T is recovered as 1/2 + tan(phi / 2) (phi = -pi gives -inf exactly).

Spike detection. solve_ivp's terminal event (located by brentq on the dense output) stops the
integration at the first threshold crossing; the crossing time is then refined once more with brentq
on the dense output, and integration restarts there after the reset and the recurrent delivery.
A LIF voltage can rise above threshold and fall back inside one solver step (a near-tangential
crossing), which a sign test at the step ends misses. So local maxima of V (I - V changing sign
from + to -) are tracked as non-terminal events too; a maximum above threshold before the detected
spike is a missed crossing, located by brentq on [segment start, maximum]. That crossing is unique:
between two events dV/dt = (I - V) / tau changes sign at most once. Any neuron found above threshold
at the chosen spike time likewise has its crossing located; the earliest crossing wins.
In the theta form a QIF crossing is always transversal (dphi/dt = 2 / tau at phi = pi), so it
cannot be missed.

Ties follow reference.closed_form: identical input time stamps form one event; network spikes at the
time of an input event are processed first; neurons crossing at the same time fire in index order;
a spike at t >= T is not recorded. (Exact ties are reproduced only up to the integration error.)
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from .closed_form import LayerResult, MAX_SPIKES_PER_LAYER, _check_inputs, _group_events

__all__ = ["simulate_ode", "LIFSpec", "ODE_RTOL", "ODE_ATOL"]

ODE_RTOL = 1e-13
ODE_ATOL = 1e-13
_METHOD = "DOP853"
_EPS = np.finfo(np.float64).eps


class LIFSpec(NamedTuple):
    """The general LIF's extra parameters (the default is ``tau_s = tau / 2``, 0, 0, 1)."""
    tau_s: float
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0


def _make_rhs(model, n, tau, spec):
    inv_tau = 1.0 / tau
    if model == "lif":
        inv_s = 1.0 / spec.tau_s

        def rhs(t, y):
            v, i = y[:n], y[n:]
            return np.concatenate((((spec.v_leak - v) + spec.r * i) * inv_tau, -i * inv_s))
    else:
        def rhs(t, y):
            phi, i = y[:n], y[n:]
            cos = np.cos(phi)
            return np.concatenate((((1.0 - cos) + (i - 0.25) * (1.0 + cos)) * inv_tau,
                                   -2.0 * i * inv_tau))
    return rhs


def _make_events(model, n, z_thr, spec):
    events = []
    for k in range(n):
        def crossing(t, y, k=k):
            return y[k] - z_thr
        crossing.terminal = True
        crossing.direction = 1.0
        events.append(crossing)
    if model == "lif":
        for k in range(n):
            def local_max(t, y, k=k):       # proportional to dV/dt
                return (spec.v_leak - y[k]) + spec.r * y[n + k]
            local_max.terminal = False
            local_max.direction = -1.0
            events.append(local_max)
    return events


def _crossing_time(dense, k, z_thr, t_lo, t_hi):
    """Upward crossing of z_k = z_thr in [t_lo, t_hi] on the dense output (z_k(t_hi) >= z_thr)."""
    def f(t):
        return dense(t)[k] - z_thr
    f_lo = f(t_lo)
    if f_lo >= 0.0:
        return t_lo
    f_hi = f(t_hi)
    if f_hi <= 0.0:
        return t_hi
    return brentq(f, t_lo, t_hi, xtol=1e-300, rtol=4 * _EPS, maxiter=500)


def _simulate_layer(model, tau, w, r, events, T, theta, v_init, i_init, rtol, atol, spec):
    n = w.shape[0]
    if model == "lif":
        z = v_init.astype(np.float64).copy()
        z_thr, z_reset = theta, spec.v_reset
    else:
        z = 2.0 * np.arctan(v_init - 0.5)    # V = -inf -> phi = -pi exactly
        z_thr, z_reset = math.pi, -math.pi
    y = np.concatenate((z, i_init.astype(np.float64)))
    rhs = _make_rhs(model, n, tau, spec)
    ev_funcs = _make_events(model, n, z_thr, spec)
    out_t: list[float] = []
    out_u: list[int] = []

    t = 0.0
    k_ev = 0
    while True:
        t_stop = events[k_ev][0] if k_ev < len(events) else T
        if t < t_stop:
            sol = solve_ivp(rhs, (t, t_stop), y, method=_METHOD, rtol=rtol, atol=atol,
                            events=ev_funcs, dense_output=True)
            if sol.status == -1:
                raise RuntimeError(f"solve_ivp failed on [{t}, {t_stop}]: {sol.message}")
            dense = sol.sol
            # candidate spike times: terminal crossing event(s) and missed LIF crossings
            cand = {}
            for k in range(n):
                if len(sol.t_events[k]):
                    cand[k] = _crossing_time(dense, k, z_thr, t, float(sol.t_events[k][0]))
            if model == "lif":
                t_end = min(cand.values()) if cand else t_stop
                for k in range(n):
                    for t_m in sol.t_events[n + k]:
                        if t_m <= t_end and dense(t_m)[k] >= z_thr:
                            tc = _crossing_time(dense, k, z_thr, t, float(t_m))
                            cand[k] = min(cand.get(k, math.inf), tc)
                            break
            if not cand:
                t, y = t_stop, sol.y[:, -1].copy()
            else:
                # the earliest crossing; any neuron above threshold there (or within the tie
                # tolerance after it: an identical neuron may sit one rounding below threshold
                # at the other's crossing time) crossed earlier or now
                t_hit = min(cand.values())
                while True:
                    y_hit = dense(t_hit)
                    t_probe = t_hit + 4 * _EPS * max(1.0, abs(t_hit))
                    y_probe = dense(t_probe)
                    above = [j for j in range(n) if y_probe[j] >= z_thr and j not in cand]
                    if not above:
                        break
                    for j in above:
                        cand[j] = min(t_probe, _crossing_time(dense, j, z_thr, t, t_probe))
                    t_hit = min(cand.values())
                if t_hit >= T:
                    t, y = T, y_hit
                    break
                t, y = t_hit, y_hit.copy()
                tie = 4 * _EPS * max(1.0, abs(t_hit))
                firing = sorted(j for j, tc in cand.items() if tc <= t_hit + tie)
                for j in firing:
                    out_t.append(t_hit)
                    out_u.append(j)
                    y[j] = z_reset
                    if r is not None:
                        y[n:] += r[:, j]
                if len(out_t) > MAX_SPIKES_PER_LAYER:
                    raise RuntimeError(f"more than {MAX_SPIKES_PER_LAYER} spikes in one layer "
                                       f"(runaway activity) before t={t_hit} < T={T}")
                continue
        # now t == t_stop
        if t_stop >= T:
            break
        _, pre = events[k_ev]
        k_ev += 1
        y[n:] += w[:, pre].sum(axis=1)

    z, i_T = y[:n].copy(), y[n:].copy()
    if model == "lif":
        v_T = z
    else:
        v_T = 0.5 + np.tan(0.5 * z)
        v_T[z <= -math.pi] = -math.inf
        v_T[z >= math.pi] = math.inf
    return LayerResult(times=np.asarray(out_t, dtype=np.float64),
                       units=np.asarray(out_u, dtype=np.int64), V=v_T, I=i_T)


def simulate_ode(model, tau_m, W, R, input_times, input_units, T, theta=1.0, V0=None, I0=None,
                 lif=None):
    """Same interface and result as reference.simulate_closed_form, by numerical integration;
    ``lif`` (a ``LIFSpec``) selects the general LIF (model ``"lif"`` only).

    Returns a list of LayerResult (times, units, V, I), one per spiking layer; V and I at time T.
    """
    model, tau, W, R, times, units, T, theta, V0, I0 = _check_inputs(
        model, tau_m, W, R, input_times, input_units, T, theta, V0, I0)
    if lif is not None and model != "lif":
        raise ValueError("lif= applies to model 'lif' only")
    spec = LIFSpec(tau / 2) if lif is None else LIFSpec(*lif)
    results = []
    for l, w in enumerate(W):
        events = _group_events(times, units, T)
        res = _simulate_layer(model, tau, w, R[l], events, T, theta, V0[l], I0[l],
                              ODE_RTOL, ODE_ATOL, spec)
        results.append(res)
        times, units = res.times, res.units
    return results
