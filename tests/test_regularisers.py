"""Silence and firing-rate regularisers in the loss: exact gradients (central finite
differences), the silence term reaching silent QIF neurons, and its continuity where a silent
neuron starts to fire."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import snnexact

from helpers import loss_step_at_count_change, random_case
from test_gradients import check_all_groups

cases = st.tuples(st.sampled_from(["lif", "qif"]), st.integers(0, 2 ** 32 - 1),
                  st.sampled_from([(3, 4, 2), (3, 3, 3, 2)]), st.booleans(), st.integers(2, 10),
                  st.sampled_from(["first_spike", "integral", "max_voltage"]))


@given(cases)
def test_regularised_gradient_matches_finite_differences(case):
    model, seed, sizes, recurrent, n_in, readout = case
    net, params, times, units, T, rng = random_case(model, seed, sizes, recurrent, n_in,
                                                    w_mean=0.1)
    check_all_groups(net, params, times, units, int(rng.integers(0, sizes[-1])), T, readout, rng,
                     silence_reg=0.7, rate_reg=0.3, rate_lower=0.5, rate_upper=1.5)


def _case():
    net = snnexact.Network(snnexact.QIF(0.5), (2, 2, 2))
    params = snnexact.Params((np.array([[6.0, 6.0], [-1.0, -0.5]]),
                              np.array([[1.0, -1.0], [-0.5, 2.0]])), (None, None))
    return net, params, np.array([0.1, 0.3]), np.array([0, 1]), 1.0


def test_silence_regulariser_value_and_reach():
    net, params, times, units, T = _case()
    plain, g0, _ = snnexact.value_and_grad(net, params, times, units, 0, T, readout="integral")
    reg, g, ev = snnexact.value_and_grad(net, params, times, units, 0, T, readout="integral",
                                         silence_reg=2.0)
    hidden = ev.simulation.layers[0]
    assert np.all(hidden.units == 0)  # neuron 1 is silent
    from snnexact.engine.pseudo import rate_pass
    ps = rate_pass(params.W[:1], params.R[:1], [hidden.V], [hidden.I], 0.5)
    # the value: strength / (N tau) * (t_1 - T) of the one silent neuron, N = 2 hidden neurons
    assert reg - plain == pytest.approx(2.0 / (2 * 0.5) * ps.first_delay[0][1], rel=1e-12)
    assert np.all(g0.W[0][1] == 0.0) and np.all(g.W[0][1] < 0.0)  # pushes neuron 1 to fire
    # LIF has no pseudodynamics: the term is absent
    lif = snnexact.Network(snnexact.LIF(0.5), (2, 2, 2))
    a = snnexact.loss(lif, params, times, units, 0, T, readout="integral")
    b = snnexact.loss(lif, params, times, units, 0, T, readout="integral", silence_reg=2.0)
    assert a == b


def test_silence_regulariser_is_continuous_where_a_neuron_starts_to_fire():
    net, params, times, units, T = _case()

    def at(a, what="loss"):
        W0 = params.W[0].copy()
        W0[1, :] = a
        ev = snnexact.evaluate(net, snnexact.Params((W0, params.W[1]), params.R), times, units,
                               0, T, readout="integral", silence_reg=5.0)
        return ev.loss if what == "loss" else ev.simulation.layers[0].n_spikes

    alphas = np.linspace(-1.0, 8.0, 181)
    steps = loss_step_at_count_change(lambda a: at(a, "count"), at, alphas)
    assert steps, "neuron 1 never starts firing on the grid"
    assert max(steps) < 1e-9
