r"""The neuron-model interface: one fixed set of verbs, each taking the model's kernel
parameters ``p`` first (docs/models.md).

A model is a frozen dataclass (the user-facing parameters, see ``NeuronModel``) whose ``kernel``
property returns a model-specific ``namedtuple`` of floats, plus one module of verbs and one of
their adjoints, registered with ``register(kernel_type, *modules)``. Every verb below
dispatches on the *type* of ``p``: inside Numba-compiled code the choice is made at compile
time (an ``overload`` per verb), so the event loop, the replay and the backward pass compile
once per model with no run-time switch; from Python the same call looks the implementation up
in the registry. A new model therefore touches only its own files (and its ``reference/``
twin).

Layer state: a model keeps its neurons in a ``(STATE_ROWS, n)`` array ``S`` of its own layout
(``STATE_ROWS``: a constant of the model's module, ``state_rows(p)``); ``init_state`` writes
voltages and currents into it and ``state_VI`` reads them back.
Intervals between events share factors across neurons (``interval_factors``), so one sweep
over a layer costs a few multiply-adds per neuron (docs/theory.md section 8).

No verb may allocate or return an array (only scalars, or nothing): verbs are compiled as leaf
kernels, without reference counting (``jit.LEAF_OPTIONS``); the arrays they fill are passed in.
"""
import functools

from numba.extending import overload

from snnexact.engine.jit import LEAF_OPTIONS

_IMPLEMENTATIONS = {}
_MODULES = {}


def register(kernel_type, *modules):
    """Register the verbs of ``modules`` (searched in order) for kernel parameters of type
    ``kernel_type``; every verb of this interface must be found."""
    missing = [v for v in VERBS + ["STATE_ROWS"] if not any(hasattr(m, v) for m in modules)]
    if missing:
        raise TypeError(f"model {kernel_type.__name__} lacks the verbs {missing}")
    linear = [v for v in LINEAR_VERBS if any(hasattr(m, v) for m in modules)]
    if linear and len(linear) < len(LINEAR_VERBS):
        raise TypeError(f"model {kernel_type.__name__} has only some of the linear-flow verbs "
                        f"{LINEAR_VERBS}: {linear}")
    for verb in VERBS + linear:
        _IMPLEMENTATIONS[kernel_type, verb] = next(getattr(m, verb) for m in modules
                                                   if hasattr(m, verb))
    _MODULES[kernel_type] = modules


def has_linear_flow(p):
    """True if the model of kernel parameters ``p`` has the linear-flow verbs (the backward
    pass then needs no replay, ``backward_linear.py``)."""
    _implementation(type(p), "init_state")  # a clear error for an unregistered type
    return (type(p), LINEAR_VERBS[0]) in _IMPLEMENTATIONS


def state_rows(p):
    """Rows of the layer state ``S`` of the model with kernel parameters ``p``."""
    _implementation(type(p), "init_state")  # a clear error for an unregistered type
    return next(m.STATE_ROWS for m in _MODULES[type(p)] if hasattr(m, "STATE_ROWS"))


def _implementation(kernel_type, verb):
    try:
        return _IMPLEMENTATIONS[kernel_type, verb]
    except KeyError:
        raise TypeError(f"no neuron model is registered for kernel parameters of type "
                        f"{getattr(kernel_type, '__name__', kernel_type)}") from None


VERBS = []
LINEAR_VERBS = []  # optional: a model whose flow is linear has all of them or none


def _verb(stub, group=VERBS):
    """Turn ``stub`` (signature and docstring only) into a verb of ``group``: Python calls
    dispatch through the registry, compiled calls through an ``overload`` resolved at compile
    time."""
    name = stub.__name__
    group.append(name)

    @functools.wraps(stub)
    def dispatch(p, *args):
        return _implementation(type(p), name)(p, *args)

    def typer(p, *args):
        impl = _IMPLEMENTATIONS.get((getattr(p, "instance_class", None), name))
        return None if impl is None else impl.py_func

    overload(dispatch, jit_options=LEAF_OPTIONS, strict=False)(typer)  # a leaf kernel (jit.py)
    return dispatch


