r"""Quadratic integrate-and-fire neuron with a current-based synapse, tau_s = tau_m / 2.

.. math::

    \tau \dot V = V (V - 1) + I, \qquad \tau_s \dot I = -I, \qquad \tau_s = \tau / 2 .

A spike is the blow-up ``V -> +inf``; the neuron resets to ``V = -inf`` and keeps ``I``.
With ``x = exp(-dt/tau)``, ``s = 1 - x``, ``c = I0`` and ``V = x u`` the dynamics become
``du/ds = u^2 + c`` (``I = c x^2``), solved in closed form (``flow``, ``a = sqrt|c|``)::

    c > 0 :  u = a tan(arctan(u0/a) + a s)          c = 0 :  u = u0 / (1 - u0 s)
    c < 0 :  u = a tanh(artanh(u0/a) - a s)  if |u0| < a,   a / tanh(artanh(a/u0) - a s)  if |u0| > a,
             u = u0                          if |u0| = a   (fixed point)
    u0 = -inf (just reset):  -a cot(a s),  -1/s,  -a coth(a s).

(``flow`` evaluates all of them as one Moebius map that stays exact for small ``|c|``.)
Next spike at ``dt* = -tau log(1 - s*)`` (``next_spike_time``) with ``s* = atan2(a, u0)/a``
(c > 0), ``1/u0`` (c = 0, u0 > 1), ``artanh(a/u0)/a`` (c < 0, u0 > a), provided ``s* < 1``.
As parameters leave the firing region ``s* -> 1`` and ``dt* -> inf``: a QIF spike enters or
leaves the trial only through its end.

Layer kernels use the linear form of the Riccati equation (docs/theory.md section 8): with
``u = -y'/y`` (prime = d/ds) the dynamics are ``y'' + c y = 0``, so ``(y, y')`` evolve by::

    y(s)  = y0 C(z) + y0' s S(z),      y'(s) = -c s y0 S(z) + y0' C(z),      z = -c s^2,

``C(z) = sum z^k/(2k)!``, ``S(z) = sum z^k/(2k+1)!`` (cos/sin for c > 0, cosh/sinh for c < 0).
A spike is a zero of ``y``; the reset to ``-inf`` happens by itself as ``y`` passes zero. The
state rows are ``(y, y', I)`` with ``y >= 0`` between events (signs are flipped at a spike, which
leaves ``u`` unchanged), ``V = -y'/y`` at event times, and ``y'`` is rescaled by ``x`` at each
event so that ``u0 = V`` at the start of every interval. Only the ratio ``y'/y`` matters, so the
pair is renormalised freely.
"""
from collections import namedtuple
from dataclasses import dataclass
import math

import numpy as np

from snnexact.checks import positive_real
from snnexact.engine.jit import inner, jit
from snnexact.engine.neurons import interface as model
from snnexact.engine.neurons.model import NeuronModel
from snnexact.engine.neurons.log_keys import key_dt, key_gap_dt  # noqa: F401 (verbs)
from snnexact.engine.neurons.synapse import jump  # noqa: F401 (a verb)

QIFKernel = namedtuple("QIFKernel", "tau")
QIFKernel.__doc__ = "Kernel parameters of the QIF verbs: ``tau = tau_m``."

Z_SERIES_MAX = 0.25  # |z| up to which the 8-term series of C and S is exact to double precision
_NORM_HI = 1e100
_NORM_LO = 1e-100


