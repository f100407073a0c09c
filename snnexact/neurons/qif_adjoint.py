r"""Derivative partners of ``qif.py``: sensitivities of the exact QIF flow and spike time.

With ``x = exp(-dt/tau)``, ``s = 1 - x``, ``c = I0``, ``z = -c s^2`` and the entire functions
``C(z) = sum z^k/(2k)!`` (cos/cosh), ``S(z) = sum z^k/(2k+1)!`` (sin/sinh over the angle),
``D(z) = S'(z) = (C - S) / (2z)`` and ``C'(z) = S/2``, the flow (qif.py) is ``V = x u`` with::

    y = C - u0 s S,   y' = -u0 C - c s S,   u = -y'/y          (u0 = V0)
    u0 = -inf (just reset):  y = s S,  y' = C.

Differentiating (``dz/dc = -s^2``) and using the Wronskian ``C^2 - z S^2 = 1``::

    du/du0 = 1 / y^2                                   (0 after a reset)
    du/dc  = -(y'_c y - y' y_c) / y^2,  y_c = -s^2 S/2 + u0 s^3 D,  y'_c = u0 s^2 S/2 - s S + c s^3 D
             (after a reset: y_c = -s^3 D, y'_c = -s^2 S/2)
    dV/dV0 = x du/du0,   dV/dI0 = x du/dc,   dI/dI0 = x^2,
    d(V, I)/d(dt) = F(V, I) = ((V^2 - V + I) / tau, -2 I / tau).

The spike is the zero of ``y`` at ``s*``; implicit differentiation gives::

    ds*/du0 = -1 / (u0^2 + c)    (0 after a reset),     ds*/dc = s*^3 (D C - S^2/2) at z* = -c s*^2,
    d(dt*)/d(.) = tau / (1 - s*) ds*/d(.).

These equal THEORY.md 1.3 (``ds*/dc = -[G(inf) - G(u0)]``) but stay exact as ``c -> 0``,
where the ``G`` forms cancel catastrophically.
"""
import math

from snnexact._jit import jit
from snnexact.neurons.qif import next_spike_time, Z_SERIES_MAX


@jit
def css(z):
    """``C(z), S(z), D(z) = S'(z)``: series for small ``|z|``, else cos/sin or cosh/sinh."""
    if abs(z) <= Z_SERIES_MAX:
        C = 1.0 + z * (1 / 2 + z * (1 / 24 + z * (1 / 720 + z * (1 / 40320 + z * (
            1 / 3628800 + z * (1 / 479001600 + z * (1 / 87178291200)))))))
        S = 1.0 + z * (1 / 6 + z * (1 / 120 + z * (1 / 5040 + z * (1 / 362880 + z * (
            1 / 39916800 + z * (1 / 6227020800 + z * (1 / 1307674368000)))))))
        D = 1 / 6 + z * (2 / 120 + z * (3 / 5040 + z * (4 / 362880 + z * (5 / 39916800 + z * (
            6 / 6227020800 + z * (7 / 1307674368000 + z * (8 / 355687428096000)))))))
        return C, S, D
    if z < 0.0:
        w = math.sqrt(-z)
        C = math.cos(w)
        S = math.sin(w) / w
    else:
        w = math.sqrt(z)
        C = math.cosh(w)
        S = math.sinh(w) / w
    return C, S, (C - S) / (2.0 * z)


@jit
def flow_grad(V0, I0, dt, tau):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` after a spike-free flow over ``dt`` (V0 may be -inf)."""
    x = math.exp(-dt / tau)
    s = -math.expm1(-dt / tau)
    c = I0
    C, S, D = css(-c * s * s)
    if V0 == -math.inf:
        y = s * S
        yp = C
        y_c = -s * s * s * D
        yp_c = -s * s * S / 2
        du_du0 = 0.0
    else:
        u0 = V0
        y = C - u0 * s * S
        yp = -u0 * C - c * s * S
        y_c = -s * s * S / 2 + u0 * s * s * s * D
        yp_c = u0 * s * s * S / 2 - s * S + c * s * s * s * D
        du_du0 = 1.0 / (y * y)
    u = -yp / y
    du_dc = -(yp_c * y - yp * y_c) / (y * y)
    return x * u, c * x * x, x * du_du0, x * du_dc, x * x


@jit
def vector_field(V, I, tau):
    """``(dV/dt, dI/dt)`` at the state ``(V, I)``."""
    return (V * V - V + I) / tau, -2.0 * I / tau


@jit
def spike_time_grad(V0, I0, tau):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next blow-up (``inf, 0, 0`` if none)."""
    dt = next_spike_time(V0, I0, tau)
    if dt == math.inf:
        return dt, 0.0, 0.0
    s = -math.expm1(-dt / tau)
    c = I0
    C, S, D = css(-c * s * s)
    dt_ds = tau / (1.0 - s)
    ds_du0 = 0.0 if V0 == -math.inf else -1.0 / (V0 * V0 + c)
    ds_dc = s * s * s * (D * C - S * S / 2)
    return dt, dt_ds * ds_du0, dt_ds * ds_dc
