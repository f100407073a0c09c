r"""LIF neuron with a current-based synapse of any time constant: standalone scalar kernels.

.. math::

    \tau_m \dot V = (v_{leak} - V) + r I, \qquad \tau_s \dot I = -I .

Not yet wired into the network (the event loop and backward pass still use ``lif.py``); the
verbs take the parameter tuple
``p = LIFGeneral(...).p = (tau_m, tau_s, theta, v_leak, v_reset, r)``.

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

**Next spike** (``next_spike_time``): the first upward crossing of ``theta`` in ``(0, horizon]``
(0 if ``V0 >= theta``, as in ``lif.py``). ``V`` is monotone on ``[0, t_e]`` and on
``[t_e, horizon]``, so the crossing lies in the first piece iff ``V(min(t_e, horizon)) > theta``,
else in the second iff ``V(horizon) > theta`` (the piece is then rising). A maximum that only
touches ``theta`` is no spike (as ``D = 0`` in ``lif.py``); a maximum ``1e-10`` above it is found,
since ``V(t_e)`` is evaluated to a few ulp. Inside the bracket a safeguarded Newton/bisection
(Newton with the exact derivative, bisection whenever the step would leave the bracket or
shrink it too slowly) converges to full double precision. With ``tau_s = tau_m / 2``,
``v_leak = 0`` and ``r = 1`` the closed form of ``lif.py`` is used instead (``v_reset`` does not
enter the flow).

**Sensitivities** (``flow_grad``, ``spike_time_grad``)::

    dV/dV0 = exp(-dt/tau_m),   dV/dI0 = r K(dt),   dI/dI0 = exp(-dt/tau_s),
    d(dt*)/dq = -(dV/dq)(dt*) / Vdot*,   tau_m Vdot* = v_leak - theta + r I(dt*)   (q = V0, I0).

``Vdot* -> 0`` at a grazing crossing, where the gradient diverges (as in ``lif.py``).
"""
from dataclasses import dataclass
import math

import numpy as np

from snnexact.engine.jit import jit
from snnexact.engine.neurons import lif
from snnexact.engine.neurons.lif import jump  # noqa: F401 (the same jump verb)

_MAX_ITER = 200  # Newton/bisection steps; bisection alone needs < 1100 to exhaust a double


