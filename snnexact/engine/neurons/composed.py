"""Layer verbs composed of a model's other verbs, for the models without a fused version of
their own (``register`` searches this module after the model's: a model's version wins)."""
from snnexact.engine.jit import jit, leaf
from snnexact.engine.neurons import interface as model


@leaf
def flow_exact(p, S, out, flags, x, s):
    """Every neuron of ``S`` flowed exactly by ``(x, s)`` (no spike strictly inside) into
    ``out``."""
    if model.sweep(p, S, out, flags, x, s) > 0:
        for n in range(S.shape[1]):
            if flags[n]:
                model.exact_end(p, S, out, n, x, s)


@jit
def event_flow(p, S, out, flags, x, s, m, RT):
    """The exact flow by ``(x, s)`` into ``out``, then for ``m >= 0`` the reset of ``m`` and
    the recurrent jump ``RT[m]`` (if ``RT`` has rows), by the verbs."""
    flow_exact(p, S, out, flags, x, s)
    if m >= 0:
        model.reset_neuron(p, out, m)
        if RT.shape[0] > 0:
            model.add_current(p, out, RT[m])


@jit
def spike_sweep(p, S, out, flags, x1, s1, m, RT, x, s):
    """``event_flow`` of ``S`` by ``(x1, s1)`` with the spike of ``m`` into ``out`` only;
    returns -1, so the caller sweeps ``out`` itself (a sweep compiled in here as well would
    lengthen the cold start)."""
    model.event_flow(p, S, out, flags, x1, s1, m, RT)
    return -1
