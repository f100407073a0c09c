"""Single-neuron closed forms: every flow and spike branch against the ODE oracle, plus properties."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import snnexact
from snnexact.engine.neurons import interface, lif, qif

from helpers import oracle
from tolerances import (SEMIGROUP_RTOL, SPIKE_TIME_ATOL, SPIKE_TIME_RTOL, STATE_ATOL, STATE_RTOL,
                        scaled_error)

TAU = 0.7
LK = lif.LIFKernel(TAU, 1.0)
QK = qif.QIFKernel(TAU)

# (model, V0, I0, T, branch): each QIF flow branch (docs/theory.md 1.1) and spike branch (1.2), LIF cases.
BRANCH_CASES = [
    ("lif", 0.0, 6.0, 2.0, "LIF crossing"),
    ("lif", 0.5, 2.0, 2.0, "LIF no crossing, D < 0"),
    ("lif", 0.2, -1.5, 2.0, "LIF inhibitory current"),
    ("lif", 0.0, 4.01, 3.0, "LIF near-tangential crossing, small D > 0"),
    ("lif", 0.0, 3.99, 3.0, "LIF near-tangential miss, small D < 0"),
    ("lif", -2.0, 0.0, 1.0, "LIF pure decay, I = 0"),
    ("qif", 0.3, 0.1, 0.3, "QIF flow c > 0, no spike"),
    ("qif", 0.5, 5.0, 2.0, "QIF spike c > 0"),
    ("qif", -0.8, 0.0, 1.0, "QIF flow c = 0"),
    ("qif", 1.6, 0.0, 2.0, "QIF spike c = 0, u0 > 1"),
    ("qif", 0.4, -1.0, 1.0, "QIF flow c < 0, |u0| < a"),
    ("qif", -3.0, -1.0, 1.0, "QIF flow c < 0, u0 < -a"),
    ("qif", 1.5, -1.0, 2.0, "QIF spike c < 0, u0 > a"),
    ("qif", 1.05, -1.0, 1.0, "QIF c < 0, u0 > a but s* > 1: no spike"),
    ("qif", 1.0, -1.0, 1.0, "QIF fixed point u0 = a"),
    ("qif", -1.0, -1.0, 1.0, "QIF fixed point u0 = -a"),
    ("qif", -math.inf, 12.0, 2.0, "QIF from reset, c > pi^2: spikes"),
    ("qif", -math.inf, 2.0, 0.5, "QIF from reset, c > 0"),
    ("qif", -math.inf, 0.0, 0.5, "QIF from reset, c = 0"),
    ("qif", -math.inf, -2.0, 0.5, "QIF from reset, c < 0"),
]


def _neuron(model):
    return snnexact.LIF(TAU) if model == "lif" else snnexact.QIF(TAU)


def _next_spike(model, V0, I0):
    if model == "lif":
        return lif.next_spike_time(LK, V0, I0)
    return qif.next_spike_time(QK, V0, I0)


@pytest.mark.parametrize("model,V0,I0,T,branch", BRANCH_CASES, ids=[c[4] for c in BRANCH_CASES])
def test_branch_against_ode_oracle(model, V0, I0, T, branch):
    """Scalar verbs and the layer kernel both agree with numerical integration."""
    net = snnexact.Network(_neuron(model), (1, 1))
    params = snnexact.Params((np.zeros((1, 1)),), (None,))
    init = [(np.array([V0]), np.array([I0]))]
    ref = oracle("ode", net, params, [], [], T, init)[0]
    res = snnexact.simulate(net, params, [], [], T, initial_state=init).output
    # kernel vs oracle: spikes and end state
    assert res.n_spikes == len(ref.times), branch
    assert np.all(scaled_error(res.times, ref.times, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1)
    assert np.all(scaled_error([res.V[0], res.I[0]], [ref.V[0], ref.I[0]], STATE_RTOL, STATE_ATOL) <= 1)
    # scalar verbs vs oracle: first spike time, and the flow when no spike comes before T
    dt = _next_spike(model, V0, I0)
    if len(ref.times):
        assert scaled_error(dt, ref.times[0], SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1
    else:
        assert dt >= T
        V, I = interface.flow(_neuron(model).kernel, V0, I0, T)
        assert np.all(scaled_error([V, I], [ref.V[0], ref.I[0]], STATE_RTOL, STATE_ATOL) <= 1)


def test_single_kick_thresholds():
    """From rest one kick fires the LIF iff w > 4 theta (grazing at equality), QIF iff w > pi^2/4
    (docs/theory.md 1.2; with tau_s = tau/2 the QIF needs s* < 1)."""
    assert lif.next_spike_time(LK, 0.0, 4.0 * 1.01) < math.inf
    assert lif.next_spike_time(LK, 0.0, 4.0) == math.inf
    assert lif.next_spike_time(LK, 0.0, 4.0 * 0.99) == math.inf
    assert qif.next_spike_time(QK, 0.0, math.pi ** 2 / 4 * 1.001) < math.inf
    assert qif.next_spike_time(QK, 0.0, math.pi ** 2 / 4 * 0.999) == math.inf
    # from reset a current above pi^2 fires again
    assert qif.next_spike_time(QK, -math.inf, math.pi ** 2 * 1.001) < math.inf
    assert qif.next_spike_time(QK, -math.inf, math.pi ** 2 * 0.999) == math.inf


finite = dict(allow_nan=False, allow_infinity=False)


@given(model=st.sampled_from(["lif", "qif"]), V0=st.floats(-3, 0.95, **finite),
       I0=st.floats(-6, 8, **finite), d1=st.floats(0, 2, **finite), d2=st.floats(0, 2, **finite))
def test_flow_is_a_semigroup(model, V0, I0, d1, d2):
    assume(_next_spike(model, V0, I0) > 1.01 * (d1 + d2))
    p = _neuron(model).kernel
    V1, I1 = interface.flow(p, V0, I0, d1)
    V2, I2 = interface.flow(p, V1, I1, d2)
    V, I = interface.flow(p, V0, I0, d1 + d2)
    assert scaled_error([V2, I2], [V, I], SEMIGROUP_RTOL, 1e-12).max() <= 1


@given(V0=st.floats(-3, 0.95, **finite), I0=st.floats(0, 30, **finite))
def test_lif_threshold_reached_at_predicted_time_and_not_before(V0, I0):
    dt = lif.next_spike_time(LK, V0, I0)
    assume(dt < math.inf)
    V, _ = lif.flow(LK, V0, I0, dt)
    assert abs(V - 1.0) <= 1e-9
    grid = np.linspace(0.0, dt, 201)[:-1]
    assert all(lif.flow(LK, V0, I0, t)[0] < 1.0 for t in grid)


@given(V0=st.floats(-3, 3, **finite), I0=st.floats(-6, 30, **finite))
def test_qif_blows_up_at_predicted_time_and_not_before(V0, I0):
    """Near the pole V ~ tau / (t* - t); before it V stays finite and below the pole value."""
    dt = qif.next_spike_time(QK, V0, I0)
    assume(dt < math.inf)
    delta = 1e-7 * TAU
    V, _ = qif.flow(QK, V0, I0, dt - delta)
    assert V * delta / TAU == pytest.approx(1.0, rel=1e-4)
    grid = np.linspace(0.0, dt - delta, 201)
    Vs = np.array([qif.flow(QK, V0, I0, t)[0] for t in grid])
    assert np.all(np.isfinite(Vs)) and np.all(np.diff(Vs[-20:]) > 0)


@given(model=st.sampled_from(["lif", "qif"]), V0=st.floats(-3, 0.95, **finite),
       I0=st.floats(-8, 30, **finite), T=st.floats(1e-3, 5, **finite))
def test_layer_kernel_matches_scalar_verbs(model, V0, I0, T):
    """The fast layer kernel (series/oscillator form for QIF) against the tan/arctan closed forms."""
    dt = _next_spike(model, V0, I0)
    assume(abs(dt - T) > 1e-6 * T)
    net = snnexact.Network(_neuron(model), (1, 1))
    params = snnexact.Params((np.zeros((1, 1)),), (None,))
    res = snnexact.simulate(net, params, [], [], T,
                            initial_state=[(np.array([V0]), np.array([I0]))]).output
    if dt < T:
        assert res.n_spikes >= 1
        assert scaled_error(res.times[0], dt, 1e-12, 1e-15) <= 1
    else:
        assert res.n_spikes == 0
        V, I = interface.flow(_neuron(model).kernel, V0, I0, T)
        assert scaled_error([res.V[0], res.I[0]], [V, I], 1e-11, 1e-13).max() <= 1


@pytest.mark.parametrize("cls,kwargs", [(snnexact.LIF, {"tau_m": 0.0}), (snnexact.LIF, {"tau_m": -1}),
                                        (snnexact.LIF, {"tau_m": 1.0, "theta": 0.0}),
                                        (snnexact.QIF, {"tau_m": float("nan")}),
                                        (snnexact.QIF, {"tau_m": float("inf")})])
def test_bad_neuron_parameters(cls, kwargs):
    with pytest.raises(ValueError, match="tau_m|theta"):
        cls(**kwargs)


def test_neuron_parameter_types():
    with pytest.raises(TypeError, match="tau_m"):
        snnexact.QIF("20ms")