@dataclass(frozen=True)
class LIFGeneral:
    """Parameters of the general-ratio LIF: time constants ``tau_m``, ``tau_s`` (> 0),
    threshold ``theta``, leak and reset potentials (``v_leak``, ``v_reset`` < ``theta``) and
    the input resistance ``r`` (finite, != 0)."""

    tau_m: float
    tau_s: float
    theta: float = 1.0
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0

    def __post_init__(self):
        for name in ("tau_m", "tau_s", "theta", "v_leak", "v_reset", "r"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                                   np.floating)):
                raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        for name in ("tau_m", "tau_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.r == 0:
            raise ValueError("r must be != 0 (the input would have no effect)")
        if not self.v_reset < self.theta:
            raise ValueError(f"v_reset must be below theta={self.theta}, got {self.v_reset!r}")

    @property
    def p(self):
        """The parameter tuple the jitted verbs take."""
        return (float(self.tau_m), float(self.tau_s), float(self.theta), float(self.v_leak),
                float(self.v_reset), float(self.r))


# ----------------------------------------------------------------------------- scalar verbs

@jit
def _kernel(t, tau_m, tau_s):
    """``K(t)``: the voltage response to a unit current at ``t = 0`` (module docstring)."""
    z = abs(t * (1.0 / tau_s - 1.0 / tau_m))
    phi = 1.0 if z == 0.0 else -math.expm1(-z) / z
    return (t / tau_m) * math.exp(-t / max(tau_m, tau_s)) * phi


@jit
def _is_lif_closed_form(p):
    return p[1] * 2.0 == p[0] and p[3] == 0.0 and p[5] == 1.0


@jit
def flow(V0, I0, dt, p):
    """State ``(V, I)`` after ``dt >= 0`` without spikes."""
    tau_m, tau_s, _, v_leak, _, r = p
    if _is_lif_closed_form(p):
        return lif.flow(V0, I0, dt, tau_m)
    V = v_leak + (V0 - v_leak) * math.exp(-dt / tau_m) + r * I0 * _kernel(dt, tau_m, tau_s)
    return V, I0 * math.exp(-dt / tau_s)


@jit
def _g(W0, I0, t, p):
    """``(V(t) - theta, dV/dt)`` from ``W0 = V0 - v_leak``."""
    tau_m, tau_s, theta, v_leak, _, r = p
    W = W0 * math.exp(-t / tau_m) + r * I0 * _kernel(t, tau_m, tau_s)
    return W + v_leak - theta, (r * I0 * math.exp(-t / tau_s) - W) / tau_m


@jit
def extremum_time(V0, I0, p):
    """Time ``t_e > 0`` of the interior extremum of ``V``; ``inf`` if there is none."""
    tau_m, tau_s, _, v_leak, _, r = p
    if I0 == 0.0:
        return math.inf
    rho = (V0 - v_leak) / (r * I0) - 1.0
    y = (1.0 - tau_s / tau_m) * rho
    if not y > -1.0:
        return math.inf
    psi = 1.0 if y == 0.0 else math.log1p(y) / y
    t = -rho * tau_s * psi
    return t if t > 0.0 else math.inf


@jit
def _root(W0, I0, lo, hi, p):
    """Crossing in ``[lo, hi]`` where ``V - theta`` rises from ``< 0`` to ``>= 0``:
    Newton inside the bracket, bisection when Newton leaves it or stalls (rtsafe)."""
    t = hi
    g, dg = _g(W0, I0, t, p)
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
        g, dg = _g(W0, I0, t, p)
        if g == 0.0:
            return t
        if g < 0.0:
            lo = t
        else:
            hi = t
    return t


@jit
def bracketed_spike_time(V0, I0, horizon, p):
    """First upward threshold crossing in ``(0, horizon]`` by bracketing from the extremum
    (no closed-form fast path); ``inf`` if none, ``0`` if ``V0 >= theta``."""
    theta = p[2]
    if V0 >= theta:
        return 0.0
    W0 = V0 - p[3]
    t_e = extremum_time(V0, I0, p)
    t1 = min(t_e, horizon)
    g1, _ = _g(W0, I0, t1, p)
    if g1 > 0.0 or (g1 == 0.0 and t1 < t_e):
        return _root(W0, I0, 0.0, t1, p)
    if t_e < horizon:
        g2, _ = _g(W0, I0, horizon, p)
        if g2 >= 0.0:
            return _root(W0, I0, t_e, horizon, p)
    return math.inf


@jit
def next_spike_time(V0, I0, horizon, p):
    """Time until ``V`` first reaches ``theta`` within ``horizon``; ``inf`` if it does not."""
    if _is_lif_closed_form(p):
        dt = lif.next_spike_time(V0, I0, p[0], p[2])
        return dt if dt <= horizon else math.inf
    return bracketed_spike_time(V0, I0, horizon, p)


@jit
def reset(V, p):
    """Reset after a spike: ``V = v_reset`` (the current is kept)."""
    return p[4]


# ----------------------------------------------------------------------------- sensitivities

@jit
def flow_grad(V0, I0, dt, p):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` after a spike-free flow over ``dt``."""
    tau_m, tau_s, _, _, _, r = p
    V, I = flow(V0, I0, dt, p)
    return V, I, math.exp(-dt / tau_m), r * _kernel(dt, tau_m, tau_s), math.exp(-dt / tau_s)


@jit
def spike_time_grad(V0, I0, horizon, p):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next crossing (``inf, 0, 0`` if none)."""
    tau_m, tau_s, theta, v_leak, _, r = p
    dt = next_spike_time(V0, I0, horizon, p)
    if dt == math.inf:
        return dt, 0.0, 0.0
    vdot = (v_leak - theta + r * I0 * math.exp(-dt / tau_s)) / tau_m
    return dt, -math.exp(-dt / tau_m) / vdot, -r * _kernel(dt, tau_m, tau_s) / vdot
