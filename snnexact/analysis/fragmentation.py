"""Fragmentation metrics of a landscape sampled on a grid (definitions in docs/landscapes.md).

The grid holds ``L[j, i] = L(p + a_i d1 + b_j d2)`` with steps ``h_a``, ``h_b`` (a line is a grid
with one row). A *pair* is two neighbouring grid points along either axis; for a pair, ``dL`` is
its loss difference and ``h`` its step.

* Typical slope ``S = median over pairs of |dL| / h``. A pair is a *jump candidate* if
  ``|dL| > kappa S h`` (the step-scaled threshold).
* Refinement: a pair is bisected ``K`` times, keeping the half with the larger ``|dL|``; ``D_k``
  is ``|dL|`` after ``k`` bisections (width ``h 2^-k``, ``D_0 = |dL|``). All pairs are refined,
  or a uniform random subset of them. At level ``k`` the threshold is
  ``tau_k = kappa S h 2^(-k/2)`` (``kappa S`` times the geometric mean of the coarse and the
  refined step). The *persistence curve* ``f_k`` is the fraction of refined pairs with
  ``D_k > tau_k``: a jump ``J`` keeps ``D_k -> J`` and stays above the shrinking threshold however
  small it is; a slope ``s`` gives ``D_k = s h 2^-k``, which falls below ``tau_k`` once
  ``2^(k/2) > s / (kappa S)`` (slopes vanish, steep ones later).
* A *persistent jump*: ``D_K > tau_K`` and ``D_K >= D_(K-m) / 2`` with ``m = min(4, K)``
  (``|dL|`` stopped shrinking: for a Lipschitz piece ``D_K / D_(K-m) = 2^-m``, for the square-root
  cusp of a grazing LIF spike ``2^(-m/2)``, for a jump ``-> 1``). The *persistent-jump density*
  is the number of persistent jumps over the number of pairs.
* Total variation ``TV = sum over pairs of |dL|`` divided by the number of grid lines (the mean TV
  of one grid line), and the fraction of it carried by jumps, ``sum of D_K`` over the persistent
  jumps divided by ``sum of D_0`` over the refined pairs.
* Gradient erraticity: per pair the cosine similarity of the two exact gradients, and the
  relative mismatch ``|dL/h - (D0 + D1)/2| / (|dL/h| + |(D0 + D1)/2|)`` of the finite difference
  with the mean of the exact directional derivatives ``D = grad L . d`` at its ends (the
  trapezoid rule makes it ``O(h^2)`` for a smooth ``L``; it tends to 1 across a jump).
"""
from dataclasses import asdict, dataclass

import numpy as np

from snnexact.analysis.lines import bisect_jump

DEFAULT_KAPPA = 3.0
PERSIST_RATIO = 0.5
PERSIST_TAIL = 4


@dataclass(frozen=True)
class Pairs:
    """Neighbouring grid points: flat indices ``first``, ``second`` into a ``(n_b, n_a)`` grid,
    the ``axis`` (0: along ``a``, 1: along ``b``) and the ``step`` of each pair."""

    first: np.ndarray
    second: np.ndarray
    axis: np.ndarray
    step: np.ndarray
    n_lines: int


