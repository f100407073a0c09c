"""Continuity of the first-spike loss along random lines in weight space (THEORY.md section 6).

For one sample, the loss ``L(p + a d)`` is evaluated on a grid of ``a`` along a random direction
``d`` normalised per neuron (each row of ``d`` scaled to the norm of the same row of ``p``, Li et
al. 2018). Two properties of the exact simulation are then checked by refinement, never by
looking at the coarse grid alone:

* **Jumps that survive refinement** (``find_jumps``). A grid interval whose ``|dL|`` stands out
  from its neighbours is bisected, keeping the half with the larger ``|dL|``, until its width is
  ``rel_width`` (default ``1e-9``) of the original. A discontinuity keeps ``|dL|`` bounded away
  from 0 (it converges to the jump size); a steep but continuous piece has ``|dL| -> 0`` in
  proportion to the width (or its square root at a grazing LIF spike). LIF landscapes have true
  jumps; QIF landscapes with pseudospikes have none.
* **Where spikes enter or leave the trial** (``locate_count_changes``). A grid interval in which a
  neuron's spike count inside ``[0, T]`` changes is bisected on the counts down to the same
  width; the spike present on one side and missing on the other is then found by matching the two
  spike trains. A QIF spike can only enter or leave through the trial end: its time tends to
  ``T`` as the interval shrinks. A LIF spike can vanish mid-trial at a grazing threshold crossing
  (``D = 0`` in THEORY.md 1.2) or when an inhibitory input overtakes it.

Run ``python -m validation.continuity --out DIR`` for the summary table and a figure.
"""
import argparse
from dataclasses import dataclass
import math
from pathlib import Path
import time
import warnings

import numpy as np

import snnexact

# ----------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class Sample:
    """One input sample: spike times and units, the label and the trial length ``T``."""

    input_times: np.ndarray
    input_units: np.ndarray
    label: int
    T: float


def random_direction(params, rng):
    """A Gaussian direction with the shapes of ``params``, normalised per neuron.

    Each row ``i`` of every weight array (the incoming weights of neuron ``i``) is scaled to the
    norm of row ``i`` of ``params`` (Li et al. 2018; THEORY.md 6). Recurrent matrices keep a zero
    diagonal. ``rng`` is a ``np.random.Generator`` or a seed.
    """
    rng = np.random.default_rng(rng)
    W = tuple(rng.standard_normal(w.shape) for w in params.W)
    R = []
    for r in params.R:
        if r is None:
            R.append(None)
            continue
        d = rng.standard_normal(r.shape)
        np.fill_diagonal(d, 0.0)
        R.append(d)
    return normalize_per_neuron(snnexact.Params(W, tuple(R)), params)


def normalize_per_neuron(direction, params):
    """``direction`` with each row scaled to the norm of the same row of ``params`` (a row of
    zeros in either stays zero)."""
    def scale(d, p):
        dn = np.linalg.norm(d, axis=1, keepdims=True)
        pn = np.linalg.norm(p, axis=1, keepdims=True)
        return np.where(dn > 0, d * pn / np.where(dn > 0, dn, 1.0), 0.0)
    W = tuple(scale(d, p) for d, p in zip(direction.W, params.W))
    R = tuple(None if d is None else scale(d, p) for d, p in zip(direction.R, params.R))
    return snnexact.Params(W, R)


def shifted(params, direction, a):
    """``params + a * direction``."""
    W = tuple(p + a * d for p, d in zip(params.W, direction.W))
    R = tuple(None if p is None else p + a * d for p, d in zip(params.R, direction.R))
    return snnexact.Params(W, R)


# ----------------------------------------------------------------------------- one line

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
    """``a -> L(params + a direction)`` for one sample, first-spike readout.

    ``loss_kwargs`` go to ``snnexact.evaluate`` (default: pseudospikes on, which only QIF uses).
    A spike budget hit is recorded in ``Point.status`` rather than warned about.
    """

    def __init__(self, network, params, sample, direction, **loss_kwargs):
        self.network = network
        self.params = params
        self.sample = sample
        self.direction = direction
        self.loss_kwargs = {"pseudo": True, "on_budget": "ignore", **loss_kwargs}
        self.n_evaluations = 0

    def point(self, a):
        a = float(a)
        s = self.sample
        ev = snnexact.evaluate(self.network, shifted(self.params, self.direction, a),
                               s.input_times, s.input_units, s.label, s.T, "first_spike",
                               **self.loss_kwargs)
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
        """Indices ``i`` with a per-neuron count change between ``alphas[i]`` and ``alphas[i+1]``."""
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
    counts = tuple(np.stack([p.counts[l] for p in points]) for l in range(network.n_layers))
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
        out.append(_bisect_jump(alphas[i], alphas[i + 1], losses[i], losses[i + 1], loss_at,
                                rel_width, keep_fraction))
    return out


