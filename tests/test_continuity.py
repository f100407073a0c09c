"""Continuity of the first-spike loss along random lines in weight space, and finite exact
gradients at the edges of the firing region (docs/theory.md 1.2, 3, 4, 6).

* QIF with pseudospikes: no jump survives refinement; spike counts inside [0, T] change only
  through T.
* LIF: jumps survive refinement to ~1e-9 of a grid interval, and spikes vanish mid-trial at
  grazing threshold crossings.
* Gradients stay finite for silent networks, QIF spikes at T (V(T) huge) and near-grazing LIF
  crossings, where the exact gradient grows like 1/sqrt(D) (not clamped).
* A silent QIF output learns to fire by gradient descent; a silent LIF output gets no gradient.
"""
import math

import numpy as np
import pytest

import snnexact
from snnexact.analysis.directions import random_direction
from snnexact.analysis.lines import find_jumps, line_scan, locate_count_changes
from validation.continuity import demo_case

from tolerances import (AT_T_GAP, CONTINUOUS_SHRINK, GRAZING_COND_EPS, GRAZING_RTOL,
                        GRAZING_V_ATOL, JUMP_KEEP_FRACTION, MID_TRIAL_MARGIN, REFINE_REL_WIDTH,
                        SPIKE_SPEED_BOUND)

QIF_DIRECTIONS = (0, 1, 2, 3)
QIF_ALPHAS = np.linspace(-1.0, 1.0, 401)
LIF_DIRECTION = 0
LIF_ALPHAS = np.linspace(-0.5, 0.5, 201)


def scan_line(model, direction_seed, alphas):
    net, params, sample = demo_case(model)
    scan = line_scan(net, params, sample, random_direction(params, direction_seed), alphas)
    assert not scan.status.any(), "a spike budget was hit along the line"
    refinements = find_jumps(scan.alphas, scan.losses, scan.line.loss,
                             rel_width=REFINE_REL_WIDTH, keep_fraction=JUMP_KEEP_FRACTION)
    changes = locate_count_changes(scan, rel_width=REFINE_REL_WIDTH, at_T_atol=AT_T_GAP)
    return net, scan, refinements, changes


def fully_refined(r):
    return r.widths[-1] <= REFINE_REL_WIDTH * r.widths[0] * (1 + 1e-6)


@pytest.fixture(scope="module")
def qif_lines():
    return [scan_line("qif", d, QIF_ALPHAS) for d in QIF_DIRECTIONS]


@pytest.fixture(scope="module")
def lif_line():
    return scan_line("lif", LIF_DIRECTION, LIF_ALPHAS)


# ----------------------------------------------------------------------------- QIF continuity

def test_qif_loss_has_no_jump_that_survives_refinement(qif_lines):
    n_candidates = 0
    for d, (_, _, refinements, _) in zip(QIF_DIRECTIONS, qif_lines):
        for r in refinements:
            n_candidates += 1
            assert fully_refined(r)
            assert not r.is_jump, f"direction {d}: jump {r.size:+.3g} at a = {r.position!r}"
            # continuous: |dL| shrinks with the bracket (~ width ratio), not merely below half
            assert r.deltas[-1] <= CONTINUOUS_SHRINK * r.deltas[0], (
                f"direction {d}: |dL| {r.deltas[0]:.3g} -> {r.deltas[-1]:.3g} at a = {r.position!r}")
    assert n_candidates > 0, "no steep interval was refined: the check is vacuous"


def test_qif_spike_counts_change_only_through_T(qif_lines):
    n_changes = 0
    for d, (_, scan, _, changes) in zip(QIF_DIRECTIONS, qif_lines):
        T = scan.line.sample.T
        for c in changes:
            n_changes += 1
            where = f"direction {d}, layer {c.layer} neuron {c.neuron} at a = {c.alpha!r}"
            assert c.where == "T" and c.is_last, f"{where}: spike at t = {c.spike_time!r}"
            assert 0.0 < c.gap <= AT_T_GAP * T, f"{where}: T - t = {c.gap!r}"
            # the last spike's distance to T shrinks with the bracket (finite spike-time speed)
            k = np.arange(10, c.widths.size)
            assert np.all(c.last_gaps[k] <= SPIKE_SPEED_BOUND * T * c.widths[k]), (
                f"{where}: T - t = {c.last_gaps[k]} for bracket widths {c.widths[k]}")
    assert n_changes > 0, "no spike count changed along the lines: the check is vacuous"


