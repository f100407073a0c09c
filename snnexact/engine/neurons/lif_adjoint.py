r"""Derivative partners of ``lif.py``: sensitivities of the exact LIF flow and spike time.

Flow over ``dt`` with ``x = exp(-dt/tau)``: ``V = (V0 + I0) x - I0 x^2``, ``I = I0 x^2``, so::

    dV/dV0 = x,   dV/dI0 = x - x^2,   dI/dI0 = x^2,   dI/dV0 = 0,
    d(V, I)/d(dt) = F(V, I) = ((-V + I) / tau, -2 I / tau)      (the vector field at the end).

Spike time (implicit function theorem at ``V(dt*) = theta``) with
``tau dV/dt* = I0 x*^2 - theta``::

    d(dt*)/dV0 = -x* / Vdot*,     d(dt*)/dI0 = -(x* - x*^2) / Vdot* .

``Vdot* -> 0`` at a grazing crossing, where the true gradient diverges like ``1/sqrt(D)``.

The flow is linear, ``dz/dt = A z`` with ``A = [[-1, 1], [0, -2]] / tau``, so this module also
has the linear-flow verbs (interface.py; ``flow_by_factors`` is in ``lif.py``): the pairing
``lam . F(z) = (lamV (I - V) - 2 lamI I) / tau`` is constant along a flow, and a current jump
``w`` changes it by ``(lamV - 2 lamI) w / tau`` (docs/theory.md 3.3).
"""
import math

from snnexact.engine.jit import inner, jit
from snnexact.engine.neurons.synapse import input_time_adjoint  # noqa: F401 (a verb)
from snnexact.engine.sums import ordered_total
from snnexact.engine.neurons.lif import spike_key_of
from snnexact.engine.neurons import interface as model


@jit
def flow_grad(p, V0, I0, dt):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` after a spike-free flow over ``dt``."""
    x = math.exp(-dt / p.tau)
    xx = x * x
    return (V0 + I0) * x - I0 * xx, I0 * xx, x, x - xx, xx


@jit
def spike_time_grad(p, V0, I0):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next threshold crossing (``inf, 0, 0`` if none).
    ``x* = 1 - s*`` and ``x* - x*^2 = x* s*`` from the crossing's ``s*`` (``lif.spike_key_of``):
    no cancellation in ``x* - x*^2`` for short intervals, and no logarithm and exponential
    round trip through ``dt*``."""
    s = spike_key_of(p, V0, I0)
    if s == math.inf:
        return s, 0.0, 0.0
    x = 1.0 - s
    vdot = (I0 * x * x - p.theta) / p.tau
    return model.key_dt(p, s), -x / vdot, -(x * s) / vdot


@jit
def interval_vjp(p, S, S_end, lamV, lamI, x, s, dt, m, flags, work):
    """Pull the adjoint ``(lamV, lamI)`` of every neuron back over one interval (in place) and
    return ``g_dt = sum_n lam_n . F(z_n(end))``. The Jacobian does not depend on the state (and
    the end state is two multiply-adds from ``S``: ``S_end`` is not read);
    ``lamV[m]`` of the neuron ``m >= 0`` that spikes at the end is erased by its reset first.
    ``work``: scratch array of length n (the terms of ``tau g_dt``, summed afterwards in a fixed
    order so that this loop vectorises; the common factor ``1/tau`` is applied once to the sum,
    not per neuron: a division per neuron took a third of this loop)."""
    tau = p.tau
    if m >= 0:
        lamV[m] = 0.0
    xx = x * x
    V0, I0 = S[0], S[1]  # the (V, I) rows of vi_layout
    for n in range(V0.shape[0]):
        I = I0[n] * xx
        V = (V0[n] + I0[n]) * x - I
        lv = lamV[n]
        li = lamI[n]
        work[n] = _pairing(lv, li, V, I)
        lamV[n], lamI[n] = _pullback(lv, li, x, xx)
    return ordered_total(work) / tau


@inner
def _pairing(lv, li, V, I):
    """``tau lam . F(z)`` of one neuron."""
    return lv * (I - V) - 2.0 * li * I


@inner
def _pullback(lv, li, x, xx):
    """``J^T lam`` of one neuron over an interval of factor ``x`` (``xx = x^2``)."""
    return lv * x, lv * (x - xx) + li * xx


# ----------------------------------------------------------------------------- linear-flow verbs

@jit
def adjoint_pullback(p, lamV, lamI, x, s):
    """``lam <- J^T lam`` for every neuron: ``lamV x``, ``lamV (x - x^2) + lamI x^2``."""
    xx = x * x
    for n in range(lamV.shape[0]):
        lamV[n], lamI[n] = _pullback(lamV[n], lamI[n], x, xx)


@jit
def adjoint_pullback_projected(p, lamV, lamI, a, b, r, ca, cb, x, s):
    """``adjoint_pullback`` of ``lam`` and of ``(a, b)``, then ``(a, b) += (ca, cb) r``."""
    xx = x * x
    for n in range(lamV.shape[0]):
        lamV[n], lamI[n] = _pullback(lamV[n], lamI[n], x, xx)
        an, bn = _pullback(a[n], b[n], x, xx)
        a[n] = an + ca * r[n]
        b[n] = bn + cb * r[n]


@jit
def neuron_pullback(p, lamV, lamI, x, s):
    """``(lamV x, lamV (x - x^2) + lamI x^2)``."""
    return _pullback(lamV, lamI, x, x * x)


@jit
def field_pairing(p, S, lamV, lamI, work):
    """``sum_n (lamV_n (I_n - V_n) - 2 lamI_n I_n) / tau`` over the state ``S``."""
    V, I = S[0], S[1]
    for n in range(V.shape[0]):
        work[n] = _pairing(lamV[n], lamI[n], V[n], I[n])
    return ordered_total(work) / p.tau


@jit
def neuron_field_pairing(p, lamV, lamI, V, I):
    """``(lamV (I - V) - 2 lamI I) / tau``."""
    return _pairing(lamV, lamI, V, I) / p.tau


@inner
def _jump_term(dw, w, lamV, lamI, n):
    """``dw[n] += lamI[n]``; returns ``(2 lamI[n] - lamV[n]) w[n]``."""
    li = lamI[n]
    dw[n] += li
    return (2.0 * li - lamV[n]) * w[n]


@jit
def jump_time_adjoint(p, dw, w, lamV, lamI):
    """``dw += lamI``; returns ``sum_n (2 lamI_n - lamV_n) w_n / tau`` (four interleaved
    partial sums, the order of ``sums.ordered_sum``)."""
    n = w.shape[0]
    m = n - n % 4
    s0 = s1 = s2 = s3 = 0.0
    for i in range(0, m, 4):
        s0 += _jump_term(dw, w, lamV, lamI, i)
        s1 += _jump_term(dw, w, lamV, lamI, i + 1)
        s2 += _jump_term(dw, w, lamV, lamI, i + 2)
        s3 += _jump_term(dw, w, lamV, lamI, i + 3)
    for i in range(m, n):
        s0 += _jump_term(dw, w, lamV, lamI, i)
    return ((s0 + s1) + (s2 + s3)) / p.tau


@jit
def spike_tied_to_previous(p, V, dt):
    """Never: a LIF spike-time gradient is finite wherever the crossing is transversal."""
    return False
