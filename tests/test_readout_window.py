"""Pseudospike readout window (docs/theory.md): the voltage readouts over ``[0, T + T_p]`` count
the pseudospikes of the last hidden QIF layer after ``T``.

Checked: pseudospike times against an ODE integration of the pseudodynamics (reference/), the
gradient against central finite differences (including the rows of silent hidden neurons, which
only the window reaches), ``T_p = 0`` bitwise equal to the plain readout, and continuity of the
loss where a hidden spike leaves through ``T`` or a pseudospike crosses ``T + T_p``."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import snnexact
from snnexact.engine import losses
from snnexact.engine.pseudo import periods, rate_pass
from validation.continuity import find_jumps

from helpers import loss_step_at_count_change, random_case
from test_gradients import check_all_groups
from tolerances import (CONTINUOUS_SHRINK, JUMP_KEEP_FRACTION, REFINE_REL_WIDTH, SPIKE_TIME_ATOL,
                        SPIKE_TIME_RTOL, scaled_error)
import reference.pseudo_ode as oracle

READOUTS = ["integral", "max_voltage"]


def _hidden_state(net, params, times, units, T):
    res = snnexact.simulate(net, params, times, units, T)
    hidden = res.layers[:net.n_layers - 1]
    return hidden, rate_pass(params.W[:-1], params.R[:-1], [L.V for L in hidden],
                             [L.I for L in hidden], net.neuron.tau_m)


@pytest.mark.parametrize("seed", range(6))
def test_window_pseudospikes_match_the_ode_oracle(seed):
    net, params, times, units, T, _ = random_case("qif", seed, (4, 5, 2), bool(seed % 2), 10,
                                                  w_mean=0.3)
    window = 3.0 * net.neuron.tau_m
    ev = snnexact.evaluate(net, params, times, units, 0, T, readout="integral", window=window)
    got_t, got_u = ev.window_spikes
    hidden, ps = _hidden_state(net, params, times, units, T)
    n_checked = 0
    for n in range(net.sizes[-2]):
        want = oracle.pseudospike_times(hidden[-1].V[n], ps.sigma[-1][n], net.neuron.tau_m, T,
                                        T + window)
        want = want[want < T + window - 1e-9]  # a spike within rounding of the window end
        mine = np.sort(got_t[got_u == n])[:want.size]
        assert mine.size == want.size
        assert np.all(scaled_error(mine, want, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1)
        n_checked += want.size
    assert n_checked > 0


@pytest.mark.parametrize("readout", READOUTS)
@pytest.mark.parametrize("seed", range(4))
def test_zero_window_is_the_plain_readout_bitwise(readout, seed):
    net, params, times, units, T, _ = random_case("qif", seed, (4, 5, 3), False, 10, w_mean=0.3)
    ev = snnexact.evaluate(net, params, times, units, 1, T, readout=readout, window=0.0)
    h = ev.simulation.layers[-1]
    W = params.W[-1]
    tau = net.neuron.tau_m
    if readout == "integral":
        want = losses.integral_readout(h.times, h.units, W / tau, tau, T).logits
    else:
        want = losses.max_voltage_readout(h.times, h.units, W, tau, T).logits
    assert ev.window_spikes is None
    np.testing.assert_array_equal(ev.outputs, want)


cases = st.tuples(st.integers(0, 2 ** 32 - 1), st.sampled_from([(3, 4, 2), (3, 3, 3, 2)]),
                  st.booleans(), st.integers(2, 10), st.sampled_from(READOUTS),
                  st.sampled_from([0.5, 2.0]))


@given(cases)
def test_window_gradient_matches_finite_differences(case):
    seed, sizes, recurrent, n_in, readout, window_tau = case
    net, params, times, units, T, rng = random_case("qif", seed, sizes, recurrent, n_in,
                                                    w_mean=0.2)
    check_all_groups(net, params, times, units, int(rng.integers(0, sizes[-1])), T, readout, rng,
                     window=window_tau * net.neuron.tau_m)


def _silent_hidden_case():
    """Two hidden QIF neurons, one driven to fire, one with negative weights (silent)."""
    net = snnexact.Network(snnexact.QIF(0.5), (2, 2, 2))
    W0 = np.array([[6.0, 6.0], [-1.0, -0.5]])
    W1 = np.array([[1.0, -1.0], [-0.5, 2.0]])
    params = snnexact.Params((W0, W1), (None, None))
    return net, params, np.array([0.1, 0.3]), np.array([0, 1]), 1.0


@pytest.mark.parametrize("readout", READOUTS)
def test_window_reaches_silent_hidden_neurons(readout):
    net, params, times, units, T = _silent_hidden_case()
    _, g0, ev0 = snnexact.value_and_grad(net, params, times, units, 0, T, readout=readout)
    assert np.all(ev0.simulation.layers[0].units == 0), "neuron 1 must be silent in the trial"
    assert np.all(g0.W[0][1] == 0.0)  # no window: nothing reaches the silent neuron
    _, g, ev = snnexact.value_and_grad(net, params, times, units, 0, T, readout=readout,
                                       window=2.0)
    assert np.any(ev.window_spikes[1] == 1), "the silent neuron has pseudospikes in the window"
    assert np.all(np.abs(g.W[0][1]) > 0)
    check_all_groups(net, params, times, units, 0, T, readout, np.random.default_rng(0),
                     window=2.0)


def _scan(loss_at, alphas, name):
    losses_ = np.array([loss_at(a) for a in alphas])
    refinements = find_jumps(alphas, losses_, loss_at, abs_threshold=0.0, rel_threshold=1.5,
                             rel_width=REFINE_REL_WIDTH, keep_fraction=JUMP_KEEP_FRACTION)
    for r in refinements:
        assert not r.is_jump, f"{name}: jump {r.size:+.3g} at a = {r.position!r}"
        assert r.deltas[-1] <= CONTINUOUS_SHRINK * r.deltas[0] + 1e-15
    return losses_


@pytest.mark.parametrize("readout", READOUTS)
def test_window_loss_is_continuous_where_spikes_cross_T_and_the_window_end(readout):
    """Scan the input weight of hidden neuron 0 (a spike leaves the trial through T and
    pseudospikes cross T + T_p), and an upstream weight of a two-hidden-layer network (a spike of
    the first hidden layer leaves through T): counts change on the grid, the loss never jumps."""
    net, params, times, units, T = _silent_hidden_case()
    window = 1.0
    alphas = np.linspace(1.0, 8.0, 141)

    def at(a, what):
        W0 = params.W[0].copy()
        W0[0, :] = a
        ev = snnexact.evaluate(net, snnexact.Params((W0, params.W[1]), params.R), times, units,
                               0, T, readout=readout, window=window)
        return ev.loss if what == "loss" else (ev.simulation.layers[0].n_spikes,
                                               int(np.sum(ev.window_spikes[1] == 0)))

    for which in (0, 1):  # a hidden spike crossing T; a pseudospike crossing T + T_p
        steps = loss_step_at_count_change(lambda a: at(a, "counts")[which],
                                          lambda a: at(a, "loss"), alphas)
        assert steps, f"count {which} never changes on the grid"
        assert max(steps) < 1e-9, f"{readout}: the loss jumps where count {which} changes"
    _scan(lambda a: at(a, "loss"), alphas, f"{readout}, hidden weight")

    deep = snnexact.Network(snnexact.QIF(0.5), (2, 2, 2, 2))
    V1 = np.array([[3.0, 0.5], [0.5, 3.0]])

    def upstream(a):
        W0 = params.W[0].copy()
        W0[0, :] = a
        p = snnexact.Params((W0, V1, params.W[1]), (None, None, None))
        return snnexact.evaluate(deep, p, times, units, 0, T, readout=readout, window=window).loss

    def upstream_count(a):
        W0 = params.W[0].copy()
        W0[0, :] = a
        p = snnexact.Params((W0, V1, params.W[1]), (None, None, None))
        return snnexact.simulate(deep, p, times, units, T).layers[0].n_spikes

    steps = loss_step_at_count_change(upstream_count, upstream, alphas)
    assert steps and max(steps) < 1e-9, f"{readout}: jump where an upstream spike crosses T"
    _scan(upstream, alphas, f"{readout}, upstream weight")
