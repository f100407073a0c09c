"""NIR import and export (snnexact/interfaces/nir_io.py, docs/nir.md).

Round trips (in memory and through an HDF5 file) reproduce the network, its parameters and its
spikes; an imported graph with per-neuron w_in, r, v_leak, v_threshold is checked against
reference/nir_cubalif.py, an oracle that integrates NIR's CubaLIF equations in NIR's own units;
every unsupported case raises an error naming the node and field.
"""
import sys

import numpy as np
import pytest

import snnexact
from reference.nir_cubalif import CubaLIFLayer, simulate_cubalif_chain
from snnexact.interfaces.nir_io import from_nir, to_nir
from tolerances import SPIKE_TIME_ATOL, SPIKE_TIME_RTOL, scaled_error

nir = pytest.importorskip("nir", reason="the optional 'nir' package is not installed "
                                        "(pip install snnexact[nir])")

ROUND_TRIP_RTOL = 1e-14  # weights pass through tau_s W and back: a few roundings


def _inputs(rng, n_in, n_spikes, T):
    times = np.sort(rng.uniform(0.0, 0.6 * T, n_spikes))
    return times, rng.integers(0, n_in, n_spikes)


def _assert_same_spikes(got, ref):
    """``got``, ``ref``: per layer ``(times, units)``; same units, times within the oracle
    tolerance."""
    for (t, u), (t_ref, u_ref) in zip(got, ref):
        assert len(t) == len(t_ref)
        np.testing.assert_array_equal(u, u_ref)
        assert np.all(scaled_error(t, t_ref, SPIKE_TIME_RTOL, SPIKE_TIME_ATOL) <= 1.0)


def _spikes(net, params, times, units, T):
    res = snnexact.simulate(net, params, times, units, T)
    return [(L.times, L.units) for L in res.layers]


@pytest.mark.parametrize("via_file", [False, True])
def test_round_trip(rng, tmp_path, via_file):
    net = snnexact.Network(snnexact.LIF(tau_m=0.02, theta=1.3), (6, 8, 7, 3), (True, False))
    params = net.init_params(seed=0)
    graph = to_nir(net, params)
    if via_file:
        nir.write(tmp_path / "net.nir", graph)
        graph = nir.read(tmp_path / "net.nir")
    net2, params2 = from_nir(graph)
    assert net2.neuron == net.neuron
    assert net2.sizes == net.sizes
    assert net2.recurrent_layers == net.recurrent_layers
    for a, b in zip(params.named().items(), params2.named().items()):
        assert a[0] == b[0]
        np.testing.assert_allclose(b[1], a[1], rtol=ROUND_TRIP_RTOL, atol=0.0)
    times, units = _inputs(rng, 6, 40, 0.1)
    ref = _spikes(net, params, times, units, 0.1)
    assert all(len(t) > 0 for t, _ in ref)
    _assert_same_spikes(_spikes(net2, params2, times, units, 0.1), ref)


def test_round_trip_general_lif(rng):
    """Any tau_s, v_reset and r: same spikes after export and import (r folds into the
    weights, so the imported neuron is the normalised one)."""
    neuron = snnexact.LIF(tau_m=0.02, theta=1.3, tau_s=0.004, v_reset=-0.2, r=1.7)
    net = snnexact.Network(neuron, (6, 8, 3), True)
    params = net.init_params(seed=1)
    net2, params2 = from_nir(to_nir(net, params))
    assert (net2.neuron.tau_s, net2.neuron.v_reset, net2.neuron.r) == (0.004, -0.2, 1.0)
    times, units = _inputs(rng, 6, 40, 0.1)
    ref = _spikes(net, params, times, units, 0.1)
    assert all(len(t) > 0 for t, _ in ref)
    _assert_same_spikes(_spikes(net2, params2, times, units, 0.1), ref)


# ----------------------------------------------------------------------------- hand-built graphs

def _cuba(n, tau_mem=0.02, **fields):
    """CubaLIF fields as arrays of length ``n`` (defaults: rest 0, threshold 1, r = w_in = 1,
    tau_syn = tau_mem / 2, reset to v_leak)."""
    f = dict(tau_mem=tau_mem, r=1.0, v_leak=0.0, v_threshold=1.0, w_in=1.0)
    f.update(fields)
    f = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in f.items()}
    f.setdefault("tau_syn", f["tau_mem"] / 2)
    f.setdefault("v_reset", f["v_leak"].copy())
    return f


