"""Changes of one sample's spike pattern along a line in parameter space, classified and
attributed to the jumps of its loss (docs/landscapes.md).

Between two spike patterns ``left`` and ``right`` (one ``(times, units)`` train per spiking layer)
the spikes of each neuron are matched in order. If a neuron has ``n`` spikes on one side and
``n + d`` on the other, the ``d`` unmatched ones are those whose removal makes the two time
sequences closest (sum of ``|t_left - t_right|``, removed one at a time). Then:

* an unmatched spike *appears* (only on the right) or *disappears* (only on the left), at time
  ``t``; it is *at T* if ``T - t <= at_T_tol T`` and *mid-trial* otherwise. A matched spike that
  changes its time by more than ``move_tol T`` *moves* (used across a refined bracket, where a
  continuous spike time cannot change: a threshold crossing vanished and a later one of the same
  neuron took its place, or the reverse);
* two matched spikes *swap* if their order is strictly reversed,
  ``(tl_1 - tl_2)(tr_1 - tr_2) < 0``; the pair is in the *same layer*, *pre-post* (adjacent
  layers, the input counting as layer ``-1``) or in *other* layers. Two spikes of one neuron
  never swap (its ``k``-th spike precedes its ``k + 1``-th).

Along a line, every grid interval whose spike counts change is bisected until each change is
isolated to a bracket of width ``abs_width`` (default ``1e-12``) of the parameter; a mid-trial
(dis)appearance *follows an order swap* if the same bracket also holds a swap, or the spike's
time coincides (within ``tie_tol T``) with another spike or an input on either side (a swap that
happens at the same parameter value). How its time approaches the edge (``approach_ratio``)
separates grazing LIF crossings from QIF spikes escaping an unstable fixed point. Every loss jump
that survives refinement (``find_jumps`` down to ``abs_width``) is attributed to the changes
across its final bracket.
"""
from dataclasses import dataclass

import numpy as np

from snnexact.analysis.lines import bisect_change, counts_differ, find_jumps

RELATIONS = ("same layer", "pre-post", "other")
ESCAPE_RATIO = 0.5  # approach_ratio above this: an escaping spike (log), below: grazing (sqrt)


@dataclass(frozen=True)
class SpikeEvent:
    """A spike that ``kind`` = ``"appear"`` s or ``"disappear"`` s from left to right at
    ``time``, or ``"move"`` s discontinuously from ``time`` to ``time_right``."""

    kind: str
    layer: int
    neuron: int
    time: float
    at_T: bool
    time_right: float = float("nan")


@dataclass(frozen=True)
class Swap:
    """Two spikes ``(layer, neuron, k)`` (``k``-th spike of that neuron; layer ``-1``: input
    ``k`` of the sample) whose order reverses; ``first`` comes first on the left."""

    first: tuple
    second: tuple
    times_left: tuple
    times_right: tuple
    relation: str


@dataclass(frozen=True)
class Changes:
    """The classified difference of two spike patterns."""

    events: tuple
    swaps: tuple

    def __bool__(self):
        return bool(self.events or self.swaps)

    def count(self, kind=None, at_T=None):
        return sum(1 for e in self.events if (kind is None or e.kind == kind)
                   and (at_T is None or e.at_T == at_T))


def match_spikes(t_left, t_right):
    """``(matched_left, matched_right)`` indices of one neuron's spikes: the order-preserving
    matching of all spikes of the shorter train that minimises the sum of ``|t_left - t_right|``
    (dynamic programming; on ties the later spikes of the longer train stay unmatched)."""
    if t_left.size == t_right.size:
        return np.arange(t_left.size), np.arange(t_right.size)
    flip = t_left.size > t_right.size
    short, long_ = (t_right, t_left) if flip else (t_left, t_right)
    n, m = short.size, long_.size
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, :] = 0.0
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            cost[i, j] = min(cost[i, j - 1], cost[i - 1, j - 1] + abs(short[i - 1] - long_[j - 1]))
    ms, ml = [], []
    i, j = n, m
    while i > 0:
        if j > i and cost[i, j - 1] == cost[i, j]:  # skip long spike j - 1 (the later one)
            j -= 1
            continue
        ms.append(i - 1)
        ml.append(j - 1)
        i, j = i - 1, j - 1
    ms, ml = np.array(ms[::-1], int), np.array(ml[::-1], int)
    return (ml, ms) if flip else (ms, ml)


