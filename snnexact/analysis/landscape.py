"""Loss, accuracy and gradient landscapes on lines and planes around trained parameters
(docs/landscapes.md).

On the grid ``a_i, b_j`` (``i < n_a``, ``j < n_b``; a line has ``n_b = 1``, ``b = 0``) the
landscape holds, over a fixed list of samples ``s = 1..K``::

    L[j, i]    = (1/K) sum_s loss_s(p + a_i d1 + b_j d2)        (mean loss, summed in sample order)
    acc[j, i]  = fraction of the samples predicted correctly
    g          = (1/K) sum_s grad loss_s   (exact gradient, snnexact.value_and_grad)
    |g|,  D_a = g . d1,  D_b = g . d2   (exact directional derivatives along the axes)

and the cosine similarity of ``g`` at neighbouring points along ``a`` (``cos_a``, shape
``(n_b, n_a - 1)``) and along ``b`` (``cos_b``, ``(n_b - 1, n_a)``). Each grid row is one task for
the trainer's executor (``snnexact.training.parallel``) and every number depends only on its own point, so
the result is bitwise identical for any number of workers and backend. Gradients are never
kept for the whole grid: only two rows at a time.
"""
from dataclasses import dataclass

import numpy as np

from snnexact.analysis.directions import (combine, flatten, normalize_per_neuron,
                                          random_direction, without_self_connections)
from snnexact.analysis.fragmentation import bisect_pair, fragmentation, grid_pairs
from snnexact.engine.network import Params
from snnexact.training.train import ChunkJob, run_chunk

PLANES = ("random", "gradient")


@dataclass(frozen=True)
class Problem:
    """What a landscape evaluates: ``network``, trained ``params``, ``samples`` (a list of
    ``(times, units, label)``), the trial length ``T``, the ``LossConfig`` and the spike budget."""

    network: object
    params: Params
    samples: list
    T: float
    loss_cfg: object
    max_spikes: object = None

    def job(self, params, want_grad):
        return ChunkJob(self.network, params, self.T, self.loss_cfg, self.max_spikes,
                        want_grad)


@dataclass(frozen=True)
class PointValue:
    """Mean loss, accuracy, fraction of samples that hit the spike budget, and the mean
    gradient (a ``Params``, or ``None``) at one point."""

    loss: float
    acc: float
    budget_hits: float
    grad: Params = None


def mean_loss_and_grad(problem, params, want_grad=True):
    """The ``PointValue`` of ``params`` over ``problem.samples`` (summed in sample order)."""
    total, grads, records = run_chunk((problem.job(params, want_grad), problem.samples))
    n = len(problem.samples)
    acc = sum(r.prediction == r.label for r in records) / n
    budget = sum(r.status != 0 for r in records) / n
    if not want_grad:
        return PointValue(total / n, acc, budget)
    return PointValue(total / n, acc, budget, grads.map(lambda g: g / n))


def make_directions(problem, plane, seed, line=False):
    """``(d1, d2)`` for ``plane = "random"`` (two independent random directions, normalised per
    neuron, from ``seed``) or ``"gradient"`` (``d1``: the negative mean gradient at ``params``,
    normalised per neuron, so ``a > 0`` goes downhill; ``d2`` random). ``d2`` is ``None`` for a
    line."""
    if plane not in PLANES:
        raise ValueError(f"plane must be one of {PLANES} or a direction file, got {plane!r}")
    rng = np.random.default_rng(seed)
    p = problem.params
    if plane == "random":
        d1 = random_direction(p, rng)
    else:
        g = mean_loss_and_grad(problem, p).grad
        d1 = normalize_per_neuron(without_self_connections(g.map(np.negative)), p)
    return d1, None if line else random_direction(p, rng)


