"""Loss and spike pattern of one sample along a line ``a -> p + a d`` in parameter space, and
bisection of grid intervals down to the parameter value where something changes
(docs/landscapes.md, docs/validation.md).

* **Jumps that survive refinement** (``find_jumps``). A grid interval whose ``|dL|`` stands out
  from its neighbours is bisected, keeping the half with the larger ``|dL|``, until its width is
  ``rel_width`` of the original. A discontinuity keeps ``|dL|`` bounded away from 0 (it converges
  to the jump size); a steep but continuous piece has ``|dL| -> 0`` in proportion to the width
  (or its square root at a grazing LIF spike).
* **Where spikes enter or leave the trial** (``locate_count_changes``). A grid interval in which
  a neuron's spike count inside ``[0, T]`` changes is bisected on the counts (``bisect_change``)
  down to the same width; the spike present on one side and missing on the other is found by
  matching the two spike trains. A QIF spike can only enter or leave through the trial end ``T``;
  a LIF spike can vanish mid-trial at a grazing threshold crossing or when an inhibitory input
  overtakes it.
"""
from dataclasses import dataclass
import math

import numpy as np

from snnexact.analysis.directions import shifted
from snnexact.engine.gradients import evaluate
from snnexact.engine.simulate import simulate


@dataclass(frozen=True)
class Sample:
    """One input sample: spike times and units, the label and the trial length ``T``."""

    input_times: np.ndarray
    input_units: np.ndarray
    label: int
    T: float


@dataclass(frozen=True)
class Point:
    """The evaluation at one ``a``: loss, spike trains ``(times, units)`` per layer, per-neuron
    counts inside ``[0, T]`` (one array per layer), which outputs used pseudospikes and the
    simulation status (0: every layer ran to ``T``)."""

    alpha: float
    loss: float
    trains: tuple
    counts: tuple
    pseudo: np.ndarray
    status: int

    def signature(self):
        """The spike-order signature: every layer's sequence of spiking neurons."""
        return tuple(u.tobytes() for _, u in self.trains)


class Line:
    """``a -> L(params + a direction)`` for one sample.

    ``loss_kwargs`` go to ``snnexact.evaluate`` (``readout``, default ``"first_spike"``;
    pseudospikes on, which only QIF uses). A spike budget hit is recorded in ``Point.status``
    rather than warned about.
    """

    def __init__(self, network, params, sample, direction, **loss_kwargs):
        self.network = network
        self.params = params
        self.sample = sample
        self.direction = direction
        self.loss_kwargs = {"readout": "first_spike", "pseudo": True, "on_budget": "ignore",
                            **loss_kwargs}
        self.n_evaluations = 0

    def point(self, a):
        a = float(a)
        s = self.sample
        ev = evaluate(self.network, shifted(self.params, self.direction, a), s.input_times,
                      s.input_units, s.label, s.T, **self.loss_kwargs)
        self.n_evaluations += 1
        layers = ev.simulation.layers
        trains = tuple((L.times.copy(), L.units.copy()) for L in layers)
        counts = tuple(np.bincount(L.units, minlength=n)
                       for L, n in zip(layers, self.network.sizes[1:]))
        return Point(a, ev.loss, trains, counts, ev.pseudo_outputs.copy(),
                     ev.simulation.status)

    def loss(self, a):
        return self.point(a).loss


@dataclass(frozen=True)
class LineScan:
    """Result of ``line_scan``: per grid point the loss, per-neuron spike counts inside
    ``[0, T]`` (``counts[l]`` has shape ``(len(alphas), sizes[l+1])``), a spike-order signature
    id (equal ids: equal spiking-neuron sequences in every layer), whether each output used a
    pseudospike, and the simulation status. ``line`` re-evaluates any ``a``."""

    alphas: np.ndarray
    losses: np.ndarray
    counts: tuple
    signature_ids: np.ndarray
    pseudo: np.ndarray
    status: np.ndarray
    line: Line

    @property
    def layer_counts(self):
        """Spike counts per layer, shape ``(len(alphas), n_layers)``."""
        return np.stack([c.sum(axis=1) for c in self.counts], axis=1)

    def count_changes(self):
        """Indices ``i`` with a per-neuron count change between ``alphas[i]`` and
        ``alphas[i+1]``."""
        changed = np.zeros(len(self.alphas) - 1, bool)
        for c in self.counts:
            changed |= np.any(c[1:] != c[:-1], axis=1)
        return np.flatnonzero(changed)