def grid_pairs(shape, steps):
    """All neighbouring pairs of a ``(n_b, n_a)`` grid with steps ``(h_a, h_b)``, along ``a``
    (row by row) first, then along ``b``."""
    n_b, n_a = shape
    idx = np.arange(n_b * n_a).reshape(shape)
    first = [idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    second = [idx[:, 1:].ravel(), idx[1:, :].ravel()]
    axis = [np.zeros(first[0].size, int), np.ones(first[1].size, int)]
    step = [np.full(first[0].size, float(steps[0])), np.full(first[1].size, float(steps[1]))]
    n_lines = (n_b if n_a > 1 else 0) + (n_a if n_b > 1 else 0)
    return Pairs(np.concatenate(first), np.concatenate(second), np.concatenate(axis),
                 np.concatenate(step), n_lines)


def typical_slope(values, pairs):
    """``S``: the median of ``|dL| / h`` over the pairs (the mean if the median is 0)."""
    v = np.ravel(values)
    slopes = np.abs(v[pairs.second] - v[pairs.first]) / pairs.step
    s = float(np.median(slopes))
    return s if s > 0 else float(np.mean(slopes))


def bisect_pair(loss_at, L0, L1, levels):
    """``[D_0, ..., D_K]`` of one pair: ``loss_at(t)`` is the loss at the fraction ``t`` of the way
    from its first to its second point; ``K = levels`` bisections."""
    r = bisect_jump(0.0, 1.0, L0, L1, loss_at, 2.0 ** -levels, PERSIST_RATIO)
    deltas = np.full(levels + 1, np.nan)
    deltas[:r.deltas.size] = r.deltas
    return deltas


@dataclass(frozen=True)
class Fragmentation:
    """The metrics of one landscape (see the module docstring). ``candidate_fraction``: ``f_0``
    over all pairs; ``persistence[k]``: ``f_k`` over the ``n_refined`` refined pairs;
    ``jump_density`` and ``jump_variation_fraction`` over the refined pairs. Jump fields are
    ``nan`` without refinement, gradient fields without gradients."""

    n_pairs: int
    kappa: float
    levels: int
    typical_slope: float
    candidate_fraction: float
    total_variation: float
    n_refined: int = 0
    persistence: tuple = ()
    n_jumps: int = 0
    jump_density: float = np.nan
    jump_variation_fraction: float = np.nan
    gradient_cosine_mean: float = np.nan
    gradient_cosine_negative_fraction: float = np.nan
    fd_mismatch_median: float = np.nan
    fd_mismatch_mean: float = np.nan

    def to_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class JumpTests:
    """The refined pairs (indices into ``grid_pairs``), their ``deltas`` (``(n, K + 1)``, row
    ``[D_0, ..., D_K]``) and which of them are persistent jumps."""

    refined: np.ndarray
    deltas: np.ndarray
    is_jump: np.ndarray


def refine_jumps(values, pairs, refine, kappa=DEFAULT_KAPPA, levels=10, max_refine=256, seed=0):
    """Refine the pairs and test each for a persistent jump. ``refine(indices, levels)`` returns
    the ``(n, levels + 1)`` array of ``D_k`` of the pairs ``indices`` (``bisect_pair`` for each,
    possibly in parallel). All pairs are refined if there are at most ``max_refine``, else a
    uniform random subset of that size drawn with ``seed`` (an unbiased estimate of the
    fractions). Returns ``(S, JumpTests)``."""
    S = typical_slope(values, pairs)
    n = pairs.first.size
    if n <= max_refine:
        chosen = np.arange(n)
    else:
        chosen = np.sort(np.random.default_rng(seed).choice(n, max_refine, replace=False))
    deltas = np.asarray(refine(chosen, levels), dtype=np.float64).reshape(chosen.size, levels + 1)
    m = min(PERSIST_TAIL, levels)
    final = deltas[:, levels]
    threshold = kappa * S * pairs.step[chosen] * 2.0 ** (-levels / 2)
    is_jump = (final > threshold) & (final >= PERSIST_RATIO * deltas[:, levels - m])
    return S, JumpTests(chosen, deltas, is_jump)


def fd_mismatch(values, pairs, directional):
    """Per pair, ``|FD - E| / (|FD| + |E|)`` with ``FD = dL / h`` and ``E`` the mean of the exact
    directional derivatives at its ends; ``directional = (D_a, D_b)``, grids like ``values``.
    0 where both vanish."""
    v = np.ravel(values)
    fd = (v[pairs.second] - v[pairs.first]) / pairs.step
    D = [np.ravel(x) for x in directional]
    exact = np.where(pairs.axis == 0, 0.5 * (D[0][pairs.first] + D[0][pairs.second]),
                     0.5 * (D[1][pairs.first] + D[1][pairs.second]))
    denom = np.abs(fd) + np.abs(exact)
    return np.where(denom > 0, np.abs(fd - exact) / np.where(denom > 0, denom, 1.0), 0.0)


def fragmentation(values, steps, refine=None, kappa=DEFAULT_KAPPA, levels=10, max_refine=256,
                  seed=0, cosines=None, directional=None):
    """All metrics of the grid ``values`` (shape ``(n_b, n_a)``, steps ``(h_a, h_b)``).

    ``refine``, ``max_refine``, ``seed`` as for ``refine_jumps`` (``refine = None`` or ``levels =
    0``: no refinement, and no jump metrics); ``cosines``: the gradient cosine similarity per
    pair in ``grid_pairs`` order; ``directional``: ``(D_a, D_b)``, the exact directional
    derivatives on the grid.
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    pairs = grid_pairs(values.shape, steps)
    v = values.ravel()
    d = np.abs(v[pairs.second] - v[pairs.first])
    n = d.size
    S = typical_slope(values, pairs)
    tv = float(d.sum())
    out = dict(n_pairs=n, kappa=float(kappa), levels=0, typical_slope=S,
               candidate_fraction=float(np.mean(d > kappa * S * pairs.step)),
               total_variation=tv / max(pairs.n_lines, 1))
    if refine is not None and levels > 0:
        S, tests = refine_jumps(values, pairs, refine, kappa, levels, max_refine, seed)
        h = pairs.step[tests.refined]
        k = np.arange(levels + 1)
        above = tests.deltas > kappa * S * h[:, None] * 2.0 ** (-k[None, :] / 2)
        jump_var = float(tests.deltas[tests.is_jump, levels].sum())
        refined_var = float(tests.deltas[:, 0].sum())
        out.update(levels=int(levels), n_refined=int(tests.refined.size),
                   persistence=tuple(np.mean(above, axis=0).tolist()),
                   n_jumps=int(tests.is_jump.sum()), jump_density=float(np.mean(tests.is_jump)),
                   jump_variation_fraction=(min(jump_var / refined_var, 1.0)
                                            if refined_var > 0 else 0.0))
    if cosines is not None:
        c = np.asarray(cosines, dtype=np.float64)
        out.update(gradient_cosine_mean=float(np.nanmean(c)) if np.any(np.isfinite(c)) else np.nan,
                   gradient_cosine_negative_fraction=float(np.mean(c < 0)))
    if directional is not None:
        m = fd_mismatch(values, pairs, directional)
        out.update(fd_mismatch_median=float(np.median(m)), fd_mismatch_mean=float(np.mean(m)))
    return Fragmentation(**out)