def _bisect_jump(a, b, La, Lb, loss_at, rel_width, keep_fraction):
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
        left, right = line.point(scan.alphas[i]), line.point(scan.alphas[i + 1])
        w0 = right.alpha - left.alpha
        brackets = [(left, right)]
        while right.alpha - left.alpha > rel_width * w0:
            m = 0.5 * (left.alpha + right.alpha)
            if not left.alpha < m < right.alpha:
                break
            pm = line.point(m)
            if _counts_differ(left, pm):
                right = pm
            else:
                left = pm
            brackets.append((left, right))
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
    res = snnexact.simulate(line.network, shifted(line.params, line.direction, a),
                            s.input_times, s.input_units, float(t), on_budget="ignore")
    return float(res.layers[layer].V[neuron])


def _counts_differ(p, q):
    return any(np.any(a != b) for a, b in zip(p.counts, q.counts))


def _neuron_times(point, layer, neuron):
    t, u = point.trains[layer]
    return t[u == neuron]


def _first_unmatched(t_more, t_fewer, tol):
    for k in range(t_more.size):
        if k >= t_fewer.size or abs(t_more[k] - t_fewer[k]) > tol:
            return k
    return t_more.size - 1  # cannot happen when t_more is longer; keep the last spike


# ----------------------------------------------------------------------------- demo network

def demo_case(model, seed=3, sizes=(5, 6, 3), tau=0.2, T=1.0, n_inputs=25, w_mean=0.25):
    """The small network of ``main``: same architecture, seed and input for both models;
    weights ``init_params(seed, w_mean=w_mean * kick)`` with ``kick`` the single kick that fires
    a neuron from rest (LIF ``4 theta``, QIF ``pi^2/4``); a recurrent hidden layer; input spikes
    uniform on ``[0, 0.8 T]``."""
    neuron = snnexact.LIF(tau) if model == "lif" else snnexact.QIF(tau)
    net = snnexact.Network(neuron, sizes, recurrent=True)
    kick = 4.0 * neuron.theta if model == "lif" else math.pi ** 2 / 4
    params = net.init_params(seed, w_mean=w_mean * kick)
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, 0.8 * T, n_inputs))
    units = rng.integers(0, sizes[0], n_inputs)
    label = int(rng.integers(0, sizes[-1]))
    return net, params, Sample(times, units, label, T)


@dataclass(frozen=True)
class LineReport:
    """Everything ``analyse_line`` found along one line."""

    model: str
    direction_seed: int
    scan: LineScan
    refinements: list
    count_changes: list

    @property
    def jumps(self):
        return [r for r in self.refinements if r.is_jump]


def analyse_line(model, direction_seed, alphas, **case_kwargs):
    """Scan one line of the demo network, refine the jump candidates and the count changes."""
    net, params, sample = demo_case(model, **case_kwargs)
    direction = random_direction(params, direction_seed)
    scan = line_scan(net, params, sample, direction, alphas)
    refinements = find_jumps(scan.alphas, scan.losses, scan.line.loss)
    changes = locate_count_changes(scan)
    return LineReport(model, direction_seed, scan, refinements, changes)


def _jumps_at_grazing(report):
    """(jump, change) pairs: surviving jumps located at a grazing spike-count change."""
    if report.model != "lif":
        return []
    theta = report.scan.line.network.neuron.theta
    graze = [c for c in report.count_changes if c.is_grazing(theta)]
    return [(j, c) for j in report.jumps for c in graze
            if abs(j.position - c.alpha) <= j.widths[-1] + c.width]