# ----------------------------------------------------------------------------- scalar verbs

@_verb
def flow(p, V0, I0, dt):
    """State ``(V, I)`` after a spike-free flow over ``dt >= 0`` from ``(V0, I0)``."""


@_verb
def next_spike_time(p, V0, I0):
    """Time from ``(V0, I0)`` to the next spike; ``inf`` if there is none."""


@_verb
def jump(p, I, w):
    """The current after a presynaptic spike of weight ``w``."""


@_verb
def reset(p, V):
    """The voltage after a spike."""


@_verb
def flow_grad(p, V0, I0, dt):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` after a spike-free flow over ``dt``."""


@_verb
def spike_time_grad(p, V0, I0):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the next spike (``inf, 0, 0`` if none)."""


# ----------------------------------------------------------------------------- layer verbs

@_verb
def init_state(p, V0, I0, S):
    """Write the layer state with voltages ``V0`` and currents ``I0`` (1-D arrays) into ``S``."""


@_verb
def state_VI(p, S, V, I):
    """Write the voltages and currents of state ``S`` into ``V`` and ``I``."""


@_verb
def neuron_VI(p, S, n):
    """The voltage and current ``(V, I)`` of neuron ``n`` in state ``S``."""


@_verb
def interval_factors(p, dt):
    """The pair of factors ``(x, s)`` a flow over ``dt`` shares across neurons."""


@_verb
def sweep(p, S, out, flags, x, s):
    """Tentative flow of every neuron over the interval of factors ``(x, s)`` into ``out``;
    flags (and returns the count of) the neurons that may spike inside it or whose end state
    ``exact_end`` must recompute. Exact for every unflagged neuron."""


@_verb
def event_flow(p, S, out, flags, x, s, m, RT):
    """Exact flow of every neuron of ``S`` over the interval of factors ``(x, s)`` (no spike
    strictly inside) into ``out``; then, for ``m >= 0``, the spike of neuron ``m`` that ends
    it: its reset and the recurrent jump ``RT[m]`` (if ``RT`` has rows). ``flags``:
    scratch."""


@_verb
def spike_sweep(p, S, out, flags, x1, s1, m, RT, x, s):
    """The spike of neuron ``m`` that ends the interval of factors ``(x1, s1)`` (``event_flow``
    of ``S`` into ``out``), then the ``sweep`` of that state over the rest of the interval,
    factors ``(x, s)``, written over ``S``; returns the count of flagged neurons. A model
    without a fused version (``composed.py``) does only the ``event_flow`` and returns -1: the
    event loop then sweeps."""


@_verb
def exact_end(p, S, out, n, x, s):
    """Exact end state of the flagged neuron ``n`` that does not spike inside the interval."""


@_verb
def spike_key(p, S, n, horizon):
    """A key of neuron ``n``'s next spike from the interval start (``inf``: none), cheaper
    than its time: ``key_dt`` gives the exact time, increasing in the key. A model may return
    ``inf`` for a spike later than ``horizon``."""


@_verb
def key_dt(p, k):
    """The exact time from the interval start of the spike with key ``k`` (``inf`` for inf)."""


@_verb
def key_gap_dt(p, k_lo, k_hi):
    """A lower bound of ``key_dt(k_hi) - key_dt(k_lo)`` for ``k_lo <= k_hi``, without
    transcendental functions: the event loop computes the exact time only of the neurons
    whose key is within rounding of the earliest."""


@_verb
def reset_neuron(p, S, n):
    """Apply the reset of neuron ``n`` (it spikes now)."""


@_verb
def add_current(p, S, w):
    """Add the weight vector ``w`` (one entry per neuron) to the currents."""


# ----------------------------------------------------------------------------- adjoint verbs

@_verb
def interval_vjp(p, S, S_end, lamV, lamI, x, s, dt, m, flags, work):
    """Pull the adjoint ``(lamV, lamI)`` of every neuron back over one interval of length
    ``dt`` (factors ``x, s``) that starts at the layer state ``S`` and ends with a spike of
    neuron ``m`` (``-1``: no spike), in place; return ``g_dt = sum_n lam_n . F(z_n(end))``,
    the derivative with respect to the interval length. ``lamV[m]`` is zero after it (its
    reset erases it). ``S_end``: the state after the event that ends the interval (the
    forward's own flow of ``S``, then that event's jump or reset; at ``T`` the flow alone),
    which a model may read instead of recomputing the end. ``flags``, ``work``: scratch arrays
    of length n."""


@_verb
def input_time_adjoint(p, lamV, lamI, out):
    """Fill ``out[n] = lam_n . (F(z_n) - F(z_n + w e_I)) / w`` (``F`` the vector field, the
    same for every ``w`` because ``F`` is affine in ``I``), so that the derivative of the
    loss with respect to the time of an input event of weights ``w`` is ``sum_n out[n] w_n``.
    For ``tau_s = tau_m / 2``: ``(2 lamI - lamV) / tau``."""


@_verb
def spike_tied_to_previous(p, V, dt):
    """True if a neuron at voltage ``V`` at the start of an interval of length ``dt`` that
    ends with its spike is, up to rounding, tied with the event that starts the interval (its
    spike-time gradient is then taken from the interval before; QIF next to its pole)."""


# ----------------------------------------------------------------------------- linear-flow verbs
# A model whose flow between events is linear and time-invariant, dz/dt = A z per neuron, with
# additive current jumps, keeps the pairing P = sum_n lam_n . F(z_n) = lam . A z constant along
# the flow (the adjoint flows by exp(A dt)^T, which commutes with A). The backward pass then
# carries P from event to event instead of recomputing the states (backward_linear.py).

def _linear_verb(stub):
    return _verb(stub, LINEAR_VERBS)


@_linear_verb
def flow_by_factors(p, V0, I0, x, s):
    """``(V, I)`` of one neuron after the flow over the interval of factors ``(x, s)``, with
    the same operations as the layer verbs (so the same bits)."""


@_linear_verb
def adjoint_pullback(p, lamV, lamI, x, s):
    """``lam <- J^T lam`` in place for every neuron: the adjoint at the start of an interval of
    factors ``(x, s)`` from the one at its end (``interval_vjp`` without the state)."""


@_linear_verb
def adjoint_pullback_projected(p, lamV, lamI, a, b, r, ca, cb, x, s):
    """``adjoint_pullback`` of ``(lamV, lamI)`` and, in the same pass, of their projections
    ``(a, b)`` through the recurrent weights (they transform alike), then ``a += ca r``,
    ``b += cb r``."""


@_linear_verb
def neuron_pullback(p, lamV, lamI, x, s):
    """``J^T lam`` of one neuron: ``adjoint_pullback`` of the pair ``(lamV, lamI)``."""


@_linear_verb
def field_pairing(p, S, lamV, lamI, work):
    """``sum_n lam_n . F(z_n)`` over the layer state ``S`` (``F`` the vector field), summed in
    a fixed order; ``work``: scratch of length n."""


@_linear_verb
def neuron_field_pairing(p, lamV, lamI, V, I):
    """``lam . F(z)`` of one neuron: ``lam = (lamV, lamI)``, ``z = (V, I)``."""


@_linear_verb
def jump_time_adjoint(p, dw, w, lamV, lamI):
    """For a current jump of weights ``w`` (one per neuron): add ``lamI`` to ``dw`` (the
    derivative with respect to ``w``) and return ``sum_n lam_n . (F(z_n) - F(z_n + w_n e_I))``,
    the derivative with respect to the jump's time (``input_time_adjoint`` dotted with ``w``),
    summed in a fixed order."""