# ----------------------------------------------------------------------------- LIF discontinuity

def test_lif_loss_jumps_and_spikes_vanish_mid_trial(lif_line):
    net, scan, refinements, changes = lif_line
    T, theta = scan.line.sample.T, net.neuron.theta
    jumps = [r for r in refinements if r.is_jump and fully_refined(r)
             and r.deltas.min() >= JUMP_KEEP_FRACTION * r.deltas[0]]
    assert jumps, "no jump of the LIF loss survived refinement"
    mid = [c for c in changes if c.where == "mid"
           and MID_TRIAL_MARGIN * T <= c.spike_time <= (1 - MID_TRIAL_MARGIN) * T]
    grazing = [c for c in mid if c.is_grazing(theta, GRAZING_V_ATOL)]
    assert grazing, "no LIF spike vanished mid-trial at a grazing threshold crossing"
    # at least one surviving jump is caused by such a spike, located by both bisections
    assert any(abs(j.position - c.alpha) <= j.widths[-1] + c.width for j in jumps for c in grazing)


# ----------------------------------------------------------------------------- finite gradients

def _finite(value, grads):
    return np.isfinite(value) and all(np.all(np.isfinite(g)) for g in grads.named().values())


@pytest.mark.parametrize("model", ["lif", "qif"])
def test_gradients_finite_for_silent_networks(model):
    """No input, and inputs too weak to fire anything (weights scaled down): finite loss and
    gradient; LIF gets none at all, QIF gets one through its pseudospikes."""
    net, params, sample = demo_case(model)
    cases = [([], [])] + [(sample.input_times, sample.input_units)] * 6
    scales = [1.0, 0.0, 1e-6, 1e-3, 0.01, 0.03, 0.05]
    for (times, units), f in zip(cases, scales):
        p = snnexact.Params(tuple(w * f for w in params.W),
                            tuple(None if r is None else r * f for r in params.R))
        value, grads, ev = snnexact.value_and_grad(net, p, times, units, sample.label, sample.T)
        assert all(L.n_spikes == 0 for L in ev.simulation.layers), f"scale {f} is not silent"
        assert _finite(value, grads), f"scale {f}"
        total = sum(np.abs(g).sum() for g in grads.named().values())
        if model == "lif":
            assert total == 0.0 and not ev.pseudo_outputs.any()
        else:
            assert total > 0.0 and ev.pseudo_outputs.all()


def _qif_critical_weight(net, t_in, T):
    """The single-kick weight whose spike lies at T (bisection to adjacent floats)."""
    def t_spike(w):
        res = snnexact.simulate(net, snnexact.Params((np.array([[w]]),), (None,)), [t_in], [0],
                                100.0 * T)
        return res.output.times[0] if res.output.n_spikes else math.inf
    lo, hi = math.pi ** 2 / 4, 100.0  # the spike time decreases with the weight
    while lo < 0.5 * (lo + hi) < hi:
        m = 0.5 * (lo + hi)
        lo, hi = (m, hi) if t_spike(m) >= T else (lo, m)
    return hi, t_spike


