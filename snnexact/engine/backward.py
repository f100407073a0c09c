"""Exact reverse pass over one layer's event log (the discrete adjoint; EventProp for LIF).

The forward pass is a composition of closed-form maps with the event order held fixed: a flow of
every neuron over each inter-event interval, additive jumps at input events, and at a spike of
neuron ``m`` a reset of ``m`` plus a recurrent jump, where the interval that ends at the spike
has the implicit length ``dt* (V_m, I_m)``. Reverse mode through that composition:

* interval ``e`` (from event ``e-1`` to event ``e`` or ``T``): per neuron
  ``lambda_start = J^T lambda_end`` with the flow Jacobian ``J`` (the model's ``interval_vjp``), and
  ``g_dt = sum_n lambda_end . F(z_end)`` is the derivative with respect to the interval length;
* a spike at the end of the interval: the length is ``dt*`` of the spiking neuron, so
  ``lambda_m += (g_dt + G) grad dt*``, where ``G`` is the derivative with respect to the spike
  time from everything later (later intervals, the next layer, the loss);
* an input event: ``dL/dW[n, u] += lambda_I[n]`` and, for each unit ``u`` of the event, the time
  derivative ``dL/dt_u = sum_n a_n W[n, u]`` with the model's ``input_time_adjoint`` ``a``
  (moving an additive current jump changes the vector field; ``(2 lambda_I - lambda_V)/tau``
  for ``tau_s = tau_m / 2``);
* a spike event: ``dL/dR[n, m] += lambda_I[n]``; the reset erases ``lambda_V[m]``.

States are recomputed segment by segment from the event-log checkpoints with the forward's own
sweep and its logged interval factors, so memory stays O(events) and the recomputed states
equal the forward's bit for bit; each interval's pull-back sees the states at both of its ends
(QIF reads the flowed end instead of recomputing it). A layer that kept every state
(``checkpoint_every = 1``, small layers) is read, not replayed. A model with a linear flow
(LIF) needs no states at all (no replay, no checkpoint): ``backward_linear.py``.
The spiking neuron's own voltage term is skipped at its spike (its adjoint is zero there while
the QIF vector field is infinite).
"""
import numpy as np

from snnexact.engine.backward_linear import reverse_linear
from snnexact.engine.jit import leaf
from snnexact.engine.sums import ordered_sum
from snnexact.engine.neurons import interface as model
from snnexact.engine.scratch import scratch
from snnexact.engine.simulate import copy_state, flow_to_end, replay


def backward_layer(p, log, T, mu, lamV, lamI, dWT, dRT, g_in, sensitivity, want_g_in,
                   linear=None):
    """Reverse pass over one layer's ``EventLog``. ``mu[i]``: dL/d(time of this layer's spike
    i) from outside; ``lamV, lamI``: dL/d(V, I) at ``T`` (overwritten with dL/d(initial
    state)); accumulates ``dWT`` (n_in, N), ``dRT`` (N, N, row m = presynaptic m) and, if
    ``want_g_in``, ``g_in`` (per input spike; its cost is input spikes x N, skipped for the
    first layer in training). ``sensitivity[0]`` is raised to the largest ``|d t_spike / d V|``
    over the layer's spikes: for LIF it grows like ``1/sqrt(D)`` at a grazing crossing
    (reported, never clamped). A model with a linear flow takes ``backward_linear`` (no
    replay) unless ``linear=False``. The buffers are allocated here, in Python, so that the
    compiled loops are leaf kernels."""
    N = lamV.shape[0]
    if linear is None:
        linear = model.has_linear_flow(p)
    if linear:
        RT = log.recurrent_t
        reverse_linear(p, log.times, log.codes, log.factors, log.spike_VI, log.end_state,
                       log.input_offsets, log.input_units, log.weights_t, RT,
                       np.ascontiguousarray(RT.T), T, mu, lamV, lamI, dWT, dRT, g_in,
                       sensitivity, bool(want_g_in), np.empty(N), np.empty(N), np.empty(N))
        return
    K = log.checkpoint_every
    reverse_loop(p, log.times, log.codes, log.factors, log.input_offsets, log.input_units,
                 log.checkpoints, K, log.weights_t, log.recurrent_t, T, mu, lamV, lamI, dWT, dRT,
                 g_in, sensitivity, bool(want_g_in),
                 scratch("reverse_loop.segment", (K + 1, *log.checkpoints.shape[1:])),
                 np.zeros(N, np.bool_), np.empty(N), np.zeros(N))


