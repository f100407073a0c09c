#!/usr/bin/env python
"""How far the LIF reverse pass without replay (``backward_linear.py``) is from the replaying
pass, and how far both are from the same discrete adjoint in 80-bit arithmetic
(``reference/lif_layer_adjoint.py``), on the hidden layer of real samples.

    python benchmarks/backward_accuracy.py [--samples 4] [--json OUT]

Samples: the first ``--samples`` training samples of the epoch workload (``workload.py``:
700-128(recurrent)-10, default initialisation, most of them at the spike budget) and the
benchmark sample (FSDD-SHD test sample 32, scaled weights). The cotangents are seeded normal
numbers (spike times ``mu``, ``lambda(T)``); every output of the layer's pass is compared:
``lambda(0)``, ``dL/dW``, ``dL/dR`` and the input-time gradients, each as
``max |a - b| / max |b|`` over the array.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import workload as wl  # noqa: E402
from reference.lif_layer_adjoint import EXTENDED, lif_layer_adjoint  # noqa: E402

NAMES = ("lamV", "lamI", "dW", "dR", "g_in")


def _cases(n_samples):
    import snnexact
    from snnexact.training.train import build_network, initial_params
    splits, _ = wl.training_splits(wl.DATA_DIR, n_samples)
    cfg = wl.epoch_config("lif", wl.DATA_DIR)
    net = build_network(cfg, wl.N_IN, wl.N_CLASSES)
    params = initial_params(cfg, net)
    train = splits[0]
    for i in range(n_samples):
        res = snnexact.simulate(net, params, train.times[i], train.units[i], cfg.T,
                                on_budget="ignore", max_spikes=cfg.max_spikes)
        yield f"training sample {i}", net, res.layers[0], cfg.T
    t, u, desc = wl.load_sample(wl.TEST_FILE, np, 32)
    net = wl.network("lif")
    res = snnexact.simulate(net, wl.scaled_params(net, 0, wl.SCALES["lif"]), t, u, wl.T)
    yield desc, net, res.layers[0], wl.T


def _pass(p, layer, T, cot, linear):
    from snnexact.engine.backward import layer_gradients
    mu, lamV, lamI = (c.copy() for c in cot)
    dWT, dRT, g_in, _ = layer_gradients(p, layer.log, T, mu, lamV, lamI, True, linear)
    return [lamV, lamI, dWT, dRT, g_in]


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def _summary(row):
    worst = {k: max(row[k].values()) for k in ("linear_vs_replay", "linear_vs_80bit",
                                              "replay_vs_80bit")}
    return (f"{row['sample']}: {row['events']} events, {row['spikes']} spikes; max over the "
            f"arrays: linear vs replay {worst['linear_vs_replay']:.1e}, linear vs 80-bit "
            f"{worst['linear_vs_80bit']:.1e}, replay vs 80-bit {worst['replay_vs_80bit']:.1e}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    if not os.path.isdir(wl.DATA_DIR):
        sys.exit(f"no data at {wl.DATA_DIR}: this script needs ../shared/data/fsdd_shd")
    if not EXTENDED:
        print("numpy.longdouble is float64 here: the 80-bit comparison means nothing")
    rows = []
    for desc, net, layer, T in _cases(a.samples):
        p = net.neuron.kernel
        rng = np.random.default_rng(1)
        n = layer.V.size
        cot = (rng.normal(size=layer.n_spikes) * 1e-2, rng.normal(size=n) * 1e-2,
               rng.normal(size=n) * 1e-2)
        log = layer.log
        fast, slow = _pass(p, layer, T, cot, None), _pass(p, layer, T, cot, False)
        ref = lif_layer_adjoint(log.times, log.codes, log.input_offsets, log.input_units,
                                log.checkpoints[0][0], log.checkpoints[0][1], log.weights_t,
                                log.recurrent_t, p.tau, p.theta, T, *cot)
        row = {"sample": desc, "events": int(log.times.size), "spikes": int(layer.n_spikes),
               "linear_vs_replay": {k: _rel(x, y) for k, x, y in zip(NAMES, fast, slow)},
               "linear_vs_80bit": {k: _rel(x, y) for k, x, y in zip(NAMES, fast, ref)},
               "replay_vs_80bit": {k: _rel(x, y) for k, x, y in zip(NAMES, slow, ref)}}
        rows.append(row)
        print(_summary(row))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
