r"""NIR import and export: ``from_nir(graph) -> (Network, Params)`` and ``to_nir(network, params)``.

NIR's ``CubaLIF`` node (per neuron ``i``; the derivation is in ``docs/nir.md``)::

    tau_syn dI/dt = -I + w_in S(t),      tau_mem dV/dt = (v_leak - V) + r I,
    V > v_threshold:  spike, V -> v_reset.

``S = W s(t)`` comes from the ``Linear``/``Affine`` node in front and presynaptic spikes are
Dirac deltas, so a spike of presynaptic ``j`` makes ``I_i`` jump by
``w_in_i W_ij / tau_syn_i``. With ``c_i = theta / (v_threshold_i - v_leak_i) > 0`` the change of
variables ``u = c (V - v_leak)``, ``J = c r I`` gives::

    tau_mem du/dt = -u + J,   tau_syn dJ/dt = -J,   jump of J_i: c_i r_i w_in_i W_ij / tau_syn_i,
    threshold u = theta,      reset u = c (v_reset - v_leak),      rest u = J = 0,

so ``r``, ``w_in`` and the threshold distance fold exactly into the rows of the incoming
(feed-forward and recurrent) weights. snnexact's ``LIF(tau_m, theta, tau_s=tau_syn,
v_reset=theta * reset)`` is this normalised model when the network has one ``tau_mem``, one
``tau_syn`` and one normalised reset (one neuron model per network); ``snnexact_neuron`` is the
one place that checks this.

Supported graphs: ``Input -> (Linear | Affine) -> CubaLIF [-> (Linear | Affine) -> same CubaLIF]
-> (Linear | Affine) -> CubaLIF ... -> Output``; the last CubaLIF layer is the output layer.
``to_nir`` writes the LIF's own ``tau_s``, ``r``, ``v_reset``, ``v_threshold = theta``, ``w_in = 1``
and weights ``tau_s W`` (the Dirac convention above) with ``Linear`` nodes, so that
``from_nir(to_nir(net, p))`` gives back ``net`` and ``p`` up to rounding (up to the
normalisation ``r = 1`` folded into the weights, if ``r != 1``). ``nir`` is an optional
dependency (``pip install snnexact[nir]``), imported only when these functions run.
"""
from dataclasses import dataclass

import numpy as np

from snnexact.engine.network import Network, Params
from snnexact.engine.neurons import LIF

# two NIR values count as equal within this relative difference (float32 files, values computed
# as tau_mem / 2 in another framework); larger differences are reported, never rounded away
EQUAL_RTOL = 1e-12

CUBA_FIELDS = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")
SUPPORTED = "Input, Linear, Affine (zero bias), CubaLIF and Output"


def require_nir():
    """The ``nir`` module, or an ``ImportError`` saying how to install it."""
    try:
        import nir
    except ImportError as err:
        raise ImportError("NIR import/export needs the optional 'nir' package: "
                          "pip install snnexact[nir]") from err
    return nir


@dataclass(frozen=True)
class CubaLayer:
    """One CubaLIF node, its fields as per-neuron float arrays (``fields[name]``), and its
    normalisation: ``gain = r w_in / (tau_syn (v_threshold - v_leak))`` multiplies the incoming
    weight rows (times ``theta``); ``reset = (v_reset - v_leak) / (v_threshold - v_leak)`` is the
    normalised reset in units of ``theta``."""

    name: str
    fields: dict
    span: np.ndarray
    gain: np.ndarray
    reset: np.ndarray

    @property
    def n(self):
        return self.span.size


@dataclass(frozen=True)
class Connection:
    """A ``Linear``/``Affine`` node: its name and its ``(n_out, n_in)`` weight matrix."""

    name: str
    weight: np.ndarray


@dataclass(frozen=True)
class Stage:
    """One spiking layer of an imported chain: feed-forward connection, CubaLIF node and the
    recurrent connection (``None`` if the layer is not recurrent)."""

    forward: Connection
    layer: CubaLayer
    recurrent: Connection = None


# ----------------------------------------------------------------------------- import