def line_scan(network, params, sample, direction, alphas, **loss_kwargs):
    """Evaluate the first-spike loss of ``sample`` along ``params + a * direction`` for every
    ``a`` in the 1-D grid ``alphas`` (with ``snnexact.evaluate``; QIF with pseudospikes unless
    ``pseudo=False`` is given). Returns a ``LineScan``."""
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size < 2 or np.any(np.diff(alphas) <= 0):
        raise ValueError("alphas must be a strictly increasing 1-D grid of at least 2 points")
    line = Line(network, params, sample, direction, **loss_kwargs)
    points = [line.point(a) for a in alphas]
    sig_ids, ids = {}, []
    for p in points:
        ids.append(sig_ids.setdefault(p.signature(), len(sig_ids)))
    counts = tuple(np.stack([p.counts[l] for p in points]) for l in range(len(points[0].counts)))
    return LineScan(alphas, np.array([p.loss for p in points]), counts, np.array(ids),
                    np.stack([p.pseudo for p in points]), np.array([p.status for p in points]),
                    line)


# ----------------------------------------------------------------------------- jumps

@dataclass(frozen=True)
class Refinement:
    """One bisected candidate interval. ``widths[k]`` and ``deltas[k]`` (``|dL|``) after ``k``
    bisections; ``alpha_left``/``alpha_right`` the final bracket. ``is_jump``: ``|dL|`` stayed
    above ``keep_fraction`` of its initial value down to the final width (a discontinuity,
    located at ``position`` with signed ``size`` = L(right) - L(left)); otherwise the interval was
    a steep but continuous piece."""

    alpha_left: float
    alpha_right: float
    size: float
    widths: np.ndarray
    deltas: np.ndarray
    is_jump: bool

    @property
    def position(self):
        return 0.5 * (self.alpha_left + self.alpha_right)


