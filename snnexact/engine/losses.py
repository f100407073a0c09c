"""Readouts and losses with their exact derivatives (docs/theory.md section 5).

Every function here is a pure function of spike trains and parameters: it simulates nothing and
returns its value together with the exact derivatives a backward pass chains with
(vector-Jacobian products). Derivations are given in full below; notation as in docs/theory.md.

First-spike loss (spiking output layer)
---------------------------------------
``loss = -log softmax(-t / tau_r)[label] + gamma (exp(t_label / T) - 1)``, with
``p = softmax(-t / tau_r)``::

    dloss/dt_o = (delta_{o,label} - p_o) / tau_r + delta_{o,label} gamma exp(t_label / T) / T

Non-spiking leaky readout
-------------------------
Readout neuron ``o`` integrates the hidden spikes ``(t_j, i_j)`` with ``0 <= t_j < T``::

    u_o(t) = sum_j W[o, i_j] k(t - t_j),   k(d) = x - x^2,  x = exp(-d / tau)  (k = 0 for d < 0)

the LIF membrane with ``tau_s = tau / 2`` from rest, kicked by the weight, without threshold.
``k(0) = 0``, ``k'(0+) = 1/tau``, ``k'(d) = x (2x - 1) / tau``, peak ``1/4`` at ``x = 1/2``.
Spikes at ``t >= T`` cannot act inside the trial and are ignored (their derivatives are 0).

*Max-voltage readout* (``logits_o = max_{t in [0, T]} u_o(t)``). Spikes sharing a time stamp form
one event. On piece ``k``, from event time ``tau_k`` to the next event (or ``T``), with ``V, I``
the membrane and current just after event ``k``::

    u(t) = A x - B x^2,   A = V + I,  B = I,  x = exp(-(t - tau_k) / tau) in [x_end, 1]

(evaluated as ``V x + I x (1 - x)``, which does not cancel). The maximum over the piece is at
an end point or, if ``B > 0`` and ``x_end < x* < 1``, at the vertex ``x* = A / (2B)`` with value
``A^2 / (4B) = A x* / 2`` (computed in the second form, which cannot under- or overflow
through ``A^2``). The candidates are ``u(0) = 0``, the value at every event time, every vertex and
``u(T)``; the first candidate with the largest value wins (strict ``>``), so ties go to the earlier
time. The argmax is recorded as (piece, kind) with kind

- ``ARGMAX_ZERO``: ``u_o <= 0`` on the whole trial; the logit is ``u(0) = 0`` whatever the
  parameters, derivatives 0;
- ``ARGMAX_VERTEX``: interior maximum of piece ``k`` at ``t* = tau_k - tau ln x*``;
- ``ARGMAX_END``: ``t* = T``, the end of the last piece;
- ``ARGMAX_EVENT``: ``t* = tau_k``, an event time (a kink of ``u``: the event changes ``u'`` by
  ``w / tau``, so this is the maximum of a rise followed by a fall, i.e. after an inhibitory event).

Derivatives. The vertex value ``A^2/(4B)`` has ``d(A^2/4B) = x* dA - x*^2 dB``: the partial
derivatives of ``A x - B x^2`` at ``x = x*`` (envelope theorem; the stationarity of ``x*``
removes ``dx*``). As ``A = sum_{t_j <= tau_k} w_j e_j``, ``B = sum w_j e_j^2`` with
``e_j = exp(-(tau_k - t_j) / tau)``, this is the derivative of ``u(t*)`` at FIXED ``t*``::

    dlogit_o/dW[o, i] = sum_{j: i_j = i, t_j <= t*} k(t* - t_j)
    dlogit_o/dt_j     = -W[o, i_j] k'(t* - t_j)

and the same formula holds for ``ARGMAX_END`` (``t* = T`` is fixed). For ``ARGMAX_EVENT`` the
location moves with the event: ``u(tau_k) = sum_{t_j < tau_k} w_j k(tau_k - t_j)`` (the spikes at
``tau_k`` add ``k(0) = 0``), so the spikes before ``tau_k`` get the fixed-``t*`` formula and the
event time gets ``u'(tau_k^-) = sum_{t_j < tau_k} w_j k'(tau_k - t_j)``, the one-sided slope of
the piece that ENDS at the argmax. This is the true derivative when the kink is a strict maximum
(``u'(tau_k^-) > 0 > u'(tau_k^+)``), where the logit is a smooth function of all parameters; it
is also the limit from the side on which the maximum is a vertex of the left piece sliding into
its end. When several spikes share the argmax event, each of them is given an equal share of
``u'(tau_k^-)`` (the sum is the derivative of moving the event as a whole; a single spike of a
tie has no derivative). Everywhere else the logit is smooth in ``W`` and the spike times while
the argmax piece and kind stay the same; a change of the argmax piece is a kink, as in relu, and
a vertex moving into a piece end is continuous with a continuous first derivative.

*Integral readout* (``logits_o = int_0^T u_o(t) exp(-t/T) dt``, EventProp's loss shaping) is
linear in ``W``: ``logits_o = sum_j W[o, i_j] K(t_j)`` with, for ``D = T - t >= 0``,
``a1 = 1/tau + 1/T``, ``a2 = 2/tau + 1/T``, ``E_m = 1 - exp(-a_m D)``::

    K(t)  = int_t^T k(s - t) exp(-s/T) ds = exp(-t/T) [E_1 / a1 - E_2 / a2]
    K'(t) = exp(-t/T) [E_1 / (a1 tau) - 2 E_2 / (a2 tau)]

(``K'`` by differentiating under the integral, using ``k(0) = 0``). ``K(T) = K'(T) = 0``, so a
spike that leaves the trial through ``T`` changes the logits continuously and differentiably.

Cross-entropy: ``loss = logsumexp(z) - z_label``, ``dloss/dz = softmax(z) - onehot(label)``.

Chaining, e.g. max readout -> cross-entropy -> gradients of the readout weights and of the hidden
spike times (which the network's backward pass takes from here)::

    >>> import numpy as np
    >>> from snnexact.engine.losses import max_voltage_readout, cross_entropy
    >>> W = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> r = max_voltage_readout([0.1, 0.3], [0, 1], W, tau=0.1, T=1.0)
    >>> r.logits            # one kick w peaks at w / 4
    array([0.25, 0.5 ])
    >>> ce = cross_entropy(r.logits, label=1)
    >>> grad = r.vjp(ce.dloss_dlogits)
    >>> grad.dW.shape, grad.dtimes.shape
    ((2, 2), (2,))

Activity regulariser
--------------------
Spike counts are piecewise constant in the parameters: their gradient is zero wherever it exists.
``rate_regulariser`` therefore penalises the *time-averaged cumulative spike count*::

    c_n = (1/T) int_0^T N_n(t) dt = sum_{j: i_j = n, t_j < T} (1 - t_j / T)

which counts a spike at ``t = 0`` fully and one at ``T`` not at all. It equals the count times
``1 - (mean spike time)/T``, is continuous when a spike enters or leaves the trial through ``T``
(the only way a QIF spike can, docs/theory.md 1.2), and ``dc_n/dt_j = -1/T``: lowering it moves the
spikes of an over-active neuron later, towards and out of the end of the trial. The loss is a
squared hinge on a band ``[lower, upper]`` (lower bound per neuron, upper bound per neuron),
averaged over neurons::

    loss = strength * mean_n [relu(c_n - upper)^2 + relu(lower - c_n)^2]
    dloss/dt_j = -(2 strength / (N T)) [relu(c_n - upper) - relu(lower - c_n)],   n = i_j

A neuron without spikes in the trial has ``c_n = 0`` and no spike time to move: its lower-bound
penalty has no gradient with respect to spike times (a silent QIF neuron gets gradients only
through pseudospikes, docs/theory.md section 4, which lie after ``T`` and are ignored here).
"""
from dataclasses import dataclass, field
import math
import numbers