def test_qif_gradients_finite_and_continuous_with_a_spike_at_T():
    """A QIF output whose only spike sits 1e-2 ... 1e-16 (relative weight) before or after T:
    V(T) -> -inf or +inf, the loss passes continuously from the ordinary spike to the first
    pseudospike, and the gradient stays finite and bounded (no 1/sqrt(D) divergence in QIF)."""
    tau, T, t_in = 0.2, 1.0, 0.1
    net = snnexact.Network(snnexact.QIF(tau), (1, 1))
    wc, t_spike = _qif_critical_weight(net, t_in, T)
    grads, V_T = {}, []
    for k in range(2, 17):
        side = {}
        for sgn in (+1, -1):  # +: spike just before T (ordinary), -: just after (pseudospike)
            w = wc * (1 + sgn * 10.0 ** -k)
            p = snnexact.Params((np.array([[w]]),), (None,))
            value, g, ev = snnexact.value_and_grad(net, p, [t_in], [0], 0, T)
            assert _finite(value, g), (k, sgn)
            assert ev.pseudo_outputs[0] == (sgn < 0), (k, sgn)
            V_T.append(ev.simulation.output.V[0])
            side[sgn] = (value, g.W[0][0, 0])
        grads[k] = side
        assert abs(side[1][0] - side[-1][0]) <= 10.0 ** -k + 1e-15, (k, side)
        if 7 <= k <= 12:
            assert abs(side[1][1] - side[-1][1]) <= 1e-3 * abs(side[1][1]), (k, side)
    # bounded, no divergence. Not asserted for k >= 13 (|t* - T| < ~1e-13): V(T) ~ tau / (t* - T)
    # then carries an O(eps V) relative rounding error and the gradient, finite, is off by up to
    # ~20x at one ulp from the critical weight (reported, not a property of the exact gradient)
    ref = abs(grads[6][1][1])
    assert all(abs(g) <= 10 * ref for k, s in grads.items() if k <= 12 for _, g in s.values())
    assert max(V_T) > 1e12 and min(V_T) < -1e12
    # the spike exactly at T (outside the trial by the tie rule): V(T) at the blow-up
    for w in (wc, np.nextafter(wc, 0.0)):
        ts = t_spike(w)
        value, g, ev = snnexact.value_and_grad(net, snnexact.Params((np.array([[w]]),), (None,)),
                                               [t_in], [0], 0, ts)
        assert _finite(value, g) and ev.pseudo_outputs[0]


def test_qif_gradients_finite_with_a_hidden_spike_at_T():
    """A hidden QIF spike crossing T moves a kick from I(T) of the silent output into the rate
    pass (r -> 1): the pseudospike loss stays continuous, the gradient finite."""
    tau, T, t_in = 0.2, 1.0, 0.1
    net1 = snnexact.Network(snnexact.QIF(tau), (1, 1))
    wc, _ = _qif_critical_weight(net1, t_in, T)
    net = snnexact.Network(snnexact.QIF(tau), (1, 1, 1))
    values = {}
    for k in range(3, 17):
        for sgn in (+1, -1):
            p = snnexact.Params((np.array([[wc * (1 + sgn * 10.0 ** -k)]]), np.array([[1.5]])),
                                (None, None))
            value, g, ev = snnexact.value_and_grad(net, p, [t_in], [0], 0, T)
            assert _finite(value, g), (k, sgn)
            assert ev.simulation.layers[0].n_spikes == (1 if sgn > 0 else 0)
            assert ev.pseudo_outputs[0]
            values[k, sgn] = value
        assert abs(values[k, 1] - values[k, -1]) <= 1e-3 * 10.0 ** (3 - k) + 1e-14, (k, values)


