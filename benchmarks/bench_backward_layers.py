#!/usr/bin/env python
"""Per-layer cost of the reverse pass next to the forward pass, medians of ``--repeats`` calls.

    python benchmarks/bench_backward_layers.py [--workload sample|epoch] [--repeats 30]

``--workload sample`` (default): the one-sample workload of ``run_all.py`` (FSDD-SHD test
sample 32, (700, 128, 20) recurrent, scaled weights). ``--workload epoch``: the first training
sample of the epoch workload (``workload.epoch_config``: 700-128(recurrent)-10, default
initialisation, its hidden layer only). For each spiking layer it prints the forward event
loop (``run_layer``), the replay of every checkpoint segment alone (one compiled loop, so no
Python call per segment), and the whole ``backward_layer`` without and with the input-time
gradients. The adjoint's own cost is roughly backward minus replay. The sample workload also
prints the public ``value_and_grad`` on the sample and on a one-spike input (the fixed cost of a
call); the epoch workload the hidden activity over its first 64 training samples.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as wl  # noqa: E402

from snnexact.engine.backward import backward_layer  # noqa: E402
from snnexact.engine.jit import jit  # noqa: E402
from snnexact.engine.simulate import copy_state, replay, run_layer, simulate_layers  # noqa: E402


@jit
def replay_all(p, log_t, log_code, log_f, in_offsets, in_units, ckpts, K, WT, RT, N):
    """Every checkpoint segment replayed once, as the replaying backward pass does."""
    E = log_t.shape[0]
    states = np.empty((K + 1, ckpts.shape[1], N))
    flags = np.zeros(N, np.bool_)
    for seg in range(E // K + 1):
        a = seg * K
        b = min(a + K, E)
        copy_state(states[0], ckpts[seg])
        replay(p, states, flags, log_t, log_code, log_f, a, b, in_offsets, in_units, WT, RT)


def median_ms(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def workload(kind):
    """``(network, W, R, times, units, description)``."""
    if kind == "sample":
        times, units, desc = wl.load_sample(wl.TEST_FILE, np, 32)
        out = []
        for model in ("lif", "qif"):
            net = wl.network(model)
            W, R = net.check_params(wl.scaled_params(net, 0, wl.SCALES[model]))
            out.append((model, net, W, R, times, units, desc))
        return out
    from snnexact.training.train import build_network, initial_params
    splits, desc = wl.training_splits(wl.DATA_DIR, 64)
    train = splits[0]
    out = []
    for model in ("lif", "qif"):
        cfg = wl.epoch_config(model, wl.DATA_DIR)
        net = build_network(cfg, wl.N_IN, wl.N_CLASSES)
        params = initial_params(cfg, net)
        W, R = net.check_params(params)
        out.append((model, net, W[:1], R[:1], train.times[0], train.units[0],
                    f"{desc}, sample 0"))
    return out


def fixed_cost(net, W, R, repeats):
    """Median ms of the public ``value_and_grad`` on the benchmark sample and on a one-spike
    input (what a call costs besides the events: validation, allocation, losses, wrappers)."""
    import snnexact
    times, units, _ = wl.load_sample(wl.TEST_FILE, np, 32)
    params = snnexact.Params(tuple(W), tuple(R))
    one = (np.array([0.1]), np.array([0]))
    return tuple(median_ms(lambda t=t, u=u: snnexact.value_and_grad(net, params, t, u, 0, wl.T),
                           repeats) for t, u in ((times, units), one))


def epoch_activity(net, W, R, n=64):
    """Mean hidden spikes per sample and the fraction of samples that hit the spike budget, over
    the first ``n`` training samples of the epoch workload."""
    splits, _ = wl.training_splits(wl.DATA_DIR, n + n // 9 + 1)
    train = splits[0]
    spikes, hits = [], 0
    for i in range(min(n, len(train))):
        L = simulate_layers(net, W, R, train.times[i], train.units[i], wl.T, 1,
                            on_budget="ignore").layers[0]
        spikes.append(L.n_spikes)
        hits += L.status != 0
    return float(np.mean(spikes)), hits / len(spikes), len(spikes)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=("sample", "epoch"), default="sample")
    ap.add_argument("--repeats", type=int, default=30)
    a = ap.parse_args(argv)
    for model, net, W, R, times, units, desc in workload(a.workload):
        if a.workload == "sample":
            full, one = fixed_cost(net, W, R, a.repeats)
            print(f"{model.upper()}: value_and_grad {full:.2f} ms on the sample, {one:.2f} ms on "
                  f"a one-spike input")
        else:
            mean, hit, n = epoch_activity(net, W, R)
            print(f"{model.upper()}: first {n} training samples: {mean:.0f} hidden spikes per "
                  f"sample on average, {hit:.0%} hit the spike budget")
        n_layers = len(W)
        res = simulate_layers(net, W, R, times, units, wl.T, n_layers, on_budget="ignore")
        p = net.neuron.kernel
        print(f"{model.upper()}: {desc}")
        for l in range(n_layers):
            L = res.layers[l]
            log, N = L.log, net.sizes[l + 1]
            K, E = log.checkpoint_every, log.times.size
            WT, RT = log.weights_t, log.recurrent_t
            def forward():  # from rest, as simulate_layers without initial_state
                run_layer(p, log.input_times, log.input_offsets, log.input_units, WT, RT, wl.T,
                          max(1000, 100 * N), np.zeros(N), np.zeros(N), K, 0)

            def replay_only():
                replay_all(p, log.times, log.codes, log.factors, log.input_offsets,
                           log.input_units, log.checkpoints, K, WT, RT, N)

            def backward(want_g_in):
                return lambda: backward_layer(
                    p, log, wl.T, np.zeros(L.n_spikes), np.zeros(N), np.zeros(N),
                    np.zeros_like(WT), np.zeros_like(RT), np.zeros(log.input_units.size),
                    np.zeros(1), want_g_in)

            f = median_ms(forward, a.repeats)
            # a layer that kept every state (K = 1) is read, not replayed, by the backward pass
            r = median_ms(replay_only, a.repeats) if K > 1 else None
            b0, b1 = median_ms(backward(False), a.repeats), median_ms(backward(True), a.repeats)
            print(f"  layer {l} ({N} neurons, {E} events, {L.n_spikes} spikes, status "
                  f"{L.status}): forward {f:.2f} ms, replay "
                  f"{'none (every state kept)' if r is None else f'{r:.2f} ms'}, backward {b0:.2f} ms "
                  f"(with input-time gradients {b1:.2f} ms)")


if __name__ == "__main__":
    main()
