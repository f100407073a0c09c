"""Exact event-driven forward simulation (docs/theory.md section 2).

Layers are simulated one after the other: the spikes of layer ``l`` are the input events of
layer ``l + 1``. Within a layer one event loop serves feed-forward and recurrent layers alike:

1. the next input event closes the current interval ``(t, t_end]``;
2. one branch-free sweep flows every neuron to ``t_end`` with shared factors and flags the
   neurons that may spike inside the interval (the model's ``sweep``);
3. the earliest exact spike time of the flagged neurons (if any) becomes an event (each costs
   a cheap key; only keys within rounding of the smallest cost the exact time:
   ``earliest_spike``): every neuron is flowed to it exactly, the spiking neuron is reset, its
   recurrent weights are added and the sweep to ``t_end`` repeats from that time (the model's
   ``spike_sweep``, one pass for LIF); then the search repeats;
4. otherwise the sweep's end states are committed and the input weights are added.

Tie rules: inputs with equal time stamps form one event; a network spike at the time of an
input event comes first; among equal spike times the lower neuron index comes first; a spike at
exactly ``T`` (or later) lies outside the trial.

The event log of each layer (event times, codes ``-1 - k`` for input event ``k`` or the index of
the spiking neuron, each interval's factors, the state of each spiking neuron at the start of its
interval, the state after the last event, and the full layer state every ``checkpoint_every``
events) takes memory proportional to the number of events and lets the backward pass recompute
any state (a model with a linear flow needs none: ``backward_linear.py``). When a
backward pass follows, a layer whose every state fits in ``STORED_STATES_BYTES`` keeps them all
(``checkpoint_every = 1``), so the backward pass reads its states instead of replaying them;
otherwise a layer keeps one state every ``n`` events (``n`` neurons), replayed segment by
segment.
"""
from dataclasses import dataclass
import math
import sys
import warnings

from numba.cpython.unsafe.numbers import trailing_zeros
import numpy as np

from snnexact.engine.jit import inner, leaf
from snnexact.engine.events import check_input, merge_ties
from snnexact.engine.network import Network
from snnexact.engine.scratch import scratch
from snnexact.engine.neurons import interface as model

STATUS_OK = 0
STATUS_BUDGET = 1
# a layer keeps every state when its log of states can take at most this many bytes (a 20-neuron
# output layer: about 2 MB; a 128-neuron hidden layer with its default budget: 44 MB, replayed)
STORED_STATES_BYTES = 4_000_000


class SpikeBudgetWarning(RuntimeWarning):
    """A layer hit its spike budget; its results end at ``t_stop``."""


# ----------------------------------------------------------------------------- event maps
# Built from the neuron-model interface (neurons/interface.py): each compiles once per model.

@inner
def add_input_event(p, S, k, in_offsets, in_units, WT):
    """The jump of input event ``k``: the weight columns of its units, added in order."""
    for j in range(in_offsets[k], in_offsets[k + 1]):
        model.add_current(p, S, WT[in_units[j]])


@inner
def replay(p, states, flags, log_t, log_code, log_f, a, b, in_offsets, in_units, WT, RT):
    """Recompute the layer states after events ``a..b-1`` with the forward's own operations and
    the interval factors it logged (``log_f``), so they equal the forward's bit for bit:
    ``states[j]`` = the state after ``a + j`` events, from ``states[0]`` (given: the state after
    ``a`` events). ``flags``: scratch.

    An inner kernel, like ``flow_to_end``: Numba compiles a verb once per set of caller flags,
    and the verbs call ``event_flow`` too (``composed.spike_sweep``), so a kernel with a
    CPython wrapper calling it directly would compile it a second time."""
    for e in range(a, b):
        j = e - a
        code = log_code[e]
        model.event_flow(p, states[j], states[j + 1], flags, log_f[e, 0], log_f[e, 1], code, RT)
        if code < 0:
            add_input_event(p, states[j + 1], -1 - code, in_offsets, in_units, WT)


@leaf
def replay_states(p, states, flags, log_t, log_code, log_f, a, b, in_offsets, in_units, WT, RT):
    """``replay``, callable from Python."""
    replay(p, states, flags, log_t, log_code, log_f, a, b, in_offsets, in_units, WT, RT)


@inner
def flow_to_end(p, S, out, flags, x, s, RT):
    """The flow of every neuron of ``S`` by ``(x, s)`` into ``out`` with no event at its end
    (``event_flow`` with ``m = -1``), for kernels with a CPython wrapper (see ``replay``)."""
    model.event_flow(p, S, out, flags, x, s, -1, RT)


