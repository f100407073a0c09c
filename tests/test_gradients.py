"""value_and_grad against central finite differences: both models, every readout, every
parameter group; finite-difference checks only where the spike sequence is unchanged within
+-h (detected, never papered over with a looser tolerance)."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import snnexact

from helpers import oracle, random_case, richardson_derivative
from tolerances import FD_GRAD_ATOL, FD_GRAD_RTOL, FD_STEP


def make_case(model, seed, sizes, recurrent, n_in, T=1.0, tau=0.3, w_mean=0.5):
    net, params, times, units, T, rng = random_case(model, seed, sizes, recurrent, n_in, T, tau,
                                                    w_mean)
    return net, params, times, units, int(rng.integers(0, sizes[-1])), T


def signature(ev):
    """What must not change within +-h: every layer's spike sequence (neuron order) and which
    outputs use pseudospikes."""
    return ([L.units.tobytes() for L in ev.simulation.layers], ev.pseudo_outputs.tobytes(),
            ev.simulation.status)


def fd_check(f, x0, analytic, sig0, label):
    h = FD_STEP * max(1.0, abs(x0))
    num = richardson_derivative(lambda v: (lambda ev: (ev.loss, ev))(f(v)), x0, h,
                                lambda ev: signature(ev) == sig0)
    if num is None:
        return 0
    err = abs(num - analytic) / (FD_GRAD_ATOL + FD_GRAD_RTOL * abs(num))
    assert err <= 1.0, f"{label}: analytic {analytic!r} vs finite difference {num!r}"
    return 1


def check_all_groups(net, params, times, units, label, T, readout, rng, n_per_group=3, **kw):
    value, grads, ev = snnexact.value_and_grad(net, params, times, units, label, T,
                                               readout=readout, max_spikes=80,
                                               on_budget="ignore", **kw)
    assert np.isfinite(value)
    for g in grads.named().values():
        assert np.all(np.isfinite(g))
    sig0 = signature(ev)
    if ev.simulation.status:
        return 0, ev
    checked = 0
    for name, arr in params.named().items():
        group = grads.named()[name]
        for _ in range(n_per_group):
            ij = tuple(int(rng.integers(0, s)) for s in arr.shape)
            if name.startswith("R") and ij[0] == ij[1]:
                assert group[ij] == 0.0
                continue

            def f(v, name=name, ij=ij):
                named = {k: a.copy() for k, a in params.named().items()}
                named[name][ij] = v
                W = tuple(named[f"W{l}"] for l in range(net.n_layers))
                R = tuple(named.get(f"R{l}") for l in range(net.n_layers))
                V0 = None if params.V0 is None else tuple(named.get(f"V0{l}")
                                                          for l in range(net.n_layers))
                return snnexact.evaluate(net, snnexact.Params(W, R, V0), times, units, label, T,
                                         readout=readout, max_spikes=80, on_budget="ignore", **kw)
            checked += fd_check(f, arr[ij], group[ij], sig0, f"{readout} d{name}{ij}")
    return checked, ev


cases = st.tuples(st.sampled_from(["lif", "qif"]), st.integers(0, 2 ** 32 - 1),
                  st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple),
                  st.booleans(), st.integers(0, 12),
                  st.sampled_from(["first_spike", "max_voltage", "integral"]))


@given(cases)
def test_value_and_grad_matches_finite_differences(case):
    model, seed, sizes, recurrent, n_in, readout = case
    assume(readout == "first_spike" or len(sizes) >= 2)
    net, params, times, units, label, T = make_case(model, seed, sizes, recurrent, n_in)
    checked, ev = check_all_groups(net, params, times, units, label, T, readout,
                                   np.random.default_rng(seed))
    assume(checked > 0)


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_silent_networks_have_finite_gradients(model):
    """No input at all: LIF gets an all-zero gradient (silent LIF neurons get none);
    QIF gets a nonzero gradient through its pseudospikes."""
    net, params, *_ = make_case(model, 0, (3, 4, 2), True, 0)
    value, grads, ev = snnexact.value_and_grad(net, params, [], [], 0, 1.0)
    assert np.isfinite(value) and all(np.all(np.isfinite(g)) for g in grads.named().values())
    total = sum(np.abs(g).sum() for g in grads.named().values())
    if model == "lif":
        assert total == 0.0 and not ev.pseudo_outputs.any()
    else:
        assert total > 0.0 and ev.pseudo_outputs.all()


def _first_spike_loss_from_oracle(net, params, times, units, label, T, tau_r, gamma):
    """The first-spike loss evaluated on the ODE oracle's spike times (no snnexact kernel)."""
    out = oracle("ode", net, params, times, units, T)[-1]
    t = np.full(net.sizes[-1], T)
    for tt, u in zip(out.times[::-1], out.units[::-1]):
        t[u] = tt
    z = -t / tau_r
    return -(z[label] - z.max() - math.log(np.exp(z - z.max()).sum())) + gamma * math.expm1(
        t[label] / T), [o.units.tobytes() for o in oracle("closed", net, params, times, units, T)]


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_gradient_against_finite_differences_of_the_ode_oracle(model):
    """Independent check: finite differences of the loss computed from reference.simulate_ode
    (silent outputs count as t = T there, so pseudospikes are switched off here)."""
    for seed in range(200):
        net, params, times, units, label, T = make_case(model, seed, (3, 3, 2), False, 8)
        value, grads, ev = snnexact.value_and_grad(net, params, times, units, label, T,
                                                   max_spikes=40, on_budget="ignore",
                                                   pseudo=False)
        if ev.simulation.status == 0 and all(L.n_spikes for L in ev.simulation.layers):
            break
    tau_r = net.neuron.tau_m
    checked = 0
    for l, ij in [(0, (0, 0)), (0, (1, 2)), (1, (0, 1)), (1, (1, 0))]:
        h = 1e-5

        def f(v):
            W = [w.copy() for w in params.W]
            W[l][ij] = v
            return _first_spike_loss_from_oracle(net, snnexact.Params(tuple(W), params.R),
                                                 times, units, label, T, tau_r, 1e-2)
        (lp, sp), (lm, sm) = f(params.W[l][ij] + h), f(params.W[l][ij] - h)
        if sp != sm:
            continue
        num = (lp - lm) / (2 * h)
        assert abs(num - grads.W[l][ij]) <= 1e-6 + 1e-5 * abs(num), (l, ij, num, grads.W[l][ij])
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_input_time_and_initial_state_gradients(model):
    """The optional gradients with respect to input spike times and initial states, against
    Richardson-extrapolated central differences (where the spike sequence is unchanged)."""
    checked = 0
    for seed in range(40):
        net, params, times, units, label, T = make_case(model, seed, (3, 3, 2), True, 6)
        init = [(np.full(3, 0.1), np.full(3, 0.2)), (np.full(2, -0.1), np.full(2, 0.3))]
        kw = dict(max_spikes=60, on_budget="ignore", initial_state=init)
        value, grads, ev = snnexact.value_and_grad(net, params, times, units, label, T, **kw)
        if ev.simulation.status:
            continue
        sig0 = signature(ev)
        h = 1e-6
        for j in range(len(times)):
            def f(v, j=j):
                t = times.copy()
                t[j] = v
                return snnexact.evaluate(net, params, t, units, label, T, **kw)
            if (j == 0 or times[j] - times[j - 1] > 2 * h) and \
                    (j == len(times) - 1 or times[j + 1] - times[j] > 2 * h):
                checked += fd_check(f, times[j], ev.input_time_grads[j], sig0, f"dt_in[{j}]")
        for l, which in ((0, 0), (0, 1), (1, 1)):
            def f(v, l=l, which=which):
                state = [(a.copy(), b.copy()) for a, b in init]
                state[l][which][0] = v
                return snnexact.evaluate(net, params, times, units, label, T,
                                         **{**kw, "initial_state": state})
            checked += fd_check(f, init[l][which][0], ev.initial_state_grads[l][which][0], sig0,
                                f"d{'VI'[which]}0[{l}]")
        if checked >= 10:
            break
    assert checked >= 10


