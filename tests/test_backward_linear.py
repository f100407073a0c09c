"""The reverse pass without replay (``backward_linear.py``, LIF) against the replaying pass
(``backward.reverse_loop``) and against an extended-precision twin of the discrete adjoint
(``reference/lif_layer_adjoint.py``); and what the forward pass logs for it."""
import numpy as np
import pytest

import snnexact
from snnexact.engine.backward import layer_gradients
from snnexact.engine.neurons import interface as model
from snnexact.engine.simulate import replay_states
from reference.lif_layer_adjoint import EXTENDED, lif_layer_adjoint

from helpers import random_case

# max |a - b| / max |b| per array: the passes differ by rounding (measured: up to 2.7e-14 on
# these cases, 4.2e-14 on real samples of up to 14,142 events, benchmarks/backward_accuracy.py)
PASS_RTOL = 1e-12
CASES = [(seed, sizes, recurrent) for seed in range(6)
         for sizes, recurrent in (((6, 9, 4), True), ((5, 7, 6, 3), True), ((6, 8, 3), False))]


def _simulate(model_name, seed, sizes, recurrent):
    net, params, times, units, T, rng = random_case(model_name, seed, sizes, recurrent, 40)
    res = snnexact.simulate(net, params, times, units, T, on_budget="ignore", max_spikes=200)
    return net, res, T, rng


def _cotangents(rng, layer, n):
    return (rng.normal(size=layer.n_spikes), rng.normal(size=n), rng.normal(size=n))


def _run(p, layer, T, cot, linear):
    """``(lamV, lamI, dWT, dRT, g_in)`` of one layer's reverse pass."""
    mu, lamV, lamI = (c.copy() for c in cot)
    dWT, dRT, g_in, _ = layer_gradients(p, layer.log, T, mu, lamV, lamI, True, linear)
    return [lamV, lamI, dWT, dRT, g_in]


def _rel(a, b):
    scale = np.abs(b).max() if b.size else 0.0
    return 0.0 if scale == 0.0 else np.abs(a - b).max() / scale


@pytest.mark.parametrize("seed, sizes, recurrent", CASES)
def test_linear_pass_matches_the_replaying_pass(seed, sizes, recurrent):
    net, res, T, rng = _simulate("lif", seed, sizes, recurrent)
    assert sum(L.n_spikes for L in res.layers) > 0
    p = net.neuron.kernel
    for layer, n in zip(res.layers, net.sizes[1:]):
        cot = _cotangents(rng, layer, n)
        fast, slow = _run(p, layer, T, cot, None), _run(p, layer, T, cot, False)
        for a, b in zip(fast, slow):
            assert _rel(a, b) <= PASS_RTOL


@pytest.mark.skipif(not EXTENDED, reason="numpy.longdouble is float64 on this platform")
@pytest.mark.parametrize("seed, sizes, recurrent", CASES[::2])
def test_both_passes_match_the_extended_precision_adjoint(seed, sizes, recurrent):
    """Both float64 passes against the same adjoint in 80-bit arithmetic: their errors are of
    the same size, far below the gap either could hide."""
    net, res, T, rng = _simulate("lif", seed, sizes, recurrent)
    p = net.neuron.kernel
    for layer, n in zip(res.layers, net.sizes[1:]):
        log = layer.log
        cot = _cotangents(rng, layer, n)
        ref = lif_layer_adjoint(log.times, log.codes, log.input_offsets, log.input_units,
                                log.checkpoints[0][0], log.checkpoints[0][1], log.weights_t,
                                log.recurrent_t, p.tau, p.theta, T, *cot)
        for linear in (None, False):
            for a, b in zip(_run(p, layer, T, cot, linear), ref):
                assert _rel(a, b) <= PASS_RTOL


@pytest.mark.parametrize("model_name", ["lif", "qif", "lif-ts0.25"])
def test_the_log_holds_the_replayed_factors_and_states(model_name):
    """The logged interval factors, spiking neurons' start states and last state are the
    replay's, bit for bit."""
    net, res, T, _ = _simulate(model_name, 3, (6, 9, 4), True)
    p = net.neuron.kernel
    for layer, n in zip(res.layers, net.sizes[1:]):
        log = layer.log
        E = log.times.size
        starts = np.concatenate([[0.0], log.times[:-1]])
        for e in range(E):
            assert tuple(log.factors[e]) == model.interval_factors(p, log.times[e] - starts[e])
        states = np.empty((E + 1, *log.checkpoints.shape[1:]))
        states[0] = log.checkpoints[0]
        replay_states(p, states, np.zeros(n, np.bool_), log.times, log.codes, log.factors, 0, E,
               log.input_offsets, log.input_units, log.weights_t, log.recurrent_t)
        spiking = np.flatnonzero(log.codes >= 0)
        assert len(spiking) == layer.n_spikes == len(log.spike_VI)
        for i, e in enumerate(spiking):
            assert tuple(log.spike_VI[i]) == model.neuron_VI(p, states[e], log.codes[e])
        np.testing.assert_array_equal(log.end_state, states[E])


def test_which_models_have_the_linear_pass():
    assert model.has_linear_flow(snnexact.LIF(0.02).kernel)
    assert not model.has_linear_flow(snnexact.QIF(0.02).kernel)
    assert not model.has_linear_flow(snnexact.LIF(0.02, tau_s=0.005).kernel)


def test_a_model_with_some_linear_verbs_is_refused():
    from collections import namedtuple
    from snnexact.engine.neurons import lif, lif_adjoint
    Kernel = namedtuple("Kernel", "tau theta")

    class Partial:
        flow_by_factors = lif.flow_by_factors

    with pytest.raises(TypeError, match="only some of the linear-flow verbs"):
        model.register(Kernel, _without(lif), _without(lif_adjoint), Partial)


def _without(module):
    """A stand-in for ``module`` without its linear-flow verbs."""
    class Stub:
        pass
    for name, value in vars(module).items():
        if name not in model.LINEAR_VERBS and not name.startswith("__"):
            setattr(Stub, name, value)
    return Stub