@dataclass(frozen=True)
class Landscape:
    """A landscape on the grid ``a`` x ``b`` (see the module docstring); arrays are ``(n_b, n_a)``
    except ``cos_a`` and ``cos_b``. ``budget_hits``: the fraction of samples whose simulation
    hit the spike budget (their loss is that of a truncated simulation)."""

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    acc: np.ndarray
    budget_hits: np.ndarray
    grad_norm: np.ndarray
    dd_a: np.ndarray
    dd_b: np.ndarray
    cos_a: np.ndarray
    cos_b: np.ndarray

    @property
    def steps(self):
        h = [float(x[1] - x[0]) if x.size > 1 else 1.0 for x in (self.a, self.b)]
        return tuple(h)

    def arrays(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def pair_cosines(self):
        """The cosines in the order of ``fragmentation.grid_pairs``."""
        return np.concatenate([self.cos_a.ravel(), self.cos_b.ravel()])


def _cos(x, y):
    nx, ny = np.linalg.norm(x, axis=-1), np.linalg.norm(y, axis=-1)
    dot = np.sum(x * y, axis=-1)
    ok = (nx > 0) & (ny > 0)
    # two zero gradients agree (1); a zero and a nonzero one carry no direction (nan)
    return np.where(ok, dot / np.where(ok, nx * ny, 1.0), np.where((nx == 0) & (ny == 0), 1.0,
                                                                   np.nan))


def _row_task(args):
    """One grid row: ``(loss, acc, budget_hits, G)`` at every ``a``, ``G`` the flattened mean
    gradients (one row per point)."""
    problem, d1, d2, a, b = args
    values = [mean_loss_and_grad(problem, combine(problem.params, [(ai, d1), (b, d2)]))
              for ai in a]
    return (np.array([v.loss for v in values]), np.array([v.acc for v in values]),
            np.array([v.budget_hits for v in values]), np.stack([flatten(v.grad) for v in values]))


def evaluate_grid(problem, d1, d2, a, b, run, rows_per_call=4, progress=None):
    """The ``Landscape`` of ``problem`` on ``a`` x ``b`` (``d2`` may be ``None`` with ``b =
    [0]``). ``run`` is an executor from ``snnexact.training.parallel.executor``; ``progress(n)`` (if
    given) is called after every ``n`` rows."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if d2 is None and not np.array_equal(b, [0.0]):
        raise ValueError("a line (d2 = None) needs b = [0]")
    v1 = flatten(d1)
    v2 = None if d2 is None else flatten(d2)
    shape = (b.size, a.size)
    out = {k: np.zeros(shape) for k in ("loss", "acc", "budget_hits", "grad_norm", "dd_a", "dd_b")}
    cos_a, cos_b = np.zeros((b.size, a.size - 1)), np.zeros((max(b.size - 1, 0), a.size))
    previous = None
    for start in range(0, b.size, rows_per_call):
        rows = range(start, min(start + rows_per_call, b.size))
        results = run(_row_task, [(problem, d1, d2, a, float(b[j])) for j in rows])
        for j, (loss, acc, budget, G) in zip(rows, results):
            out["loss"][j], out["acc"][j], out["budget_hits"][j] = loss, acc, budget
            out["grad_norm"][j] = np.linalg.norm(G, axis=1)
            out["dd_a"][j] = G @ v1
            out["dd_b"][j] = 0.0 if v2 is None else G @ v2
            cos_a[j] = _cos(G[:-1], G[1:])
            if previous is not None:
                cos_b[j - 1] = _cos(previous, G)
            previous = G
        if progress is not None:
            progress(len(rows))
    return Landscape(a, b, cos_a=cos_a, cos_b=cos_b, **out)


def _bisect_task(args):
    """``D_k`` of one pair from ``(a0, b0)`` to ``(a1, b1)``, losses only."""
    problem, d1, d2, (a0, b0), (a1, b1), L0, L1, levels = args

    def loss_at(t):
        p = combine(problem.params, [(a0 + t * (a1 - a0), d1), (b0 + t * (b1 - b0), d2)])
        return mean_loss_and_grad(problem, p, want_grad=False).loss
    return bisect_pair(loss_at, L0, L1, levels)


def landscape_metrics(problem, d1, d2, land, run, levels=10, max_refine=256, seed=0,
                      progress=None, **kwargs):
    """``Fragmentation`` of ``land``; pairs are refined with ``levels`` bisections (one executor
    task per pair; ``progress(n)`` after every batch of ``n``); ``kwargs`` go to
    ``fragmentation``."""
    pairs = grid_pairs(land.loss.shape, land.steps)
    n_a = land.a.size
    L = land.loss.ravel()

    def coords(flat):
        j, i = divmod(int(flat), n_a)
        return float(land.a[i]), float(land.b[j])

    def refine(cand, lv):
        items = [(problem, d1, d2, coords(pairs.first[c]), coords(pairs.second[c]),
                  float(L[pairs.first[c]]), float(L[pairs.second[c]]), lv) for c in cand]
        out = []
        step = 16
        for s in range(0, len(items), step):
            out += run(_bisect_task, items[s:s + step])
            if progress is not None:
                progress(len(items[s:s + step]))
        return np.array(out).reshape(len(items), lv + 1)
    return fragmentation(land.loss, land.steps, refine if levels else None, levels=levels,
                         max_refine=max_refine, seed=seed, cosines=land.pair_cosines(),
                         directional=(land.dd_a, land.dd_b), **kwargs)
