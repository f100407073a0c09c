"""Whole networks against the oracles in reference/, tie rules, budget, event log, determinism."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import snnexact
from snnexact.engine.neurons import qif

from helpers import assert_match, oracle, random_case, well_conditioned


def _random_case(model, seed, sizes, recurrent, n_spikes, T=1.0, tau=0.2):
    return random_case(model, seed, sizes, recurrent, n_spikes, T, tau, w_mean=0.4, r_std=0.5,
                       t_frac=1.0)[:5]


MAX_SPIKES = 60
network_cases = st.tuples(
    st.sampled_from(["lif", "qif"]),
    st.integers(0, 2 ** 32 - 1),
    st.lists(st.integers(1, 6), min_size=2, max_size=4).map(tuple),
    st.booleans(),
    st.integers(0, 25),
)


@given(network_cases)
def test_networks_match_closed_form_oracle(case):
    model, seed, sizes, recurrent, n_spikes = case
    net, params, times, units, T = _random_case(model, seed, sizes, recurrent, n_spikes)
    res = snnexact.simulate(net, params, times, units, T, max_spikes=MAX_SPIKES,
                            on_budget="ignore")
    assume(res.status == 0)  # keeps the slow oracle's work small; budgets are tested below
    assume(well_conditioned(net, params, times, units, T))
    assert_match(res, oracle("closed", net, params, times, units, T))


def _active_case(model, recurrent, first_seed, sizes=(4, 5, 3), n_spikes=20):
    """The first seed from ``first_seed`` on whose network fires, within the budget, and is well
    conditioned (a deterministic choice, so the slow ODE oracle gets a meaningful case)."""
    for seed in range(first_seed, first_seed + 100):
        case = _random_case(model, seed, sizes, recurrent, n_spikes)
        res = snnexact.simulate(*case, max_spikes=MAX_SPIKES, on_budget="ignore")
        if res.status == 0 and res.n_events > 0 and all(L.n_spikes for L in res.layers) \
                and well_conditioned(*case):
            return case
    raise AssertionError("no active case found")


@pytest.mark.parametrize("model", ["lif", "qif"])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("first_seed", [0, 1000])
def test_networks_match_ode_oracle(model, recurrent, first_seed):
    net, params, times, units, T = _active_case(model, recurrent, first_seed)
    res = snnexact.simulate(net, params, times, units, T)
    assert_match(res, oracle("ode", net, params, times, units, T))


@given(network_cases)
def test_output_is_time_ordered_and_in_range(case):
    model, seed, sizes, recurrent, n_spikes = case
    net, params, times, units, T = _random_case(model, seed, sizes, recurrent, n_spikes)
    res = snnexact.simulate(net, params, times, units, T, on_budget="ignore")
    for layer, n in zip(res.layers, sizes[1:]):
        assert np.all(np.diff(layer.times) >= 0)
        assert np.all((layer.times > 0) & (layer.times < min(T, layer.t_stop) + 1e-15))
        assert np.all((layer.units >= 0) & (layer.units < n))
        assert np.all(np.isfinite(layer.I)) and not np.any(np.isnan(layer.V))
        log = layer.log
        assert len(log.times) == layer.n_events and np.all(np.diff(log.times) >= 0)
        assert len(log.checkpoints) == layer.n_events // log.checkpoint_every + 1


def test_deterministic():
    net, params, times, units, T = _random_case("qif", 7, (5, 6, 3), True, 25)
    a = snnexact.simulate(net, params, times, units, T)
    b = snnexact.simulate(net, params, times, units, T)
    for la, lb in zip(a.layers, b.layers):
        assert la.times.tobytes() == lb.times.tobytes() and la.V.tobytes() == lb.V.tobytes()


def test_empty_input_gives_silent_network_at_rest():
    for neuron in (snnexact.LIF(0.02), snnexact.QIF(0.02)):
        net = snnexact.Network(neuron, (3, 4, 2), recurrent=True)
        res = snnexact.simulate(net, net.init_params(0), np.array([]), np.array([], int), 1.0)
        assert res.status == 0 and res.n_events == 0
        for layer in res.layers:
            assert layer.n_spikes == 0 and np.all(layer.V == 0) and np.all(layer.I == 0)


# ----------------------------------------------------------------------------- tie rules

def _one_neuron(w=3.0, tau=1.0):
    net = snnexact.Network(snnexact.QIF(tau), (2, 1))
    return net, snnexact.Params((np.array([[w, 0.5]]),), (None,))


def test_spike_exactly_at_T_is_outside_the_trial():
    net, params = _one_neuron()
    t_star = qif.next_spike_time(qif.QIFKernel(1.0), 0.0, 3.0)
    assert snnexact.simulate(net, params, [0.0], [0], T=t_star).output.n_spikes == 0
    after = snnexact.simulate(net, params, [0.0], [0], T=math.nextafter(t_star, math.inf))
    assert after.output.n_spikes == 1 and after.output.times[0] == t_star


def test_spike_comes_before_an_input_at_the_same_time():
    net, params = _one_neuron()
    t_star = qif.next_spike_time(qif.QIFKernel(1.0), 0.0, 3.0)
    res = snnexact.simulate(net, params, [0.0, t_star], [0, 1], T=t_star + 1.0).output
    assert res.times[0] == t_star
    # event log: input event 0, then the spike (code 0), then input event 1 (code -2)
    assert list(res.log.codes[:3]) == [-1, 0, -2]
    # the input was delivered after the reset: the neuron's current includes it
    assert res.log.times[2] == t_star


def test_equal_spike_times_lower_index_first():
    """Two identical neurons (identical weights) spike at identical times; index 0 goes first and
    each spike is delivered before the next (its recurrent weight reaches the partner at the pole,
    where a finite kick changes nothing)."""
    for neuron in (snnexact.LIF(1.0), snnexact.QIF(1.0)):
        net = snnexact.Network(neuron, (1, 2, 1), recurrent=True)
        params = snnexact.Params((np.array([[9.0], [9.0]]), np.array([[1.0, 1.0]])),
                                 (np.array([[0.0, 0.5], [0.5, 0.0]]), None))
        hidden = snnexact.simulate(net, params, [0.0], [0], T=0.8).layers[0]
        assert hidden.n_spikes >= 2
        pairs = hidden.units.reshape(-1, 2) if hidden.n_spikes % 2 == 0 else None
        assert pairs is not None and np.all(pairs[:, 0] == 0) and np.all(pairs[:, 1] == 1)
        # equal up to the rounding of flowing the partner to the spike time
        np.testing.assert_allclose(hidden.times[0::2], hidden.times[1::2], rtol=1e-14)


def test_inputs_with_equal_time_stamps_form_one_event():
    net = snnexact.Network(snnexact.QIF(1.0), (3, 2))
    W = np.array([[1.0, 2.0, 0.5], [0.3, -0.2, 4.0]])
    params = snnexact.Params((W,), (None,))
    res = snnexact.simulate(net, params, [0.1, 0.1, 0.1, 0.4], [0, 1, 2, 0], T=2.0).output
    assert res.log.input_times.tolist() == [0.1, 0.4]
    assert res.log.input_offsets.tolist() == [0, 3, 4]
    merged = snnexact.Network(snnexact.QIF(1.0), (2, 2))
    mp = snnexact.Params((np.stack([W.sum(axis=1), W[:, 0]], axis=1),), (None,))
    ref = snnexact.simulate(merged, mp, [0.1, 0.4], [0, 1], T=2.0).output
    np.testing.assert_allclose(res.times, ref.times, rtol=1e-14)
    np.testing.assert_array_equal(res.units, ref.units)


# ----------------------------------------------------------------------------- spike budget

def test_budget_overflow_is_reported_never_nan():
    net, params, times, units, T = _random_case("lif", 3, (3, 4, 2), True, 25)
    full = snnexact.simulate(net, params, times, units, T)
    n = full.layers[0].n_spikes
    assert n > 3
    with pytest.warns(snnexact.SpikeBudgetWarning, match=f"layer 0 hit its spike budget of {n - 1}"):
        res = snnexact.simulate(net, params, times, units, T, max_spikes=[n - 1, 1000])
    assert res.status == 1 and res.layers[0].status == 1
    assert res.layers[0].n_spikes == n - 1
    assert res.layers[0].t_stop == full.layers[0].times[n - 1]
    np.testing.assert_array_equal(res.layers[0].times, full.layers[0].times[:n - 1])
    assert all(np.all(np.isfinite(L.times)) and not np.any(np.isnan(L.V)) for L in res.layers)
    with pytest.raises(RuntimeError, match="spike budget"):
        snnexact.simulate(net, params, times, units, T, max_spikes=n - 1, on_budget="raise")
