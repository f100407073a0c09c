"""Trainable initial voltages ``Params.V0``: exact gradients (central finite differences),
projection into the model's ``v0_range``, and training with checkpoint and resume."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import snnexact
from snnexact.training.config import TrainConfig
from snnexact.training.train import train

from helpers import random_case
from test_gradients import check_all_groups

cases = st.tuples(st.sampled_from(["lif", "qif"]), st.integers(0, 2 ** 32 - 1),
                  st.sampled_from([(3, 4, 2), (3, 3, 3, 2)]), st.booleans(),
                  st.integers(2, 10), st.sampled_from(["first_spike", "integral", "max_voltage"]))


def with_v0(net, params, rng, readout):
    n_sim = net.n_layers if readout == "first_spike" else net.n_layers - 1
    lo, hi = net.neuron.v0_range
    V0 = tuple(rng.uniform(lo, 0.9 * hi, net.sizes[l + 1]) if l < n_sim else None
               for l in range(net.n_layers))
    return snnexact.Params(params.W, params.R, V0)


@given(cases)
def test_initial_voltage_gradient_matches_finite_differences(case):
    model, seed, sizes, recurrent, n_in, readout = case
    net, params, times, units, T, rng = random_case(model, seed, sizes, recurrent, n_in,
                                                    w_mean=0.3)
    params = with_v0(net, params, rng, readout)
    check_all_groups(net, params, times, units, int(rng.integers(0, sizes[-1])), T, readout, rng)


def test_initial_voltages_change_the_simulation_and_are_checked():
    net, params, times, units, T, rng = random_case("qif", 1, (3, 4, 2), False, 8, w_mean=0.3)
    p = with_v0(net, params, rng, "first_spike")
    same = snnexact.simulate(net, params, times, units, T, initial_state=net.initial_state(p))
    ev = snnexact.evaluate(net, p, times, units, 0, T)
    for a, b in zip(same.layers, ev.simulation.layers):
        np.testing.assert_array_equal(a.times, b.times)
    _, grads, _ = snnexact.value_and_grad(net, p, times, units, 0, T)
    assert set(grads.named()) == set(p.named())
    bad = snnexact.Params(p.W, p.R, (np.full(4, 1.5), None))
    with pytest.raises(ValueError, match=r"V0\[0\] must lie in"):
        snnexact.evaluate(net, bad, times, units, 0, T)
    with pytest.raises(ValueError, match="initial_state"):
        snnexact.evaluate(net, p, times, units, 0, T, initial_state=net.initial_state(p))


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_projection_keeps_initial_voltages_in_range(model):
    neuron = snnexact.LIF(1.0, theta=2.0) if model == "lif" else snnexact.QIF(1.0)
    net = snnexact.Network(neuron, (2, 3, 2))
    p = net.with_initial_voltages(net.init_params(0), 2)
    p.V0[0][:] = [-10.0, 0.3, 10.0]
    net.project_v0(p)
    lo, hi = neuron.v0_range
    assert p.V0[0][0] == lo and p.V0[0][1] == 0.3 and lo < p.V0[0][2] < hi
    net.check_params(p)  # accepted after projection


def test_training_with_initial_voltages_resumes_exactly(tmp_path):
    cfg = TrainConfig(hidden=(6,), epochs=2, batch_size=16, max_samples=48, chunk_size=4,
                      lr=5e-2, train_v0=True, model="qif")
    _, ref, hist = train(cfg, tmp_path / "a", progress=False)
    assert ref.V0 is not None and np.any(ref.V0[0] != 0.0), "V0 was not trained"
    lo, hi = snnexact.QIF(1.0).v0_range
    assert all(np.all((v >= lo) & (v < hi)) for v in ref.V0 if v is not None)
    class Stop(Exception):
        pass

    def stop(entry):  # interrupt after the first epoch's checkpoint
        raise Stop

    with pytest.raises(Stop):
        train(cfg, tmp_path / "b", progress=False, on_epoch=stop)
    _, again, _ = train(cfg, tmp_path / "b", resume=True, progress=False)
    for name, arr in ref.named().items():
        np.testing.assert_array_equal(again.named()[name], arr, err_msg=name)
