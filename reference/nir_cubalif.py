"""Oracle for chains of NIR CubaLIF layers in NIR's own units (plain NumPy/SciPy; never imports
snnexact or nir).

Per neuron ``i`` (per-neuron arrays for every field)::

    tau_syn dI/dt = -I + w_in S(t),    tau_mem dV/dt = (v_leak - V) + r I,
    V up through v_threshold: spike, V -> v_reset (I kept),

with ``S = W s(t)`` and presynaptic spikes Dirac deltas: a spike of ``j`` adds
``w_in_i W_ij / tau_syn_i`` to ``I_i``. Every neuron starts at rest (``V = v_leak``, ``I = 0``).

Between events the textbook solution is used (``reference.lif_general.closed_flow``, any
``tau_syn != tau_mem``). ``V - v_leak = (W0 - A) exp(-t/tau_mem) + A exp(-t/tau_syn)`` has at
most one stationary point, so ``[0, horizon]`` splits into at most two monotone pieces; the first
piece that ends above threshold brackets the crossing, which brentq refines to a few ulp.
"""
from dataclasses import dataclass
import math

import numpy as np
from scipy.optimize import brentq

from .lif_general import closed_flow


@dataclass
class CubaLIFLayer:
    """One layer: incoming ``weight`` (n, n_prev), ``rec_weight`` (n, n) or ``None``, and the
    CubaLIF fields as arrays of shape (n,)."""

    weight: np.ndarray
    rec_weight: np.ndarray
    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    w_in: np.ndarray

    def neuron(self, i):
        return dict(tau_m=self.tau_mem[i], tau_s=self.tau_syn[i], v_leak=self.v_leak[i],
                    r=self.r[i])


def crossing_time(v0, i0, horizon, theta, tau_m, tau_s, v_leak, r):
    """First ``t`` in ``(0, horizon]`` where ``V`` rises through ``theta``; ``inf`` if none."""
    def f(t):
        return closed_flow(v0, i0, t, tau_m, tau_s, v_leak, r)[0] - theta

    bounds = [0.0]
    amp = r * i0 * tau_s / (tau_s - tau_m)
    b = v0 - v_leak - amp
    if amp != 0.0 and b != 0.0:
        # stationary point: b exp(-t/tau_m) / tau_m + amp exp(-t/tau_s) / tau_s = 0
        q = -amp * tau_m / (b * tau_s)
        if q > 0.0:
            t_e = math.log(q) / (1.0 / tau_s - 1.0 / tau_m)
            if 0.0 < t_e < horizon:
                bounds.append(t_e)
    bounds.append(horizon)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if f(hi) > 0.0:
            return brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return math.inf


def simulate_cubalif_chain(layers, input_times, input_units, T):
    """Spikes ``[(times, units), ...]`` per layer of the chain ``layers`` (``CubaLIFLayer``)
    driven by input spikes (sorted times) over ``[0, T]``."""
    V = [L.v_leak.astype(float).copy() for L in layers]
    I = [np.zeros_like(v) for v in V]
    out = [([], []) for _ in layers]
    t, k = 0.0, 0

    def deliver(l, weights_col):
        L = layers[l]
        I[l] += L.w_in * weights_col / L.tau_syn

    while True:
        t_next = min(input_times[k] if k < len(input_times) else math.inf, T)
        best, who = math.inf, None
        for l, L in enumerate(layers):
            for i in range(V[l].size):
                dt = crossing_time(V[l][i], I[l][i], t_next - t, L.v_threshold[i], **L.neuron(i))
                if dt < best:
                    best, who = dt, (l, i)
        step = best if who is not None else t_next - t
        for l, L in enumerate(layers):
            for i in range(V[l].size):
                V[l][i], I[l][i] = closed_flow(V[l][i], I[l][i], step, **L.neuron(i))
        t += step
        if who is not None:
            l, i = who
            out[l][0].append(t)
            out[l][1].append(i)
            V[l][i] = layers[l].v_reset[i]
            if layers[l].rec_weight is not None:
                deliver(l, layers[l].rec_weight[:, i])
            if l + 1 < len(layers):
                deliver(l + 1, layers[l + 1].weight[:, i])
        elif t_next < T:
            deliver(0, layers[0].weight[:, input_units[k]])
            k += 1
        else:
            break
    return [(np.array(ts), np.array(us, dtype=int)) for ts, us in out]