@dataclass(frozen=True)
class QIF(NeuronModel):
    """QIF neuron parameters: membrane time constant ``tau_m`` (> 0)."""

    tau_m: float

    def __post_init__(self):
        positive_real("tau_m", self.tau_m)

    name = "qif"
    has_pseudospikes = True  # pseudodynamics after T (pseudo.py)
    v0_range = (-1.0, 1.0)   # trained initial voltages: below the unstable fixed point V = 1
    theta = math.inf  # threshold in V; kept so both models expose the same fields
    kick = math.pi ** 2 / 4  # a single kick above it fires a neuron from rest (theory 1.2)

    @property
    def kernel(self):
        return QIFKernel(float(self.tau_m))

    @classmethod
    def from_config(cls, cfg):
        if getattr(cfg, "tau_s", None) is not None:
            raise ValueError(f"tau_s = {cfg.tau_s!r}: the QIF model has tau_s = tau_m / 2 built "
                             "in; leave tau_s unset")
        return cls(cfg.tau_m)

    def check_initial_voltage(self, V0, where):
        if np.any(np.isnan(V0)) or np.any(V0 == np.inf):
            raise ValueError(f"{where} V0 must be finite or -inf for QIF")


# ----------------------------------------------------------------------------- scalar verbs

@jit
def flow(p, V0, I0, dt):
    """State ``(V, I)`` after ``dt >= 0`` (V0 may be ``-inf``), valid up to the next spike.

    All five branches of the table above (and the reset start) are one Moebius map,
    ``u = (u0 + c r) / (1 - u0 r)`` with ``r = tan(a s)/a`` (c > 0), ``s`` (c = 0),
    ``tanh(a s)/a`` (c < 0), which is ``-1/r`` for ``u0 = -inf``. It equals the branch formulas
    by the tan/tanh addition theorems but stays exact as ``c -> 0``, where
    ``a tan(arctan(u0/a) + a s)`` loses every digit. Never flow onto the pole: fire from
    ``next_spike_time``.
    """
    x = math.exp(-dt / p.tau)
    s = -math.expm1(-dt / p.tau)
    c = I0
    if c > 0.0:
        a = math.sqrt(c)
        r = math.tan(a * s) / a
    elif c < 0.0:
        a = math.sqrt(-c)
        r = math.tanh(a * s) / a
    else:
        r = s
    if V0 == -math.inf:
        u = -1.0 / r
    else:
        u = (V0 + c * r) / (1.0 - V0 * r)
    return x * u, c * x * x


@jit
def next_spike_time(p, V0, I0):
    """Time until ``V`` reaches ``+inf`` from ``(V0, I0)``; ``inf`` if it never does."""
    c = I0
    u0 = V0
    s = math.inf
    if c > 0.0:
        a = math.sqrt(c)
        s = (math.pi if u0 == -math.inf else math.atan2(a, u0)) / a
    elif c == 0.0:
        if u0 > 1.0:
            s = 1.0 / u0
    else:
        a = math.sqrt(-c)
        if u0 > a:
            s = math.atanh(a / u0) / a
    if s >= 1.0:
        return math.inf
    return -p.tau * math.log1p(-s)


@jit
def reset(p, V):
    """Reset after a spike: ``V = -inf`` (the current is kept)."""
    return -math.inf


# ----------------------------------------------------------------------------- layer kernels

STATE_ROWS = 3


@jit
def init_state(p, V0, I0, S):
    n = V0.shape[0]
    for i in range(n):
        if V0[i] == -math.inf:
            S[0, i] = 0.0
            S[1, i] = 1.0
        else:
            S[0, i] = 1.0
            S[1, i] = -V0[i]
        S[2, i] = I0[i]


@jit
def neuron_VI(p, S, n):
    """``(V, I)`` of neuron ``n``: ``V = -y'/y`` (``-inf`` at ``y = 0``, just reset), ``I = c``."""
    return -S[1, n] / S[0, n] if S[0, n] != 0.0 else -math.inf, S[2, n]


@jit
def state_VI(p, S, V, I):
    """Write every neuron's ``neuron_VI`` into ``V, I``."""
    for i in range(S.shape[1]):
        V[i], I[i] = model.neuron_VI(p, S, i)


