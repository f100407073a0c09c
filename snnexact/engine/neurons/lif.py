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

Layer verbs keep ``(V, I)`` per neuron in the rows of a ``(2, n)`` array (``vi_layout.py``)
state array and share ``x`` across neurons, so a sweep over a layer costs a few multiply-adds per
neuron (docs/theory.md section 8).
"""
from collections import namedtuple
from dataclasses import dataclass
import math

import numpy as np

from snnexact.checks import finite_real, positive_real
from snnexact.engine.jit import inner, jit
from snnexact.engine.neurons import interface as model
from snnexact.engine.neurons.lif_general import LIFGeneralKernel, psp_kernel, psp_peak_time
from snnexact.engine.neurons.model import NeuronModel
from snnexact.engine.neurons.log_keys import key_dt, key_gap_dt  # noqa: F401 (verbs)
from snnexact.engine.neurons.synapse import jump  # noqa: F401 (a verb)
from snnexact.engine.neurons.vi_layout import (STATE_ROWS, add_current, exact_end,  # noqa: F401
                                               init_state, neuron_VI, state_VI)

LIFKernel = namedtuple("LIFKernel", "tau theta")
LIFKernel.__doc__ = "Kernel parameters of the LIF verbs: ``tau = tau_m``, threshold ``theta``."


@dataclass(frozen=True)
class LIF(NeuronModel):
    """LIF neuron parameters: membrane time constant ``tau_m`` (> 0), threshold ``theta``, and
    optionally the synaptic time constant ``tau_s`` (> 0; default ``tau_m / 2``), leak and reset
    potentials ``v_leak`` and ``v_reset`` (< ``theta``; default 0) and input resistance ``r``
    (!= 0; default 1): ``tau_m dV/dt = (v_leak - V) + r I``, ``tau_s dI/dt = -I``.

    The default case runs the closed form of this module; any other runs ``lif_general.py``.
    """

    tau_m: float
    theta: float = 1.0
    tau_s: float = None
    v_leak: float = 0.0
    v_reset: float = 0.0
    r: float = 1.0

    def __post_init__(self):
        positive_real("tau_m", self.tau_m)
        if self.tau_s is None:
            object.__setattr__(self, "tau_s", self.tau_m / 2)
        positive_real("tau_s", self.tau_s)
        for name in ("theta", "v_leak", "v_reset", "r"):
            finite_real(name, getattr(self, name))
        if self.r == 0:
            raise ValueError("r must be != 0 (the input would have no effect)")
        if not self.v_reset < self.theta:
            raise ValueError(f"v_reset must be below theta = {self.theta}, got {self.v_reset!r}")

    name = "lif"
    has_pseudospikes = False  # a silent LIF neuron has no smooth continuation after T

    @property
    def synaptic_tau(self):
        """``tau_s`` as a float."""
        return float(self.tau_s)

    @property
    def closed_form(self):
        """True for ``tau_s = tau_m / 2``, ``v_leak = v_reset = 0``, ``r = 1``: this module."""
        return (self.synaptic_tau * 2.0 == float(self.tau_m) and self.v_leak == 0
                and self.v_reset == 0 and self.r == 1)

    @property
    def kernel(self):
        if self.closed_form:
            return LIFKernel(float(self.tau_m), float(self.theta))
        return LIFGeneralKernel(float(self.tau_m), self.synaptic_tau, float(self.theta),
                                float(self.v_leak), float(self.v_reset), float(self.r))

    @property
    def kick(self):
        """The single kick that brings a neuron at rest (``v_leak``) exactly to threshold: a
        larger one crosses (docs/theory.md 1.2). ``4 theta`` in the closed-form case."""
        if self.closed_form:
            return 4.0 * self.theta
        peak = psp_kernel(psp_peak_time(float(self.tau_m), self.synaptic_tau),
                          float(self.tau_m), self.synaptic_tau)
        return (self.theta - self.v_leak) / (abs(self.r) * peak)

    @property
    def v0_range(self):
        """Allowed trained initial voltages ``[-theta, theta)`` (mirrored about ``v_leak`` in
        general): below threshold."""
        return (2 * self.v_leak - self.theta, self.theta)

    @classmethod
    def from_config(cls, cfg):
        return cls(cfg.tau_m, cfg.theta, tau_s=getattr(cfg, "tau_s", None))

    def check_initial_voltage(self, V0, where):
        if not np.all(np.isfinite(V0)) or np.any(V0 >= self.theta):
            raise ValueError(f"{where} V0 must be finite and below theta = {self.theta}")


# ----------------------------------------------------------------------------- scalar verbs

@jit
def flow(p, V0, I0, dt):
    """State ``(V, I)`` after ``dt >= 0`` without spikes: ``((V0+I0) x - I0 x^2, I0 x^2)``."""
    x = math.exp(-dt / p.tau)
    return (V0 + I0) * x - I0 * x * x, I0 * x * x


@jit
def next_spike_time(p, V0, I0):
    """Time until ``V`` first reaches ``theta`` from ``(V0, I0)``; ``inf`` if it never does."""
    return model.key_dt(p, spike_key_of(p, V0, I0))


@jit
def reset(p, V):
    """Reset after a spike: ``V = 0`` (the current is kept)."""
    return 0.0


@inner
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
def interval_factors(p, dt):
    """``x = exp(-dt/tau)`` and ``s = 1 - x`` (rounded; no LIF verb uses ``s``)."""
    x = math.exp(-dt / p.tau)
    return x, 1.0 - x


@inner
def _flow_x(V, I, x, xx):
    """``flow`` by the shared factors ``x`` and ``xx = x^2``: ``((V + I) x - I x^2, I x^2)``."""
    return (V + I) * x - I * xx, I * xx


@jit
def flow_by_factors(p, V0, I0, x, s):
    """``(V, I)`` after the flow by ``x`` (``s`` unused): the sweeps' own ``_flow_x`` (a
    linear-flow verb, interface.py)."""
    return _flow_x(V0, I0, x, x * x)


@inner
def _tentative(V, I, x, xx, theta):
    """``(V, I)`` flowed by ``x`` and the flag of ``sweep``."""
    b = V + I
    Ve, Ie = _flow_x(V, I, x, xx)
    f = (Ve >= theta) | ((I > 0.0) & (b > 2.0 * I * x) & (b < 2.0 * I) & (b * b >= 4.0 * I * theta))
    return Ve, Ie, f


@jit
def sweep(p, S, out, flags, x, s):
    """Tentative exact flow of every neuron by the shared factor ``x`` into ``out``.

    Flags (returns their count) each neuron whose voltage may reach ``theta`` inside the interval:
    the end value is above threshold, or the vertex of the parabola ``V(x)`` lies inside
    ``(x, 1)`` with height ``(V+I)^2 / (4 I) >= theta``. Branch-free so it vectorises.
    """
    theta = p.theta
    xx = x * x
    V_, I_, Vo, Io = S[0], S[1], out[0], out[1]  # 1-D row views: contiguous, SIMD-friendly
    n_flag = 0
    for n in range(S.shape[1]):
        Ve, Ie, f = _tentative(V_[n], I_[n], x, xx, theta)
        Vo[n] = Ve
        Io[n] = Ie
        flags[n] = f
        n_flag += f
    return n_flag


@jit
def event_flow(p, S, out, flags, x, s, m, RT):
    """Exact flow of every neuron by ``x`` into ``out`` (no spike strictly inside); then, for
    ``m >= 0``, the spike of neuron ``m``: its reset and the recurrent jump ``RT[m]`` (if ``RT``
    has rows)."""
    xx = x * x
    V_, I_, Vo, Io = S[0], S[1], out[0], out[1]
    N = S.shape[1]
    if m >= 0 and RT.shape[0] > 0:
        r = RT[m]
        for n in range(N):
            Vo[n], I = _flow_x(V_[n], I_[n], x, xx)
            Io[n] = I + r[n]
    else:  # a loop of its own: no branch inside, so both vectorise
        for n in range(N):
            Vo[n], Io[n] = _flow_x(V_[n], I_[n], x, xx)
    if m >= 0:
        Vo[m] = 0.0


@jit
def spike_sweep(p, S, out, flags, x1, s1, m, RT, x, s):
    """``event_flow`` (the flow by ``x1``, the reset of ``m >= 0`` and its recurrent jump) into
    ``out`` and ``sweep`` of that state by ``x`` over ``S`` in one pass: each neuron's new
    state is swept while in registers. The reset neuron's sweep is redone after the pass (the
    loop stays branch-free). The same operations as the two verbs, so the same bits."""
    theta = p.theta
    xx1 = x1 * x1
    xx = x * x
    V_, I_, Vo, Io = S[0], S[1], out[0], out[1]
    N = S.shape[1]
    n_flag = 0
    if RT.shape[0] > 0:
        r = RT[m]
        for n in range(N):
            V, I = _flow_x(V_[n], I_[n], x1, xx1)
            I = I + r[n]
            Vo[n] = V
            Io[n] = I
            V_[n], I_[n], f = _tentative(V, I, x, xx, theta)
            flags[n] = f
            n_flag += f
    else:  # a loop of its own: no branch inside, so both vectorise
        for n in range(N):
            V, I = _flow_x(V_[n], I_[n], x1, xx1)
            Vo[n] = V
            Io[n] = I
            V_[n], I_[n], f = _tentative(V, I, x, xx, theta)
            flags[n] = f
            n_flag += f
    Vo[m] = 0.0
    n_flag -= flags[m]
    V_[m], I_[m], f = _tentative(0.0, Io[m], x, xx, theta)
    flags[m] = f
    return n_flag + f


@inner
def spike_key_of(p, V0, I0):
    """``s* = 1 - x+`` of the next crossing from ``(V0, I0)`` (0 at or above threshold,
    ``inf``: none); ``key_dt`` turns it into ``next_spike_time``'s value."""
    return 0.0 if V0 >= p.theta else _spike_s(V0, I0, p.theta)


@jit
def spike_key(p, S, n, horizon):
    """``spike_key_of`` neuron ``n``."""
    return spike_key_of(p, S[0, n], S[1, n])


@jit
def reset_neuron(p, S, n):
    S[0, n] = 0.0


