"""Extended-precision twin of the reverse pass over one LIF layer (tau_s = tau_m / 2), for
``snnexact/engine/backward.py`` (the replaying pass) and ``backward_linear.py`` (the pass
without states).

NumPy ``longdouble`` (80-bit on x86: 64-bit mantissa, about 3.3 more decimal digits than
float64); never imports snnexact. Given the event order and times of a simulated layer, it
recomputes every state after each event from the initial state with the closed-form flow
``V = (V0 + I0) x - I0 x^2``, ``I = I0 x^2``, ``x = exp(-dt/tau)``, then runs the discrete adjoint
in its textbook form: per interval ``g_dt = sum_n lam_n . F(z_n(end))`` from the recomputed end
states, the transposed flow Jacobian, and at a spike of ``m`` the implicit-function gradient of
its crossing ``x* = ((V0 + I0) + sqrt(D)) / (2 I0)`` (the explicit root, not the kernels'
cancellation-free ``s*``), ``d(dt*)/dV0 = -x*/Vdot*``, ``d(dt*)/dI0 = -(x* - x*^2)/Vdot*``,
``tau Vdot* = I0 x*^2 - theta``. Where ``longdouble`` is plain float64 (some platforms) it is
no more precise than the kernels: ``EXTENDED`` says which.
"""
import numpy as np

LD = np.longdouble
EXTENDED = np.finfo(LD).eps < 1e-18


def _states(times, codes, input_offsets, input_units, V0, I0, WT, RT, tau):
    """``z[e]`` = ``(V, I)`` after ``e`` events (``z[0]`` the initial state)."""
    E = len(times)
    z = np.empty((E + 1, 2, len(V0)), LD)
    z[0, 0], z[0, 1] = V0, I0
    t_prev = LD(0)
    for e in range(E):
        x = np.exp(-(times[e] - t_prev) / tau)
        V, I = z[e]
        I = I * x * x
        V = (z[e, 0] + z[e, 1]) * x - I
        code = codes[e]
        if code >= 0:
            V[code] = 0
            if len(RT):  # recurrent
                I = I + RT[code]
        else:
            for u in input_units[input_offsets[-1 - code]:input_offsets[-code]]:
                I = I + WT[u]
        z[e + 1, 0], z[e + 1, 1] = V, I
        t_prev = times[e]
    return z


def _spike_time_grad(V0, I0, tau, theta):
    x = ((V0 + I0) + np.sqrt((V0 + I0) ** 2 - 4 * I0 * theta)) / (2 * I0)
    vdot = (I0 * x * x - theta) / tau
    return -x / vdot, -(x - x * x) / vdot


def lif_layer_adjoint(times, codes, input_offsets, input_units, V0, I0, WT, RT, tau, theta, T,
                      mu, lamV, lamI):
    """``(lamV, lamI, dWT, dRT, g_in)`` as float64: the adjoint at ``t = 0``, the gradients of
    the transposed weights ``WT`` (n_in, N) and ``RT`` (N, N, zero diagonal; (0, N) without
    recurrence) and of the input spike times, for ``dL/d(spike i's time) = mu[i]`` and ``dL/d(V, I)(T) = (lamV, lamI)``.
    ``codes[e] >= 0``: neuron ``codes[e]`` spiked at ``times[e]``; ``-1 - k``: input event
    ``k``, units ``input_units[input_offsets[k]:input_offsets[k + 1]]``."""
    tau, theta = LD(tau), LD(theta)
    times = np.asarray(times, LD)
    WT, RT = np.asarray(WT, LD), np.asarray(RT, LD)
    z = _states(times, codes, input_offsets, input_units, np.asarray(V0, LD),
                np.asarray(I0, LD), WT, RT, tau)
    E = len(times)
    lamV, lamI = np.array(lamV, LD), np.array(lamI, LD)
    dWT, dRT = np.zeros(WT.shape, LD), np.zeros(RT.shape, LD)
    g_in = np.zeros(len(input_units), LD)
    sp = int(np.sum(np.asarray(codes) >= 0))
    G = LD(0)  # dL/d(time of the event that ends the current interval), from later intervals
    for e in range(E, -1, -1):
        t0 = LD(0) if e == 0 else times[e - 1]
        t1 = LD(T) if e == E else times[e]
        m = codes[e] if e < E else -1
        x = np.exp(-(t1 - t0) / tau)
        Vs, Is = z[e]
        I = Is * x * x
        V = (Vs + Is) * x - I
        if m >= 0:
            lamV[m] = 0  # the reset at the end erases it
        g_dt = np.sum(lamV * (I - V) - 2 * lamI * I) / tau
        lamV, lamI = lamV * x, lamV * (x - x * x) + lamI * x * x
        if m >= 0:
            dV0, dI0 = _spike_time_grad(Vs[m], Is[m], tau, theta)
            lamV[m] += (g_dt + G) * dV0
            lamI[m] += (g_dt + G) * dI0
        else:
            G = -g_dt
        if e == 0:
            break
        code = codes[e - 1]
        if code >= 0:
            sp -= 1
            G += LD(mu[sp])
            if len(RT):
                dRT[code] += lamI
                dRT[code, code] = 0
            lamV[code] = 0
        else:
            work = (2 * lamI - lamV) / tau
            for j in range(input_offsets[-1 - code], input_offsets[-code]):
                dWT[input_units[j]] += lamI
                g_in[j] += np.sum(work * WT[input_units[j]])
            G = LD(0)
    return tuple(np.asarray(a, np.float64) for a in (lamV, lamI, dWT, dRT, g_in))
