"""Tiny networks whose loss discontinuities are known in closed form (docs/theory.md 1.2):
the landscape machinery must find exactly those, isolate them to 1e-12 and attribute them.

Loss: first-spike loss with one output, so the softmax term is 0 and L = gamma (exp(t/T) - 1),
with t = T for a silent LIF output. A LIF neuron kicked by w from rest has
V(x) = w x (1 - x) (x = exp(-t/tau)); it crosses theta iff w > 4 theta, at x+ with
w x+ (1 - x+) = theta, x+ >= 1/2, t = -tau ln x+; at w = 4 theta (tangency) x+ = 1/2.
"""
import math

import numpy as np
import pytest

import snnexact
from snnexact.analysis.landscape import Problem, evaluate_grid, landscape_metrics
from snnexact.analysis.lines import Line, Sample
from snnexact.analysis.spike_changes import analyse_line
from snnexact.engine.gradients import LossConfig

TAU, T, THETA, GAMMA = 0.2, 1.0, 1.0, 1e-2
WIDTH = 1e-12


def x_plus(w):
    return (w + math.sqrt(w * w - 4 * w * THETA)) / (2 * w)


def unit_direction(shapes, layer, index):
    W = [np.zeros(s) for s in shapes]
    W[layer][index] = 1.0
    return snnexact.Params(tuple(W), (None,) * len(shapes))


def serial(fn, items):
    return [fn(x) for x in items]


def loss_of(t):
    return GAMMA * (math.exp(t / T) - 1)


def run_line(net, params, times, units, direction, alphas):
    line = Line(net, params, Sample(np.asarray(times, float), np.asarray(units), 0, T), direction,
                gamma=GAMMA)
    return analyse_line(line, alphas, abs_width=WIDTH)


def test_lif_tangency_is_a_jump_attributed_to_a_mid_trial_spike():
    net = snnexact.Network(snnexact.LIF(TAU, THETA), (1, 1))
    w0 = 4 * THETA + 0.123
    params = snnexact.Params((np.array([[w0]]),), (None,))
    d = unit_direction([(1, 1)], 0, (0, 0))
    alphas = np.linspace(-0.5, 0.5, 41)
    an = run_line(net, params, [0.0], [0], d, alphas)
    a_star = 4 * THETA - w0
    (jump,) = an.jumps
    r = jump.refinement
    assert r.alpha_left <= a_star + 4e-16 and a_star - 4e-16 <= r.alpha_right
    assert r.widths[-1] <= WIDTH
    # silent (t = T) on the left, spike at t = tau ln 2 on the right; the spike time approaches
    # it like sqrt(D) ~ sqrt(4 theta * width)
    assert r.size == pytest.approx(loss_of(TAU * math.log(2)) - loss_of(T), abs=1e-5)
    (e,) = jump.changes.events
    assert (e.kind, e.layer, e.neuron, e.at_T) == ("appear", 0, 0, False)
    assert e.time == pytest.approx(TAU * math.log(2), abs=1e-5)
    s = an.summary()
    assert s["jumps_unattributed"] == 0 and s["mid_appear"] == 1 and s["mid_disappear"] == 0
    # t - tau ln 2 ~ sqrt(o + delta), o in [0, w] the offset of the bracket end from the
    # tangency: approach ratio (sqrt(o + 10 w) - sqrt(o + w)) / (sqrt(o + 1000 w) - sqrt(o + 100 w))
    # lies between 0.088 (o = w) and 0.1 (o = 0)
    (cp,) = an.change_points
    assert 0.087 <= cp.approach[0] <= 0.1001
    assert s["mid_escaping"] == 0

    # the same line as a landscape: exactly one of the 40 pairs holds a persistent jump
    problem = Problem(net, params, [(np.array([0.0]), np.array([0]), 0)], T,
                      LossConfig(gamma=GAMMA))
    land = evaluate_grid(problem, d, None, alphas, [0.0], serial)
    fr = landscape_metrics(problem, d, None, land, serial, levels=30)
    assert fr.n_jumps == 1 and fr.jump_density == pytest.approx(1 / 40)


