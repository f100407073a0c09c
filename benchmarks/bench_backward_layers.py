#!/usr/bin/env python
"""Per-layer cost of the reverse pass: the segment replay alone versus the whole backward of
each layer, on the workload of ``bench_forward.py`` ("scaled" weights, seed 0), medians of 15.

    python benchmarks/bench_backward_layers.py
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_forward import DEFAULT_DATA, N_HID, N_IN, N_OUT, SCALES, TAU_M, T, load_sample  # noqa: E402

import snnexact  # noqa: E402
from snnexact.engine.backward import backward_layer  # noqa: E402
from snnexact.engine.simulate import replay as replay_states  # noqa: E402


def main():
    times, units, desc = load_sample(DEFAULT_DATA, np)
    print(f"input: {desc}")
    for model in ("lif", "qif"):
        neuron = snnexact.LIF(TAU_M) if model == "lif" else snnexact.QIF(TAU_M)
        net = snnexact.Network(neuron, (N_IN, N_HID, N_OUT), recurrent=True)
        p0 = net.init_params(0)
        params = snnexact.Params(tuple(w * SCALES[model] for w in p0.W),
                                 tuple(None if r is None else r * SCALES[model] for r in p0.R))
        res = snnexact.simulate(net, params, times, units, T)
        W, R = net.check_params(params)
        p = neuron.kernel
        for l in range(net.n_layers):
            log, n = res.layers[l].log, net.sizes[l + 1]
            WT = np.ascontiguousarray(W[l].T)
            RT = np.ascontiguousarray(R[l].T) if R[l] is not None else np.empty((0, n))
            K, E = log.checkpoint_every, log.times.size

            def replay():
                Vb, Ib = np.empty((K + 1, n)), np.empty((K + 1, n))
                for seg in range(E // K + 1):
                    a, b = seg * K, min(seg * K + K, E)
                    replay_states(p, log.checkpoints[seg].copy(), log.times, log.codes, a, b,
                                  0.0 if a == 0 else log.times[a - 1], log.input_offsets,
                                  log.input_units, WT, RT, Vb, Ib)

            def backward():
                backward_layer(p, log.times, log.codes,
                               log.input_offsets, log.input_units, log.checkpoints, K, WT, RT, T,
                               np.zeros(res.layers[l].n_spikes), np.zeros(n), np.zeros(n),
                               np.zeros_like(WT), np.zeros_like(RT),
                               np.zeros(log.input_units.size), np.zeros(1))
            med = {}
            for name, fn in (("replay", replay), ("backward", backward)):
                fn()
                ts = []
                for _ in range(15):
                    t0 = time.perf_counter()
                    fn()
                    ts.append(time.perf_counter() - t0)
                med[name] = 1e3 * float(np.median(ts))
            print(f"{model.upper()} layer {l} ({n} neurons, {E} events, "
                  f"{log.input_units.size} input spikes): replay {med['replay']:.2f} ms, "
                  f"whole backward {med['backward']:.2f} ms")


if __name__ == "__main__":
    main()