@inner
def series(z):
    """``C(z) = sum_k z^k/(2k)!`` and ``S(z) = sum_k z^k/(2k+1)!``, k <= 7 (Horner)."""
    C = 1.0 + z * (1 / 2 + z * (1 / 24 + z * (1 / 720 + z * (1 / 40320 + z * (
        1 / 3628800 + z * (1 / 479001600 + z * (1 / 87178291200)))))))
    Sz = 1.0 + z * (1 / 6 + z * (1 / 120 + z * (1 / 5040 + z * (1 / 362880 + z * (
        1 / 39916800 + z * (1 / 6227020800 + z * (1 / 1307674368000)))))))
    return C, Sz


# Series lengths for the sweep, chosen per event from the largest |z| = |c| s^2 of the layer
# (s is shared, so one integer pass over c picks the shortest series that is exact for every
# neuron). Truncation bound: the first omitted term z^(K+1)/(2K+2)! of C (S's is smaller, the
# tail is geometric with ratio < 1/100) stays below 2^-56 in absolute value; by the Wronskian
# C^2 - z S^2 = 1 the flow matrix has unit scale, so the truncation is below 1/8 ulp of it:
#   5 terms (K = 4)  up to |z| <= 2^-7 :  (2^-7)^5 / 10!  = 8.0e-18
#   8 terms (K = 7)  up to |z| <= 1/4  :  (1/4)^8 / 16!   = 7.3e-19   (Z_SERIES_MAX, series)
#  11 terms (K = 10) up to |z| <= 9/4  :  (9/4)^11 / 22!  = 6.7e-18
# At |z| <= 9/4 the angle sqrt(|z|) <= 1.5 < pi, so at most one zero of y fits in the
# interval and a sign change of y still detects every spike; beyond it a neuron is flagged
# and flowed exactly (exact_end).
Z_SHORT = 2.0 ** -7
Z_LONG = 2.25


@inner
def series_short(z):
    """``C(z)``, ``S(z)`` with k <= 4 (exact to 2^-56 for ``|z| <= Z_SHORT``)."""
    C = 1.0 + z * (1 / 2 + z * (1 / 24 + z * (1 / 720 + z * (1 / 40320))))
    Sz = 1.0 + z * (1 / 6 + z * (1 / 120 + z * (1 / 5040 + z * (1 / 362880))))
    return C, Sz


@inner
def series_long(z):
    """``C(z)``, ``S(z)`` with k <= 10 (exact to 2^-56 for ``|z| <= Z_LONG``)."""
    C = 1.0 + z * (1 / 2 + z * (1 / 24 + z * (1 / 720 + z * (1 / 40320 + z * (
        1 / 3628800 + z * (1 / 479001600 + z * (1 / 87178291200 + z * (
            1 / 20922789888000 + z * (1 / 6402373705728000 + z * (
                1 / 2432902008176640000))))))))))
    Sz = 1.0 + z * (1 / 6 + z * (1 / 120 + z * (1 / 5040 + z * (1 / 362880 + z * (
        1 / 39916800 + z * (1 / 6227020800 + z * (1 / 1307674368000 + z * (
            1 / 355687428096000 + z * (1 / 121645100408832000 + z * (
                1 / 51090942171709440000))))))))))
    return C, Sz


@jit
def interval_factors(p, dt):
    """``x = exp(-dt/tau)`` and ``s = 1 - x`` (without cancellation)."""
    return math.exp(-dt / p.tau), -math.expm1(-dt / p.tau)


@jit
def sweep(p, S, out, flags, x, s):
    """Tentative flow of every neuron by the shared ``(x, s)`` into ``out`` with the series.

    Flags (returns their count) each neuron whose end value is not trustworthy or may hide a
    spike: ``y`` reaches zero (a spike), ``|z|`` beyond the series range (recomputed exactly), or
    the pair ``(y, y')`` needs renormalising. With ``|z| <= 9/4 < pi^2`` at most one zero of
    ``y`` fits in the interval, so a sign change of ``y`` detects every spike. The series
    length is picked once per call from the largest ``|z|`` (an integer pass) and passed as a
    run-time value: the compiler unswitches the loop on it (a constant would make Numba compile
    ``_sweep_level`` once per level, 0.8 s of cold start). Each version is branch-free and works
    on contiguous 1-D rows so that it vectorises.
    """
    s2 = s * s
    c_ = S[2]
    level = np.int64(0)  # not the literal 0: Numba would compile _sweep_level for it too
    for n in range(S.shape[1]):
        a = abs(c_[n]) * s2  # == abs(z)
        lv = (a > Z_SHORT) + (a > Z_SERIES_MAX)
        if lv > level:
            level = lv
    return _sweep_level(S, out, flags, x, s, level)