def reversed_pairs(tl, tr):
    """Index pairs ``(i, j)``, ``i < j`` in the order of ``tl``, with
    ``(tl_i - tl_j)(tr_i - tr_j) < 0``. Only spikes closer than ``2 max |tr - tl|`` on the left
    can swap, so each spike is compared with that window only (``O(n log n)`` when the spikes
    barely move, as across a refined bracket)."""
    order = np.argsort(tl, kind="stable")
    a, b = tl[order], tr[order]
    reach = 2.0 * float(np.max(np.abs(b - a))) if a.size else 0.0
    hi = np.searchsorted(a, a + reach, side="right")
    counts = hi - np.arange(a.size) - 1
    i = np.repeat(np.arange(a.size), np.maximum(counts, 0))
    j = i + 1 + (np.arange(i.size) - np.repeat(np.cumsum(counts) - counts, np.maximum(counts, 0)))
    rev = (a[i] - a[j]) * (b[i] - b[j]) < 0
    return list(zip(order[i[rev]].tolist(), order[j[rev]].tolist()))


def _relation(l1, l2):
    if l1 == l2:
        return "same layer"
    return "pre-post" if abs(l1 - l2) == 1 else "other"


def _match_patterns(left, right, T, at_T_tol, move_tol):
    """``(events, matched)``: the appear/disappear/move events, and the matched spikes as
    ``(layer, neuron, k, t_left, t_right)``."""
    events, matched = [], []
    for l, ((tl, ul), (tr, ur)) in enumerate(zip(left, right)):
        for n in np.union1d(ul, ur):
            a, b = tl[ul == n], tr[ur == n]
            ia, ib = match_spikes(a, b)
            for k in np.setdiff1d(np.arange(a.size), ia):
                events.append(SpikeEvent("disappear", l, int(n), float(a[k]),
                                         bool(T - a[k] <= at_T_tol * T)))
            for k in np.setdiff1d(np.arange(b.size), ib):
                events.append(SpikeEvent("appear", l, int(n), float(b[k]),
                                         bool(T - b[k] <= at_T_tol * T)))
            for i, j in zip(ia, ib):
                if move_tol is not None and abs(a[i] - b[j]) > move_tol * T:
                    events.append(SpikeEvent("move", l, int(n), float(a[i]),
                                             bool(T - min(a[i], b[j]) <= at_T_tol * T),
                                             float(b[j])))
                else:
                    matched.append((l, int(n), int(i), float(a[i]), float(b[j])))
    return events, matched


def count_swaps(left, right, T):
    """The number of pairs of matched network spikes whose order is strictly reversed from
    ``left`` to ``right`` (an inversion count, ``O(n log n)``, for patterns far apart)."""
    _, matched = _match_patterns(left, right, T, 0.0, None)
    if not matched:
        return 0
    tl = np.array([m[3] for m in matched])
    tr = np.array([m[4] for m in matched])
    rank = np.unique(tr, return_inverse=True)[1] + 1
    tree = np.zeros(rank.max() + 1, np.int64)  # Fenwick tree of the inserted right-ranks
    order = np.lexsort((tr, tl))
    total, inserted, k = 0, 0, 0
    while k < order.size:
        group = [order[k]]
        while k + len(group) < order.size and tl[order[k + len(group)]] == tl[order[k]]:
            group.append(order[k + len(group)])
        for g in group:  # earlier (strictly smaller t_left) spikes now later on the right
            r, below = rank[g], 0
            while r > 0:
                below += tree[r]
                r -= r & -r
            total += inserted - below
        for g in group:
            r = rank[g]
            while r < tree.size:
                tree[r] += 1
                r += r & -r
            inserted += 1
        k += len(group)
    return int(total)