import numpy as np

from snnexact.checks import real_array
from snnexact.engine.jit import jit
from snnexact.engine.events import check_spike_train, merge_ties

ARGMAX_ZERO = 0    # max is u(0) = 0 (u <= 0 everywhere): no gradient
ARGMAX_EVENT = 1   # max at an event time (kink)
ARGMAX_VERTEX = 2  # interior maximum of a piece
ARGMAX_END = 3     # max at t = T

__all__ = ["first_spike_loss", "cross_entropy", "max_voltage_readout", "integral_readout",
           "rate_regulariser", "FirstSpikeLoss", "CrossEntropy", "MaxVoltageReadout",
           "IntegralReadout", "ReadoutGradient", "RateRegularisation", "ARGMAX_ZERO",
           "ARGMAX_EVENT", "ARGMAX_VERTEX", "ARGMAX_END"]


# ----------------------------------------------------------------------------- validation

def _real_scalar(name, value, *, positive=False, nonnegative=False, allow_inf=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _real_array(name, a, ndim):
    return real_array(name, a, ndim=ndim)


def _label(label, n):
    if isinstance(label, bool) or not isinstance(label, numbers.Integral):
        raise TypeError(f"label must be an integer, got {type(label).__name__}")
    label = int(label)
    if not 0 <= label < n:
        raise ValueError(f"label = {label} is outside [0, {n})")
    return label


def _spike_train(times, units, n_units, T, units_name="units", n_units_name="W.shape[1]"):
    """Validated float64 ``times`` and int64 ``units`` (sorted, finite, >= 0, in range) and the
    number ``n`` of spikes with ``t < T`` (a prefix, as the times are sorted)."""
    t, u = check_spike_train(times, units, n_units, "times", units_name,
                             f"[0, {n_units}) ({n_units_name} = {n_units})")
    return t, u, int(np.searchsorted(t, T, side="left"))


def _readout_args(times, units, W, tau, T, check=True):
    """``(times, units, n, W, tau, T)`` for a readout; ``check=False`` trusts arrays the
    simulator made (float64 times sorted in ``[0, inf)``, int64 units in range, a float64
    ``W``) and only counts the spikes before ``T`` (the checks cost about a tenth of a
    millisecond per SHD-size sample in training)."""
    if not check:
        return times, units, int(np.searchsorted(times, T, side="left")), W, float(tau), float(T)
    W = _real_array("W", W, 2)
    tau = _real_scalar("tau", tau, positive=True)
    T = _real_scalar("T", T, positive=True)
    t, u, n = _spike_train(times, units, W.shape[1], T)
    return t, u, n, W, tau, T


def _cotangent(g, n_out):
    g = _real_array("g", g, 1)
    if g.shape != (n_out,):
        raise ValueError(f"g must have shape ({n_out},) like the logits, got {g.shape}")
    return g


# ----------------------------------------------------------------------------- first-spike loss

@dataclass(frozen=True, eq=False)
class FirstSpikeLoss:
    """``loss`` (float), ``dloss_dt`` (n_out,) and ``prediction`` (argmin of the times)."""

    loss: float
    dloss_dt: np.ndarray
    prediction: int


def first_spike_loss(t_first, label, tau_r, T, gamma):
    """First-spike-time loss of a spiking output layer (Klos & Memmesheimer).

    ``t_first``: (n_out,) first spike time of each output neuron, already replaced by a
    pseudospike time (or ``T``) by the caller for silent neurons.
    ``loss = -log softmax(-t / tau_r)[label] + gamma (exp(t_label / T) - 1)``; the last term
    continues linearly beyond ``t_label = PENALTY_LINEAR_FROM T`` (``_time_penalty``).
    """
    t = _real_array("t_first", t_first, 1)
    if t.size == 0:
        raise ValueError("t_first must hold at least one output neuron")
    label = _label(label, t.size)
    tau_r = _real_scalar("tau_r", tau_r, positive=True)
    T = _real_scalar("T", T, positive=True)
    gamma = _real_scalar("gamma", gamma, nonnegative=True)
    z = -t / tau_r
    zmax = z.max()
    e = np.exp(z - zmax)
    s = e.sum()
    p = e / s
    ce = zmax + math.log(s) - z[label]                  # -log softmax(z)[label]
    reg, dreg = _time_penalty(t[label] / T)
    loss = ce + gamma * reg
    grad = p / -tau_r                                     # d ce / dt = (p - onehot) * dz/dt
    grad[label] += 1.0 / tau_r + gamma * dreg / T
    return FirstSpikeLoss(float(loss), grad, int(np.argmin(t)))


PENALTY_LINEAR_FROM = 20.0  # t/T beyond which exp(t/T) - 1 is continued by its tangent line


def _time_penalty(r):
    """``exp(r) - 1`` and its derivative for ``r = t_label / T <= PENALTY_LINEAR_FROM``; beyond,
    the tangent line at ``PENALTY_LINEAR_FROM`` (value and slope continuous), so that a label
    pseudospike far after ``T`` (possible for very short trials, where ``t/T`` reaches
    thousands) gives a large but finite loss and gradient instead of an overflow. Only
    pseudospikes can lie there: ordinary spikes have ``t < T``."""
    if r <= PENALTY_LINEAR_FROM:
        return math.expm1(r), math.exp(r)
    e = math.exp(PENALTY_LINEAR_FROM)
    return math.expm1(PENALTY_LINEAR_FROM) + e * (r - PENALTY_LINEAR_FROM), e


# ----------------------------------------------------------------------------- cross-entropy

@dataclass(frozen=True, eq=False)
class CrossEntropy:
    """``loss`` (float), ``dloss_dlogits`` (n_out,) and ``prediction`` (argmax of the logits)."""

    loss: float
    dloss_dlogits: np.ndarray
    prediction: int


def cross_entropy(logits, label):
    """``-log softmax(logits)[label]``, computed stably, with ``softmax(logits) - onehot``."""
    z = _real_array("logits", logits, 1)
    if z.size == 0:
        raise ValueError("logits must hold at least one class")
    label = _label(label, z.size)
    zmax = z.max()
    e = np.exp(z - zmax)
    s = e.sum()
    grad = e / s
    loss = zmax + math.log(s) - z[label]
    grad[label] -= 1.0
    return CrossEntropy(float(loss), grad, int(np.argmax(z)))


# ----------------------------------------------------------------------------- readout results

@dataclass(frozen=True, eq=False)
class ReadoutGradient:
    """VJP of a readout: ``dW`` (n_out, n_hidden) and ``dtimes`` (one per input spike, 0 for
    spikes at ``t >= T``)."""

    dW: np.ndarray
    dtimes: np.ndarray


@dataclass(frozen=True, eq=False)
class _Spikes:
    times: np.ndarray    # all validated spike times (sorted)
    units: np.ndarray
    n: int               # spikes with t < T: times[:n]
    W: np.ndarray
    tau: float
    T: float


@dataclass(frozen=True, eq=False)
class MaxVoltageReadout:
    """Max-over-time readout. ``logits`` (n_out,); per output the argmax time ``t_max``, the
    merged event ``argmax_piece`` whose piece holds it (-1 for ``ARGMAX_ZERO``) and
    ``argmax_kind`` (``ARGMAX_ZERO/EVENT/VERTEX/END``). ``vjp(g)`` returns a ``ReadoutGradient``."""

    logits: np.ndarray
    t_max: np.ndarray
    argmax_piece: np.ndarray
    argmax_kind: np.ndarray
    _spikes: _Spikes = field(repr=False)
    _event_times: np.ndarray = field(repr=False)
    _offsets: np.ndarray = field(repr=False)
    _xloc: np.ndarray = field(repr=False)

    def vjp(self, g):
        """``dL/dW`` and ``dL/dtimes`` given ``g = dL/dlogits``."""
        sp = self._spikes
        g = _cotangent(g, self.logits.size)
        dW = np.zeros_like(sp.W)
        dtimes = np.zeros(sp.times.size)
        _max_vjp(g, sp.times, sp.units, self._event_times, self._offsets, sp.W, sp.tau,
                 self.argmax_piece, self.argmax_kind, self._xloc, dW, dtimes, np.empty(sp.n))
        return ReadoutGradient(dW, dtimes)


@dataclass(frozen=True, eq=False)
class IntegralReadout:
    """Time-integral readout. ``logits`` (n_out,), ``kernel`` = ``K(t_j)`` per spike (0 for
    ``t_j >= T``). ``vjp(g)`` returns a ``ReadoutGradient``."""

    logits: np.ndarray
    kernel: np.ndarray
    _spikes: _Spikes = field(repr=False)
    _kernel_dt: np.ndarray = field(repr=False)
    _unit_kernel: np.ndarray = field(repr=False)

    def vjp(self, g):
        """``dL/dW`` and ``dL/dtimes`` given ``g = dL/dlogits``."""
        sp = self._spikes
        g = _cotangent(g, self.logits.size)
        dW = np.outer(g, self._unit_kernel)            # logits = W @ unit_kernel
        gW = g @ sp.W                                  # (n_hidden,)
        dtimes = gW[sp.units] * self._kernel_dt
        return ReadoutGradient(dW, dtimes)


# ----------------------------------------------------------------------------- max readout

@jit
def _max_forward(ev_t, offsets, units, W, tau, T, logits, piece, kind, xloc, t_max):
    """One pass over the merged events; V, I per output at the start of each piece."""
    n_out = W.shape[0]
    n_ev = ev_t.shape[0]
    V = np.zeros(n_out)
    I = np.zeros(n_out)
    for o in range(n_out):
        logits[o] = 0.0
        piece[o] = -1
        kind[o] = 0          # ARGMAX_ZERO
        xloc[o] = 1.0
        t_max[o] = 0.0
    for k in range(n_ev):
        for j in range(offsets[k], offsets[k + 1]):
            i = units[j]
            for o in range(n_out):
                I[o] += W[o, i]
        last = k + 1 == n_ev
        t_end = T if last else ev_t[k + 1]
        x_end = math.exp(-(t_end - ev_t[k]) / tau)
        for o in range(n_out):
            v = V[o]
            c = I[o]
            if v > logits[o]:                     # u at the event time (start of piece k)
                logits[o] = v
                piece[o] = k
                kind[o] = 1                       # ARGMAX_EVENT
                xloc[o] = 1.0
                t_max[o] = ev_t[k]
            if c > 0.0:
                a = v + c                         # u = a x - c x^2
                xs = a / (2.0 * c)
                if x_end < xs < 1.0:
                    val = 0.5 * a * xs            # = a^2 / (4c), without squaring a
                    if val > logits[o]:
                        logits[o] = val
                        piece[o] = k
                        kind[o] = 2               # ARGMAX_VERTEX
                        xloc[o] = xs
                        t_max[o] = ev_t[k] - tau * math.log(xs)
            ve = v * x_end + c * x_end * (1.0 - x_end)   # = (v + c) x - c x^2
            if last and ve > logits[o]:
                logits[o] = ve
                piece[o] = k
                kind[o] = 3                       # ARGMAX_END
                xloc[o] = x_end
                t_max[o] = T
            V[o] = ve
            I[o] = c * x_end * x_end


# spikes per anchor of the decay factors that the outputs of the max readout's vjp share
DECAY_BLOCK = 32


@jit
def _max_vjp(g, times, units, ev_t, offsets, W, tau, piece, kind, xloc, dW, dtimes, shared):
    """Accumulate g_o * dlogit_o / d(W, times) for every output (see the module docstring).

    The decay ``e = x* exp(-(tau_k - t_j) / tau)`` of spike ``j`` at output ``o``'s argmax is
    split at the last spike ``a_b`` of each full block of ``DECAY_BLOCK`` spikes, as
    ``x* exp(-(tau_k - a_b) / tau) * exp(-(a_b - t_j) / tau)``; the second factor, the same for
    every output, is computed once (into ``shared``). Both exponents are <= 0 (no overflow); the
    product differs from the direct form by the rounding of the time differences (relative
    ``~ ulp(t) / tau``, as the direct form's own), and the spikes after the last full block
    below ``o``'s argmax keep the direct form. One exponential per spike and one per block and
    output, instead of one per spike and output."""
    n_out = W.shape[0]
    B = DECAY_BLOCK
    n_shared = 0  # spikes in full blocks below the latest argmax
    for o in range(n_out):
        if kind[o] != 0 and g[o] != 0.0:
            n_shared = max(n_shared, offsets[piece[o] + 1] - offsets[piece[o] + 1] % B)
    for b0 in range(0, n_shared, B):
        a = times[b0 + B - 1]
        for j in range(b0, b0 + B):
            shared[j] = math.exp(-(a - times[j]) / tau)
    for o in range(n_out):
        go = g[o]
        if kind[o] == 0 or go == 0.0:
            continue
        k = piece[o]
        tk = ev_t[k]
        xl = xloc[o]
        stop = offsets[k + 1]
        full = stop - stop % B
        moving = offsets[k] if kind[o] == 1 else stop   # spikes at the argmax event
        slope = 0.0                                      # u'(t*^-) for ARGMAX_EVENT
        c = 0.0
        for j in range(stop):
            if j < full:
                if j % B == 0:
                    c = xl * math.exp(-(tk - times[j + B - 1]) / tau)
                e = c * shared[j]                        # x of spike j at t*
            else:
                e = xl * math.exp(-(tk - times[j]) / tau)
            i = units[j]
            w = W[o, i]
            dW[o, i] += go * (e - e * e)                 # k(t* - t_j)
            if j < moving:
                kp = e * (2.0 * e - 1.0) / tau           # k'(t* - t_j)
                dtimes[j] -= go * w * kp
                slope += w * kp
        if moving < stop:
            share = go * slope / (stop - moving)
            for j in range(moving, stop):
                dtimes[j] += share


def max_voltage_readout(times, units, W, tau, T, *, check=True):
    """``logits_o = max over t in [0, T] of u_o(t)`` for the leaky readout of the hidden spikes
    ``(times, units)`` with weights ``W`` (n_out, n_hidden); exact closed form per piece.

    Returns a ``MaxVoltageReadout``; ``.vjp(g)`` gives ``dL/dW`` and ``dL/dtimes``. Cost
    O(spikes x n_out) for both. ``check=False`` skips the validation of the arguments, for
    spikes and weights that are valid by construction (a simulation's output).
    """
    t, u, n, W, tau, T = _readout_args(times, units, W, tau, T, check)
    ev_t, offsets = merge_ties(t[:n])
    n_out = W.shape[0]
    logits = np.empty(n_out)
    piece = np.empty(n_out, np.int64)
    kind = np.empty(n_out, np.int64)
    xloc = np.empty(n_out)
    t_max = np.empty(n_out)
    _max_forward(ev_t, offsets, u[:n], W, tau, T, logits, piece, kind, xloc, t_max)
    return MaxVoltageReadout(logits, t_max, piece, kind, _Spikes(t, u, n, W, tau, T), ev_t,
                             offsets, xloc)


# ----------------------------------------------------------------------------- integral readout

@jit
def _integral_kernel(times, n, tau, T, t_end, K, dK):
    """K(t_j) and K'(t_j) for the first n spikes (t < t_end); 0 for the rest."""
    a1 = 1.0 / tau + 1.0 / T
    a2 = 2.0 / tau + 1.0 / T
    for j in range(times.shape[0]):
        if j >= n:
            K[j] = 0.0
            dK[j] = 0.0
            continue
        D = t_end - times[j]
        f = math.exp(-times[j] / T)
        q1 = -math.expm1(-a1 * D) / a1          # int_0^D exp(-a1 s) ds
        q2 = -math.expm1(-a2 * D) / a2
        K[j] = f * (q1 - q2)
        dK[j] = f * (q1 - 2.0 * q2) / tau


def integral_readout(times, units, W, tau, T, t_end=None, *, check=True):
    """``logits_o = int_0^t_end u_o(t) exp(-t/T) dt = sum_j W[o, i_j] K(t_j)`` (closed form, see
    the module docstring; ``t_end`` defaults to ``T``, a later one is the readout window of
    ``gradients.py``). Returns an ``IntegralReadout``; ``.vjp(g)`` gives ``dL/dW``, ``dL/dtimes``.
    ``check=False``: as for ``max_voltage_readout``.
    """
    T = _real_scalar("T", T, positive=True) if check else float(T)
    t_end = T if t_end is None else t_end
    t, u, n, W, tau, t_end = _readout_args(times, units, W, tau, t_end, check)
    K = np.empty(t.size)
    dK = np.empty(t.size)
    _integral_kernel(t, n, tau, T, t_end, K, dK)
    unit_kernel = np.bincount(u, weights=K, minlength=W.shape[1])   # sum of K per hidden unit
    logits = W @ unit_kernel
    return IntegralReadout(logits, K, _Spikes(t, u, n, W, tau, T), dK, unit_kernel)


# ----------------------------------------------------------------------------- regulariser

@dataclass(frozen=True, eq=False)
class RateRegularisation:
    """``loss``; per neuron ``soft_counts`` c_n (time-averaged cumulative count) and plain
    ``counts`` (spikes with t < T; no gradient); ``dloss_dtimes`` per input spike."""

    loss: float
    soft_counts: np.ndarray
    counts: np.ndarray
    dloss_dtimes: np.ndarray


def rate_regulariser(times, units, n_neurons, T, *, lower=0.0, upper=math.inf, strength=1.0):
    """Squared-hinge band ``[lower, upper]`` on each neuron's time-averaged cumulative spike
    count ``c_n = sum_{t_j < T} (1 - t_j / T)``, averaged over the ``n_neurons`` neurons and
    scaled by ``strength``. See the module docstring for why not the counts themselves."""
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, numbers.Integral):
        raise TypeError(f"n_neurons must be an integer, got {type(n_neurons).__name__}")
    n_neurons = int(n_neurons)
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be >= 1, got {n_neurons}")
    T = _real_scalar("T", T, positive=True)
    lower = _real_scalar("lower", lower, nonnegative=True)
    upper = _real_scalar("upper", upper, nonnegative=True, allow_inf=True)
    if upper < lower:
        raise ValueError(f"upper = {upper} must be >= lower = {lower}")
    strength = _real_scalar("strength", strength, nonnegative=True)
    t, u, n = _spike_train(times, units, n_neurons, T, n_units_name="n_neurons")
    soft = np.bincount(u[:n], weights=1.0 - t[:n] / T, minlength=n_neurons)
    counts = np.bincount(u[:n], minlength=n_neurons)
    over = np.maximum(soft - upper, 0.0)
    under = np.maximum(lower - soft, 0.0)
    loss = strength * float(np.mean(over * over + under * under))
    dsoft = strength * 2.0 * (over - under) / n_neurons       # dloss / dc_n
    dtimes = np.zeros(t.size)
    dtimes[:n] = -dsoft[u[:n]] / T
    return RateRegularisation(loss, soft, counts, dtimes)
