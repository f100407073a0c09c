"""Layer verbs shared by the models whose layer state is simply ``V`` and ``I`` (rows 0 and 1
of a ``(2, n)`` array) and whose sweep is exact for every neuron: both LIF variants (``lif.py``,
``lif_general.py``).

Copies are element loops rather than slice assignments: a slice assignment compiles Numba's
shape-mismatch error formatting, seconds of the cold start for nothing (shapes always match)."""
from snnexact.engine.jit import jit

STATE_ROWS = 2


@jit
def init_state(p, V0, I0, S):
    for n in range(V0.shape[0]):
        S[0, n] = V0[n]
        S[1, n] = I0[n]


@jit
def state_VI(p, S, V, I):
    """Write the state ``(V, I)`` into ``V, I``."""
    for n in range(S.shape[1]):
        V[n] = S[0, n]
        I[n] = S[1, n]


@jit
def neuron_VI(p, S, n):
    return S[0, n], S[1, n]


@jit
def exact_end(p, S, out, n, x, s):
    """The sweep is exact: nothing to redo for a flagged neuron that does not spike."""
    return


@jit
def add_current(p, S, w):
    for n in range(S.shape[1]):
        S[1, n] += w[n]