def classify(left, right, T, inputs=None, at_T_tol=1e-6, move_tol=None):
    """``Changes`` from the pattern ``left`` to ``right`` (tuples of ``(times, units)`` per
    spiking layer). ``inputs``: the sample's ``(times, units)``, for swaps of layer-0 spikes with
    input spikes. ``move_tol``: see the module docstring (``None``: matched spikes never split)."""
    events, matched = _match_patterns(left, right, T, at_T_tol, move_tol)
    swaps = []
    if matched:
        tl = np.array([m[3] for m in matched])
        tr = np.array([m[4] for m in matched])
        for i, j in reversed_pairs(tl, tr):
            i, j = (i, j) if tl[i] < tl[j] else (j, i)
            swaps.append(Swap(matched[i][:3], matched[j][:3], (tl[i], tl[j]), (tr[i], tr[j]),
                              _relation(matched[i][0], matched[j][0])))
        if inputs is not None:
            t_in = np.asarray(inputs[0], np.float64)
            u_in = np.asarray(inputs[1])
            for m in matched:
                if m[0] != 0:
                    continue
                lo, hi = min(m[3], m[4]), max(m[3], m[4])
                for k in np.flatnonzero((t_in > lo) & (t_in < hi)):
                    net, inp, ti = m[:3], (-1, int(u_in[k]), int(k)), float(t_in[k])
                    if m[3] < ti:  # the network spike comes first on the left
                        swaps.append(Swap(net, inp, (m[3], ti), (m[4], ti), "pre-post"))
                    else:
                        swaps.append(Swap(inp, net, (ti, m[3]), (ti, m[4]), "pre-post"))
    return Changes(tuple(events), tuple(swaps))


def approach_ratio(line, left, right, event, decades=(0, 1, 2, 3)):
    """How a mid-trial (dis)appearing spike's time approaches the edge of its bracket: on the
    side that has the spike, at distances ``delta_k = w 10^k`` (``w`` the bracket width) from the
    edge, ``t_k`` is the time of that neuron's spike nearest ``event.time``; returns
    ``|t_0 - t_1| / |t_2 - t_3|`` (the move over the decade nearest the edge over the move two
    decades further out). A spike time that is smooth at the edge gives ``10^-2``; a grazing LIF
    crossing, ``t - t_graze ~ sqrt(delta)``, gives ``10^-1``; a QIF spike escaping from an
    unstable fixed point, ``t ~ ln(1 / delta) / lambda``, gives 1: its time moves by the same
    ``ln(10) / lambda`` per decade and reaches ``T`` only at ``delta ~ exp(-lambda (T - t))``,
    which may lie far below the resolution of the parameter (then the spike vanishes mid-trial
    in floating point although it leaves through ``T`` in exact arithmetic). ``nan`` if the
    spike is not found."""
    more_right = event.kind == "appear"
    edge, w = (right.alpha, 1.0) if more_right else (left.alpha, -1.0)
    width = right.alpha - left.alpha
    times = []
    for k in decades:
        t, u = line.point(edge + w * width * 10.0 ** k).trains[event.layer]
        t = t[u == event.neuron]
        if t.size == 0:
            return float("nan")
        times.append(float(t[np.argmin(np.abs(t - event.time))]))
    far = abs(times[2] - times[3])
    return abs(times[0] - times[1]) / far if far > 0 else float("nan")


def _coincides(event, left, right, inputs, tol):
    """Whether ``event``'s time is within ``tol`` of another spike or an input on either side."""
    times = [] if inputs is None else [np.asarray(inputs[0], np.float64)]
    for pattern in (left, right):
        for l, (t, u) in enumerate(pattern):
            times.append(t[~((l == event.layer) & (u == event.neuron))])
    t = np.concatenate(times) if times else np.zeros(0)
    return bool(np.any(np.abs(t - event.time) <= tol))


@dataclass(frozen=True)
class ChangePoint:
    """Changes isolated to ``[left.alpha, right.alpha]`` (``left``, ``right``: ``lines.Point``);
    ``follows_swap[i]`` and ``approach[i]`` for ``changes.events[i]`` (see the module docstring
    and ``approach_ratio``)."""

    left: object
    right: object
    changes: Changes
    follows_swap: tuple
    approach: tuple = ()

    @property
    def alpha(self):
        return 0.5 * (self.left.alpha + self.right.alpha)


@dataclass(frozen=True)
class JumpCause:
    """A loss jump that survived refinement (``lines.Refinement``) and the changes across its
    final bracket (empty: no classified cause)."""

    refinement: object
    changes: Changes