def find_jumps(alphas, losses, loss_at, *, rel_threshold=3.0, abs_threshold=1e-6, window=3,
               rel_width=1e-9, keep_fraction=0.1):
    """Locate discontinuities of a 1-D function sampled as ``losses`` on ``alphas``.

    Candidates: intervals whose ``|dL|`` exceeds ``abs_threshold`` and ``rel_threshold`` times the
    median ``|dL|`` of the ``window`` intervals on either side. Each candidate is bisected with
    ``loss_at(a)`` (keeping the half with the larger ``|dL|``) until its width is at most
    ``rel_width`` times the original. It is a jump if the final ``|dL|`` is still above
    ``keep_fraction`` times the initial one; a continuous function with a bounded (or
    square-root) modulus of continuity gives a final ``|dL|`` ~ ``rel_width`` (or its square
    root) times the initial one instead.

    Returns every candidate's ``Refinement`` (use ``[r for r in result if r.is_jump]``).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    d = np.abs(np.diff(losses))
    n = d.size
    out = []
    for i in range(n):
        lo, hi = max(0, i - window), min(n, i + window + 1)
        neighbours = np.concatenate([d[lo:i], d[i + 1:hi]])
        ref = np.median(neighbours) if neighbours.size else 0.0
        if not (d[i] > abs_threshold and d[i] > rel_threshold * ref):
            continue
        out.append(bisect_jump(alphas[i], alphas[i + 1], losses[i], losses[i + 1], loss_at,
                                rel_width, keep_fraction))
    return out


def bisect_jump(a, b, La, Lb, loss_at, rel_width, keep_fraction):
    """Bisect ``[a, b]`` (losses ``La``, ``Lb``) keeping the half with the larger ``|dL|`` until
    the width is ``rel_width`` of the original (or no float is left between the ends)."""
    w0 = b - a
    widths, deltas = [w0], [abs(Lb - La)]
    while b - a > rel_width * w0:
        m = 0.5 * (a + b)
        if not a < m < b:  # no float left between a and b
            break
        Lm = loss_at(m)
        if abs(Lm - La) >= abs(Lb - Lm):
            b, Lb = m, Lm
        else:
            a, La = m, Lm
        widths.append(b - a)
        deltas.append(abs(Lb - La))
    is_jump = deltas[-1] > keep_fraction * deltas[0]
    return Refinement(a, b, Lb - La, np.array(widths), np.array(deltas), bool(is_jump))


# ----------------------------------------------------------------------------- spike counts

@dataclass(frozen=True)
class CountChange:
    """A neuron whose spike count inside ``[0, T]`` changes at ``alpha`` (bracketed to
    ``width``). ``spike_time``: the spike present on the side with more spikes and missing on
    the other (found by matching the two trains at the final bracket); ``gap = T - spike_time``.
    ``last_gaps[k]``: ``T`` minus the last spike time on that side after ``k`` bisections
    (``widths[k]``), which tends to 0 when the spike leaves through ``T``.
    ``V_other``: the neuron's voltage at ``spike_time`` on the side without that spike; for LIF
    ``theta - V_other ~ 0`` identifies a grazing threshold crossing (the other mid-trial
    mechanisms, a missing presynaptic kick or an inhibitory input overtaking the crossing, leave
    it well below ``theta``). ``where``: ``"T"`` if ``gap <= at_T_atol``, else ``"mid"``."""

    alpha: float
    width: float
    layer: int
    neuron: int
    count_left: int
    count_right: int
    spike_time: float
    gap: float
    is_last: bool
    widths: np.ndarray
    last_gaps: np.ndarray
    V_other: float
    where: str

    def is_grazing(self, theta, atol=1e-6):
        """A mid-trial change at which the voltage on the other side just touches ``theta``."""
        return self.where == "mid" and abs(theta - self.V_other) <= atol * theta


def locate_count_changes(scan, *, rel_width=1e-9, at_T_atol=1e-6, match_tol=1e-7):
    """For every grid interval of ``scan`` in which a per-neuron spike count changes, bisect on
    the counts (keeping the left half whenever it already changes, so one change point per
    interval) down to ``rel_width`` of the interval and report each neuron whose count differs
    across the final bracket as a ``CountChange``. ``at_T_atol`` and ``match_tol`` are in units of
    ``T``."""
    line = scan.line
    T = line.sample.T
    out = []
    for i in scan.count_changes():
        left, right, brackets = bisect_change(line, line.point(scan.alphas[i]),
                                              line.point(scan.alphas[i + 1]), counts_differ,
                                              rel_width)
        for l, (cl, cr) in enumerate(zip(left.counts, right.counts)):
            for n in np.flatnonzero(cl != cr):
                more_right = cr[n] > cl[n]
                more = right if more_right else left
                fewer = left if more_right else right
                t_more = _neuron_times(more, l, n)
                t_fewer = _neuron_times(fewer, l, n)
                k = _first_unmatched(t_more, t_fewer, match_tol * T)
                spike_time = t_more[k]
                widths, last_gaps = [], []
                for bl, br in brackets:
                    tm = _neuron_times(br if more_right else bl, l, n)
                    widths.append(br.alpha - bl.alpha)
                    last_gaps.append(T - tm[-1] if tm.size else math.inf)
                gap = T - spike_time
                V_other = _voltage_at(line, fewer.alpha, l, n, spike_time)
                out.append(CountChange(0.5 * (left.alpha + right.alpha), right.alpha - left.alpha,
                                       l, int(n), int(cl[n]), int(cr[n]), float(spike_time),
                                       float(gap), bool(k == t_more.size - 1),
                                       np.array(widths), np.array(last_gaps), V_other,
                                       "T" if gap <= at_T_atol * T else "mid"))
    return out


def _voltage_at(line, a, layer, neuron, t):
    """V of one neuron at time ``t`` (a trial cut at ``t``: a spike at exactly ``t`` lies
    outside it, so this is the voltage just before any spike at ``t``)."""
    if not t > 0:
        return math.nan
    s = line.sample
    res = simulate(line.network, shifted(line.params, line.direction, a),
                            s.input_times, s.input_units, float(t), on_budget="ignore")
    return float(res.layers[layer].V[neuron])


def bisect_change(line, left, right, differ, rel_width):
    """Bisect between the ``Point`` s ``left`` and ``right`` (where ``differ(left, right)``),
    keeping the left half whenever it already differs (so one change point per interval), down
    to ``rel_width`` of the width or to adjacent floats. Returns ``(left, right, brackets)``,
    ``brackets`` the ``(left, right)`` pair after each step (the first one included)."""
    w0 = right.alpha - left.alpha
    brackets = [(left, right)]
    while right.alpha - left.alpha > rel_width * w0:
        m = 0.5 * (left.alpha + right.alpha)
        if not left.alpha < m < right.alpha:
            break
        pm = line.point(m)
        if differ(left, pm):
            right = pm
        else:
            left = pm
        brackets.append((left, right))
    return left, right, brackets


def counts_differ(p, q):
    """Whether any neuron's spike count inside ``[0, T]`` differs between two ``Point`` s."""
    return any(np.any(a != b) for a, b in zip(p.counts, q.counts))


def _neuron_times(point, layer, neuron):
    t, u = point.trains[layer]
    return t[u == neuron]


def _first_unmatched(t_more, t_fewer, tol):
    for k in range(t_more.size):
        if k >= t_fewer.size or abs(t_more[k] - t_fewer[k]) > tol:
            return k
    return t_more.size - 1  # cannot happen when t_more is longer; keep the last spike
