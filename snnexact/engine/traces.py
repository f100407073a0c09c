"""Membrane traces of one simulated sample, for plotting: the exact state at any time, from the
event log (states after each event, recomputed with the forward's own operations) and the closed
flow between events. Memory is events x neurons: meant for one sample, not for training."""
import numpy as np

from snnexact.engine.neurons import interface as model
from snnexact.engine.simulate import replay_states


def layer_states(network, result, layer):
    """Event times and the ``(V, I)`` of every neuron of ``layer`` after each event
    (row 0: the initial state at t = 0), with the weights the simulation ran with."""
    log = result.layers[layer].log
    E = log.times.size
    n = network.sizes[layer + 1]
    p = network.neuron.kernel
    states = np.empty((E + 1, *log.checkpoints.shape[1:]))
    states[0] = log.checkpoints[0]
    replay_states(p, states, np.zeros(n, np.bool_), log.times, log.codes, log.factors, 0, E,
           log.input_offsets, log.input_units, log.weights_t, log.recurrent_t)
    Vb, Ib = np.empty((E + 1, n)), np.empty((E + 1, n))
    for j in range(E + 1):
        model.state_VI(p, states[j], Vb[j], Ib[j])
    return np.concatenate([[0.0], log.times]), Vb, Ib


def voltage_trace(network, result, layer, neurons, t_grid):
    """``V`` of the given neurons on ``t_grid`` (exact values at those times; a spike shows as
    the threshold for LIF and as large values before the reset for QIF)."""
    t_ev, Vb, Ib = layer_states(network, result, layer)
    p = network.neuron.kernel
    idx = np.searchsorted(t_ev, t_grid, side="right") - 1
    out = np.empty((len(neurons), len(t_grid)))
    for a, n in enumerate(neurons):
        for b, (k, t) in enumerate(zip(idx, t_grid)):
            out[a, b] = model.flow(p, Vb[k, n], Ib[k, n], t - t_ev[k])[0]
    return out
