#!/usr/bin/env python
"""Per-sample cost of the training path, alternating three variants in one process
(process-time medians, so other jobs on a shared machine disturb it less):

1. ``sample_value_and_grad`` as ``value_and_grad`` calls it (input-time gradients included);
2. without input-time gradients (``input_grads=False``, what the trainer asks for);
3. and with the weights transposed once (``transposed=``, as the trainer does per chunk).

Workload of ``workload.py`` (700 -> 128 recurrent -> 20, tau_m = 20 ms, T = 1 s, scaled
weights of ``init_params(0)``, first-spike loss, label 0).

    python benchmarks/bench_training_sample.py [--repeats N] [--data FILE] [--sample K]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload import N_HID, N_IN, N_OUT, SCALES, T, TAU_M, TRAIN_FILE, load_sample  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--data", default=TRAIN_FILE)
    args = p.parse_args(argv)
    import numpy as np
    import snnexact
    from snnexact.engine.gradients import LossConfig, sample_value_and_grad
    from snnexact.engine.simulate import transposed_weights
    times, units, desc = load_sample(args.data, np)
    print(f"input: {desc}")
    for model in ("lif", "qif"):
        neuron = snnexact.LIF(TAU_M) if model == "lif" else snnexact.QIF(TAU_M)
        net = snnexact.Network(neuron, (N_IN, N_HID, N_OUT), recurrent=True)
        p0 = net.init_params(0)
        W = [w * SCALES[model] for w in p0.W]
        R = [None if r is None else r * SCALES[model] for r in p0.R]
        variants = {"value_and_grad path": {}, "no input-time gradients": {"input_grads": False},
                    "+ weights transposed once": {"input_grads": False,
                                                  "transposed": transposed_weights(net, W, R)}}
        ts = {name: [] for name in variants}
        for kw in variants.values():
            sample_value_and_grad(net, W, R, times, units, 0, T, LossConfig(), True, **kw)
        for _ in range(args.repeats):
            for name, kw in variants.items():
                t0 = time.process_time()
                sample_value_and_grad(net, W, R, times, units, 0, T, LossConfig(), True, **kw)
                ts[name].append(time.process_time() - t0)
        print(f"{model.upper()}: " + ", ".join(f"{name} {1e3 * np.median(t):.2f} ms"
                                              for name, t in ts.items()))


if __name__ == "__main__":
    main()
