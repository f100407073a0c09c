"""Binned virtual input events (docs/theory.md section 9): after ``Bin(T / n_bins)`` every bin is one
input event whose weight vector is ``W @ c_b``. The simulator must give the same spikes as a
network whose input layer has one virtual unit per bin, with weight column ``W @ c_b``, firing
once at the bin's left edge."""
import numpy as np
import pytest

import snnexact
from snnexact.data.transforms import Bin
from tolerances import SPIKE_TIME_ATOL, SPIKE_TIME_RTOL, scaled_error


@pytest.mark.parametrize("model", ["lif", "qif"])
@pytest.mark.parametrize("seed", range(4))
def test_binned_input_equals_summed_weight_columns(model, seed):
    rng = np.random.default_rng(seed)
    T, n_in, n_bins = 1.0, 7, 12
    neuron = snnexact.LIF(tau_m=0.4) if model == "lif" else snnexact.QIF(tau_m=0.4)
    times = np.sort(rng.uniform(0, T, 60))
    units = rng.integers(0, n_in, 60)
    bt, bu = Bin(T / n_bins)(times, units)
    net = snnexact.Network(neuron, (n_in, 5, 3))
    params = net.init_params(seed, w_mean=0.2 * net.kick, w_std=0.3 * net.kick)
    res = snnexact.simulate(net, params, bt, bu, T)
    # the same input as one virtual unit per non-empty bin: column W0 @ c_b, one spike at t_b
    edges = np.unique(bt)
    counts = np.stack([np.bincount(bu[bt == e], minlength=n_in) for e in edges], axis=1)
    virtual = snnexact.Network(neuron, (edges.size, 5, 3))
    vparams = snnexact.Params((params.W[0] @ counts, params.W[1]), params.R)
    ref = snnexact.simulate(virtual, vparams, edges, np.arange(edges.size), T)
    assert sum(L.n_spikes for L in res.layers) > 0, "the case should spike"
    for got, want in zip(res.layers, ref.layers):
        np.testing.assert_array_equal(got.units, want.units)
        assert np.all(scaled_error(got.times, want.times, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1)
    # the binned sample has at most n_bins input events whatever its spike count
    assert edges.size <= n_bins < times.size