def test_grazing_lif_crossing_is_reported_not_clamped():
    """One LIF neuron, one kick w = 4 theta (1 + eps) (just above grazing, docs/theory.md 1.2): the
    reported spike-time sensitivity grows like eps^(-1/2) and equals |dt*/dV0| = x*/|Vdot*|."""
    net = snnexact.Network(snnexact.LIF(1.0), (1, 1))
    sens = []
    for eps in (1e-2, 1e-4, 1e-6):
        params = snnexact.Params((np.array([[4.0 * (1 + eps)]]),), (None,))
        value, grads, ev = snnexact.value_and_grad(net, params, [0.0], [0], 0, 5.0)
        assert ev.simulation.output.n_spikes == 1 and np.isfinite(grads.W[0]).all()
        sens.append(ev.spike_time_sensitivity[0])
        from snnexact.engine.neurons import lif_adjoint
        from snnexact.engine.neurons.lif import LIFKernel
        _, dt_dV0, _ = lif_adjoint.spike_time_grad(LIFKernel(1.0, 1.0), 0.0, 4.0 * (1 + eps))
        assert sens[-1] == pytest.approx(abs(dt_dV0), rel=1e-12)
    # D = w (w - 4) ~ 16 eps: sensitivity ~ eps^(-1/2), so x100 smaller eps -> x10 larger
    assert sens[1] / sens[0] == pytest.approx(10.0, rel=0.05)
    assert sens[2] / sens[1] == pytest.approx(10.0, rel=0.05)


