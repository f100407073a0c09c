r"""Derivative partners of ``lif_general.py``: sensitivities of the general-ratio LIF.

With ``x_m = exp(-dt/tau_m)``, ``x_s = exp(-dt/tau_s)`` and the kernel ``K`` of
``lif_general.py``, the flow is linear in the state, so its Jacobian does not depend on it::

    dV/dV0 = x_m,   dV/dI0 = r K(dt),   dI/dI0 = x_s,   dI/dV0 = 0,
    d(V, I)/d(dt) = F(V, I) = ((v_leak - V + r I) / tau_m, -I / tau_s).

Spike time (implicit function theorem at ``V(dt*) = theta``) with
``tau_m Vdot* = v_leak - theta + r I(dt*)``::

    d(dt*)/dV0 = -x_m* / Vdot*,     d(dt*)/dI0 = -r K(dt*) / Vdot* .

Moving an input jump ``w`` later by ``dt`` changes the vector field by
``(r w / tau_m, -w / tau_s)``, so its time derivative is ``sum_n (lamI/tau_s - r lamV/tau_m) w_n``.
"""
import math

from snnexact.engine.jit import jit
from snnexact.engine.neurons.lif_general import flow, psp_kernel, spike_time_within
from snnexact.engine.sums import ordered_total


@jit
def flow_grad(p, V0, I0, dt):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` after a spike-free flow over ``dt``."""
    V, I = flow(p, V0, I0, dt)
    return (V, I, math.exp(-dt / p.tau_m), p.r * psp_kernel(dt, p.tau_m, p.tau_s),
            math.exp(-dt / p.tau_s))


@jit
def spike_time_grad_within(p, V0, I0, horizon):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next crossing within ``horizon``
    (``inf, 0, 0`` if none)."""
    dt = spike_time_within(p, V0, I0, horizon)
    if dt == math.inf:
        return dt, 0.0, 0.0
    vdot = (p.v_leak - p.theta + p.r * I0 * math.exp(-dt / p.tau_s)) / p.tau_m
    return dt, -math.exp(-dt / p.tau_m) / vdot, -p.r * psp_kernel(dt, p.tau_m, p.tau_s) / vdot


@jit
def spike_time_grad(p, V0, I0):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next crossing (``inf, 0, 0`` if none)."""
    return spike_time_grad_within(p, V0, I0, math.inf)


@jit
def interval_vjp(p, S, S_end, lamV, lamI, x, s, dt, m, flags, work):
    """Pull the adjoint of every neuron back over one interval (in place); return
    ``g_dt = sum_n lam_n . F(z_n(end))``. ``lamV[m]`` of the neuron ``m >= 0`` that spikes at
    the end is erased by its reset first. ``work``: scratch for the terms of ``g_dt``;
    ``S_end`` is not read."""
    if m >= 0:
        lamV[m] = 0.0
    xs = math.exp(-dt / p.tau_s)
    K = psp_kernel(dt, p.tau_m, p.tau_s)
    v_leak, r, tau_m, tau_s = p.v_leak, p.r, p.tau_m, p.tau_s
    rK = r * K
    V0, I0 = S[0], S[1]  # the (V, I) rows of vi_layout
    for n in range(V0.shape[0]):
        I = I0[n] * xs
        V = ((V0[n] - v_leak) * x + r * I0[n] * K) + v_leak  # the forward's end state
        lv = lamV[n]
        li = lamI[n]
        work[n] = lv * (v_leak - V + r * I) / tau_m - li * I / tau_s
        lamV[n] = lv * x
        lamI[n] = lv * rK + li * xs
    return ordered_total(work)


@jit
def input_time_adjoint(p, lamV, lamI, out):
    """``out[n] = lamI[n] / tau_s - r lamV[n] / tau_m`` (module docstring)."""
    for n in range(lamV.shape[0]):
        out[n] = lamI[n] / p.tau_s - p.r * lamV[n] / p.tau_m


@jit
def spike_tied_to_previous(p, V, dt):
    """Never: the spike-time gradient is finite wherever the crossing is transversal."""
    return False
