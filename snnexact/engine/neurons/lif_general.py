r"""LIF neuron with a current-based synapse of any time constant: standalone scalar kernels.

.. math::

    \tau_m \dot V = (v_{leak} - V) + r I, \qquad \tau_s \dot I = -I .

``LIF(tau_m, theta, tau_s=..., v_leak=..., v_reset=..., r=...)`` uses these verbs (kernel
parameters ``LIFGeneralKernel``) whenever it is not the closed form of ``lif.py``
(``tau_s = tau_m / 2``, ``v_leak = v_reset = 0``, ``r = 1``); adjoint in ``lif_general_adjoint.py``.

**Flow** (``flow``). With ``W = V - v_leak``, ``I(t) = I0 exp(-t/tau_s)`` and::

    W(t) = W0 exp(-t/tau_m) + r I0 K(t),
    K(t) = tau_s / (tau_s - tau_m) [exp(-t/tau_s) - exp(-t/tau_m)]       (tau_s != tau_m)
         = (t/tau_m) exp(-t/tau_slow) phi(|z|),   z = t (1/tau_s - 1/tau_m),
    phi(z) = (1 - exp(-z)) / z = -expm1(-z) / z,  phi(0) = 1,  tau_slow = max(tau_m, tau_s).

The second form of ``K`` is the divided difference of the two exponentials; it never divides
by ``tau_s - tau_m``, so it is exact to a few ulp for every ratio, including ``tau_s = tau_m``
(``K = (t/tau) exp(-t/tau)``, the alpha kernel) and ratios within rounding of 1. At
``tau_s = tau_m / 2`` it is ``x - x^2`` with ``x = exp(-t/tau_m)``: the flow of ``lif.py``.

**Extremum.** ``tau_m dV/dt = r I(t) - W(t)`` vanishes at most once for ``t > 0``: dividing by
``exp(-t/tau_m)`` turns it into ``exp(-t d) = (d W0/(r I0) + 1/tau_m) tau_s`` with
``d = 1/tau_s - 1/tau_m``, which has one solution or none. Written without cancellation::

    rho = W0 / (r I0) - 1,   y = (1 - tau_s/tau_m) rho,   t_e = -rho tau_s log1p(y) / y,

valid (an interior extremum) iff ``I0 != 0``, ``y > -1`` and ``t_e > 0``; ``log1p(y)/y = 1``
at ``y = 0`` (``tau_s = tau_m``: ``t_e = -rho tau``).

**Next spike** (``spike_time_within``): the first upward crossing of ``theta`` in
``(0, horizon]`` (0 if ``V0 >= theta``, as in ``lif.py``); ``next_spike_time`` has no horizon. ``V`` is monotone on ``[0, t_e]`` and on
``[t_e, horizon]``, so the crossing lies in the first piece iff ``V(min(t_e, horizon)) > theta``,
else in the second iff ``V(horizon) > theta`` (the piece is then rising). A maximum that only
touches ``theta`` is no spike (as ``D = 0`` in ``lif.py``); a maximum ``1e-10`` above it is found,
since ``V(t_e)`` is evaluated to a few ulp. Inside the bracket a safeguarded Newton/bisection
(Newton with the exact derivative, bisection whenever the step would leave the bracket or
shrink it too slowly) converges to full double precision. Without a horizon, the crossing after
the extremum (or after ``t = 0`` if there is none) exists iff ``v_leak > theta`` (``V`` then
rises monotonically towards ``v_leak``) and is bracketed by doubling. (``LIF`` runs the closed
form of ``lif.py`` instead when ``tau_s = tau_m / 2``, ``v_leak = v_reset = 0`` and ``r = 1``.)

**Layer sweep.** A neuron may cross ``theta`` inside an interval of length ``dt`` only if
``v_leak + max(W0, W0 x_m) + max(r I0, 0) K(min(dt, t_K)) >= theta``, with ``t_K`` the time of
the maximum of ``K`` (``K`` rises before it): the first term bounds the decaying part, the
second the kernel part. Such neurons are flagged and searched exactly; the bound costs a few
operations per neuron, shared factors ``x_m``, ``x_s``, ``K(dt)`` once per interval.

**Sensitivities** (``flow_grad``, ``spike_time_grad``)::

    dV/dV0 = exp(-dt/tau_m),   dV/dI0 = r K(dt),   dI/dI0 = exp(-dt/tau_s),
    d(dt*)/dq = -(dV/dq)(dt*) / Vdot*,   tau_m Vdot* = v_leak - theta + r I(dt*)   (q = V0, I0).

``Vdot* -> 0`` at a grazing crossing, where the gradient diverges (as in ``lif.py``).
"""
from collections import namedtuple
import math

