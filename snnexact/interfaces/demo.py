"""``snnexact demo``: simulate an LIF and a QIF network on an embedded input and plot the rasters.

The input is a reproducible random spike pattern (Poisson trains drawn from a seed): nothing is
read from disk. The command prints spike counts and timings and writes ``raster.png``.
"""
from pathlib import Path
import time

import numpy as np

from snnexact.engine.network import Network
from snnexact.engine.neurons import LIF, QIF
from snnexact.engine.simulate import simulate


def poisson_input(n_in, rate, T, seed):
    """Sorted Poisson spike trains: ``n_in`` units at ``rate`` spikes per unit time over ``[0, T)``."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate * T, n_in)
    units = np.repeat(np.arange(n_in), counts)
    times = rng.uniform(0.0, T, units.size)
    order = np.lexsort((units, times))
    return times[order], units[order]


def run_demo(out_dir, seed=0, sizes=(100, 64, 10), T=0.5, tau_m=0.02, rate=20.0):
    times, units = poisson_input(sizes[0], rate, T, seed)
    results = {}
    for neuron in (LIF(tau_m), QIF(tau_m)):
        net = Network(neuron, sizes, recurrent=True)
        params = net.init_params(seed)
        t0 = time.perf_counter()
        res = simulate(net, params, times, units, T)
        wall = time.perf_counter() - t0
        results[neuron.name] = res
        counts = ", ".join(f"layer {l}: {L.n_spikes}" for l, L in enumerate(res.layers))
        print(f"{neuron.name.upper()}: {times.size} input spikes -> {counts} spikes "
              f"({res.n_events} events, {1e3 * wall:.1f} ms incl. compile on first call)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "raster.png"
    plot_rasters(results, times, units, T, path)
    print(f"raster plot written to {path}")
    return results


def plot_rasters(results, times, units, T, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1 + len(results["lif"].layers), 2, figsize=(10, 7), sharex=True,
                             squeeze=False)
    for col, name in enumerate(("lif", "qif")):
        res = results[name]
        axes[0, col].plot(times, units, "|", ms=2, color="0.4")
        axes[0, col].set_title(f"{name.upper()}: input")
        for l, layer in enumerate(res.layers, start=1):
            axes[l, col].plot(layer.times, layer.units, "|", ms=3)
            axes[l, col].set_ylabel(f"layer {l - 1}")
        axes[-1, col].set_xlabel("time")
        axes[-1, col].set_xlim(0, T)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def register(subparsers):
    p = subparsers.add_parser("demo", help="simulate LIF and QIF networks on an embedded input")
    p.add_argument("--out", default="out", help="folder for raster.png (default: out)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=lambda args: run_demo(args.out, seed=args.seed) and 0)
