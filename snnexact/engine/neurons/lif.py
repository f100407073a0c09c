r"""Leaky integrate-and-fire neuron with a current-based synapse, tau_s = tau_m / 2.

.. math::

    \tau \dot V = -V + I, \qquad \tau_s \dot I = -I, \qquad \tau_s = \tau / 2 .

Every presynaptic spike of weight ``w`` adds ``w`` to ``I`` (``jump``). With ``x = exp(-dt/tau)``
the flow over ``dt`` is exact (``flow``)::

    V(dt) = (V0 + I0) x - I0 x^2,        I(dt) = I0 x^2 .

Threshold ``theta`` (default 1); at a crossing ``V`` is reset to 0 and ``I`` is kept (``reset``).
A crossing needs ``I0 > 0``, ``I0 > V0`` (V rising now) and
``D = (V0 + I0)^2 - 4 I0 theta > 0``; the first crossing is the larger root ``x+`` of
``I0 x^2 - (V0 + I0) x + theta = 0``, evaluated without cancellation as
``s* = 1 - x+ = 2 (theta - V0) / ((I0 - V0) + sqrt(D))`` and ``dt* = -tau log(1 - s*)``
(``next_spike_time``). At ``D = 0`` the voltage only grazes threshold: the spike (dis)appears at a
finite time inside the trial, the discontinuity of LIF loss landscapes.

Layer kernels (leading underscore) keep ``(V, I)`` per neuron in rows 0 and 1 of a ``(3, n)``
state array and share ``x`` across neurons, so a sweep over a layer costs a few multiply-adds per
neuron (THEORY.md section 8).
"""
from dataclasses import dataclass
import math

import numpy as np

from snnexact.engine.jit import jit

MODEL_ID = 0


@dataclass(frozen=True)
class LIF:
    """LIF neuron parameters: membrane time constant ``tau_m`` (> 0) and threshold ``theta`` (> 0)."""

    tau_m: float
    theta: float = 1.0

    def __post_init__(self):
        _check_positive("tau_m", self.tau_m)
        _check_positive("theta", self.theta)

    name = "lif"
    has_pseudospikes = False  # a silent LIF neuron has no smooth continuation after T

    @property
    def v0_range(self):
        """Allowed trained initial voltages ``[-theta, theta)``: below threshold."""
        return (-self.theta, self.theta)
    model_id = MODEL_ID


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


# ----------------------------------------------------------------------------- scalar verbs

@jit
def flow(V0, I0, dt, tau):
    """State ``(V, I)`` after ``dt >= 0`` without spikes: ``((V0+I0) x - I0 x^2, I0 x^2)``."""
    x = math.exp(-dt / tau)
    return (V0 + I0) * x - I0 * x * x, I0 * x * x


@jit
def next_spike_time(V0, I0, tau, theta):
    """Time until ``V`` first reaches ``theta`` from ``(V0, I0)``; ``inf`` if it never does."""
    if V0 >= theta:
        return 0.0
    s = _spike_s(V0, I0, theta)
    if s >= 1.0:
        return math.inf
    return -tau * math.log1p(-s)


@jit
def jump(I, w):
    """Synaptic input: the current jumps by the weight."""
    return I + w


@jit
def reset(V):
    """Reset after a spike: ``V = 0`` (the current is kept)."""
    return 0.0


@jit
def _spike_s(V0, I0, theta):
    """``s* = 1 - x+`` of the first crossing from ``V0 < theta``, or ``inf`` (no crossing ever)."""
    if I0 <= 0.0 or I0 <= V0:
        return math.inf
    b = V0 + I0
    D = b * b - 4.0 * I0 * theta
    if D <= 0.0:
        return math.inf
    s = 2.0 * (theta - V0) / ((I0 - V0) + math.sqrt(D))
    return s if s < 1.0 else math.inf


# ----------------------------------------------------------------------------- layer kernels

@jit
def _init_state(V0, I0):
    S = np.zeros((3, V0.shape[0]))
    S[0, :] = V0
    S[1, :] = I0
    return S


@jit
def _state_VI(S, V, I):
    """Write the state ``(V, I)`` into ``V, I``."""
    V[:] = S[0]
    I[:] = S[1]


@jit
def _sweep(S, out, flags, x, s, theta):
    """Tentative exact flow of every neuron by the shared factor ``x`` into ``out``.

    Flags (returns their count) each neuron whose voltage may reach ``theta`` inside the interval:
    the end value is above threshold, or the vertex of the parabola ``V(x)`` lies inside
    ``(x, 1)`` with height ``(V+I)^2 / (4 I) >= theta``. Branch-free so it vectorises.
    """
    xx = x * x
    V_, I_, Vo, Io = S[0], S[1], out[0], out[1]  # 1-D row views: contiguous, SIMD-friendly
    n_flag = 0
    for n in range(S.shape[1]):
        V = V_[n]
        I = I_[n]
        b = V + I
        Ve = b * x - I * xx
        Vo[n] = Ve
        Io[n] = I * xx
        f = (Ve >= theta) | ((I > 0.0) & (b > 2.0 * I * x) & (b < 2.0 * I) & (b * b >= 4.0 * I * theta))
        flags[n] = f
        n_flag += f
    return n_flag


@jit
def _exact_end(S, out, n, x, s):
    """The sweep is exact for LIF: nothing to redo for a flagged neuron that does not spike."""
    return


@jit
def _spike_dt(S, n, tau, theta):
    """Exact time from the interval start to the next spike of neuron ``n`` (``inf`` if none)."""
    return next_spike_time(S[0, n], S[1, n], tau, theta)


@jit
def _reset(S, n):
    S[0, n] = 0.0


@jit
def _add_current(S, w):
    for n in range(S.shape[1]):
        S[1, n] += w[n]