import numpy as np

from snnexact.engine.jit import jit
from snnexact.engine.neurons.synapse import jump  # noqa: F401 (the same jump verb)
from snnexact.engine.neurons.vi_layout import (STATE_ROWS, add_current, exact_end,  # noqa: F401
                                               init_state, neuron_VI, state_VI)

_MAX_ITER = 200  # Newton/bisection steps; bisection alone needs < 1100 to exhaust a double

LIFGeneralKernel = namedtuple("LIFGeneralKernel", "tau_m tau_s theta v_leak v_reset r")
LIFGeneralKernel.__doc__ = "Kernel parameters of the general-ratio LIF verbs."


# ----------------------------------------------------------------------------- scalar verbs

@jit
def psp_kernel(t, tau_m, tau_s):
    """``K(t)``: the voltage response to a unit current at ``t = 0`` (module docstring)."""
    z = abs(t * (1.0 / tau_s - 1.0 / tau_m))
    phi = 1.0 if z == 0.0 else -math.expm1(-z) / z
    tau_slow = tau_s if tau_s > tau_m else tau_m  # max(): see sweep
    return (t / tau_m) * math.exp(-t / tau_slow) * phi


@jit
def psp_peak_time(tau_m, tau_s):
    """Time of the maximum of ``K``: ``tau_m log(q) / (q - 1)``, ``q = tau_m / tau_s``."""
    d = tau_m / tau_s - 1.0
    return tau_m if d == 0.0 else tau_m * math.log1p(d) / d


@jit
def flow(p, V0, I0, dt):
    """State ``(V, I)`` after ``dt >= 0`` without spikes."""
    W = (V0 - p.v_leak) * math.exp(-dt / p.tau_m) + p.r * I0 * psp_kernel(dt, p.tau_m, p.tau_s)
    return W + p.v_leak, I0 * math.exp(-dt / p.tau_s)


@jit
def _g(p, W0, I0, t):
    """``(V(t) - theta, dV/dt)`` from ``W0 = V0 - v_leak``."""
    W = W0 * math.exp(-t / p.tau_m) + p.r * I0 * psp_kernel(t, p.tau_m, p.tau_s)
    return W + p.v_leak - p.theta, (p.r * I0 * math.exp(-t / p.tau_s) - W) / p.tau_m


@jit
def extremum_time(p, V0, I0):
    """Time ``t_e > 0`` of the interior extremum of ``V``; ``inf`` if there is none."""
    if I0 == 0.0:
        return math.inf
    rho = (V0 - p.v_leak) / (p.r * I0) - 1.0
    y = (1.0 - p.tau_s / p.tau_m) * rho
    if not y > -1.0:
        return math.inf
    psi = 1.0 if y == 0.0 else math.log1p(y) / y
    t = -rho * p.tau_s * psi
    return t if t > 0.0 else math.inf


@jit
def _root(p, W0, I0, lo, hi):
    """Crossing in ``[lo, hi]`` where ``V - theta`` rises from ``< 0`` to ``>= 0``:
    Newton inside the bracket, bisection when Newton leaves it or stalls (rtsafe)."""
    t = hi
    g, dg = _g(p, W0, I0, t)
    if g == 0.0:
        return t
    step_old = hi - lo
    step = step_old
    for _ in range(_MAX_ITER):
        newton_out = ((t - hi) * dg - g) * ((t - lo) * dg - g) > 0.0
        if dg <= 0.0 or newton_out or abs(2.0 * g) > abs(step_old * dg):
            step_old = step
            step = 0.5 * (hi - lo)
            t = lo + step
        else:
            step_old = step
            step = g / dg
            t -= step
        if abs(step) <= 2.0 * 2.220446049250313e-16 * abs(t) or hi - lo <= 0.0:
            return t
        g, dg = _g(p, W0, I0, t)
        if g == 0.0:
            return t
        if g < 0.0:
            lo = t
        else:
            hi = t
    return t


