"""Every adjoint kernel of ``snnexact/engine/neurons/*_adjoint.py`` against its slow twin in
``reference/adjoint.py`` (complex step and the docs/theory.md 1.3 forms), branch by branch."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from reference import adjoint as twin
from snnexact.engine.neurons import interface, lif, lif_adjoint, qif, qif_adjoint
from snnexact.engine.neurons.lif import LIFKernel

from tolerances import ADJOINT_TWIN_ATOL, ADJOINT_TWIN_RTOL, scaled_error

TAU = 0.7
QK = qif.QIFKernel(TAU)
finite = dict(allow_nan=False, allow_infinity=False)


def assert_twin(got, ref):
    with np.errstate(invalid="ignore"):  # inf - inf of equal infinities (no spike)
        err = scaled_error(np.asarray(got, float), np.asarray(ref, float),
                           ADJOINT_TWIN_RTOL, ADJOINT_TWIN_ATOL)
    assert np.all(err <= 1), (got, ref, err)


# ------------------------------------------------------------------------------------------ LIF

@given(V0=st.floats(-3, 0.99, **finite), I0=st.floats(-8, 30, **finite),
       dt=st.floats(0, 5, **finite))
def test_lif_flow_grad(V0, I0, dt):
    assert_twin(lif_adjoint.flow_grad(LIFKernel(TAU, 1.0), V0, I0, dt), twin.lif_flow_grad(V0, I0, dt, TAU))


@given(V0=st.floats(-3, 0.99, **finite), I0=st.floats(-8, 30, **finite),
       theta=st.floats(0.5, 2, **finite))
def test_lif_spike_time_grad(V0, I0, theta):
    """Spiking (implicit-function rule vs complex step through the root) and silent cases."""
    assume(V0 < theta)
    got = lif_adjoint.spike_time_grad(LIFKernel(TAU, theta), V0, I0)
    ref = twin.lif_spike_time_grad(V0, I0, TAU, theta)
    assert (got[0] == math.inf) == (ref[0] == math.inf)
    if got[0] < math.inf:  # away from grazing, where both diverge like 1/sqrt(D)
        assume((V0 + I0) ** 2 - 4 * I0 * theta > 1e-6 * (V0 + I0) ** 2)
    assert_twin(got, ref)


@given(data=st.data(), n=st.integers(1, 6), dt=st.floats(1e-3, 4, **finite))
def test_lif_interval_vjp(data, n, dt):
    arr = st.lists(st.floats(-3, 3, **finite), min_size=n, max_size=n)
    V0, I0, lamV, lamI = (np.array(data.draw(arr)) for _ in range(4))
    m = data.draw(st.integers(-1, n - 1))  # -1: no neuron spikes at the end
    x = math.exp(-dt / TAU)
    lv, li = lamV.copy(), lamI.copy()  # the kernel erases lamV[m] (the reset) itself
    S = np.stack([V0, I0])  # S_end (not read) gets the same array
    g = lif_adjoint.interval_vjp(LIFKernel(TAU, 1.0), S, S, lv, li, x,
                                 -math.expm1(-dt / TAU), dt, m, np.zeros(n, np.bool_),
                                 np.zeros(n))
    if m >= 0:
        lamV[m] = 0.0  # the reset zeroes it before the pull-back
    ref = twin.lif_interval_vjp(V0, I0, lamV, lamI, x, TAU, m)
    assert_twin(lv, ref[0])
    assert_twin(li, ref[1])
    assert scaled_error(g, ref[2], ADJOINT_TWIN_RTOL,
                        ADJOINT_TWIN_ATOL * (1 + np.abs(lamV).sum() + np.abs(lamI).sum())) <= 1


# ------------------------------------------------------------------------------------------ QIF

@given(z=st.one_of(st.floats(-1, 1, **finite), st.floats(-60, 40, **finite)))
def test_qif_css(z):
    """Series range (|z| <= 1/4), trigonometric range, both signs of z."""
    assert_twin(qif_adjoint.css.python_twin()(z), twin.qif_css(z))


# c branches: c > 0, c = 0, c < 0 (|c| of order one, where the twin's G forms are accurate)
currents = st.one_of(st.floats(0.05, 20, **finite), st.just(0.0), st.floats(-10, -0.05, **finite))
starts = st.one_of(st.floats(-3, 3, **finite), st.just(-math.inf))


@given(V0=starts, I0=currents, frac=st.floats(0.01, 0.9, **finite),
       dt_max=st.floats(0.01, 3, **finite))
def test_qif_flow_grad(V0, I0, frac, dt_max):
    """All flow branches and the reset start; dt stops short of any blow-up."""
    assume(V0 == -math.inf or abs(V0 * V0 + I0) > 1e-2)  # the twin's f(u0) = 0 at a fixed point
    dt = min(dt_max, frac * qif.next_spike_time(QK, V0, I0))
    assert_twin(qif_adjoint.flow_grad(QK, V0, I0, dt), twin.qif_flow_grad(V0, I0, dt, TAU))


@given(V0=starts, I0=currents)
def test_qif_spike_time_grad(V0, I0):
    assume(V0 == -math.inf or abs(V0 * V0 + I0) > 1e-2)
    got = qif_adjoint.spike_time_grad(QK, V0, I0)
    ref = twin.qif_spike_time_grad(V0, I0, TAU)
    assert (got[0] == math.inf) == (ref[0] == math.inf)
    assert_twin(got, ref)


@given(V0=starts, I0=currents, lv=st.floats(-2, 2, **finite), li=st.floats(-2, 2, **finite),
       frac=st.floats(0.01, 1.0, **finite), spiking=st.booleans())
def test_qif_one_vjp(V0, I0, lv, li, frac, spiking):
    assume(V0 == -math.inf or abs(V0 * V0 + I0) > 1e-2)
    t_spike = qif.next_spike_time(QK, V0, I0)
    if spiking:
        assume(t_spike < math.inf)
        dt, lv = t_spike, 0.0
    else:
        dt = min(3.0, 0.9 * frac * t_spike)
    assert_twin(qif_adjoint.one_vjp.python_twin()(QK, V0, I0, lv, li, dt, spiking),
                twin.qif_one_vjp(V0, I0, lv, li, dt, TAU, spiking))


@pytest.mark.parametrize("dt", [0.01, 0.2, 1.0, 60 * TAU],
                         ids=["short series", "long series", "exact", "x below X_MIN"])
@pytest.mark.parametrize("scale", [1.0, 1e-30, 1e30, 1e-60, 1e60, 1e-99, 1e99])
@given(data=st.data(), n=st.integers(1, 4))
def test_qif_interval_vjp(dt, scale, data, n):
    """The vectorised pass (both series lengths) and the flagged exact redo (large |z|,
    reset starts, the neuron spiking at the end, start pairs ``(y, y')`` of any magnitude the
    forward keeps: read in the fast pass up to 1e30, redone beyond 1e50, where the forward may
    have renormalised the end; and intervals so long that ``x < X_MIN``). The end state is the
    forward's own flow of the start (``event_flow``)."""
    V0 = np.array(data.draw(st.lists(starts, min_size=n, max_size=n)))
    I0 = np.array(data.draw(st.lists(currents, min_size=n, max_size=n)))
    lamV, lamI = (np.array(data.draw(st.lists(st.floats(-2, 2, **finite), min_size=n,
                                                max_size=n))) for _ in range(2))
    t_spike = np.array([qif.next_spike_time(QK, v, c) for v, c in zip(V0, I0)])
    assume(np.all((V0 == -math.inf) | (np.abs(V0 * V0 + I0) > 1e-2)))
    m = data.draw(st.integers(-1, n - 1))
    if m >= 0:  # neuron m spikes exactly at the end: the interval is its spike time
        assume(t_spike[m] < math.inf)
        dt = t_spike[m]
        lamV[m] = 0.0
        t_spike[m] = math.inf
        assume(np.all(t_spike > 1.05 * dt))
    else:  # stop short of every blow-up
        dt = min(dt, 0.95 * t_spike.min())
    x = math.exp(-dt / TAU)
    s = -math.expm1(-dt / TAU)
    ref = twin.qif_interval_vjp(V0, I0, lamV, lamI, dt, TAU, m)
    lv, li = lamV.copy(), lamI.copy()
    S = np.empty((qif.STATE_ROWS, n))
    qif.init_state(QK, V0, I0, S)  # (y, y', c) = (1, -V0, I0), or (0, 1, I0) for V0 = -inf
    S[:2] *= scale  # the ratio y'/y is the state; the forward keeps |y| + |y'| in [1e-100, 1e100]
    end = np.empty_like(S)
    interface.event_flow(QK, S, end, np.zeros(n, np.bool_), x, s, m, np.empty((0, n)))
    g = qif_adjoint.interval_vjp(QK, S, end, lv, li, x, s, dt, m, np.zeros(n, np.bool_),
                                 np.zeros(n))
    assert_twin(lv, ref[0])
    assert_twin(li, ref[1])
    assert scaled_error(g, ref[2], ADJOINT_TWIN_RTOL, ADJOINT_TWIN_ATOL * n) <= 1


# ------------------------------------------------------------------------- general LIF, input time

@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.9, 3.0])
@given(data=st.data(), n=st.integers(1, 5), dt=st.floats(1e-3, 4, **finite))
def test_general_lif_interval_vjp(ratio, data, n, dt):
    from snnexact.engine.neurons import lif_general_adjoint
    from snnexact.engine.neurons.lif_general import LIFGeneralKernel
    p = LIFGeneralKernel(TAU, ratio * TAU, 1.0, -0.2, 0.1, 1.7)
    arr = st.lists(st.floats(-3, 3, **finite), min_size=n, max_size=n)
    V0, I0, lamV, lamI = (np.array(data.draw(arr)) for _ in range(4))
    m = data.draw(st.integers(-1, n - 1))
    lv, li = lamV.copy(), lamI.copy()
    S = np.stack([V0, I0])  # S_end (not read) gets the same array: no extra compilation
    g = lif_general_adjoint.interval_vjp(p, S, S, lv, li, math.exp(-dt / TAU), dt,
                                         dt, m, np.zeros(n, np.bool_), np.zeros(n))
    ref = twin.general_lif_interval_vjp(V0, I0, lamV, lamI, dt, TAU, ratio * TAU, -0.2, 1.7, m)
    assert_twin(lv, ref[0])
    assert_twin(li, ref[1])
    assert scaled_error(g, ref[2], ADJOINT_TWIN_RTOL,
                        ADJOINT_TWIN_ATOL * (1 + np.abs(lamV).sum() + np.abs(lamI).sum())) <= 1