@dataclass(frozen=True)
class SampleLineAnalysis:
    """Everything found along one line for one sample: the grid ``points`` (``lines.Point``),
    the isolated ``change_points``, the ``jumps`` with their causes, and ``swaps_per_interval``
    (network-spike swaps between grid neighbours)."""

    points: list
    change_points: list
    jumps: list
    swaps_per_interval: np.ndarray

    @property
    def alphas(self):
        return np.array([p.alpha for p in self.points])

    @property
    def losses(self):
        return np.array([p.loss for p in self.points])

    def summary(self):
        """Counts of the classified changes and of the attributed loss jumps."""
        ev = [(e, f) for cp in self.change_points for e, f in zip(cp.changes.events,
                                                                  cp.follows_swap)]
        mid = [(e, f) for e, f in ev if not e.at_T]
        ratios = np.array([r for cp in self.change_points for e, r in zip(cp.changes.events,
                                                                         cp.approach)
                           if not e.at_T and e.kind != "move"], float)
        return {
            "change_points": len(self.change_points),
            "mid_appear": sum(e.kind == "appear" for e, _ in mid),
            "mid_disappear": sum(e.kind == "disappear" for e, _ in mid),
            "T_appear": sum(e.kind == "appear" and e.at_T for e, _ in ev),
            "T_disappear": sum(e.kind == "disappear" and e.at_T for e, _ in ev),
            "mid_move": sum(e.kind == "move" for e, _ in mid),
            "mid_following_swap": sum(f for e, f in mid if e.kind != "move"),
            "mid_escaping": int(np.sum(ratios > ESCAPE_RATIO)),
            "mid_approach_ratio_median": float(np.median(ratios)) if ratios.size else np.nan,
            "grid_swaps": int(self.swaps_per_interval.sum()),
            "jumps": len(self.jumps),
            "jumps_with_mid_count_change": sum(
                j.changes.count("appear", False) + j.changes.count("disappear", False) > 0
                for j in self.jumps),
            "jumps_with_mid_move_only": sum(
                j.changes.count(at_T=False) == j.changes.count("move", False) > 0
                for j in self.jumps),
            "jumps_with_T_event_only": sum(j.changes.count(at_T=True) > 0
                                           and j.changes.count(at_T=False) == 0
                                           for j in self.jumps),
            "jumps_with_swap_only": sum(j.changes.count() == 0 and bool(j.changes.swaps)
                                        for j in self.jumps),
            "jumps_unattributed": sum(not j.changes for j in self.jumps),
        }


def analyse_line(line, alphas, abs_width=1e-12, at_T_tol=1e-6, move_tol=1e-6, tie_tol=1e-9,
                 max_changes_per_interval=20, jump_kwargs=None, with_approach=True):
    """Scan ``line`` (a ``lines.Line``) on the grid ``alphas``, isolate every spike-count change
    and every loss jump to ``abs_width`` and classify them (with ``approach_ratio`` for each
    mid-trial appearance or disappearance if ``with_approach``); returns
    ``SampleLineAnalysis``."""
    alphas = np.asarray(alphas, np.float64)
    h = float(np.min(np.diff(alphas)))
    rel = abs_width / h
    T = line.sample.T
    inputs = (line.sample.input_times, line.sample.input_units)
    points = [line.point(a) for a in alphas]
    swaps = np.array([count_swaps(p.trains, q.trains, T)
                      for p, q in zip(points[:-1], points[1:])])
    change_points = []
    for p, q in zip(points[:-1], points[1:]):
        left = p
        for _ in range(max_changes_per_interval):
            if not counts_differ(left, q):
                break
            lo, hi, _ = bisect_change(line, left, q, counts_differ,
                                      abs_width / (q.alpha - left.alpha))
            ch = classify(lo.trains, hi.trains, T, inputs, at_T_tol, move_tol)
            follows = tuple(bool(ch.swaps) or _coincides(e, lo.trains, hi.trains, inputs,
                                                          tie_tol * T) for e in ch.events)
            approach = tuple(approach_ratio(line, lo, hi, e)
                             if e.kind != "move" and not e.at_T and with_approach else np.nan
                             for e in ch.events)
            change_points.append(ChangePoint(lo, hi, ch, follows, approach))
            left = hi
    kw = {"rel_width": rel, "keep_fraction": 0.1, **(jump_kwargs or {})}
    jumps = []
    for r in find_jumps(alphas, [p.loss for p in points], line.loss, **kw):
        if not r.is_jump:
            continue
        lo, hi = line.point(r.alpha_left), line.point(r.alpha_right)
        jumps.append(JumpCause(r, classify(lo.trains, hi.trains, T, inputs, at_T_tol, move_tol)))
    return SampleLineAnalysis(points, change_points, jumps, swaps)
