"""Bad input to simulate gives a clear TypeError/ValueError naming the argument."""
import numpy as np
import pytest

import snnexact


@pytest.fixture
def setup():
    net = snnexact.Network(snnexact.QIF(0.02), (3, 4, 2), recurrent=True)
    return net, net.init_params(0)


@pytest.mark.parametrize("times,units,T,exc,match", [
    ([0.2, 0.1], [0, 1], 1.0, ValueError, r"input_times must be sorted: input_times\[1\]"),
    ([0.1, np.nan], [0, 1], 1.0, ValueError, r"input_times\[1\] is nan"),
    ([0.1, np.inf], [0, 1], 1.0, ValueError, r"input_times\[1\] is inf"),
    ([-0.1, 0.2], [0, 1], 1.0, ValueError, r"input_times\[0\] = -0.1 is negative"),
    ([0.1, 0.2], [0, 3], 1.0, ValueError, r"input_units\[1\] = 3 is outside the input layer"),
    ([0.1, 0.2], [-1, 0], 1.0, ValueError, r"input_units\[0\] = -1 is outside"),
    ([0.1, 0.2], [0], 1.0, ValueError, "differ in length"),
    ([[0.1, 0.2]], [[0, 1]], 1.0, ValueError, "must be 1-D"),
    ([0.1], [0.0], 1.0, TypeError, "input_units must be an integer array"),
    (["a"], [0], 1.0, TypeError, "input_times must be a real array"),
    ([0.1], [0], 0.0, ValueError, "T must be finite and > 0"),
    ([0.1], [0], -1.0, ValueError, "T must be finite and > 0"),
    ([0.1], [0], np.nan, ValueError, "T must be finite and > 0"),
    ([0.1], [0], "1", TypeError, "T must be a real number"),
])
def test_bad_spike_trains(setup, times, units, T, exc, match):
    net, params = setup
    with pytest.raises(exc, match=match):
        snnexact.simulate(net, params, times, units, T)


def test_bad_params(setup):
    net, params = setup
    bad = snnexact.Params((params.W[0][:, :2], params.W[1]), params.R)
    with pytest.raises(ValueError, match=r"W\[0\] must have shape \(4, 3\)"):
        snnexact.simulate(net, bad, [0.1], [0], 1.0)
    W0 = params.W[0].copy()
    W0[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"W\[0\]\[1, 1\] is nan"):
        snnexact.simulate(net, snnexact.Params((W0, params.W[1]), params.R), [0.1], [0], 1.0)
    R0 = params.R[0].copy()
    R0[2, 2] = 1.0
    with pytest.raises(ValueError, match=r"R\[0\] must have a zero diagonal"):
        snnexact.simulate(net, snnexact.Params(params.W, (R0, None)), [0.1], [0], 1.0)
    with pytest.raises(ValueError, match=r"R\[0\] is None but layer 0 is recurrent"):
        snnexact.simulate(net, snnexact.Params(params.W, (None, None)), [0.1], [0], 1.0)
    with pytest.raises(TypeError, match=r"W\[1\] must be a real array"):
        snnexact.simulate(net, snnexact.Params((params.W[0], params.W[1].astype(str)), params.R),
                          [0.1], [0], 1.0)
    with pytest.raises(TypeError, match="params must be snnexact.Params"):
        snnexact.simulate(net, params.named(), [0.1], [0], 1.0)


def test_bad_network():
    with pytest.raises(TypeError, match="neuron must be"):
        snnexact.Network("qif", (2, 2))
    with pytest.raises(ValueError, match="sizes"):
        snnexact.Network(snnexact.QIF(1.0), (2,))
    with pytest.raises(ValueError, match="sizes"):
        snnexact.Network(snnexact.QIF(1.0), (2, 0))
    with pytest.raises(ValueError, match="recurrent"):
        snnexact.Network(snnexact.QIF(1.0), (2, 3, 3, 1), recurrent=[True])


def test_bad_options(setup):
    net, params = setup
    with pytest.raises(ValueError, match="max_spikes"):
        snnexact.simulate(net, params, [0.1], [0], 1.0, max_spikes=[10])
    with pytest.raises(ValueError, match="on_budget"):
        snnexact.simulate(net, params, [0.1], [0], 1.0, on_budget="sometimes")
    with pytest.raises(ValueError, match=r"initial_state\[0\]"):
        snnexact.simulate(net, params, [0.1], [0], 1.0,
                          initial_state=[(np.zeros(3), np.zeros(4)), (np.zeros(2), np.zeros(2))])
    with pytest.raises(ValueError, match=r"one \(V0, I0\) pair per simulated spiking layer \(2\), got 1"):
        snnexact.simulate(net, params, [0.1], [0], 1.0, initial_state=[(np.zeros(4), np.zeros(4))])
    with pytest.raises(ValueError, match=r"\(2\), got 3"):
        snnexact.simulate(net, params, [0.1], [0], 1.0,
                          initial_state=[(np.zeros(4), np.zeros(4)), (np.zeros(2), np.zeros(2)),
                                         (np.zeros(2), np.zeros(2))])
    lif = snnexact.Network(snnexact.LIF(0.02), (3, 2))
    with pytest.raises(ValueError, match="below theta"):
        snnexact.simulate(lif, lif.init_params(0), [], [], 1.0,
                          initial_state=[(np.array([1.5, 0.0]), np.zeros(2))])


def test_inputs_at_or_after_T_are_ignored(setup):
    net, params = setup
    a = snnexact.simulate(net, params, [0.1, 0.3], [0, 1], 0.3)
    b = snnexact.simulate(net, params, [0.1], [0], 0.3)
    assert a.layers[0].log.input_times.tolist() == b.layers[0].log.input_times.tolist() == [0.1]