@jit
def bracketed_spike_time(p, V0, I0, horizon):
    """First upward threshold crossing in ``(0, horizon]`` by bracketing from the extremum
    (no closed-form fast path); ``inf`` if none, ``0`` if ``V0 >= theta``. An infinite
    ``horizon`` brackets the late crossing (``v_leak > theta``) by doubling."""
    if V0 >= p.theta:
        return 0.0
    W0 = V0 - p.v_leak
    t_e = extremum_time(p, V0, I0)
    if t_e < math.inf or horizon < math.inf:
        t1 = horizon if horizon < t_e else t_e  # min()
        g1, _ = _g(p, W0, I0, t1)
        if g1 > 0.0 or (g1 == 0.0 and t1 < t_e):
            return _root(p, W0, I0, 0.0, t1)
    lo = t_e if t_e < math.inf else 0.0
    if horizon < math.inf:
        if t_e < horizon:
            g2, _ = _g(p, W0, I0, horizon)
            if g2 >= 0.0:
                return _root(p, W0, I0, t_e, horizon)
        return math.inf
    if not p.v_leak > p.theta:
        return math.inf
    step = p.tau_s if p.tau_s > p.tau_m else p.tau_m  # max()
    hi = lo + step
    for _ in range(_MAX_ITER * 6):
        g2, _ = _g(p, W0, I0, hi)
        if g2 >= 0.0:
            return _root(p, W0, I0, lo, hi)
        lo = hi
        step *= 2.0
        hi = lo + step
    return math.inf


@jit
def spike_time_within(p, V0, I0, horizon):
    """Time until ``V`` first reaches ``theta`` within ``horizon``; ``inf`` if it does not."""
    return bracketed_spike_time(p, V0, I0, horizon)


@jit
def next_spike_time(p, V0, I0):
    """Time until ``V`` first reaches ``theta``; ``inf`` if it never does."""
    return bracketed_spike_time(p, V0, I0, math.inf)


@jit
def reset(p, V):
    """Reset after a spike: ``V = v_reset`` (the current is kept)."""
    return p.v_reset


# ----------------------------------------------------------------------------- layer kernels

@jit
def interval_factors(p, dt):
    """``x_m = exp(-dt/tau_m)`` and the interval length ``dt`` itself (the sweep derives the
    synaptic factor and ``K(dt)`` from it once per interval)."""
    return math.exp(-dt / p.tau_m), dt


@jit
def sweep(p, S, out, flags, x, s):
    """Exact flow of every neuron over ``dt = s`` into ``out``; flags the neurons whose
    voltage may reach ``theta`` inside the interval (the bound in the module docstring)."""
    dt = s
    xs = math.exp(-dt / p.tau_s)
    K = psp_kernel(dt, p.tau_m, p.tau_s)
    t_peak = psp_peak_time(p.tau_m, p.tau_s)
    Kb = psp_kernel(t_peak if t_peak < dt else dt, p.tau_m, p.tau_s)  # K(min(dt, t_peak))
    v_leak, r, theta = p.v_leak, p.r, p.theta
    V_, I_, Vo, Io = S[0], S[1], out[0], out[1]
    n_flag = 0
    for n in range(S.shape[1]):
        W0 = V_[n] - v_leak
        rI = r * I_[n]
        Ve = (W0 * x + rI * K) + v_leak
        Vo[n] = Ve
        Io[n] = I_[n] * xs
        # max(W0, W0 x) and max(rI, 0) as comparisons, with the builtin's choice (the second
        # argument if it is larger): the builtin compiles once per calling kernel's flags
        W_max = W0 * x if W0 * x > W0 else W0
        rI_pos = 0.0 if 0.0 > rI else rI
        f = (Ve >= theta) | (v_leak + W_max + rI_pos * Kb >= theta)
        flags[n] = f
        n_flag += f
    return n_flag


@jit
def spike_key(p, S, n, horizon):
    """The spike time itself (from the interval start; ``inf``: none or later than
    ``horizon``): a root found by bracketing has no cheaper stand-in, but the horizon spares
    the root search of a neuron the sweep's bound flagged that does not cross in time."""
    return bracketed_spike_time(p, S[0, n], S[1, n], horizon)


@jit
def key_dt(p, k):
    return k


@jit
def key_gap_dt(p, k_lo, k_hi):
    return k_hi - k_lo


@jit
def reset_neuron(p, S, n):
    S[0, n] = p.v_reset


