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

These equal docs/theory.md 1.3 (``ds*/dc = -[G(inf) - G(u0)]``) but stay exact as ``c -> 0``,
where the ``G`` forms cancel catastrophically.
"""
import math

import numpy as np

from snnexact.engine.jit import inner, jit
from snnexact.engine.neurons.synapse import input_time_adjoint  # noqa: F401 (a verb)
from snnexact.engine.sums import ordered_total
from snnexact.engine.neurons import interface as model
from snnexact.engine.neurons.qif import Z_SERIES_MAX, Z_SHORT, series, series_short

# A QIF neuron whose |voltage| exceeds this at the start of the interval that ends in its spike
# fires within s ~ 1/V of the event before (a tie up to rounding); its spike-time gradient is
# taken from the previous interval (spike_tied_to_previous). Above 1/sqrt(eps) the chain through
# the pole loses more than half the digits; the alternative ignores an O(1/V) shift.
QIF_POLE_V = 1e8


@inner
def css(z):
    """``C(z), S(z), D(z) = S'(z)``: series for small ``|z|``, else cos/sin or cosh/sinh."""
    C, S, D, k = css_scaled(z)
    return C / k, S / k, D / k


@inner
def css_scaled(z):
    """``k C(z), k S(z), k D(z)`` and the factor ``k``: ``k = 1`` except for large ``z > 0``
    (cosh/sinh), where ``k = 1/cosh(sqrt z)`` keeps all three finite for any ``z`` (cosh
    overflows beyond ``sqrt z = 710``, reached by a strongly inhibited neuron over a long
    interval). Ratios such as ``u = -y'/y`` do not depend on ``k``."""
    if abs(z) <= Z_SERIES_MAX:
        C, S, D = _css_series(z, np.bool_(False))  # not the literal False: one compilation
        return C, S, D, 1.0
    if z < 0.0:
        w = math.sqrt(-z)
        C = math.cos(w)
        S = math.sin(w) / w
        return C, S, (C - S) / (2.0 * z), 1.0
    w = math.sqrt(z)
    S = math.tanh(w) / w                 # sinh(w)/w divided by cosh(w)
    k = 1.0 / math.cosh(w) if w < 700.0 else 0.0
    return 1.0, S, (1.0 - S) / (2.0 * z), k