def layer_gradients(p, log, T, mu, lamV, lamI, want_g_in=True, linear=None):
    """``backward_layer`` into fresh buffers: returns ``(dWT, dRT, g_in, sensitivity)`` (the
    transposed weight gradients, the input-time gradients, zeros without ``want_g_in``, and the
    largest ``|d t_spike / d V|``); ``lamV, lamI`` become dL/d(initial state)."""
    dWT = np.zeros(log.weights_t.shape)  # not zeros_like: calloc, no second pass over memory
    dRT = np.zeros(log.recurrent_t.shape)
    g_in = np.zeros(log.input_units.size)
    sens = np.zeros(1)
    backward_layer(p, log, T, mu, lamV, lamI, dWT, dRT, g_in, sens, want_g_in, linear)
    return dWT, dRT, g_in, float(sens[0])


@leaf
def reverse_loop(p, log_t, log_code, log_f, in_offsets, in_units, ckpts, K, WT, RT, T, mu, lamV,
                 lamI, dWT, dRT, g_in, sensitivity, want_g_in, seg_states, flags, work, pend):
    """``backward_layer`` with the replay, on its buffers: ``seg_states`` (K + 1, state rows,
    N) the states of a segment and the one after it, ``flags, work`` scratch, ``pend`` zeros."""
    N = lamV.shape[0]
    E = log_t.shape[0]
    recurrent = RT.shape[0] > 0
    sp = 0
    for e in range(E):
        if log_code[e] >= 0:
            sp += 1
    G = 0.0  # dL/d(time of the event that ends the current interval), from later dependence
    # QIF spikes tied with the spike before them (a zero-length interval): dL/d(their time),
    # applied at the first interval of nonzero length (see below), in pend
    n_pend = 0
    last_seg = E // K
    for seg in range(last_seg, -1, -1):
        a = seg * K
        b = a + K if a + K < E else E
        # the intervals e_hi..a start at the states after events a..e_hi - 1 (with every state
        # kept, K = 1, that is the checkpoint itself: the replay is then empty) and end at the
        # states after events a + 1..e_hi: the next checkpoint, or at T the flow to T
        e_hi = E if seg == last_seg else b - 1
        states = seg_states
        copy_state(states[0], ckpts[seg])
        replay(p, states, flags, log_t, log_code, log_f, a, e_hi, in_offsets, in_units, WT, RT)
        if seg == last_seg:
            x, s = model.interval_factors(p, T - (0.0 if E == 0 else log_t[E - 1]))
            flow_to_end(p, states[E - a], states[E - a + 1], flags, x, s, RT)
        else:
            copy_state(states[K], ckpts[seg + 1])
        for e in range(e_hi, a - 1, -1):
            # ---- interval e: from event e-1 (or 0) to event e (or T)
            t0 = 0.0 if e == 0 else log_t[e - 1]
            t1 = T if e == E else log_t[e]
            m = log_code[e] if e < E else -1  # spiking neuron at the end, or -1
            j = e - a
            dt = t1 - t0
            if e < E:  # the forward logged this interval's factors
                x, s = log_f[e, 0], log_f[e, 1]
            else:
                x, s = model.interval_factors(p, dt)
            g_dt = model.interval_vjp(p, states[j], states[j + 1], lamV, lamI, x, s, dt, m, flags,
                                      work)
            pended = False
            Vm, Im = model.neuron_VI(p, states[j], m) if m >= 0 else (0.0, 0.0)
            if m >= 0 and e >= 1 and model.spike_tied_to_previous(p, Vm, dt):
                # m starts this interval next to its own pole (its spike is tied, up to
                # rounding, with the event before): d(dt*)/dV ~ 1/V^2 underflows and the previous
                # flow's dV/dV0 ~ V^2 overflows. Equivalently (and finitely) m's spike is the
                # blow-up at the end of the previous interval, so dL/d(its time) is applied
                # there, with m's spike-time gradient from that interval's start state (the
                # event between moves the spike by O(1/V)). This interval's length
                # t_e - t_(e-1) still depends on t_(e-1) through g_dt.
                pend[m] += g_dt + G
                n_pend += 1
                pended = True
                G = -g_dt
            elif m >= 0:
                D = g_dt + G
                _, dt_dV0, dt_dI0 = model.spike_time_grad(p, Vm, Im)
                if abs(dt_dV0) > sensitivity[0]:
                    sensitivity[0] = abs(dt_dV0)
                lamV[m] += D * dt_dV0
                lamI[m] += D * dt_dI0
            else:
                G = -g_dt
            if n_pend > 0 and not pended:
                for n in range(N):
                    if pend[n] != 0.0:
                        Vn, In = model.neuron_VI(p, states[j], n)
                        _, dt_dV0, dt_dI0 = model.spike_time_grad(p, Vn, In)
                        lamV[n] += pend[n] * dt_dV0
                        lamI[n] += pend[n] * dt_dI0
                        G += pend[n]    # its time is t_(e-1) + dt*_n
                        pend[n] = 0.0
                n_pend = 0
            # ---- the event e-1 that starts the interval
            if e == 0:
                break
            code = log_code[e - 1]
            if code >= 0:
                sp -= 1
                G += mu[sp]
                if recurrent:
                    for n in range(N):
                        dRT[code, n] += lamI[n]
                    dRT[code, code] = 0.0  # no self-connection
                lamV[code] = 0.0
            else:
                k = -1 - code
                if want_g_in:
                    model.input_time_adjoint(p, lamV, lamI, work)
                for jj in range(in_offsets[k], in_offsets[k + 1]):
                    u = in_units[jj]
                    for n in range(N):
                        dWT[u, n] += lamI[n]
                    if want_g_in:
                        g_in[jj] += ordered_sum(work, WT[u])
                G = 0.0