def test_qif_spike_leaves_through_T_without_a_jump():
    """A QIF neuron kicked by w from rest fires at a time that tends to infinity as
    w -> pi^2/4; on w in [2.48, 2.7] its spike leaves the trial through T (tau = 0.2,
    t_in = 0.1: t(2.48) > T > t(2.7), docs/theory.md 1.2), and the loss stays continuous."""
    net = snnexact.Network(snnexact.QIF(TAU), (1, 1))
    params = snnexact.Params((np.array([[2.59]]),), (None,))
    d = unit_direction([(1, 1)], 0, (0, 0))
    an = run_line(net, params, [0.1], [0], d, np.linspace(-0.11, 0.11, 45))
    events = [e for cp in an.change_points for e in cp.changes.events]
    assert events, "the spike did not leave the trial: the check is vacuous"
    assert all(e.at_T and T - e.time <= 1e-6 for e in events)
    assert an.jumps == []
    s = an.summary()
    assert s["mid_appear"] == s["mid_disappear"] == s["mid_move"] == 0
    # as a landscape: no pair holds a persistent jump, though the steepest ones are refined
    problem = Problem(net, params, [(np.array([0.1]), np.array([0]), 0)], T,
                      LossConfig(gamma=GAMMA))
    alphas = an.alphas
    land = evaluate_grid(problem, d, None, alphas, [0.0], serial)
    fr = landscape_metrics(problem, d, None, land, serial, levels=30)
    assert fr.n_refined == alphas.size - 1 and fr.n_jumps == 0
    assert fr.fd_mismatch_median < 0.01  # exact derivatives agree with finite differences


def test_order_swap_of_two_inputs_to_the_output_kills_its_spike():
    """Hidden neuron 1 (kick 6 at t = 0) fires at t1 = -tau ln x+(6) and kicks the output by 6, so
    the output fires at t_o = 2 t1. Hidden neuron 0 (kick w at t = 0) inhibits the output by -10:
    arriving before t_o it prevents the output spike. The two inputs of the output swap order at
    t0(w) = t_o, i.e. x+(w) = x+(6)^2, w* = theta / (x (1 - x)) with x = x+(6)^2: there the
    loss jumps from L(t_o) to L(T), by a disappearance that follows the swap."""
    net = snnexact.Network(snnexact.LIF(TAU, THETA), (2, 2, 1))
    w0 = 4.4
    params = snnexact.Params((np.array([[w0, 0.0], [0.0, 6.0]]), np.array([[-10.0, 6.0]])),
                             (None, None))
    d = unit_direction([(2, 2), (1, 2)], 0, (0, 0))
    x = x_plus(6.0) ** 2
    w_star = THETA / (x * (1 - x))
    t_o = -2 * TAU * math.log(x_plus(6.0))
    an = run_line(net, params, [0.0, 0.0], [0, 1], d, np.linspace(-0.35, 0.35, 36))
    (jump,) = an.jumps
    r = jump.refinement
    assert abs(r.position - (w_star - w0)) <= 1e-9
    assert r.size == pytest.approx(loss_of(T) - loss_of(t_o), rel=1e-9)
    out = [e for e in jump.changes.events if e.layer == 1]
    assert [(e.kind, e.neuron, e.at_T) for e in out] == [("disappear", 0, False)]
    assert out[0].time == pytest.approx(t_o, abs=1e-9)
    cp = [c for c in an.change_points if abs(c.alpha - (w_star - w0)) <= 1e-9]
    assert len(cp) == 1 and cp[0].follows_swap == (True,)
    s = an.summary()
    assert s["mid_following_swap"] == 1 and s["jumps_unattributed"] == 0


def test_qif_spike_escaping_the_unstable_fixed_point_vanishes_mid_trial_in_floating_point():
    """One QIF neuron kicked at t = 0 by w: below a critical w_c, V decays to rest; above, it
    escapes from the unstable fixed point V = 1 (where V(V - 1) has slope 1, so V - 1 grows like
    exp(t / tau) once the current has decayed) and fires at t* ~ tau ln(1 / (w - w_c)). The spike
    time diverges, so it leaves through T in exact arithmetic, but only at
    w - w_c ~ exp(-T / tau) = exp(-50): in floating point (here to 1e-12) it vanishes mid-trial.
    Its time moves by tau ln 10 per decade of w - w_c (approach ratio 1), and the loss jumps."""
    tau = 0.02
    net = snnexact.Network(snnexact.QIF(tau), (1, 1))
    params = snnexact.Params((np.array([[3.0]]),), (None,))
    d = unit_direction([(1, 1)], 0, (0, 0))
    line = Line(net, params, Sample(np.array([0.0]), np.array([0]), 0, T), d, gamma=GAMMA)
    an = analyse_line(line, np.linspace(-1.0, 1.0, 21), abs_width=WIDTH)
    (cp,) = an.change_points
    (e,) = cp.changes.events
    assert (e.kind, e.at_T) == ("appear", False) and 0.3 * T < e.time < 0.8 * T
    assert cp.approach[0] == pytest.approx(1.0, rel=0.05)
    times = [line.point(cp.right.alpha + WIDTH * 10.0 ** k).trains[0][0][0] for k in (3, 4)]
    assert times[0] - times[1] == pytest.approx(tau * math.log(10), rel=1e-3)
    s = an.summary()
    assert s["mid_escaping"] == 1 and s["jumps"] == 1 and s["jumps_unattributed"] == 0