@jit
def flow_grad(p, V0, I0, dt):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` after a spike-free flow over ``dt`` (V0 may be -inf).

    ``y, y'`` and their ``c``-derivatives are all scaled by the same ``k`` (``css_scaled``), so
    ``u`` and ``du/dc`` (ratios) are unchanged and ``du/du0 = 1/y^2`` becomes ``k^2 / y^2``.
    """
    x = math.exp(-dt / p.tau)
    s = -math.expm1(-dt / p.tau)
    c = I0
    C, S, D, k = css_scaled(-c * s * s)
    if V0 == -math.inf:
        if s == 0.0:  # a zero-length interval right after a reset (tied spikes): V stays -inf
            return -math.inf, c, 0.0, 0.0, 1.0
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
        du_du0 = (k / y) * (k / y)
    u = -yp / y
    du_dc = -(yp_c / y - (yp / y) * (y_c / y))
    return x * u, c * x * x, x * du_du0, x * du_dc, x * x


@jit
def spike_time_grad(p, V0, I0):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next blow-up (``inf, 0, 0`` if none)."""
    tau = p.tau
    dt = model.next_spike_time(p, V0, I0)
    if dt == math.inf:
        return dt, 0.0, 0.0
    s = -math.expm1(-dt / tau)
    c = I0
    C, S, D = css(-c * s * s)
    dt_ds = tau / (1.0 - s)
    ds_du0 = 0.0 if V0 == -math.inf else -1.0 / (V0 * V0 + c)
    ds_dc = s * s * s * (D * C - S * S / 2)
    return dt, dt_ds * ds_du0, dt_ds * ds_dc


@inner
def one_vjp(p, V0, I0, lv, li, dt, spiking):
    """Exact pull-back of one neuron's adjoint over an interval: ``(lamV0, lamI0, g_dt)``."""
    tau = p.tau
    V, I, dV_dV0, dV_dI0, dI_dI0 = model.flow_grad(p, V0, I0, dt)
    g = li * (-2.0 * I / tau)
    if spiking or lv == 0.0:
        # spiking: ends on the pole, its lamV is zero (reset) while F_V is infinite. lv = 0:
        # nothing depends on V at the end; skipping the V terms avoids 0 * inf when the
        # interval ends on this neuron's pole too (a spike tied with the spike that ends it)
        return 0.0, li * dI_dI0, g
    if lv != 0.0:
        g += ((lv * V) * V - lv * V + lv * I) / tau   # lv (V^2 - V + I), no overflow via V^2
    if V0 == -math.inf:
        return 0.0, lv * dV_dI0 + li * dI_dI0, g
    return lv * dV_dV0, lv * dV_dI0 + li * dI_dI0, g


@inner
def _css_series(z, short):
    """Series ``C, S, D`` with k <= 4 (``short``, exact to 2^-56 for ``|z| <= qif.Z_SHORT``:
    first omitted terms 8e-18, 7e-19, 3e-20) or k <= 7 (``|z| <= Z_SERIES_MAX``)."""
    if short:
        C, S = series_short(z)
        D = 1 / 6 + z * (2 / 120 + z * (3 / 5040 + z * (4 / 362880 + z * (5 / 39916800))))
        return C, S, D
    C, S = series(z)
    D = 1 / 6 + z * (2 / 120 + z * (3 / 5040 + z * (4 / 362880 + z * (5 / 39916800 + z * (
        6 / 6227020800 + z * (7 / 1307674368000 + z * (8 / 355687428096000)))))))
    return C, S, D


# The end state the forward logged is the flow of the start state unless the forward
# renormalised the pair (y, y') (qif.exact_end: only when its magnitude leaves [1e-100, 1e100]).
# Over one interval with |z| <= Z_SERIES_MAX the flow matrix and its inverse have entries below
# 1.13 (1 + |c| s), and y' is scaled by x: a start magnitude inside [MAG_LO, MAG_HI] with
# |c| s <= CS_MAX and x >= X_MIN cannot leave the forward's range, so the end is read as is;
# anything else is redone from the start state alone (one_vjp).
MAG_LO, MAG_HI = 1e-50, 1e50
CS_MAX = 1e20
X_MIN = 1e-25


@jit
def interval_vjp(p, state, end, lamV, lamI, x, s, dt, m, flags, work):
    """Pull the adjoint of every neuron back over one interval (in place); return ``g_dt``.
    ``state``: the layer state ``(y0, y0', c)`` at the interval start (``V0 = -y0'/y0``,
    ``I0 = c``); ``end``: the state after the event that ends it, whose ``(y, y')`` rows are
    the forward's flow ``Y = y0 C + y0' s S``, ``x Y'`` with ``Y' = y0' C - c s y0 S``
    (``Y = y0 y``, ``Y' = y0 y'``), for every neuron but the one reset there.

    So ``V = -x Y'/Y``, ``du/du0 = (y0/Y)^2`` and ``du/dc = -(Y'_c/Y - (Y'/Y)(Y_c/Y))`` with
    ``Y_c = y0 y_c = -y0 s^2 S/2 - y0' s^3 D`` and ``Y'_c = y0 y'_c = -y0' s^2 S/2 - y0 s S +
    c y0 s^3 D``: one division per neuron, and ``C`` is not needed.

    One branch-free pass with the series form (the shortest series that is exact for the
    largest ``|z|`` of the layer, as in the forward sweep) that vectorises; neurons outside it
    (large ``|z|``, a reset start ``y0 = 0``, the neuron ``m`` spiking at the end, an end at
    or past the pole, or a pair the forward may have renormalised) are flagged and redone
    exactly one by one. ``flags``, ``work``: scratch arrays of length n.
    """
    rtau = 1.0 / p.tau
    xx = x * x
    s2 = s * s
    hs2 = 0.5 * s2
    s3 = s2 * s
    q_, p_, I0 = state[0], state[1], state[2]
    Y_, xYp_ = end[0], end[1]
    n_long = 0  # neurons outside the short series' range: a count (an integer reduction
    for n in range(I0.shape[0]):  # vectorises; a floating-point max would run serially)
        n_long += abs(I0[n]) * s2 > Z_SHORT
    short = n_long == 0
    redo_all = x < X_MIN
    n_flag = 0
    for n in range(I0.shape[0]):
        c = I0[n]
        q0 = q_[n]
        p0 = p_[n]
        z = -c * s2
        _, S, D = _css_series(z, short)
        A = hs2 * S
        B = s3 * D
        Y_c = -(A * q0 + B * p0)
        Yp_c = B * (c * q0) - A * p0 - (s * S) * q0
        Y = Y_[n]
        inv = 1.0 / Y
        V = -xYp_[n] * inv
        I = c * xx
        lv = lamV[n]
        li = lamI[n]
        q = q0 * inv                # 1/y
        new_v = lv * x * q * q
        new_i = -lv * (x * (Yp_c * inv) + V * (Y_c * inv)) + li * xx
        contrib = (lv * (V * V - V + I) - 2.0 * li * I) * rtau
        mag = q0 + abs(p0)
        # huge |V| (V^2 may overflow, or y nearly 0): redone in the overflow-free exact form
        bad = ((abs(z) > Z_SERIES_MAX) | (q0 == 0.0) | (n == m) | (Y <= 0.0) | (abs(V) >= 1e100)
               | (mag < MAG_LO) | (mag > MAG_HI) | (abs(c) * s > CS_MAX) | redo_all)
        flags[n] = bad
        n_flag += bad
        lamV[n] = lv if bad else new_v
        lamI[n] = li if bad else new_i
        work[n] = 0.0 if bad else contrib
    g = ordered_total(work)  # separate, ordered sum: keeps the loop above vectorisable
    if n_flag:
        for n in range(I0.shape[0]):
            if flags[n]:
                V0, _ = model.neuron_VI(p, state, n)
                lv0, li0, gn = one_vjp(p, V0, I0[n], lamV[n], lamI[n], dt, n == m)
                lamV[n] = lv0
                lamI[n] = li0
                g += gn
    return g


@jit
def spike_tied_to_previous(p, V, dt):
    """``|V| > QIF_POLE_V`` (next to the pole on either side, rounding may put the state just
    past it), or ``V = -inf`` after a zero-length interval (exactly on it: a neuron just reset
    cannot fire again after a zero-length interval). See ``backward.backward_layer``."""
    return abs(V) > QIF_POLE_V and V != -math.inf or V == -math.inf and dt == 0.0
