"""No NaN, no overflow, no crash on any valid input: loss and gradient are finite over the whole
range of tiny networks (weights 1e-3 to 1e3 kicks, T from 1e-3 to 1e3 tau, both models, every
readout, recurrent or not), or a genuinely undefined result raises ``UndefinedResultError``.
The number of cases follows the hypothesis profile (``profiles.NAN_FREE_CASES``: 10,000 in
``ci``); ``python -m validation.nan_free`` runs 100,000 random cases (docs/validation.md)."""
import math

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

import snnexact
from validation.nan_free import LOG10_T, LOG10_WEIGHT, READOUTS, Case, check_case

from profiles import NAN_FREE_CASES, PROFILE

KICK = {"lif": 4.0, "qif": math.pi ** 2 / 4}


def _weights(draw, rng, shape, kick):
    """Magnitudes 10^x kicks: x is one hypothesis-drawn level per array (so that shrinking and
    the search for extremes act on it) plus a uniform spread from ``rng``, clipped to the range;
    random signs. (Drawing every entry with hypothesis costs 30 times more per case.)"""
    level = draw(st.floats(*LOG10_WEIGHT))
    spread = draw(st.floats(0.0, 2.0))
    log_mag = np.clip(level + rng.uniform(-spread, spread, shape), *LOG10_WEIGHT)
    return kick * 10.0 ** log_mag * rng.choice((-1.0, 1.0), shape)


@st.composite
def cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    model = draw(st.sampled_from(["lif", "qif"]))
    n_hidden = draw(st.integers(0, 2))
    sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=n_hidden + 2,
                                max_size=n_hidden + 2)))
    recurrent = n_hidden > 0 and draw(st.booleans())
    W, R = [], []
    for l in range(len(sizes) - 1):
        W.append(_weights(draw, rng, (sizes[l + 1], sizes[l]), KICK[model]))
        if recurrent and l < n_hidden:
            r = _weights(draw, rng, (sizes[l + 1], sizes[l + 1]), KICK[model])
            np.fill_diagonal(r, 0.0)
            R.append(r)
        else:
            R.append(None)
    T = 10.0 ** draw(st.floats(*LOG10_T))
    n_in = draw(st.integers(1, 6))
    times = np.sort(rng.uniform(0.0, T, n_in))
    times = np.minimum(times, np.nextafter(T, 0.0))   # u * T may round up to T
    units = rng.integers(0, sizes[0], n_in)
    label = draw(st.integers(0, sizes[-1] - 1))
    readout = draw(st.sampled_from(READOUTS))
    return Case(model, sizes, recurrent, snnexact.Params(tuple(W), tuple(R)), times, units,
                label, float(T), readout)


@settings(max_examples=NAN_FREE_CASES[PROFILE])
@given(case=cases())
def test_loss_and_gradient_are_finite_over_the_whole_range(case):
    out = check_case(case)
    assert out.kind in ("ok", "budget", "undefined"), (
        out.detail, case.times.tolist(), [w.tolist() for w in case.params.W],
        [None if r is None else r.tolist() for r in case.params.R], case.T)


@pytest.mark.parametrize("model", ["lif", "qif"])
@pytest.mark.parametrize("readout", READOUTS)
@pytest.mark.parametrize("w_std,T", [(1e6, 1e3), (1e8, 1e5), (1e-8, 1e-3), (3.0, 1e-3),
                                     (3.0, 1e-2), (3.0, 1e3)])
def test_extremes_beyond_the_range_are_finite(model, readout, w_std, T):
    """The issue's reports: weights of 1e6 kicks (all-NaN gradient before), T = 1e-3 tau
    (OverflowError before) and 1e-2 tau (a loss of 3e30 before)."""
    neuron = snnexact.QIF(1.0) if model == "qif" else snnexact.LIF(1.0)
    net = snnexact.Network(neuron, (2, 3, 2), recurrent=True)
    params = net.init_params(0, w_std=w_std * net.kick)
    out = check_case(Case(model, net.sizes, True, params, np.array([0.0, 0.3 * T]),
                          np.array([0, 1]), 1, T, readout))
    assert out.kind in ("ok", "budget"), out.detail


def test_the_time_penalty_continues_linearly_and_smoothly():
    """Beyond t = PENALTY_LINEAR_FROM * T the exp(t/T) - 1 term is its tangent line: value and
    slope continuous at the join, finite far beyond."""
    from snnexact.engine.losses import PENALTY_LINEAR_FROM, first_spike_loss
    T, r0 = 1.0, PENALTY_LINEAR_FROM
    below = first_spike_loss([r0 * (1 - 1e-12), 0.5], 0, 1.0, T, 1.0)
    above = first_spike_loss([r0 * (1 + 1e-12), 0.5], 0, 1.0, T, 1.0)
    assert above.loss == pytest.approx(below.loss, rel=1e-9)
    assert above.dloss_dt[0] == pytest.approx(below.dloss_dt[0], rel=1e-9)
    far = first_spike_loss([1e12, 0.5], 0, 1.0, T, 1.0)
    assert math.isfinite(far.loss) and np.all(np.isfinite(far.dloss_dt))


@pytest.mark.parametrize("k,times", [(24.674011002723397, [0.0]), (102.1944366783367, [0.0, 0.25]),
                                     (102.1944366783367, [0.0, 0.078125])])
def test_tied_qif_spikes_get_the_gradient_of_their_untied_neighbours(k, times):
    """Two identical QIF outputs fire together (tied up to rounding); the tied spike's time
    derivative goes through the previous interval (backward.QIF_POLE_V), not through the pole.
    The gradient is finite and equals the gradient with the tie broken by 1e-9 either way."""
    net = snnexact.Network(snnexact.QIF(1.0), (1, 2))

    def grad(eps):
        W = (np.array([[k], [k * (1 + eps)]]),)
        return snnexact.value_and_grad(net, snnexact.Params(W, (None,)), times,
                                       [0] * len(times), 0, 1.0)[1].W[0]

    tied = grad(0.0)
    assert np.all(np.isfinite(tied))
    for eps in (1e-9, -1e-9):
        np.testing.assert_allclose(tied, grad(eps), rtol=1e-5)