def test_lif_gradient_near_grazing_grows_like_inverse_sqrt_D():
    """One LIF neuron from rest kicked by w -> 4 theta from above: D = w (w - 4 theta) -> 0 and
    dt*/dw = -tau theta / (x+ w sqrt(D)), x+ = (w + sqrt(D)) / (2 w). The exact gradient must
    follow this (finite, large, not clamped)."""
    tau, theta, T, gamma = 0.2, 1.0, 1.0, 1e-2
    net = snnexact.Network(snnexact.LIF(tau, theta), (1, 1))
    D_k, g_k = [], []
    for k in range(2, 13):
        w = 4 * theta * (1 + 10.0 ** -k)
        value, grads, ev = snnexact.value_and_grad(net, snnexact.Params((np.array([[w]]),), (None,)),
                                                   [0.0], [0], 0, T, gamma=gamma)
        assert _finite(value, grads) and ev.simulation.output.n_spikes == 1
        sqrt_D = math.sqrt(w) * math.sqrt(w - 4 * theta)  # w - 4 theta is exact (Sterbenz)
        D = sqrt_D ** 2
        x_plus = (w + sqrt_D) / (2 * w)
        t = ev.outputs[0]
        assert abs(t + tau * math.log(x_plus)) <= 1e-12
        dL_dt = gamma * math.exp(t / T) / T  # one output: only the gamma term depends on t
        dt_dw = grads.W[0][0, 0] / dL_dt
        expected = -tau * theta / (x_plus * w * sqrt_D)
        tol = GRAZING_RTOL + GRAZING_COND_EPS * w * w / D
        assert abs(dt_dw / expected - 1) <= tol, (k, dt_dw, expected)
        D_k.append(D)
        g_k.append(dt_dw)
    D_k, g_k = np.array(D_k), np.abs(g_k)
    slopes = np.diff(np.log(g_k)) / np.diff(np.log(D_k))
    assert np.all(np.abs(slopes[2:] + 0.5) <= 0.01), slopes  # |dt*/dw| ~ D^(-1/2)
    assert g_k[-1] > 1e4 * g_k[0]


# ----------------------------------------------------------------------------- silent output

def _silent_output_case(model):
    """3 inputs -> 4 recurrent hidden -> 2 outputs; the label output (1) has inhibitory
    incoming weights and never fires; weights in units of the model's single-kick threshold."""
    tau, T = 0.2, 1.0
    neuron = snnexact.LIF(tau) if model == "lif" else snnexact.QIF(tau)
    kick = 4.0 * neuron.theta if model == "lif" else math.pi ** 2 / 4
    net = snnexact.Network(neuron, (3, 4, 2), recurrent=True)
    rng = np.random.default_rng(7)
    W0 = kick * rng.uniform(0.6, 1.2, (4, 3))
    R0 = kick * rng.normal(0.0, 0.1, (4, 4))
    np.fill_diagonal(R0, 0.0)
    W1 = np.stack([np.full(4, 0.5 * kick), np.full(4, -0.3 * kick)])
    times = np.array([0.05, 0.1, 0.2, 0.3, 0.35])
    units = np.array([0, 1, 2, 0, 1])
    return net, snnexact.Params((W0, W1), (R0, None)), times, units, 1, T


def _descend(model, steps=50, lr=10.0):
    net, params, times, units, label, T = _silent_output_case(model)
    history = []
    for _ in range(steps):
        value, grads, ev = snnexact.value_and_grad(net, params, times, units, label, T)
        assert _finite(value, grads)
        history.append((value, ev, params))
        if np.any(ev.simulation.output.units == label):
            break
        params = snnexact.Params(tuple(w - lr * g for w, g in zip(params.W, grads.W)),
                                 tuple(None if r is None else r - lr * g
                                       for r, g in zip(params.R, grads.R)))
    return label, history


def test_silent_qif_output_learns_to_fire():
    label, history = _descend("qif")
    ev0, ev = history[0][1], history[-1][1]
    assert ev0.pseudo_outputs[label] and not np.any(ev0.simulation.output.units == label)
    assert not ev.pseudo_outputs[label], f"label output still silent after {len(history)} steps"
    assert ev.outputs[label] < ev.simulation.T
    assert history[-1][0] < history[0][0]


def test_silent_lif_output_gets_no_gradient():
    label, history = _descend("lif")
    assert len(history) == 50
    W_first, W_last = history[0][2].W[-1], history[-1][2].W[-1]
    assert all(not np.any(ev.simulation.output.units == label) for _, ev, _ in history)
    np.testing.assert_array_equal(W_last[label], W_first[label])
    assert not np.array_equal(W_last, W_first), "nothing moved: the comparison is vacuous"
