"""Oracles for the LIF with any synaptic time constant (plain Python/NumPy/SciPy; never imports
snnexact)::

    tau_m dV/dt = (v_leak - V) + r I,    tau_s dI/dt = -I,    spike: V up through theta.

Two independent routes:

* ``closed_flow`` / ``dense_spike_time``: the textbook two-exponential solution with its
  amplitude written out, ``W = V - v_leak``, ``A = r I0 tau_s / (tau_s - tau_m)``::

      W(t) = (W0 - A) exp(-t/tau_m) + A exp(-t/tau_s)      (tau_s != tau_m)
      W(t) = (W0 + r I0 t / tau) exp(-t/tau)                (tau_s = tau_m = tau)

  (it loses about ``log10 |A / r I0|`` digits as the ratio approaches 1). The first crossing is
  bracketed by brute force on a dense uniform grid (``N_GRID`` points, so a grazing crossing
  of width > horizon / N_GRID is not missed) and refined by bisection in extended precision
  (``np.longdouble``, a 64-bit mantissa on x86): near a grazing crossing a voltage error
  ``delta V`` moves the time by ``delta V / |dV/dt|`` (``|dV/dt| ~ 1e-5`` at ``theta + 1e-10``),
  so double-precision rounding of this oracle alone would reach ~1e-9 relative at ratio 0.9.
* ``ode_flow`` / ``ode_spike_time``: numerical integration (solve_ivp DOP853, rtol = atol =
  1e-13) with a terminal crossing event and, for crossings that rise above threshold and fall
  back within one solver step, a maximum event (``dV/dt`` from + to -): a maximum above
  threshold before the detected crossing is located by brentq on the dense output.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

__all__ = ["closed_flow", "dense_spike_time", "ode_flow", "ode_spike_time", "N_GRID"]

N_GRID = 2 ** 21
ODE_RTOL = 1e-13
ODE_ATOL = 1e-13
_XTOL = 1e-300
_RTOL = 4 * np.finfo(float).eps
# DOP853's error norm squares the error estimates; for states ~1e-158 they underflow to 0 and
# scipy divides 0 by 0 (a warning, not a failure: the step is still accepted by the atol test)
def _tiny_states_ok():
    return np.errstate(divide="ignore", invalid="ignore", under="ignore")


def closed_flow(v0, i0, t, tau_m, tau_s, v_leak=0.0, r=1.0):
    """``(V, I)`` at time(s) ``t`` (float or array) from the two-exponential solution."""
    t = np.asarray(t, dtype=float)
    w0 = v0 - v_leak
    if tau_s == tau_m:
        w = (w0 + r * i0 * t / tau_m) * np.exp(-t / tau_m)
    else:
        amp = r * i0 * tau_s / (tau_s - tau_m)
        w = (w0 - amp) * np.exp(-t / tau_m) + amp * np.exp(-t / tau_s)
    V = v_leak + w
    I = i0 * np.exp(-t / tau_s)
    return (float(V), float(I)) if V.ndim == 0 else (V, I)


def dense_spike_time(v0, i0, horizon, tau_m, tau_s, theta=1.0, v_leak=0.0, r=1.0):
    """First ``t`` in ``(0, horizon]`` with ``V(t) = theta`` from below; ``inf`` if none."""
    if v0 >= theta:
        return 0.0
    grid = np.linspace(0.0, horizon, N_GRID + 1)
    g = closed_flow(v0, i0, grid, tau_m, tau_s, v_leak, r)[0] - theta
    above = np.nonzero(g > 0.0)[0]
    if above.size == 0:
        return math.inf
    k = above[0]
    lo, hi = np.longdouble(grid[k - 1]), np.longdouble(grid[k])
    while True:
        mid = (lo + hi) / 2
        if not lo < mid < hi:
            return float(hi)
        if _long_voltage(v0, i0, mid, tau_m, tau_s, v_leak, r) > np.longdouble(theta):
            hi = mid
        else:
            lo = mid


def _long_voltage(v0, i0, t, tau_m, tau_s, v_leak, r):
    """``V(t)`` of ``closed_flow`` in extended precision."""
    L = np.longdouble
    w0, t, tau_m, tau_s = L(v0) - L(v_leak), L(t), L(tau_m), L(tau_s)
    if tau_s == tau_m:
        return L(v_leak) + (w0 + L(r) * L(i0) * t / tau_m) * np.exp(-t / tau_m)
    amp = L(r) * L(i0) * tau_s / (tau_s - tau_m)
    return L(v_leak) + (w0 - amp) * np.exp(-t / tau_m) + amp * np.exp(-t / tau_s)


def _rhs(tau_m, tau_s, v_leak, r):
    def rhs(t, y):
        return [((v_leak - y[0]) + r * y[1]) / tau_m, -y[1] / tau_s]
    return rhs


def ode_flow(v0, i0, t, tau_m, tau_s, v_leak=0.0, r=1.0):
    """``(V, I)`` at time ``t`` by numerical integration (no spikes are handled)."""
    if t == 0.0:
        return v0, i0
    with _tiny_states_ok():
        sol = solve_ivp(_rhs(tau_m, tau_s, v_leak, r), (0.0, t), [v0, i0], method="DOP853",
                        rtol=ODE_RTOL, atol=ODE_ATOL)
    return float(sol.y[0, -1]), float(sol.y[1, -1])


def ode_spike_time(v0, i0, horizon, tau_m, tau_s, theta=1.0, v_leak=0.0, r=1.0):
    """First upward crossing of ``theta`` in ``(0, horizon]`` by integration; ``inf`` if none."""
    if v0 >= theta:
        return 0.0
    rhs = _rhs(tau_m, tau_s, v_leak, r)

    def crossing(t, y):
        return y[0] - theta
    crossing.terminal = True
    crossing.direction = 1.0

    def maximum(t, y):
        return (v_leak - y[0]) + r * y[1]
    maximum.direction = -1.0

    with _tiny_states_ok():
        sol = solve_ivp(rhs, (0.0, horizon), [v0, i0], method="DOP853", rtol=ODE_RTOL,
                        atol=ODE_ATOL, events=(crossing, maximum), dense_output=True)
    t_cross = sol.t_events[0][0] if sol.t_events[0].size else math.inf
    for t_max, y_max in zip(sol.t_events[1], sol.y_events[1]):
        if t_max < t_cross and y_max[0] > theta:  # rose above threshold and fell back in a step
            t_cross = brentq(lambda t: sol.sol(t)[0] - theta, 0.0, t_max, xtol=_XTOL, rtol=_RTOL)
            break
    return t_cross
