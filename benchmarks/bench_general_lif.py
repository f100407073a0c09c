#!/usr/bin/env python
"""Value-and-gradient cost of the general-ratio LIF against the closed form (issue 11 target:
within 2x of ``tau_s = tau_m / 2`` on the SHD-size benchmark sample).

Workload of ``bench_forward.py`` (700 -> 128 recurrent -> 20, tau_m = 20 ms, T = 1 s, the
sample nearest 5,000 input spikes, "scaled" weights of ``init_params(0)``). Each neuron
variant gets the same weights in units of its own kick (``Network.kick``: the single input
that fires a neuron from rest), so the activity stays comparable across ``tau_s``. Reports the
median and minimum of ``--repeats`` calls of ``value_and_grad`` (first-spike loss, label 0),
the ratio to the closed form, and the spike counts per layer.

    python benchmarks/bench_general_lif.py [--repeats N] [--json OUT]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_forward import DEFAULT_DATA, N_HID, N_IN, N_OUT, SCALES, TAU_M, T, load_sample  # noqa: E402

VARIANTS = {  # name -> LIF keyword arguments besides tau_m
    "closed form (tau_s = tau_m/2)": {},
    "tau_s = 0.1 tau_m": {"tau_s": 0.1 * TAU_M},
    "tau_s = 0.25 tau_m": {"tau_s": 0.25 * TAU_M},
    "tau_s = 0.5 tau_m, general route (v_reset = -0.01)": {"tau_s": 0.5 * TAU_M, "v_reset": -0.01},
    "tau_s = 0.9 tau_m": {"tau_s": 0.9 * TAU_M},
    "tau_s = tau_m": {"tau_s": TAU_M},
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    import numpy as np
    import snnexact
    times, units, desc = load_sample(args.data, np)
    print(f"input: {desc}")
    rows = []
    for name, kw in VARIANTS.items():
        neuron = snnexact.LIF(TAU_M, **kw)
        net = snnexact.Network(neuron, (N_IN, N_HID, N_OUT), recurrent=True)
        p0 = net.init_params(0)
        f = SCALES["lif"] * net.kick / 4.0  # the same weights in kick units
        params = snnexact.Params(tuple(w * f for w in p0.W),
                                 tuple(None if r is None else r * f for r in p0.R))
        snnexact.value_and_grad(net, params, times, units, 0, T)  # compile
        ts = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            _, _, ev = snnexact.value_and_grad(net, params, times, units, 0, T)
            ts.append(time.perf_counter() - t0)
        rows.append(dict(variant=name, kernel=type(neuron.kernel).__name__,
                         median_ms=1e3 * float(np.median(ts)), min_ms=1e3 * float(np.min(ts)),
                         spikes=[L.n_spikes for L in ev.simulation.layers]))
    base = rows[0]["median_ms"]
    for r in rows:
        r["ratio_to_closed_form"] = r["median_ms"] / base
        print(f"{r['variant']:55s} {r['kernel']:17s} median {r['median_ms']:7.2f} ms "
              f"(min {r['min_ms']:6.2f})  x{r['ratio_to_closed_form']:.2f}  spikes {r['spikes']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"input": desc, "repeats": args.repeats, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