def from_nir(graph):
    """``(Network, Params)`` of a NIR graph of CubaLIF layers (module docstring, ``docs/nir.md``).

    Raises ``ValueError`` naming the node and field of anything snnexact cannot represent
    exactly (a non-zero bias, NIR ``LIF`` nodes, ``tau_mem``, ``tau_syn`` or the normalised reset
    varying across neurons, unsupported node types or graph shapes)."""
    nir = require_nir()
    n_inputs, stages = parse_chain(graph, nir)
    neuron = snnexact_neuron([s.layer for s in stages])
    W, R = [], []
    for s in stages:
        rows = neuron.theta * s.layer.gain[:, None]
        W.append(rows * s.forward.weight)
        R.append(None if s.recurrent is None else rows * s.recurrent.weight)
    if R[-1] is not None:
        raise ValueError(f"node {stages[-1].layer.name!r}: the output layer is recurrent (edge "
                         f"through {stages[-1].recurrent.name!r}); snnexact's output layer never "
                         "is")
    for s, r in zip(stages, R):
        if r is not None and np.any(np.diag(r) != 0.0):
            raise ValueError(f"node {s.recurrent.name!r}: weight has a non-zero diagonal "
                             f"(self-connections); snnexact's recurrent layers have none")
    sizes = (n_inputs,) + tuple(s.layer.n for s in stages)
    recurrent = tuple(r is not None for r in R[:-1])
    return Network(neuron, sizes, recurrent), Params(tuple(W), tuple(R))


def snnexact_neuron(layers):
    """The snnexact neuron model that represents the normalised CubaLIF ``layers`` exactly.

    The only place that knows what ``LIF`` cannot represent (one neuron model per network: one
    ``tau_mem``, one ``tau_syn``, one normalised reset); raises ``ValueError`` naming the node
    and field. ``theta`` is the common ``v_threshold - v_leak`` if all neurons share it (so
    exported networks come back unchanged), else 1."""
    first = layers[0]
    ref = {name: first.fields[name][0] for name in ("tau_mem", "tau_syn")}
    for layer in layers:
        f = layer.fields
        for name, value in ref.items():
            i = _first_unequal(f[name], value)
            if i is not None:
                raise ValueError(f"node {layer.name!r}: {_value(f, name, i)} differs from "
                                 f"{_value(first.fields, name, 0)} of node {first.name!r}; "
                                 f"snnexact uses one neuron model, so one {name}, per network")
        i = _first_unequal(layer.reset, first.reset[0])
        if i is not None:
            raise ValueError(f"node {layer.name!r}: {_value(f, 'v_reset', i)} gives the reset "
                             f"(v_reset - v_leak)/(v_threshold - v_leak) = {layer.reset[i]!r}, "
                             f"not {first.reset[0]!r} as neuron 0 of node {first.name!r}; "
                             "snnexact uses one neuron model, so one normalised reset, per "
                             "network")
    spans = np.concatenate([layer.span for layer in layers])
    theta = float(spans[0] if _first_unequal(spans, spans[0]) is None else 1.0)
    return LIF(tau_m=float(ref["tau_mem"]), theta=theta, tau_s=float(ref["tau_syn"]),
               v_reset=theta * float(first.reset[0]) + 0.0)


def _value(fields, name, i):
    """``"name = value (neuron i)"`` for error messages."""
    return f"{name} = {float(fields[name][i])!r} (neuron {i})"


def _first_unequal(values, ref):
    """Index of the first of ``values`` not equal to ``ref`` within ``EQUAL_RTOL``, or ``None``."""
    ref = np.broadcast_to(ref, values.shape)
    bad = np.nonzero(np.abs(values - ref) > EQUAL_RTOL * np.abs(ref))[0]
    return int(bad[0]) if bad.size else None