# ----------------------------------------------------------------------------- event loop

@inner
def copy_state(dst, src):
    """``dst[:] = src`` as loops (a slice assignment would compile Numba's shape-error
    formatting: seconds of cold start)."""
    for r in range(src.shape[0]):
        for n in range(src.shape[1]):
            dst[r, n] = src[r, n]


def default_checkpoint_every(rows, n, max_events, state_bytes):
    """``1`` (keep every state: no replay in the backward pass) if ``max_events + 1`` states of
    ``rows x n`` floats take at most ``state_bytes``, else ``max(n, 16)``: one state per ``n``
    events, so the checkpoints take about as much memory as the event log itself."""
    if (max_events + 1) * rows * n * 8 <= state_bytes:
        return 1
    return max(n, 16)


def run_layer(p, ev_times, ev_offsets, ev_units, WT, RT, T, budget, V0, I0, checkpoint_every,
              state_bytes):
    """Simulate one layer over ``[0, T]`` from the voltages ``V0`` and currents ``I0``; see the
    module docstring. ``checkpoint_every = 0`` picks the spacing by ``default_checkpoint_every``
    with ``state_bytes``. Returns spikes, the final ``V`` and ``I``, the event log, the spacing
    used, input events processed, status and stop time. The buffers are allocated here, in
    Python, so that the compiled ``event_loop`` is a leaf kernel (jit.py)."""
    N = V0.shape[0]
    rows = model.state_rows(p)
    max_log = ev_times.shape[0] + budget
    K = checkpoint_every or default_checkpoint_every(rows, N, max_log, state_bytes)
    S = np.empty((rows, N))
    # copied out at the end: per-thread work buffers (scratch.py), no fresh pages per call
    spike_t = scratch("run_layer.spike_t", (budget,))
    spike_n = scratch("run_layer.spike_n", (budget,), np.int64)
    log_t = scratch("run_layer.log_t", (max_log,))
    log_code = scratch("run_layer.log_code", (max_log,), np.int64)
    spike_VI = np.empty((budget, 2))
    log_f = np.empty((max_log, 2))
    ckpt = np.empty((max_log // K + 1, rows, N))
    end_state = np.empty((rows, N))
    V, I = np.empty(N), np.empty(N)
    flags, words = flag_buffers(N)
    n_log, n_spk, k, status, t_stop = event_loop(
        p, ev_times, ev_offsets, ev_units, WT, RT, T, V0, I0, S, np.empty_like(S), flags, words,
        np.empty(N), np.empty(N, np.int64), spike_t, spike_n, spike_VI, log_t, log_code, log_f,
        ckpt, K, end_state, V, I)
    # the checkpoints stay a view: a copy would cost more than the rows it frees (at most one
    # per K events of the unused spike budget)
    log = EventLog(log_t[:n_log].copy(), log_code[:n_log].copy(), log_f[:n_log],
                   spike_VI[:n_spk], end_state, ev_times, ev_offsets, ev_units,
                   ckpt[:n_log // K + 1], K, WT, RT)
    return spike_t[:n_spk].copy(), spike_n[:n_spk].copy(), V, I, log, k, status, t_stop


LITTLE_ENDIAN = sys.byteorder == "little"  # the flag scan of ``earliest_spike`` reads words


def flag_buffers(n):
    """``(flags, words)``: ``n`` boolean flags (one byte each, what the sweeps write) and the
    same memory as 64-bit words, padded with zero bytes, which ``earliest_spike`` scans eight
    flags at a time (a loop over the bytes, with an unpredictable branch each, cost about a
    tenth of the LIF event loop at the spike budget). Made in NumPy: a view inside a kernel
    compiles for a third of a second."""
    words = np.zeros((n + 7) // 8, np.uint64)
    return words.view(np.bool_)[:n], words


# Keys whose time gap to the earliest is below this fraction of the interval end may still
# round to the same spike time; their times are computed (``earliest_spike``).
TIE_WINDOW = 2.0 ** -44


@inner
def earliest_spike(p, S, flags, words, keys, which, t_cur, t_end, last):
    """``(time, neuron)`` of the earliest spike among the flagged neurons inside the interval
    ending at ``t_end`` (at ``t_end`` itself only if it is not ``T``), ties to the lowest index;
    ``(inf, -1)`` if none. Each flagged neuron costs its ``spike_key`` (which may stop looking
    beyond the interval plus the tie window); only those whose key lies within
    ``key_gap_dt <= TIE_WINDOW t_end`` of the smallest also cost ``key_dt`` (a logarithm). The
    others spike later by more than the rounding of any time up to ``t_end`` (a few ulps), so
    the result is the one of computing every time. ``flags, words``: the two views of
    ``flag_buffers``. Writes the flagged neurons, in index order, into ``which`` and their keys
    into ``keys`` (scratch)."""
    window = TIE_WINDOW * t_end
    horizon = (t_end - t_cur) + window  # any spike later is later than t_end: not inside
    m = 0
    for i in range(words.shape[0]):
        w = words[i]
        if LITTLE_ENDIAN:  # byte b of the word is flag 8 i + b, one set bit per flag
            while w != 0:
                which[m] = 8 * i + (trailing_zeros(w) >> 3)
                m += 1
                w &= w - np.uint64(1)
        elif w != 0:
            for n in range(8 * i, 8 * i + 8 if 8 * i + 8 < flags.shape[0] else flags.shape[0]):
                if flags[n]:
                    which[m] = n
                    m += 1
    k_best = math.inf
    for i in range(m):
        k = model.spike_key(p, S, which[i], horizon)
        keys[i] = k
        if k < k_best:  # min(), without compiling the builtin's overload
            k_best = k
    t_best = math.inf
    who = -1
    if k_best == math.inf:
        return t_best, who
    for i in range(m):
        if model.key_gap_dt(p, k_best, keys[i]) <= window:
            n = which[i]
            ts = t_cur + model.key_dt(p, keys[i])
            inside = ts < t_end or (ts == t_end and not last)
            if inside and ts < t_best:
                t_best = ts
                who = n
    return t_best, who


@leaf
def event_loop(p, ev_times, ev_offsets, ev_units, WT, RT, T, V0, I0, S, out, flags, words, keys,
               which, spike_t, spike_n, spike_VI, log_t, log_code, log_f, ckpt, K, end_state, V,
               I):
    """The event loop of ``run_layer`` on its buffers (``S, out, flags, words, keys, which``:
    scratch; ``flags, words`` from ``flag_buffers``):
    writes the spikes (at most ``spike_t.size``, the budget) with the ``(V, I)`` of each spiking
    neuron at the start of the interval its spike ends (``spike_VI``), the log with each
    interval's factors (``log_f``), a checkpoint every ``K`` events, the state after the last
    event (``end_state``) and the final ``V, I``; returns ``(events logged, spikes, input events
    processed, status, stop time)``, status 1 if the budget ran out (at the stop time)."""
    model.init_state(p, V0, I0, S)
    N = S.shape[1]
    E = ev_times.shape[0]
    budget = spike_t.shape[0]
    copy_state(ckpt[0], S)
    n_log = 0
    n_spk = 0
    status = 0
    t_cur = 0.0
    t_stop = T
    k = np.int64(0)  # not the literal 0: Numba would compile add_input_event for it too
    last = E == 0
    t_end = T if last else ev_times[0]
    x, s = model.interval_factors(p, t_end)
    n_flag = model.sweep(p, S, out, flags, x, s)
    while True:
        # S: the state at t_cur; out: its tentative flow to t_end, n_flag neurons flagged
        t_best = math.inf
        who = -1
        if n_flag > 0:
            t_best, who = earliest_spike(p, S, flags, words, keys, which, t_cur, t_end, last)
            if who < 0:
                for i in range(n_flag):
                    model.exact_end(p, S, out, which[i], x, s)
        if who >= 0:
            if n_spk == budget:
                status = 1
                t_stop = t_best
                break
            x1, s1 = model.interval_factors(p, t_best - t_cur)
            x, s = model.interval_factors(p, t_end - t_best)
            spike_VI[n_spk, 0], spike_VI[n_spk, 1] = model.neuron_VI(p, S, who)
            log_f[n_log, 0] = x1
            log_f[n_log, 1] = s1
            n_flag = model.spike_sweep(p, S, out, flags, x1, s1, who, RT, x, s)
            S, out = out, S
            if n_flag < 0:  # the model's spike_sweep left the sweep to the loop
                n_flag = model.sweep(p, S, out, flags, x, s)
            spike_t[n_spk] = t_best
            spike_n[n_spk] = who
            n_spk += 1
            t_cur = t_best
            code = who
        else:
            S, out = out, S
            t_cur = t_end
            if last:
                break
            log_f[n_log, 0] = x
            log_f[n_log, 1] = s
            add_input_event(p, S, k, ev_offsets, ev_units, WT)
            code = -1 - k
            k += 1
        log_t[n_log] = t_cur
        log_code[n_log] = code
        n_log += 1
        if n_log % K == 0:
            copy_state(ckpt[n_log // K], S)
        if code < 0:
            last = k >= E
            t_end = T if last else ev_times[k]
            x, s = model.interval_factors(p, t_end - t_cur)
            n_flag = model.sweep(p, S, out, flags, x, s)
    copy_state(end_state, S if status == 1 else out)  # out: the state before the flow to T
    model.state_VI(p, S, V, I)
    return n_log, n_spk, k, status, t_stop


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True)
class EventLog:
    """What a layer did, in O(events) memory.

    ``times[e]`` and ``codes[e]`` for each event ``e`` in order (``code >= 0``: that neuron
    spiked; ``code = -1 - k``: input event ``k``, whose units are
    ``input_units[input_offsets[k]:input_offsets[k + 1]]`` at ``input_times[k]``);
    ``factors[e]`` the ``interval_factors`` of the interval that ends at event ``e``;
    ``spike_VI[i]`` the ``(V, I)`` of the neuron of spike ``i`` at the start of that interval;
    ``end_state`` the layer state after the last event.
    ``checkpoints[j]`` is the internal layer state after ``j * checkpoint_every`` events
    (``checkpoints[0]`` the initial state). ``weights_t``/``recurrent_t``: the transposed
    weights the kernel ran with (row ``u`` = the weights out of presynaptic ``u``; recurrent
    ``(0, n)`` if none), shared with the backward pass.
    """

    times: np.ndarray
    codes: np.ndarray
    factors: np.ndarray
    spike_VI: np.ndarray
    end_state: np.ndarray
    input_times: np.ndarray
    input_offsets: np.ndarray
    input_units: np.ndarray
    checkpoints: np.ndarray
    checkpoint_every: int
    weights_t: np.ndarray
    recurrent_t: np.ndarray


@dataclass(frozen=True)
class LayerResult:
    """One spiking layer: spikes in time order, the state at ``T`` (at the last event before
    ``t_stop`` if the spike budget stopped it) and counters of the events processed."""

    times: np.ndarray
    units: np.ndarray
    V: np.ndarray
    I: np.ndarray
    n_input_events: int
    n_spikes: int
    status: int
    t_stop: float
    log: EventLog

    @property
    def n_events(self):
        return self.n_input_events + self.n_spikes


@dataclass(frozen=True)
class SimulationResult:
    """Result of ``simulate``: ``layers[l]`` per spiking layer (last = output), ``status`` 0 if
    every layer ran to ``T``, 1 if a spike budget stopped one (``message`` says where)."""

    layers: tuple
    T: float
    status: int
    message: str

    @property
    def output(self):
        return self.layers[-1]

    @property
    def n_events(self):
        return sum(layer.n_events for layer in self.layers)


# ----------------------------------------------------------------------------- public API

def simulate(network, params, input_times, input_units, T, *, max_spikes=None,
             on_budget="warn", initial_state=None, checkpoint_every=None):
    """Simulate ``network`` exactly over ``[0, T]`` for one input spike train.

    Parameters
    ----------
    network : Network
    params : Params
        Weights as returned by ``network.init_params``.
    input_times, input_units : 1-D arrays
        Input spikes sorted by time (float, >= 0) and their input units (int in
        ``[0, sizes[0])``). Spikes at ``t >= T`` are ignored; an empty train is legal.
    T : float
        Trial length (> 0), in the same unit as ``tau_m``.
    max_spikes : int or sequence of int, optional
        Spike budget per layer (default ``100 * n`` for a layer of ``n`` neurons, at least
        1000). A layer that would exceed it stops at that spike: its ``status`` is 1, ``t_stop``
        says when, and the results after ``t_stop`` are missing.
    on_budget : {"warn", "raise", "ignore"}
        Whether a hit budget issues a ``SpikeBudgetWarning``, raises ``RuntimeError``, or is
        only reported in ``status`` and ``message``.
    initial_state : sequence of (V0, I0) per layer, optional
        Default: every neuron at rest, ``V = I = 0``. QIF accepts ``V0 = -inf`` (just reset).
    checkpoint_every : int, optional
        Event-log checkpoint spacing (default: the layer size, so the log stays O(events)).
        ``value_and_grad`` keeps every state (spacing 1) of a layer whose states fit in
        ``STORED_STATES_BYTES``, so that its backward pass needs no replay.

    >>> import numpy as np, snnexact
    >>> net = snnexact.Network(snnexact.QIF(tau_m=1.0), (1, 1))
    >>> p = snnexact.Params(W=(np.array([[3.0]]),), R=(None,))
    >>> res = snnexact.simulate(net, p, [0.0], [0], T=5.0)
    >>> res.output.n_spikes
    1
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be snnexact.Network, got {type(network).__name__}")
    W, R = network.check_params(params)
    times, units = check_input(input_times, input_units, network.sizes[0], T)
    return simulate_layers(network, W, R, times, units, float(T), network.n_layers,
                           max_spikes=max_spikes, on_budget=on_budget,
                           initial_state=initial_state, checkpoint_every=checkpoint_every)


def simulate_layers(network, W, R, times, units, T, n_layers, max_spikes=None, on_budget="warn",
                    initial_state=None, checkpoint_every=None, transposed=None,
                    keep_states=False):
    """``simulate`` on validated arrays, for the first ``n_layers`` spiking layers only (the
    non-spiking readouts of ``gradients.py`` take the last layer's place). ``transposed``:
    ``transposed_weights(network, W, R)`` computed once for many samples (else per call).
    ``keep_states``: a backward pass follows, so a layer whose states fit in
    ``STORED_STATES_BYTES`` keeps them all (unless ``checkpoint_every`` is given) if it will be
    replayed (not for a model with a linear flow, ``backward_linear.py``); a forward-only call
    would only pay for writing them."""
    budgets = _budgets(network, max_spikes)
    if on_budget not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_budget must be 'warn', 'raise' or 'ignore', got {on_budget!r}")
    neuron = network.neuron
    p = neuron.kernel
    if initial_state is not None and len(initial_state) != n_layers:
        raise ValueError(f"initial_state needs one (V0, I0) pair per simulated spiking layer "
                         f"({n_layers}), got {len(initial_state)}")
    spacing = 0 if checkpoint_every is None else int(checkpoint_every)  # 0: the default rule
    if checkpoint_every is not None and spacing < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every!r}")
    layers = []
    status, message = STATUS_OK, "ok"
    for l in range(n_layers):
        n = network.sizes[l + 1]
        V0, I0 = _initial(initial_state, l, n, neuron)
        ev_times, offsets = merge_ties(times)
        WT, RT = transposed[l] if transposed is not None else _transposed(W[l], R[l], n)
        sp_t, sp_n, V, I, log, n_in, st, t_stop = run_layer(
            p, ev_times, offsets, units, WT, RT, T, budgets[l], V0, I0, spacing,
            STORED_STATES_BYTES if keep_states and not model.has_linear_flow(p) else 0)
        layers.append(LayerResult(sp_t, sp_n, V, I, int(n_in), len(sp_t), int(st),
                                  float(t_stop), log))
        if st != STATUS_OK and status == STATUS_OK:
            status = STATUS_BUDGET
            message = (f"layer {l} hit its spike budget of {budgets[l]} spikes at t = {t_stop:.6g}; "
                       f"its spikes after that time and everything downstream are incomplete")
        times, units = sp_t, sp_n
    if status != STATUS_OK:
        if on_budget == "raise":
            raise RuntimeError(message)
        if on_budget == "warn":
            warnings.warn(message, SpikeBudgetWarning, stacklevel=3)
    return SimulationResult(tuple(layers), T, status, message)


def transposed_weights(network, W, R):
    """Per layer ``(W^T, R^T)`` as the kernels take them (row ``u``: the weights out of
    presynaptic ``u``; ``R^T`` with no rows if not recurrent), C-contiguous."""
    return [_transposed(w, r, n) for w, r, n in zip(W, R, network.sizes[1:])]


def _transposed(w, r, n):
    return (np.ascontiguousarray(w.T),
            np.ascontiguousarray(r.T) if r is not None else np.empty((0, n)))


def _budgets(network, max_spikes):
    if max_spikes is None:
        return [max(1000, 100 * n) for n in network.sizes[1:]]
    if np.ndim(max_spikes) == 0:
        max_spikes = [max_spikes] * network.n_layers
    if len(max_spikes) != network.n_layers:
        raise ValueError(f"max_spikes needs one budget per spiking layer ({network.n_layers})")
    out = []
    for b in max_spikes:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 0:
            raise ValueError(f"max_spikes must be non-negative integers, got {max_spikes!r}")
        out.append(int(b))
    return out


def _initial(initial_state, l, n, neuron):
    if initial_state is None:
        return np.zeros(n), np.zeros(n)
    V0, I0 = (np.asarray(a, dtype=np.float64) for a in initial_state[l])
    if V0.shape != (n,) or I0.shape != (n,):
        raise ValueError(f"initial_state[{l}] must hold two arrays of shape ({n},)")
    if not np.all(np.isfinite(I0)):
        raise ValueError(f"initial_state[{l}] I0 must be finite")
    neuron.check_initial_voltage(V0, f"initial_state[{l}]")
    return V0, I0