@inner
def _sweep_level(S, out, flags, x, s, level):
    s2 = s * s
    zlim = Z_LONG if level == 2 else Z_SERIES_MAX
    y_, yp_, c_ = S[0], S[1], S[2]
    yo, ypo, co = out[0], out[1], out[2]
    n_flag = 0
    for n in range(S.shape[1]):
        y = y_[n]
        yp = yp_[n]
        c = c_[n]
        z = -c * s2
        if level == 0:
            C, Sz = series_short(z)
        elif level == 1:
            C, Sz = series(z)
        else:
            C, Sz = series_long(z)
        ye = y * C + yp * s * Sz
        ype = (yp * C - c * s * y * Sz) * x
        yo[n] = ye
        ypo[n] = ype
        co[n] = c * x * x
        mag = ye + abs(ype)
        f = (ye <= 0.0) | (abs(z) > zlim) | (mag > _NORM_HI) | (mag < _NORM_LO)
        flags[n] = f
        n_flag += f
    return n_flag


@jit
def exact_end(p, S, out, n, x, s):
    """Exact flow of neuron ``n`` by ``(x, s)`` into column ``n`` of ``out``: the end state of a
    flagged neuron that does not spike inside the interval."""
    y = S[0, n]
    yp = S[1, n]
    c = S[2, n]
    z = -c * s * s
    if abs(z) <= Z_SERIES_MAX:
        C, Sz = series(z)
        ye = y * C + yp * s * Sz
        ype = yp * C - c * s * y * Sz
    elif c > 0.0:
        a = math.sqrt(c)
        co = math.cos(a * s)
        si = math.sin(a * s)
        ye = y * co + yp * si / a
        ype = yp * co - a * y * si
    else:
        # cosh/sinh divided by cosh (only the ratio y'/y matters): no overflow
        a = math.sqrt(-c)
        th = math.tanh(a * s)
        ye = y + yp * th / a
        ype = yp + a * y * th
    mag = abs(ye) + abs(ype)
    if mag > _NORM_HI or mag < _NORM_LO:
        ye /= mag
        ype /= mag
    out[0, n] = ye
    out[1, n] = ype * x
    out[2, n] = c * x * x


@jit
def spike_key(p, S, n, horizon):
    """``s* = 1 - x*`` of the next zero of ``y`` (spike) of neuron ``n`` from the interval
    start (0: at the pole already; ``inf``: none); ``key_dt`` turns it into the time."""
    y = S[0, n]
    yp = S[1, n]
    c = S[2, n]
    if y <= 0.0 and yp < 0.0:
        return 0.0  # at the pole already (a tie with a spike just processed)
    s = math.inf
    if c > 0.0:
        a = math.sqrt(c)
        s = math.atan2(a * y, -yp) / a  # first zero of y0 cos(as) + y0'/a sin(as), y0 >= 0
    elif c == 0.0:
        if yp < 0.0:
            s = -y / yp
    else:
        a = math.sqrt(-c)
        if yp < 0.0:
            q = -a * y / yp
            if q < 1.0:
                s = math.atanh(q) / a
    return s if s < 1.0 else math.inf


@jit
def reset_neuron(p, S, n):
    """At the pole ``y = 0``; continue on the far side with the sign flipped so ``y >= 0``."""
    S[0, n] = 0.0
    S[1, n] = abs(S[1, n]) if S[1, n] != 0.0 else 1.0


@jit
def add_current(p, S, w):
    for n in range(S.shape[1]):
        S[2, n] += w[n]
