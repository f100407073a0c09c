"""Bridges between snnexact objects and the plain-value oracles in reference/."""
import numpy as np

import reference
import snnexact

from tolerances import (CONDITION_PERTURBATION, SPIKE_TIME_ATOL, SPIKE_TIME_RTOL, STATE_ATOL,
                        STATE_RTOL, scaled_error)


# general-ratio LIF variants (issue 11 targets): name -> (tau_s / tau_m, v_leak, v_reset, r)
GENERAL_LIF = {"lif-ts0.1": (0.1, 0.0, 0.0, 1.0), "lif-ts0.25": (0.25, 0.0, 0.0, 1.0),
               "lif-ts0.9": (0.9, 0.0, 0.0, 1.0), "lif-ts1.0": (1.0, 0.0, 0.0, 1.0),
               "lif-leaky": (0.25, -0.3, 0.2, 1.5)}


def make_neuron(model, tau):
    """``"lif"``, ``"qif"`` or a ``GENERAL_LIF`` name with membrane time constant ``tau``."""
    if model in GENERAL_LIF:
        ratio, v_leak, v_reset, r = GENERAL_LIF[model]
        return snnexact.LIF(tau, tau_s=ratio * tau, v_leak=v_leak, v_reset=v_reset, r=r)
    return snnexact.LIF(tau) if model == "lif" else snnexact.QIF(tau)


def oracle(kind, net, params, times, units, T, initial_state=None, scale=1.0):
    """Run ``reference.simulate_closed_form`` (kind="closed") or ``simulate_ode`` (kind="ode";
    the only oracle of the general-ratio LIF)."""
    fn = {"closed": reference.simulate_closed_form, "ode": reference.simulate_ode}[kind]
    nrn = net.neuron
    extra = {}
    if nrn.name == "lif" and not nrn.closed_form:
        if kind != "ode":
            raise ValueError("the general-ratio LIF has only the ODE oracle")
        extra["lif"] = reference.LIFSpec(nrn.synaptic_tau, nrn.v_leak, nrn.v_reset, nrn.r)
    V0 = I0 = None
    if initial_state is not None:
        V0 = [np.asarray(v, float) for v, _ in initial_state]
        I0 = [np.asarray(i, float) for _, i in initial_state]
    W = [w * scale for w in params.W]
    R = [None if r is None else r * scale for r in params.R]
    theta = net.neuron.theta if net.neuron.name == "lif" else 1.0
    return fn(net.neuron.name, net.neuron.tau_m, W, R, np.asarray(times, float),
              np.asarray(units, np.int64), T, theta=theta, V0=V0, I0=I0, **extra)


def spike_counts(layers, sizes):
    return [np.bincount(np.asarray(L.units, np.int64), minlength=n) for L, n in zip(layers, sizes[1:])]


def well_conditioned(net, params, times, units, T, initial_state=None):
    """True if scaling all weights by 1 -/+ CONDITION_PERTURBATION leaves every neuron's spike
    count unchanged: then the spike sequence is a smooth function of the parameters here and
    two exact implementations must agree to rounding."""
    base = spike_counts(oracle("closed", net, params, times, units, T, initial_state), net.sizes)
    for f in (1 - CONDITION_PERTURBATION, 1 + CONDITION_PERTURBATION):
        other = spike_counts(oracle("closed", net, params, times, units, T, initial_state, f),
                             net.sizes)
        if any(not np.array_equal(a, b) for a, b in zip(base, other)):
            return False
    return True


def assert_match(res, ref_layers):
    """Spike trains equal in count and order, times and final states within tolerance."""
    assert len(res.layers) == len(ref_layers)
    for l, (got, ref) in enumerate(zip(res.layers, ref_layers)):
        assert got.n_spikes == len(ref.times), (
            f"layer {l}: {got.n_spikes} spikes, oracle {len(ref.times)}")
        np.testing.assert_array_equal(got.units, ref.units, err_msg=f"layer {l} spike order")
        err = scaled_error(got.times, ref.times, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL)
        assert np.all(err <= 1.0), f"layer {l}: spike time error {err.max():.3g} x tolerance"
        for name in ("V", "I"):
            err = scaled_error(getattr(got, name), getattr(ref, name), STATE_RTOL, STATE_ATOL)
            assert np.all(err <= 1.0), f"layer {l}: {name}(T) error {err.max():.3g} x tolerance"


def richardson_derivative(f, x0, h, same):
    """Central difference of ``f`` at ``x0`` with one Richardson step,
    ``(4 D(h/2) - D(h)) / 3`` (truncation error O(h^4) instead of O(h^2)); ``None`` if
    ``same(result)`` is False at any of the four points (the spike sequence changed).
    ``f`` returns ``(value, result)``."""
    vals = {}
    for k in (h, -h, h / 2, -h / 2):
        value, result = f(x0 + k)
        if not same(result):
            return None
        vals[k] = value
    d1 = (vals[h] - vals[-h]) / (2 * h)
    d2 = (vals[h / 2] - vals[-h / 2]) / h
    return (4 * d2 - d1) / 3


def random_case(model, seed, sizes, recurrent, n_spikes, T=1.0, tau=0.3, w_mean=0.5, w_std=0.8,
                r_std=0.4, t_frac=0.8):
    """A network that fires: weights ``N(w_mean k, (w_std k)^2)`` around the single kick ``k``
    that fires a neuron from rest (LIF 4 theta, QIF pi^2/4; ``net.kick``), recurrent ``N(0, (r_std k)^2)``,
    and ``n_spikes`` uniform input spikes in ``[0, t_frac T)``. Returns
    ``(net, params, times, units, T, rng)`` with ``rng`` ready for further draws."""
    rng = np.random.default_rng(seed)
    net = snnexact.Network(make_neuron(model, tau), sizes, recurrent=recurrent)
    kick = net.kick
    W, R = [], []
    for l in range(net.n_layers):
        W.append(rng.normal(w_mean * kick, w_std * kick, (sizes[l + 1], sizes[l])))
        if net.recurrent_layers[l]:
            r = rng.normal(0.0, r_std * kick, (sizes[l + 1], sizes[l + 1]))
            np.fill_diagonal(r, 0.0)
            R.append(r)
        else:
            R.append(None)
    times = np.sort(rng.uniform(0, t_frac * T, n_spikes))
    units = rng.integers(0, sizes[0], n_spikes)
    return net, snnexact.Params(tuple(W), tuple(R)), times, units, T, rng


def loss_step_at_count_change(count_at, loss_at, alphas, width=1e-12):
    """For every grid interval of ``alphas`` where ``count_at`` changes, bisect on the count
    down to ``width`` and return ``|loss_at(right) - loss_at(left)|`` there (a jump of the
    loss at the change survives; a continuous loss gives ~ ``width`` times its slope)."""
    counts = [count_at(a) for a in alphas]
    steps = []
    for i in range(len(alphas) - 1):
        if counts[i] == counts[i + 1]:
            continue
        a, b, ca = alphas[i], alphas[i + 1], counts[i]
        while b - a > width:
            m = 0.5 * (a + b)
            if count_at(m) == ca:
                a = m
            else:
                b = m
        steps.append(abs(loss_at(b) - loss_at(a)))
    return steps
