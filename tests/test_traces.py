"""Voltage traces for plotting: exact closed-form values between the recomputed event states."""
import numpy as np
import pytest

import snnexact
from snnexact.engine.traces import voltage_trace

from helpers import random_case


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_trace_ends_at_the_simulated_state_and_starts_at_rest(model):
    net, params, times, units, T, _ = random_case(model, 4, (3, 4, 2), True, 12)
    res = snnexact.simulate(net, params, times, units, T, on_budget="ignore")
    for layer, n in ((0, 4), (1, 2)):
        tr = voltage_trace(net, res, layer, list(range(n)), np.array([0.0, T]))
        assert np.all(tr[:, 0] == 0.0)
        np.testing.assert_allclose(tr[:, 1], res.layers[layer].V, rtol=1e-9, atol=1e-12)


def test_lif_trace_stays_below_threshold_and_touches_it_at_spikes():
    net, params, times, units, T, _ = random_case("lif", 1, (3, 4, 2), False, 12)
    res = snnexact.simulate(net, params, times, units, T, on_budget="ignore")
    hidden = res.layers[0]
    assert hidden.n_spikes > 0
    grid = np.linspace(0.0, T, 2001)
    tr = voltage_trace(net, res, 0, list(range(4)), grid)
    assert tr.max() <= 1.0 + 1e-12
    t0, n0 = hidden.times[0], hidden.units[0]
    just_before = voltage_trace(net, res, 0, [n0], np.array([t0 * (1 - 1e-12)]))[0, 0]
    assert just_before == pytest.approx(1.0, abs=1e-9)