def _rhs(kernel):
    """The ODE right-hand side of each model in (V, I), written out here."""
    from snnexact.engine.neurons.lif_general import LIFGeneralKernel
    if isinstance(kernel, LIFGeneralKernel):
        return lambda V, I: (((kernel.v_leak - V) + kernel.r * I) / kernel.tau_m,
                             -I / kernel.tau_s)
    if isinstance(kernel, LIFKernel):
        return lambda V, I: ((-V + I) / kernel.tau, -2 * I / kernel.tau)
    return lambda V, I: ((V * (V - 1) + I) / kernel.tau, -2 * I / kernel.tau)


@given(lam=st.lists(st.tuples(st.floats(-3, 3, **finite), st.floats(-3, 3, **finite)),
                    min_size=1, max_size=5))
def test_input_time_adjoint_of_every_model(lam):
    import snnexact
    from snnexact.engine.neurons import interface
    lamV, lamI = (np.array(v) for v in zip(*lam))
    for neuron in (snnexact.LIF(TAU), snnexact.QIF(TAU),
                   snnexact.LIF(TAU, tau_s=0.3 * TAU, v_leak=-0.2, r=1.7)):
        out = np.zeros(len(lam))
        interface.input_time_adjoint(neuron.kernel, lamV, lamI, out)
        assert_twin(out, twin.input_time_adjoint(lamV, lamI, _rhs(neuron.kernel)))


@pytest.mark.parametrize("gap", [1e-4, 1.234e-6, 1e-7, 3e-9, 1e-10])
def test_lif_spike_time_grad_of_an_imminent_spike(gap):
    """A crossing a short time after the interval start (``V0 = theta - gap``): the spike-time
    gradient against 40-digit arithmetic (``d dt*/dI0`` from ``x* s*``, where ``x* - x*^2``
    from a rounded ``x*`` cancelled down to ``1e-16 / s*`` relative: up to 7e-10 here)."""
    mpmath = pytest.importorskip("mpmath")
    theta, V0, I0 = 1.0, 1.0 - gap, 3.0
    with mpmath.workdps(40):
        def dt_star(v, i):
            b = v + i
            return -TAU * mpmath.log((b + mpmath.sqrt(b * b - 4 * i * theta)) / (2 * i))
        v, i = mpmath.mpf(V0), mpmath.mpf(I0)
        want = (float(dt_star(v, i)), float(mpmath.diff(lambda a: dt_star(a, i), v)),
                float(mpmath.diff(lambda c: dt_star(v, c), i)))
    got = lif_adjoint.spike_time_grad(LIFKernel(TAU, theta), V0, I0)
    assert got == pytest.approx(want, rel=1e-13, abs=0.0)