def summary_table(reports):
    """Plain-text summary per model: lines scanned, loss evaluations, jump candidates, jumps
    surviving refinement, spike count changes (at ``T``, mid-trial, of which grazing), spike-order
    changes between grid points, the largest ``T - t`` of the changes at ``T`` and the smallest
    of the mid-trial ones, and the jumps that sit at a grazing count change."""
    rows = []
    header = ("model", "lines", "evals", "candidates", "jumps", "count chg", "at T", "mid-trial",
              "grazing", "order chg", "max T-t (at T)", "min T-t (mid)", "jumps@grazing")
    for model in sorted({r.model for r in reports}):
        rs = [r for r in reports if r.model == model]
        theta = rs[0].scan.line.network.neuron.theta if model == "lif" else math.inf
        ch = [c for r in rs for c in r.count_changes]
        at_T = [c for c in ch if c.where == "T"]
        mid = [c for c in ch if c.where == "mid"]
        grazing = [c for c in mid if c.is_grazing(theta)]
        order = sum(int(np.count_nonzero(np.diff(r.scan.signature_ids))) for r in rs)
        rows.append((model.upper(), len(rs), sum(r.scan.line.n_evaluations for r in rs),
                     sum(len(r.refinements) for r in rs), sum(len(r.jumps) for r in rs),
                     len(ch), len(at_T), len(mid), len(grazing), order,
                     f"{max((c.gap for c in at_T), default=math.nan):.1e}",
                     f"{min((c.gap for c in mid), default=math.nan):.2e}",
                     len({id(j) for r in rs for j, _ in _jumps_at_grazing(r)})))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*header)] + [fmt.format(*map(str, r)) for r in rows])


def plot_lines(reports, path):
    """Loss along every line, one panel per model; surviving jumps marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = sorted({r.model for r in reports})
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.2), sharex=True,
                             constrained_layout=True)
    axes = np.atleast_1d(axes)
    for ax, model in zip(axes, models):
        for k, r in enumerate(rs for rs in reports if rs.model == model):
            line, = ax.plot(r.scan.alphas, r.scan.losses, lw=1.0,
                            label=f"direction {r.direction_seed}")
            for j in r.jumps:
                ax.axvline(j.position, color=line.get_color(), lw=0.5, ls=":", alpha=0.8)
        n_jumps = sum(len(r.jumps) for r in reports if r.model == model)
        ax.set_title(f"{model.upper()}: {n_jumps} jumps surviving refinement", fontsize=9)
        ax.set_xlabel("a  (params + a d, d normalised per neuron)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("first-spike loss", fontsize=8)
    axes[0].legend(fontsize=7, frameon=False)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m validation.continuity",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the figure")
    parser.add_argument("--points", type=int, default=601, help="grid points per line")
    parser.add_argument("--directions", type=int, nargs="+", default=[0, 1, 2, 3],
                        help="direction seeds")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    alphas = np.linspace(-1.0, 1.0, args.points)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reports = [analyse_line(model, d, alphas) for model in ("lif", "qif")
                   for d in args.directions]
    elapsed = time.perf_counter() - t0
    net, _, sample = demo_case("lif")
    print(f"continuity along {len(args.directions)} random lines per model, a in [-1, 1], "
          f"{args.points} points; network {net.sizes} (recurrent hidden), tau = "
          f"{net.neuron.tau_m}, T = {sample.T}, {sample.input_times.size} input spikes, "
          f"label {sample.label}")
    print(summary_table(reports))
    for r in reports:
        pairs = _jumps_at_grazing(r)
        if pairs:
            j, c = max(pairs, key=lambda jc: abs(jc[0].size))
            theta = r.scan.line.network.neuron.theta
            print(f"  {r.model.upper()} direction {r.direction_seed}: jump {j.size:+.4f} at "
                  f"a = {j.position:.10f} (bracket {j.widths[-1]:.1e}, |dL| "
                  f"{j.deltas[0]:.3g} -> {j.deltas[-1]:.3g}): layer {c.layer} neuron {c.neuron} "
                  f"count {c.count_left} -> {c.count_right}, spike at t = {c.spike_time:.6f}, "
                  f"theta - V = {theta - c.V_other:.1e} without it")
    path = args.out / "continuity.png"
    plot_lines(reports, path)
    bad = [r for r in reports if r.model == "qif" and (r.jumps or any(c.where != "T"
                                                                       for c in r.count_changes))]
    print(f"figure: {path}   ({elapsed:.1f} s)")
    if bad:
        print("QIF PROPERTY VIOLATED on direction(s) " + ", ".join(str(r.direction_seed)
                                                                   for r in bad))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