def backward_network(network, res, mu, lamV, lamI, sensitivities=None, input_grads=True):
    """Reverse pass through the simulated layers of ``res`` (last to first), with the weights
    the forward pass ran with (``res.layers[l].log.weights_t``).

    ``mu[l]``: dL/d(spike times of layer l) from outside the layer (the loss); ``lamV[l],
    lamI[l]``: dL/d(V, I at T). Returns ``(dW, dR, g_input)`` for the simulated layers, with
    ``g_input`` = dL/d(input spike times). The input-time gradient of layer ``l`` becomes the
    spike-time gradient of layer ``l - 1``. ``mu``, ``lamV`` and ``lamI`` are overwritten;
    ``sensitivities`` (optional list) receives each layer's largest ``|d t_spike / d V|``.
    ``input_grads=False`` skips the input-time gradient of the first layer (``g_input`` is then
    ``None``): training does not need it, and it costs input spikes x neurons operations.
    """
    p = network.neuron.kernel
    n = len(res.layers)
    dW, dR = [None] * n, [None] * n
    g_in = None
    for l in range(n - 1, -1, -1):
        log = res.layers[l].log
        dWT, dRT, g_in, sens = layer_gradients(p, log, float(res.T), mu[l], lamV[l], lamI[l],
                                               l > 0 or input_grads)
        if sensitivities is not None:
            sensitivities.insert(0, sens)
        dW[l] = dWT.T  # views in (n_out, n_in) order
        dR[l] = dRT.T if log.recurrent_t.shape[0] else None
        if l > 0:
            mu[l - 1] = mu[l - 1] + g_in
    return dW, dR, (g_in if input_grads else None)
