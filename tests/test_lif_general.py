"""The general-ratio LIF kernels (``snnexact/engine/neurons/lif_general.py``) against the independent
oracles of ``reference/lif_general.py`` (dense-grid closed form and ODE integration)."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from reference import lif_general as ref
import snnexact
from snnexact.engine.neurons import lif
from snnexact.engine.neurons.lif_general import (LIFGeneralKernel, bracketed_spike_time, flow,
                                                 reset, spike_time_within)
from snnexact.engine.neurons.lif_general_adjoint import flow_grad, spike_time_grad_within

from tolerances import (BRACKET_VS_CLOSED_RTOL, FD_GRAD_ATOL, FD_GRAD_RTOL, FD_STEP,
                        ODE_CROSSING_V_ATOL, SEMIGROUP_RTOL, SPIKE_TIME_ATOL, SPIKE_TIME_RTOL,
                        STATE_ATOL, STATE_RTOL, scaled_error)

RATIOS = [0.1, 0.25, 0.5, 0.9, 1.0]  # tau_s / tau_m (issue 11 targets)
GRAZE = 1e-10                        # grazing maxima: theta +- GRAZE
finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def neurons(draw, ratio):
    tau_m = draw(st.floats(0.5, 2.0, **finite))
    theta = draw(st.floats(0.5, 2.0, **finite))
    return snnexact.LIF(tau_m, theta, tau_s=ratio * tau_m,
                        v_leak=draw(st.floats(-1.0, 0.5)) * theta,
                        v_reset=draw(st.floats(-1.0, 0.5)) * theta, r=draw(st.floats(0.5, 2.0)))


def general(nrn):
    """The general kernel parameters of ``nrn`` (also where ``LIF`` would run the closed form)."""
    return LIFGeneralKernel(nrn.tau_m, nrn.synaptic_tau, nrn.theta, nrn.v_leak, nrn.v_reset,
                            nrn.r)


def current(data, ratio, low=-3.0):
    """A synaptic current; fast synapses need more charge to reach threshold."""
    return data.draw(st.floats(low, 15.0, **finite)) / min(ratio, 1.0) ** 0.75


def oracle_args(nrn):
    return nrn.tau_m, nrn.synaptic_tau, nrn.theta, nrn.v_leak, nrn.r


def vdot(nrn, V, I):
    return ((nrn.v_leak - V) + nrn.r * I) / nrn.tau_m


@pytest.mark.parametrize("ratio", RATIOS)
@given(data=st.data(), v0=st.floats(-2.0, 0.999, **finite))
def test_spike_time_against_oracles(ratio, data, v0):
    """Spiking and silent neurons: existence and time agree with both oracles (crossings that
    are not near-grazing: those are the next test)."""
    nrn = data.draw(neurons(ratio))
    i0 = current(data, ratio)
    V0, H = v0 * nrn.theta, 5.0 * nrn.tau_m
    t = spike_time_within(general(nrn), V0, i0, H)
    t_dense = ref.dense_spike_time(V0, i0, H, *oracle_args(nrn))
    if t_dense < math.inf:
        V, I = ref.closed_flow(V0, i0, t_dense, nrn.tau_m, nrn.tau_s, nrn.v_leak, nrn.r)
        assume(abs(vdot(nrn, V, I)) * nrn.tau_m > 1e-3 and t_dense < (1 - 1e-9) * H)
    t_ode = ref.ode_spike_time(V0, i0, H, *oracle_args(nrn))
    assert (t == math.inf) == (t_dense == math.inf) == (t_ode == math.inf)
    if t < math.inf:
        assert scaled_error(t, t_dense, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1
        assert scaled_error(t, t_ode, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1


def grazing_state(nrn, eps, lead):
    """A state whose voltage maximum is ``theta + eps``: from ``V = v_leak`` the maximum is
    ``v_leak + r I0 K_max`` at ``t_K = tau_m tau_s ln(tau_m/tau_s) / (tau_m - tau_s)``
    (``tau`` at equal constants); flowing by ``lead t_K`` (reference flow) gives
    ``V0 != v_leak``."""
    tm, ts = nrn.tau_m, nrn.tau_s
    t_K = tm if tm == ts else tm * ts * math.log(tm / ts) / (tm - ts)
    K_max = ref.closed_flow(0.0, 1.0, t_K, tm, ts)[0]
    i0 = (nrn.theta + eps - nrn.v_leak) / (nrn.r * K_max)
    return ref.closed_flow(nrn.v_leak, i0, lead * t_K, tm, ts, nrn.v_leak, nrn.r)


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("eps", [GRAZE, -GRAZE], ids=["just above", "just below"])
@given(data=st.data(), lead=st.floats(0.0, 0.9, **finite))
def test_grazing_crossings(ratio, eps, data, lead):
    """No missed and no false spikes within 1e-10 of threshold; time to 1e-9 against the dense
    closed-form oracle. The ODE oracle agrees within its voltage error over ``|dV/dt|`` (about
    1e-5 here: 1e-9 relative is beyond any double-precision integration)."""
    nrn = data.draw(neurons(ratio))
    V0, I0 = grazing_state(nrn, eps, lead)
    H = 5.0 * nrn.tau_m
    t = spike_time_within(general(nrn), V0, I0, H)
    t_dense = ref.dense_spike_time(V0, I0, H, *oracle_args(nrn))
    t_ode = ref.ode_spike_time(V0, I0, H, *oracle_args(nrn))
    if eps < 0:
        assert t == t_dense == t_ode == math.inf
        return
    assert max(t, t_dense, t_ode) < math.inf
    assert scaled_error(t, t_dense, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1
    V, I = ref.closed_flow(V0, I0, t_dense, nrn.tau_m, nrn.tau_s, nrn.v_leak, nrn.r)
    cond = ODE_CROSSING_V_ATOL / abs(vdot(nrn, V, I))
    assert scaled_error(t, t_ode, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL + cond) <= 1


@given(v0=st.floats(-2.0, 0.999, **finite), i0=st.floats(-3.0, 15.0, **finite),
       tau=st.floats(0.5, 2.0, **finite), theta=st.floats(0.5, 2.0, **finite),
       dt=st.floats(0.0, 5.0, **finite))
def test_ratio_half_is_the_lif_closed_form(v0, i0, tau, theta, dt):
    """At tau_s = tau_m/2 ``LIF`` runs lif.py, and the general route (kernel K, bracketed root)
    agrees with it to rounding."""
    assert isinstance(snnexact.LIF(tau, theta, tau_s=tau / 2).kernel, lif.LIFKernel)
    p = LIFGeneralKernel(tau, tau / 2, theta, 0.0, 0.0, 1.0)
    V0, H = v0 * theta, 5.0 * tau
    want = lif.flow(lif.LIFKernel(tau, theta), V0, i0, dt)
    assert scaled_error(flow(p, V0, i0, dt), want, 1e-14, 1e-15).max() <= 1
    t_cf = lif.next_spike_time(lif.LIFKernel(tau, theta), V0, i0)
    x = math.exp(-dt / tau)
    assert scaled_error(flow_grad(p, V0, i0, dt)[3], x - x * x, 1e-14, 1e-16) <= 1
    t = bracketed_spike_time(p, V0, i0, H)
    if t_cf < H:
        V, I = lif.flow(lif.LIFKernel(tau, theta), V0, i0, t_cf)
        assume(abs(I - V) > 1e-3)  # tau dV/dt: away from grazing
    assert (t == math.inf) == (t_cf >= H)
    if t < math.inf:
        assert scaled_error(t, t_cf, BRACKET_VS_CLOSED_RTOL, SPIKE_TIME_ATOL) <= 1


@pytest.mark.parametrize("ratio", RATIOS + [1 - 1e-12, 1 + 1e-12, 3.0])
@given(data=st.data(), v0=st.floats(-2.0, 0.999, **finite), i0=st.floats(-3.0, 15.0, **finite),
       dt=st.floats(0.0, 5.0, **finite))
def test_flow_against_oracles(ratio, data, v0, i0, dt):
    """Closed form (amplitude form; ratios within 1e-12 of 1 against the alpha-kernel limit) and
    ODE integration."""
    nrn = data.draw(neurons(ratio))
    V0 = v0 * nrn.theta
    got = flow(general(nrn), V0, i0, dt)
    tau_s = nrn.tau_m if abs(ratio - 1) < 1e-6 else nrn.tau_s
    want = ref.closed_flow(V0, i0, dt, nrn.tau_m, tau_s, nrn.v_leak, nrn.r)
    assert scaled_error(got, want, STATE_RTOL, STATE_ATOL).max() <= 1
    ode = ref.ode_flow(V0, i0, dt, nrn.tau_m, nrn.tau_s, nrn.v_leak, nrn.r)
    assert scaled_error(got, ode, STATE_RTOL, STATE_ATOL).max() <= 1


@pytest.mark.parametrize("ratio", RATIOS + [3.0])
@given(data=st.data(), v0=st.floats(-2.0, 0.999, **finite), i0=st.floats(-3.0, 15.0, **finite),
       d1=st.floats(0.0, 3.0, **finite), d2=st.floats(0.0, 3.0, **finite))
def test_flow_is_a_semigroup(ratio, data, v0, i0, d1, d2):
    nrn = data.draw(neurons(ratio))
    V1, I1 = flow(general(nrn), v0 * nrn.theta, i0, d1)
    assert scaled_error(flow(general(nrn), V1, I1, d2), flow(general(nrn), v0 * nrn.theta, i0, d1 + d2),
                        SEMIGROUP_RTOL, 1e-12).max() <= 1


@pytest.mark.parametrize("ratio", RATIOS + [3.0])
@given(data=st.data(), v0=st.floats(-2.0, 0.999, **finite))
def test_threshold_reached_at_predicted_time_and_not_before(ratio, data, v0):
    nrn = data.draw(neurons(ratio))
    i0 = current(data, ratio, low=0.0)
    V0 = v0 * nrn.theta
    t = spike_time_within(general(nrn), V0, i0, 5.0 * nrn.tau_m)
    assume(0 < t < math.inf)
    assert abs(flow(general(nrn), V0, i0, t)[0] - nrn.theta) <= 1e-12 * (1 + abs(nrn.theta))
    assert all(flow(general(nrn), V0, i0, s)[0] < nrn.theta for s in np.linspace(0.0, t, 201)[:-1])


def central_difference(f, x):
    h = FD_STEP * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("ratio", RATIOS + [3.0])
@given(data=st.data(), v0=st.floats(-2.0, 0.9, **finite), dt=st.floats(0.01, 4.0, **finite))
def test_sensitivities_against_finite_differences(ratio, data, v0, dt):
    nrn = data.draw(neurons(ratio))
    i0 = current(data, ratio)
    p, V0, H = general(nrn), v0 * nrn.theta, 5.0 * nrn.tau_m
    _, _, dV_dV0, dV_dI0, dI_dI0 = flow_grad(p, V0, i0, dt)
    fd = [central_difference(lambda v: flow(p, v, i0, dt)[0], V0),
          central_difference(lambda c: flow(p, V0, c, dt)[0], i0),
          central_difference(lambda c: flow(p, V0, c, dt)[1], i0)]
    assert scaled_error([dV_dV0, dV_dI0, dI_dI0], fd, FD_GRAD_RTOL, FD_GRAD_ATOL).max() <= 1
    t, dt_dV0, dt_dI0 = spike_time_grad_within(p, V0, i0, H)
    if t == math.inf:
        assert dt_dV0 == dt_dI0 == 0.0
        return
    V, I = flow(p, V0, i0, t)
    assume(abs(vdot(nrn, V, I)) * nrn.tau_m > 1e-2 and t < 0.99 * H)  # spike set fixed within h
    fd = [central_difference(lambda v: spike_time_within(p, v, i0, H), V0),
          central_difference(lambda c: spike_time_within(p, V0, c, H), i0)]
    assert scaled_error([dt_dV0, dt_dI0], fd, FD_GRAD_RTOL, FD_GRAD_ATOL).max() <= 1


def test_reset_and_parameter_tuple():
    nrn = snnexact.LIF(20.0, theta=1.5, tau_s=5.0, v_leak=-0.5, v_reset=-0.2, r=2.0)
    assert nrn.kernel == (20.0, 5.0, 1.5, -0.5, -0.2, 2.0)
    assert reset(nrn.kernel, 1.5) == -0.2


@pytest.mark.parametrize("field,value", [
    ("tau_m", 0.0), ("tau_m", -1.0), ("tau_s", 0.0), ("tau_s", math.inf), ("theta", math.nan),
    ("v_leak", math.inf), ("v_reset", 1.0), ("r", 0.0), ("r", "1"), ("tau_s", True)])
def test_bad_parameters_name_the_field(field, value):
    kwargs = dict(tau_m=1.0, tau_s=0.5)
    kwargs[field] = value
    with pytest.raises((ValueError, TypeError), match=field):
        snnexact.LIF(**kwargs)
