"""Fragmentation metrics on constructed functions whose jumps and slopes are known."""
import math

import numpy as np
import pytest

from snnexact.analysis.fragmentation import bisect_pair, fragmentation, grid_pairs

N = 11
AXIS = np.linspace(-1.0, 1.0, N)
H = AXIS[1] - AXIS[0]
X0 = 0.137  # between grid lines (grid points are multiples of 0.2)
J = 0.3


def grid_values(f):
    A, B = np.meshgrid(AXIS, AXIS)  # rows: b, columns: a
    return f(A, B)


def refine_with(f):
    """Exact refinement of the pairs of the N x N grid for the function ``f(a, b)``."""
    values = grid_values(f)
    pairs = grid_pairs(values.shape, (H, H))
    coords = np.stack(np.meshgrid(AXIS, AXIS), axis=-1).reshape(-1, 2)

    def refine(indices, levels):
        out = []
        for c in indices:
            p0, p1 = coords[pairs.first[c]], coords[pairs.second[c]]
            out.append(bisect_pair(lambda t: f(*(p0 + t * (p1 - p0))), values.flat[pairs.first[c]],
                                   values.flat[pairs.second[c]], levels))
        return np.array(out)
    return values, refine


def bowl(a, b):
    return a ** 2 + 0.5 * b ** 2


def with_step(a, b):
    return bowl(a, b) + J * (np.asarray(a) > X0)


def test_grid_pairs_counts_both_axes():
    pairs = grid_pairs((4, 6), (0.1, 0.2))
    assert pairs.first.size == 4 * 5 + 6 * 3
    assert pairs.n_lines == 4 + 6
    assert np.all(pairs.step[pairs.axis == 0] == 0.1) and np.all(pairs.step[pairs.axis == 1] == 0.2)
    # neighbours differ by one column (axis 0) or one row (axis 1) of the (4, 6) grid
    assert np.all((pairs.second - pairs.first)[pairs.axis == 0] == 1)
    assert np.all((pairs.second - pairs.first)[pairs.axis == 1] == 6)


def test_step_function_jumps_persist_and_are_counted_exactly():
    """``bowl + J H(a - X0)``: the only jumps are the N pairs along ``a`` that straddle X0 (one per
    grid row), out of 2 N (N - 1) pairs; their refined |dL| tends to J."""
    values, refine = refine_with(with_step)
    fr = fragmentation(values, (H, H), refine, levels=20)
    assert fr.n_refined == 2 * N * (N - 1)
    assert fr.n_jumps == N
    assert fr.jump_density == pytest.approx(1 / (2 * (N - 1)), rel=1e-12)
    # J < kappa S h: no candidate on the coarse grid, but tau_k = kappa S h 2^(-k/2) falls below
    # J after a few levels, and from then on f_k is the jump pairs' share (the bowl's slopes,
    # at most 3.1 S here, fall below tau_k for 2^(k/2) > 3.1 / kappa, i.e. at once)
    S = fr.typical_slope
    assert J < fr.kappa * S * H
    k_min = math.ceil(2 * math.log2(fr.kappa * S * H / (J - 2 * H * 2 ** -4)))
    assert fr.persistence[0] == 0.0
    assert all(f == pytest.approx(1 / (2 * (N - 1)), rel=1e-12) for f in fr.persistence[k_min:])
    # jump share of the variation: N J over the total |dL| (the bowl part moves D_K by < 2 h 2^-20)
    d = np.abs(np.diff(values, axis=1)).sum() + np.abs(np.diff(values, axis=0)).sum()
    assert fr.jump_variation_fraction == pytest.approx(N * J / d, rel=1e-5)


def test_smooth_function_has_no_jump():
    values, refine = refine_with(bowl)
    fr = fragmentation(values, (H, H), refine, levels=12)
    assert fr.n_jumps == 0 and fr.jump_density == 0.0
    assert fr.persistence[-1] == 0.0


@pytest.mark.parametrize("kind", ["steep sigmoid", "square-root cusp"])
def test_steep_continuous_pieces_are_candidates_but_not_jumps(kind):
    """A tanh of width h/100 and a cusp J sqrt(|a - X0|): both exceed the step-scaled threshold on
    the coarse grid; refined, |dL| shrinks (like 2^-k, resp. 2^(-k/2)), so no jump persists."""
    w = H / 100
    f = ((lambda a, b: bowl(a, b) + J * np.tanh((a - X0) / w)) if kind == "steep sigmoid"
         else (lambda a, b: 0.01 * bowl(a, b) + J * np.sqrt(np.abs(a - X0))))
    values, refine = refine_with(f)
    fr = fragmentation(values, (H, H), refine, levels=24)
    assert fr.candidate_fraction > 0, "nothing exceeded the threshold: the check is vacuous"
    assert fr.n_jumps == 0
    assert fr.persistence[-1] < fr.persistence[0] or kind == "square-root cusp"


def test_total_variation_of_a_line():
    """L = c a on [-1, 1]: TV of the one grid line is 2 |c|."""
    c = -1.7
    fr = fragmentation(c * AXIS[None, :], (H, 1.0))
    assert fr.total_variation == pytest.approx(2 * abs(c), rel=1e-12)
    assert math.isnan(fr.jump_density)  # no refinement requested


def test_finite_difference_mismatch_vanishes_for_a_quadratic_and_not_at_a_jump():
    """The trapezoid rule is exact for quadratics: (L1 - L0)/h = (D0 + D1)/2 with D = dL/da."""
    A, B = np.meshgrid(AXIS, AXIS)
    D_a, D_b = 2 * A, B
    fr = fragmentation(bowl(A, B), (H, H), directional=(D_a, D_b))
    assert fr.fd_mismatch_mean < 1e-12
    fr = fragmentation(with_step(A, B), (H, H), directional=(D_a, D_b))
    # the N jump pairs: |J/h + O(1)| against O(1) exact derivatives gives a mismatch near 1
    assert fr.fd_mismatch_mean > 0.5 * N / (2 * N * (N - 1))


def test_gradient_cosines_are_summarised():
    fr = fragmentation(bowl(*np.meshgrid(AXIS, AXIS)), (H, H),
                       cosines=np.array([1.0, -0.5, 0.5, np.nan]))
    assert fr.gradient_cosine_mean == pytest.approx(1.0 / 3)
    assert fr.gradient_cosine_negative_fraction == 0.25