def _graph(weights, cubas, recurrent=None, affine=(), bias=None):
    """Chain graph ``input -> fc{l} -> lif{l} [-> rec{l} -> lif{l}] -> output``; ``affine``:
    layers whose connection is an Affine node (zero bias unless ``bias = (layer, vector)``)."""
    recurrent = recurrent or {}
    nodes = {"input": nir.Input(input_type={"input": np.array([weights[0].shape[1]])})}
    edges, source = [], "input"
    for l, (w, c) in enumerate(zip(weights, cubas)):
        if l in affine:
            b = bias[1] if bias is not None and bias[0] == l else np.zeros(w.shape[0])
            nodes[f"fc{l}"] = nir.Affine(weight=w, bias=b)
        else:
            nodes[f"fc{l}"] = nir.Linear(weight=w)
        nodes[f"lif{l}"] = c if isinstance(c, nir.NIRNode) else nir.CubaLIF(**c)
        edges += [(source, f"fc{l}"), (f"fc{l}", f"lif{l}")]
        if l in recurrent:
            nodes[f"rec{l}"] = nir.Linear(weight=recurrent[l])
            edges += [(f"lif{l}", f"rec{l}"), (f"rec{l}", f"lif{l}")]
        source = f"lif{l}"
    nodes["output"] = nir.Output(output_type={"output": np.array([weights[-1].shape[0]])})
    edges.append((source, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges)


def _random_chain(rng, sizes=(5, 6, 3), ratio=0.5, reset=0.0):
    """Weights and per-neuron fields that vary wherever folding makes them exact (w_in, r,
    v_leak, v_threshold, and v_reset at the normalised ``reset``); tau_mem = 20 ms and
    tau_syn = ``ratio`` tau_mem everywhere. Weights are drawn in normalised units (kick 4 fires
    from rest) and expressed in NIR units."""
    cubas, weights = [], []
    for n_in, n in zip(sizes[:-1], sizes[1:]):
        v_leak = rng.uniform(-0.5, 0.5, n)
        span = rng.uniform(0.5, 2.0, n)
        c = _cuba(n, r=rng.uniform(0.5, 3.0, n), w_in=rng.uniform(0.5, 2.0, n), v_leak=v_leak,
                  v_threshold=v_leak + span, tau_syn=ratio * 0.02, v_reset=v_leak + reset * span)
        to_nir_units = ((c["v_threshold"] - c["v_leak"]) * c["tau_syn"] / (c["r"] * c["w_in"]))
        cubas.append((c, to_nir_units[:, None]))
        kick = snnexact.LIF(0.02, tau_s=ratio * 0.02).kick  # the kick 4 in units of this tau_s
        weights.append(rng.normal(1.0, 2.0, (n, n_in)) / np.sqrt(n_in) * kick / 4)
    rec = rng.normal(0.0, 1.0, (sizes[1], sizes[1])) / np.sqrt(sizes[1])
    np.fill_diagonal(rec, 0.0)
    return ([w * s for w, (_, s) in zip(weights, cubas)], [c for c, _ in cubas],
            {0: rec * cubas[0][1]})


@pytest.mark.parametrize("ratio, reset", [(0.5, 0.0), (0.1, 0.0), (0.25, -0.3), (0.9, 0.2),
                                          (0.95, -0.5)])  # the oracle's amplitude form needs != 1
def test_import_matches_nir_equations(rng, ratio, reset):
    """Per-neuron w_in, r, v_leak, v_threshold fold exactly, for any tau_syn / tau_mem and
    normalised reset: spike times equal those of NIR's CubaLIF equations integrated in NIR's
    own units (reference/nir_cubalif.py)."""
    weights, cubas, rec = _random_chain(rng, ratio=ratio, reset=reset)
    graph = _graph(weights, cubas, rec, affine=(1,))
    net, params = from_nir(graph)
    assert net.sizes == (5, 6, 3) and net.recurrent_layers == (True, False)
    T = 0.1
    times, units = _inputs(rng, 5, 30, T)
    layers = [CubaLIFLayer(weight=w, rec_weight=rec.get(l), **c)
              for l, (w, c) in enumerate(zip(weights, cubas))]
    ref = simulate_cubalif_chain(layers, times, units, T)
    assert all(len(t) >= 3 for t, _ in ref)
    _assert_same_spikes(_spikes(net, params, times, units, T), ref)


def test_uniform_threshold_distance_sets_theta(rng):
    weights, _, _ = _random_chain(rng)
    cubas = [_cuba(w.shape[0], v_leak=-0.7, v_threshold=0.8) for w in weights]
    net, _ = from_nir(_graph(weights, cubas))
    assert net.neuron == snnexact.LIF(tau_m=0.02, theta=1.5)


# ----------------------------------------------------------------------------- clear errors

def _error_cases():
    """(name, graph builder(weights, cubas), expected message pattern)."""
    def with_field(l, **fields):
        def build(weights, cubas):
            cubas = list(cubas)
            cubas[l] = _cuba(weights[l].shape[0], **fields)
            return _graph(weights, cubas)
        return build

    def node(l, make):
        def build(weights, cubas):
            cubas = list(cubas)
            cubas[l] = make(weights[l].shape[0])
            return _graph(weights, cubas)
        return build

    def biased(weights, cubas):
        return _graph(weights, cubas, affine=(0,), bias=(0, np.full(weights[0].shape[0], 0.1)))

    def self_loop(weights, cubas):
        return _graph(weights, cubas, recurrent={0: np.eye(weights[0].shape[0])})

    def recurrent_output(weights, cubas):
        n = weights[1].shape[0]
        return _graph(weights, cubas, recurrent={1: np.ones((n, n)) - np.eye(n)})

    ones = np.ones
    return [
        ("bias", biased, r"node 'fc0': bias"),
        ("tau_syn across nodes", with_field(0, tau_syn=0.005),
         r"node 'lif1': tau_syn = 0.01 .* one tau_syn, per network"),
        ("tau_mem varies", with_field(1, tau_mem=np.array([0.02, 0.02, 0.03])),
         r"node 'lif1': tau_mem = 0.03 \(neuron 2\)"),
        ("tau_mem across nodes", with_field(1, tau_mem=0.03), r"node 'lif1': tau_mem"),
        ("reset across nodes", with_field(0, v_reset=-0.2),
         r"node 'lif1': v_reset = .* one normalised reset, per network"),
        ("threshold below leak", with_field(0, v_leak=1.0, v_threshold=0.5),
         r"node 'lif0': v_threshold = 0.5"),
        ("NIR LIF", node(0, lambda n: nir.LIF(tau=0.02 * ones(n), r=ones(n), v_leak=0 * ones(n),
                                             v_threshold=ones(n))), r"node 'lif0': NIR LIF"),
        ("unsupported type", node(1, lambda n: nir.IF(r=ones(n), v_threshold=ones(n))),
         r"node 'lif1': node type IF is not supported"),
        ("self-connections", self_loop, r"node 'rec0': weight has a non-zero diagonal"),
        ("recurrent output", recurrent_output, r"node 'lif1': the output layer is recurrent"),
    ]


@pytest.mark.parametrize("build, match", [c[1:] for c in _error_cases()],
                         ids=[c[0] for c in _error_cases()])
def test_import_errors_name_node_and_field(rng, build, match):
    weights, cubas, _ = _random_chain(rng)
    with pytest.raises(ValueError, match=match):
        from_nir(build(weights, cubas))


def test_export_errors():
    qif = snnexact.Network(snnexact.QIF(tau_m=0.02), (3, 2))
    with pytest.raises(ValueError, match="neuron: QIF has no NIR primitive"):
        to_nir(qif, qif.init_params(seed=0))
    lif = snnexact.Network(snnexact.LIF(tau_m=0.02), (3, 4, 2))
    p = lif.init_params(seed=0)
    with pytest.raises(ValueError, match=r"params.V0\[0\]: non-zero initial voltages"):
        to_nir(lif, snnexact.Params(p.W, p.R, (np.full(4, 0.1), None)))
    from_nir(to_nir(lif, snnexact.Params(p.W, p.R, (np.zeros(4), None))))  # zeros are rest
    leaky = snnexact.Network(snnexact.LIF(tau_m=0.02, v_leak=-0.1), (3, 2))
    with pytest.raises(ValueError, match="neuron: v_leak = -0.1"):
        to_nir(leaky, leaky.init_params(seed=0))


def test_missing_nir_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)
    with pytest.raises(ImportError, match=r"pip install snnexact\[nir\]"):
        from_nir(None)
