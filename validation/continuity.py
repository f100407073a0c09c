"""Continuity of the first-spike loss along random lines in weight space (docs/theory.md section 6).

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
  (``D = 0`` in docs/theory.md 1.2) or when an inhibitory input overtakes it.

The scans live in ``snnexact.analysis.lines``; this module runs them on a small demo network.
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
from snnexact.analysis.directions import random_direction
from snnexact.analysis.lines import LineScan, Sample, find_jumps, line_scan, locate_count_changes

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
