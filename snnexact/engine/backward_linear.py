r"""Reverse pass without replay, for neuron models whose flow is linear (LIF; docs/theory.md
3.3).

The reverse pass (``backward.py``) needs, per interval, the adjoint pulled back over it and the
derivative with respect to its length, ``g_dt = sum_n lam_n . F(z_n(end))``. For a linear
time-invariant flow ``dz/dt = A z`` the adjoint flows by ``exp(A dt)^T``, which commutes with
``A``, so the pairing ``P = sum_n lam_n . F(z_n)`` is the same at both ends of a flow: it is
``g_dt``. It changes only at events, by terms that need no state but the logged one:

* a current jump ``w`` (the weights of an input unit, or a spiking neuron's recurrent row):
  ``P_before = P_after + sum_n lam_n . (F(z_n) - F(z_n + w_n e_I))``, the derivative with
  respect to the jump's time (``jump_time_adjoint``, computed with ``dL/dW += lamI``). For the
  recurrent jumps the projections ``(a, b) = RT (lamV, lamI)`` give it per neuron: they pull
  back like ``lam`` and change by ``R[m]`` times the change of ``lam_m``, so a spike costs
  one pass over the neurons, not a dot product;
* the reset of the spiking neuron ``m`` erases ``lamV_m``: ``P`` loses its term at ``m``'s state
  after the reset (``V`` reset, the current at the spike from ``m``'s logged start state);
* the spike-time gradient ``lam_m += D grad dt*``: ``P`` gains ``D grad dt* . F(z_m)`` at ``m``'s
  logged state at the start of the interval.

``P`` starts from the logged state after the last event, and the interval factors come from
the log, so no checkpoint is read and nothing is replayed; the results do not depend on the
checkpoint spacing. They differ from the replaying pass by rounding (``P``, ``a`` and ``b``
accumulate theirs over the events): on five real samples of up to 14,142 events by at most
4.2e-14 of each array's largest entry, less than either pass's difference from the adjoint in
80-bit arithmetic (up to 2.3e-13; ``benchmarks/backward_accuracy.py``,
``reference/lif_layer_adjoint.py``, ``tests/test_backward_linear.py``).
"""
from snnexact.engine.jit import inner, leaf
from snnexact.engine.neurons import interface as model


@leaf
def reverse_linear(p, log_t, log_code, log_f, spike_VI, end_state, in_offsets, in_units, WT, RT,
                   R, T, mu, lamV, lamI, dWT, dRT, g_in, sensitivity, want_g_in, work, a, b):
    """``backward.backward_layer`` for a model with the linear-flow verbs. ``R = RT.T``
    (contiguous), ``work, a, b``: scratch of length N. ``P`` is ``lam . F(z)`` at the start of
    the interval after the current event; ``(a, b) = RT (lamV, lamI)`` (recurrent layers)."""
    N = lamV.shape[0]
    E = log_t.shape[0]
    recurrent = RT.shape[0] > 0
    sp = spike_VI.shape[0]
    # the last interval, from the last event to T (no spike at its end)
    x, s = model.interval_factors(p, T - (log_t[E - 1] if E > 0 else 0.0))
    model.adjoint_pullback(p, lamV, lamI, x, s)
    P = model.field_pairing(p, end_state, lamV, lamI, work)
    G = -P  # dL/d(time of the event that ends the interval below), from later dependence
    if recurrent:
        _project(RT, lamV, lamI, a, b)
    for e in range(E - 1, -1, -1):
        # ---- event e, between interval e and interval e + 1
        m = log_code[e]
        if m >= 0:
            sp -= 1
            G += mu[sp]
            if recurrent:  # the recurrent jump RT[m]: sum_n lam_n . A (0, RT[m, n])
                P -= model.neuron_field_pairing(p, a[m], b[m], 0.0, 1.0)
                _add_row(dRT[m], lamI)
                dRT[m, m] = 0.0  # no self-connection
            V0, I0 = spike_VI[sp, 0], spike_VI[sp, 1]
            Ve, Ie = model.flow_by_factors(p, V0, I0, log_f[e, 0], log_f[e, 1])
            reset_V = -lamV[m]  # the reset erases lamV[m]
            P += model.neuron_field_pairing(p, reset_V, 0.0, model.reset(p, Ve), Ie)
            lamV[m] = 0.0
        else:
            k = -1 - m
            for jj in range(in_offsets[k], in_offsets[k + 1]):
                d = model.jump_time_adjoint(p, dWT[in_units[jj]], WT[in_units[jj]], lamV, lamI)
                P += d
                if want_g_in:
                    g_in[jj] += d
            G = 0.0
        # ---- interval e, ending at event e: P is its g_dt
        g_dt = P
        x, s = log_f[e, 0], log_f[e, 1]
        if m >= 0:
            D = g_dt + G
            _, dt_dV0, dt_dI0 = model.spike_time_grad(p, V0, I0)
            if abs(dt_dV0) > sensitivity[0]:
                sensitivity[0] = abs(dt_dV0)
            dV, dI = D * dt_dV0, D * dt_dI0
            if recurrent:  # lam_m changes by the reset (pulled back) and, after, by (dV, dI)
                rV, rI = model.neuron_pullback(p, reset_V, 0.0, x, s)
                model.adjoint_pullback_projected(p, lamV, lamI, a, b, R[m], rV + dV, rI + dI,
                                                 x, s)
            else:
                model.adjoint_pullback(p, lamV, lamI, x, s)
            lamV[m] += dV
            lamI[m] += dI
            P += model.neuron_field_pairing(p, dV, dI, V0, I0)
        else:
            if recurrent:
                model.adjoint_pullback_projected(p, lamV, lamI, a, b, R[0], 0.0, 0.0, x, s)
            else:
                model.adjoint_pullback(p, lamV, lamI, x, s)
            G = -g_dt


@inner
def _project(RT, lamV, lamI, a, b):
    """``a = RT lamV``, ``b = RT lamI``."""
    for k in range(RT.shape[0]):
        a[k] = 0.0
        b[k] = 0.0
        for n in range(RT.shape[1]):
            a[k] += RT[k, n] * lamV[n]
            b[k] += RT[k, n] * lamI[n]


@inner
def _add_row(row, v):
    for n in range(row.shape[0]):
        row[n] += v[n]