def parse_chain(graph, nir):
    """``(n_inputs, stages)`` of a graph ``Input -> connection -> CubaLIF [-> recurrent
    connection -> same CubaLIF] -> ... -> Output``; raises ``ValueError`` naming the node
    otherwise."""
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph must be a nir.NIRGraph, got {type(graph).__name__}")
    kinds = {name: _kind(name, node, nir) for name, node in graph.nodes.items()}
    succ = {name: [] for name in graph.nodes}
    pred = {name: [] for name in graph.nodes}
    for a, b in graph.edges:
        for end in (a, b):
            if end not in graph.nodes:
                raise ValueError(f"edge ({a!r}, {b!r}) names node {end!r}, which is not in "
                                 "the graph")
        succ[a].append(b)
        pred[b].append(a)
    inputs = [k for k, kind in kinds.items() if kind == "input"]
    outputs = [k for k, kind in kinds.items() if kind == "output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"the graph needs exactly one Input and one Output node, got inputs "
                         f"{inputs} and outputs {outputs}")
    stages, seen, source = [], {inputs[0]}, inputs[0]
    n_inputs = int(np.prod(graph.nodes[source].input_type["input"]))
    while True:
        recurrent = _recurrent_connection(source, kinds, succ, pred) if stages else None
        onward = [b for b in succ[source] if b != recurrent]
        if len(onward) != 1:
            raise ValueError(f"node {source!r} feeds {onward}; snnexact imports a chain of "
                             "layers (one onward edge per node)")
        nxt = onward[0]
        if kinds[nxt] == "output":
            if not stages:
                raise ValueError(f"node {source!r} feeds the output directly: the graph has no "
                                 "CubaLIF layer")
            seen.add(nxt)
            break
        if kinds[nxt] != "connection" or pred[nxt] != [source] or len(succ[nxt]) != 1:
            raise ValueError(f"node {nxt!r}: expected a Linear/Affine node fed only by {source!r} "
                             "and feeding one CubaLIF node")
        target = succ[nxt][0]
        if kinds[target] != "cuba" or target in seen:
            raise ValueError(f"node {nxt!r} feeds {target!r}; expected a new CubaLIF node")
        stage = _stage(graph, nxt, target, kinds, succ, pred, n_prev=(
            n_inputs if not stages else stages[-1].layer.n))
        seen.update(n for n in (nxt, target, stage.recurrent and stage.recurrent.name) if n)
        stages.append(stage)
        source = target
    unused = sorted(set(graph.nodes) - seen)
    if unused:
        raise ValueError(f"nodes {unused} are not on the chain Input -> ... -> Output")
    return n_inputs, stages


def _kind(name, node, nir):
    if isinstance(node, nir.Input):
        return "input"
    if isinstance(node, nir.Output):
        return "output"
    if isinstance(node, (nir.Linear, nir.Affine)):
        return "connection"
    if isinstance(node, nir.CubaLIF):
        return "cuba"
    if isinstance(node, nir.LIF):
        raise ValueError(f"node {name!r}: NIR LIF (instantaneous synapses: a spike makes V jump) "
                         "is not representable exactly; snnexact's neurons have a current-based "
                         "synapse (use CubaLIF)")
    raise ValueError(f"node {name!r}: node type {type(node).__name__} is not supported "
                     f"(snnexact imports {SUPPORTED})")


def _recurrent_connection(cuba, kinds, succ, pred):
    """The connection node on a ``cuba -> node -> cuba`` loop, or ``None``."""
    loops = [b for b in succ[cuba] if kinds[b] == "connection" and succ[b] == [cuba]]
    if len(loops) > 1:
        raise ValueError(f"node {cuba!r} has several recurrent connections {loops}")
    if loops and pred[loops[0]] != [cuba]:
        raise ValueError(f"node {loops[0]!r}: a recurrent connection must be fed by {cuba!r} only")
    return loops[0] if loops else None


def _stage(graph, forward, cuba, kinds, succ, pred, n_prev):
    rec = _recurrent_connection(cuba, kinds, succ, pred)
    others = sorted(set(pred[cuba]) - {forward, rec})
    if others:
        raise ValueError(f"node {cuba!r} has further inputs {others}; snnexact layers receive "
                         "one feed-forward and at most one recurrent connection")
    w_ff = _connection(forward, graph.nodes[forward])
    n = w_ff.weight.shape[0]
    if w_ff.weight.shape[1] != n_prev:
        raise ValueError(f"node {forward!r}: weight has shape {w_ff.weight.shape}, expected "
                         f"(n, {n_prev}) after a layer of {n_prev} units")
    w_rec = None if rec is None else _connection(rec, graph.nodes[rec])
    if w_rec is not None and w_rec.weight.shape != (n, n):
        raise ValueError(f"node {rec!r}: weight has shape {w_rec.weight.shape}, expected "
                         f"({n}, {n})")
    return Stage(w_ff, fold_cuba(cuba, graph.nodes[cuba], n), w_rec)


def _connection(name, node):
    weight = np.asarray(node.weight, dtype=float)
    if weight.ndim != 2:
        raise ValueError(f"node {name!r}: weight must be a 2-D matrix, got shape {weight.shape}")
    bias = getattr(node, "bias", None)
    if bias is not None and np.any(np.asarray(bias, dtype=float) != 0.0):
        raise ValueError(f"node {name!r}: bias is non-zero (max |bias| = "
                         f"{float(np.max(np.abs(bias)))!r}); a constant drive is not "
                         "representable in snnexact (use Linear or a zero bias)")
    if not np.all(np.isfinite(weight)):
        raise ValueError(f"node {name!r}: weight has non-finite entries")
    return Connection(name, weight)