def test_pseudo_rate_pass_at_a_reset_state_is_finite_and_flat():
    """A neuron at V(T) = -inf (reset exactly at T) has rate 0 and a flat rate: the
    pseudospike pull-back gives finite values and no gradient to its own V(T)."""
    from snnexact.engine.pseudo import rate_pass, rate_pass_vjp
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(3, 2)), rng.normal(size=(2, 3))]
    R = [rng.normal(size=(3, 3)), None]
    np.fill_diagonal(R[0], 0.0)
    V_T = [np.array([-np.inf, 0.3, 2.0]), np.array([0.1, -0.5])]
    I_T = [np.array([0.5, -1.0, 2.0]), np.array([0.2, 0.4])]
    ps = rate_pass(W, R, V_T, I_T, tau=0.5)
    assert ps.rates[0][0] == 0.0 and ps.rates0[0][0] == 0.0
    lamV, lamI, dW, dR = rate_pass_vjp(ps, W, R, [np.zeros(3), np.ones(2)])
    assert dW[0] is None  # the inputs have no pseudodynamics: W[0] does not enter
    for a in lamV + lamI + dW[1:] + [dR[0]]:
        assert np.all(np.isfinite(a))
    assert lamV[0][0] == 0.0 and lamI[0][0] == 0.0  # only reaches layer 1 through its flat rate
    # its own first pseudospike delay tau pi / sqrt(sigma) still depends on I(T) through sigma
    lamV, lamI, _, _ = rate_pass_vjp(ps, W, R, [np.array([1.0, 0.0, 0.0]), np.zeros(2)])
    assert lamV[0][0] == 0.0 and lamI[0][0] < 0.0


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_skipping_input_time_gradients_leaves_the_weight_gradients_bitwise(model):
    """Training asks for no input-time gradients (``input_grads=False``): the first layer's
    backward pass then skips them, and every parameter gradient stays the same bit for bit."""
    from snnexact.engine.gradients import LossConfig, sample_value_and_grad
    net, params, times, units, T, _ = random_case(model, 3, (4, 6, 5, 3), True, 25)
    W, R = net.check_params(params)
    out = [sample_value_and_grad(net, W, R, times, units, 1, T, LossConfig(), True,
                                 input_grads=flag, max_spikes=80, on_budget="ignore")
           for flag in (True, False)]
    assert out[0][0] == out[1][0]
    for a, b in zip(out[0][1].named().values(), out[1][1].named().values()):
        np.testing.assert_array_equal(a, b)
    assert out[0][2].input_time_grads.shape == times.shape
    assert out[1][2].input_time_grads is None


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_stored_states_and_replayed_states_give_the_same_gradients_bitwise(model):
    """``checkpoint_every = 1`` keeps every layer state, so the backward pass reads them; larger
    spacings replay segments from checkpoints with the forward's own operations. The replay
    reproduces the forward bit for bit, so every output is the same whatever the spacing."""
    net, params, times, units, T, _ = random_case(model, 5, (4, 7, 3), True, 30)
    runs = [snnexact.value_and_grad(net, params, times, units, 1, T, max_spikes=80,
                                    on_budget="ignore", checkpoint_every=k) for k in (1, 3, 7, 1000)]
    assert [r[2].simulation.layers[0].log.checkpoint_every for r in runs] == [1, 3, 7, 1000]
    assert runs[0][2].simulation.layers[0].n_spikes > 5  # the case exercises the backward pass
    for other in runs[1:]:
        assert other[0] == runs[0][0]
        for a, b in zip(runs[0][1].named().values(), other[1].named().values()):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(other[2].input_time_grads, runs[0][2].input_time_grads)


def test_default_checkpoint_spacing_keeps_small_layers_whole():
    from snnexact.engine.simulate import STORED_STATES_BYTES as cap, default_checkpoint_every
    assert default_checkpoint_every(3, 20, 4000, cap) == 1          # 0.5 MB of states
    n = 128
    too_many = cap // (3 * n * 8)                                   # one state over the cap
    assert default_checkpoint_every(3, n, too_many - 1, cap) == 1
    assert default_checkpoint_every(3, n, too_many, cap) == n
    assert default_checkpoint_every(3, 4, 10 ** 7, cap) == 16       # at least 16 events apart


def test_only_a_gradient_call_keeps_every_state():
    """Forward-only calls keep one state per ``n`` events; ``value_and_grad`` keeps every state
    of a layer that fits in ``STORED_STATES_BYTES`` (both layers here are tiny)."""
    net, params, times, units, T, _ = random_case("qif", 5, (4, 7, 3), True, 30)
    kw = dict(max_spikes=80, on_budget="ignore")
    fwd = snnexact.simulate(net, params, times, units, T, **kw)
    assert [L.log.checkpoint_every for L in fwd.layers] == [16, 16]
    ev = snnexact.evaluate(net, params, times, units, 1, T, **kw)
    assert [L.log.checkpoint_every for L in ev.simulation.layers] == [16, 16]
    _, _, ev = snnexact.value_and_grad(net, params, times, units, 1, T, **kw)
    assert [L.log.checkpoint_every for L in ev.simulation.layers] == [1, 1]