def fold_cuba(name, node, n):
    """``CubaLayer`` of CubaLIF ``node`` with ``n`` neurons (fields broadcast to ``(n,)``)."""
    fields = {}
    for field in CUBA_FIELDS:
        value = np.asarray(getattr(node, field), dtype=float)
        if value.size not in (1, n) or value.ndim > 1:
            raise ValueError(f"node {name!r}: {field} has shape {value.shape}; expected ({n},) "
                             "to match the incoming weight")
        value = np.broadcast_to(value.reshape(-1), (n,)).copy()
        if not np.all(np.isfinite(value)):
            raise ValueError(f"node {name!r}: {field} has non-finite entries")
        fields[field] = value
    for field in ("tau_syn", "tau_mem"):
        if np.any(fields[field] <= 0):
            raise ValueError(f"node {name!r}: {field} must be > 0, got "
                             f"{float(fields[field].min())!r}")
    span = fields["v_threshold"] - fields["v_leak"]
    if np.any(span <= 0):
        i = int(np.argmin(span))
        raise ValueError(f"node {name!r}: {_value(fields, 'v_threshold', i)} is not above "
                         f"v_leak = {float(fields['v_leak'][i])!r}; the neuron could never spike "
                         "from rest")
    gain = fields["r"] * fields["w_in"] / (fields["tau_syn"] * span)
    reset = (fields["v_reset"] - fields["v_leak"]) / span
    return CubaLayer(name, fields, span, gain, reset)


# ----------------------------------------------------------------------------- export

def to_nir(network, params):
    """NIR graph of an snnexact LIF ``network`` with ``params`` (module docstring).

    Nodes: ``input``, per layer ``l`` the connection ``fc{l}``, the neurons ``lif{l}`` and,
    if recurrent, ``rec{l}``, then ``output``. Raises ``ValueError`` for QIF networks (NIR has
    no QIF primitive) and for non-zero initial voltages ``params.V0`` (NIR has no field for
    them)."""
    nir = require_nir()
    neuron = network.neuron
    if not isinstance(neuron, LIF):
        raise ValueError(f"neuron: {type(neuron).__name__} has no NIR primitive; to_nir exports "
                         "LIF networks (as NIR CubaLIF) only")
    W, R = network.check_params(params)
    for l, v in enumerate(params.arrays("V0")):
        if v is not None and np.any(np.asarray(v) != 0.0):
            raise ValueError(f"params.V0[{l}]: non-zero initial voltages have no NIR field; "
                             "export a network that starts at rest (V0 = None or zeros)")
    if neuron.v_leak != 0:
        raise ValueError(f"neuron: v_leak = {neuron.v_leak!r}; NIR neurons start at rest "
                         "(V = v_leak) while snnexact's start at V = 0, and NIR has no initial "
                         "state: export a LIF with v_leak = 0 (shift V by -v_leak)")
    tau_m, theta, tau_s = float(neuron.tau_m), float(neuron.theta), neuron.synaptic_tau
    nodes = {"input": nir.Input(input_type={"input": np.array([network.sizes[0]])})}
    edges, source = [], "input"
    for l in range(network.n_layers):
        n = network.sizes[l + 1]
        fc, lif = f"fc{l}", f"lif{l}"
        nodes[fc] = nir.Linear(weight=tau_s * W[l])
        nodes[lif] = nir.CubaLIF(tau_syn=np.full(n, tau_s), tau_mem=np.full(n, tau_m),
                                 r=np.full(n, float(neuron.r)), v_leak=np.zeros(n),
                                 v_threshold=np.full(n, theta),
                                 v_reset=np.full(n, float(neuron.v_reset)), w_in=np.ones(n))
        edges += [(source, fc), (fc, lif)]
        if R[l] is not None:
            nodes[f"rec{l}"] = nir.Linear(weight=tau_s * R[l])
            edges += [(lif, f"rec{l}"), (f"rec{l}", lif)]
        source = lif
    nodes["output"] = nir.Output(output_type={"output": np.array([network.sizes[-1]])})
    edges.append((source, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges)
