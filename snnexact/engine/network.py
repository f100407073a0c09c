"""Network architecture and its parameters.

A network is an input layer of ``sizes[0]`` units followed by spiking layers of ``sizes[1:]``
neurons (hidden layers, then the output layer), all of one neuron model. Layer ``l`` (0-based over
spiking layers) receives the spikes of the layer below through dense feed-forward weights
``W[l]`` of shape ``(sizes[l+1], sizes[l])`` (``W[l][i, j]``: from presynaptic ``j`` to
postsynaptic ``i``) and, if it is recurrent, its own spikes through ``R[l]`` of shape
``(sizes[l+1], sizes[l+1])`` with a zero diagonal (no self-connections). The output layer is never
recurrent.
"""
from dataclasses import dataclass, field
import math

import numpy as np

from snnexact.checks import real_array
from snnexact.engine.neurons import MODELS, NeuronModel


@dataclass(frozen=True)
class Params:
    """Trainable parameters: ``W[l]`` per spiking layer, ``R[l]`` (array or ``None``) and, if
    initial states are trained, ``V0[l]`` (initial voltages of simulated layer ``l``, array or
    ``None``; ``V0 = None``: every neuron starts at rest)."""

    W: tuple
    R: tuple
    V0: tuple = None

    GROUPS = ("W", "R", "V0")

    def arrays(self, group):
        """The arrays of ``group`` (``"W"``, ``"R"`` or ``"V0"``), ``None`` where absent."""
        value = getattr(self, group)
        return (None,) * len(self.W) if value is None else value

    def named(self):
        """``{"W0": ..., "R0": ..., "V00": ..., "W1": ...}``: the arrays by name (``R`` and
        ``V0`` only where present)."""
        out = {}
        for l in range(len(self.W)):
            for group in self.GROUPS:
                a = self.arrays(group)[l]
                if a is not None:
                    out[f"{group}{l}"] = a
        return out

    def map(self, fn):
        """``Params`` of ``fn(array)`` for every present array (absent ones stay ``None``)."""
        def each(group):
            if getattr(self, group) is None:
                return None
            return tuple(None if a is None else fn(a) for a in getattr(self, group))
        return Params(*(each(g) for g in self.GROUPS))

    def zip_map(self, fn, *others):
        """``Params`` of ``fn(a, b, ...)`` over the aligned arrays of ``self`` and ``others``
        (same structure; absent arrays stay ``None``)."""
        def each(group):
            if getattr(self, group) is None:
                return None
            return tuple(None if arrs[0] is None else fn(*arrs)
                         for arrs in zip(self.arrays(group), *(o.arrays(group) for o in others)))
        return Params(*(each(g) for g in self.GROUPS))

    def copy(self):
        return self.map(np.copy)


@dataclass(frozen=True)
class Network:
    """Architecture: ``neuron`` (``LIF`` or ``QIF``), ``sizes`` (inputs, hidden..., outputs) and
    ``recurrent`` (a bool for all hidden layers, or one bool per hidden layer)."""

    neuron: object
    sizes: tuple
    recurrent: object = False
    recurrent_layers: tuple = field(init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.neuron, NeuronModel):
            raise TypeError(f"neuron must be a neuron model ({', '.join(sorted(MODELS))}), "
                            f"got {type(self.neuron).__name__}")
        sizes = tuple(self.sizes) if np.ndim(self.sizes) == 1 else None
        if sizes is None or len(sizes) < 2:
            raise ValueError(f"sizes must list at least (n_inputs, n_outputs), got {self.sizes!r}")
        for n in sizes:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"sizes must be positive integers, got {self.sizes!r}")
        sizes = tuple(int(n) for n in sizes)
        n_hidden = len(sizes) - 2
        if isinstance(self.recurrent, (bool, np.bool_)):
            rec = (bool(self.recurrent),) * n_hidden
        else:
            rec = tuple(bool(r) for r in self.recurrent)
            if len(rec) != n_hidden:
                raise ValueError(f"recurrent must be a bool or one bool per hidden layer "
                                 f"({n_hidden}), got {self.recurrent!r}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "recurrent_layers", rec + (False,))

    @property
    def kick(self):
        """The single synaptic kick that fires a neuron from rest (docs/theory.md 1.2): ``4 theta``
        for LIF (a larger one crosses), ``pi^2 / 4`` for QIF. The natural unit of weights."""
        return self.neuron.kick

    @property
    def n_layers(self):
        """Number of spiking layers (hidden layers plus the output layer)."""
        return len(self.sizes) - 1

    def init_params(self, seed, w_mean=None, w_std=None, r_std=None, out_std=None):
        """Random weights, scaled by fan-in: ``W[l] ~ N(w_mean, w_std^2) / sqrt(fan_in)``.

        Defaults: ``w_mean = 0`` and ``w_std`` = the single kick that fires a neuron from rest
        (LIF: 4 theta; QIF: pi^2/4), so that the summed input of ``fan_in`` active units is of
        that order. Recurrent weights are ``N(0, r_std^2) / sqrt(n)`` (default ``r_std`` a
        quarter of that kick) with a zero diagonal. ``out_std``, if given, replaces ``w_mean,
        w_std`` for the last layer by ``N(0, out_std^2) / sqrt(fan_in)`` (useful for a
        non-spiking readout, whose logits need a larger scale than a spiking layer's input).
        """
        rng = np.random.default_rng(seed)
        scale = self.kick
        w_mean = 0.0 if w_mean is None else float(w_mean)
        w_std = 1.0 * scale if w_std is None else float(w_std)
        r_std = 0.25 * scale if r_std is None else float(r_std)
        W, R = [], []
        for l in range(self.n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            mean, std = w_mean, w_std
            if out_std is not None and l == self.n_layers - 1:
                mean, std = 0.0, float(out_std)
            W.append(rng.normal(mean, std, (n_out, n_in)) / math.sqrt(n_in))
            if self.recurrent_layers[l]:
                r = rng.normal(0.0, r_std, (n_out, n_out)) / math.sqrt(n_out)
                np.fill_diagonal(r, 0.0)
                R.append(r)
            else:
                R.append(None)
        return Params(tuple(W), tuple(R))

    def check_params(self, params):
        """Validated float64 copies ``(W, R)`` of ``params``; raises naming the bad array."""
        if not isinstance(params, Params):
            raise TypeError(f"params must be snnexact.Params, got {type(params).__name__}")
        if len(params.W) != self.n_layers or len(params.R) != self.n_layers:
            raise ValueError(f"params must hold {self.n_layers} W and R entries, "
                             f"got {len(params.W)} and {len(params.R)}")
        W, R = [], []
        for l in range(self.n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            W.append(real_array(f"W[{l}]", params.W[l], shape=(n_out, n_in)))
            r = params.R[l]
            if self.recurrent_layers[l]:
                if r is None:
                    raise ValueError(f"R[{l}] is None but layer {l} is recurrent")
                r = real_array(f"R[{l}]", r, shape=(n_out, n_out))
                if np.any(np.diag(r) != 0.0):
                    raise ValueError(f"R[{l}] must have a zero diagonal (no self-connections)")
            elif r is not None:
                raise ValueError(f"R[{l}] must be None: layer {l} is not recurrent")
            R.append(r)
        for l, v in enumerate(params.arrays("V0")):
            if v is not None:
                v = real_array(f"V0[{l}]", v, shape=(self.sizes[l + 1],))
                lo, hi = self.neuron.v0_range
                if np.any(v < lo) or np.any(v >= hi):
                    raise ValueError(f"V0[{l}] must lie in [{lo}, {hi}) (see project_v0)")
        return W, R

    def initial_state(self, params, n_layers=None):
        """``simulate``'s ``initial_state`` for the first ``n_layers`` layers (default: all)
        from ``params.V0`` (rest where a layer has none; ``I0 = 0``), or ``None`` if no initial
        voltages are trained."""
        if params.V0 is None:
            return None
        n_layers = self.n_layers if n_layers is None else n_layers
        return [(np.zeros(self.sizes[l + 1]) if v is None else v, np.zeros(self.sizes[l + 1]))
                for l, v in enumerate(params.V0[:n_layers])]

    def with_initial_voltages(self, params, n_layers):
        """``params`` with trainable initial voltages (at rest, 0) for the first ``n_layers``
        layers."""
        V0 = tuple(np.zeros(self.sizes[l + 1]) if l < n_layers else None
                   for l in range(self.n_layers))
        return Params(params.W, params.R, V0)

    def project_v0(self, params):
        """Keep trained initial voltages in the model's ``v0_range`` (in place): clipped to
        ``[lo, hi - 1e-9 (hi - lo)]`` (LIF ``[-theta, theta)``, below threshold; QIF
        ``[-1, 1)``, below the unstable fixed point, so no neuron starts on its way to a
        spike)."""
        lo, hi = self.neuron.v0_range
        for v in params.arrays("V0"):
            if v is not None:
                np.clip(v, lo, hi - 1e-9 * (hi - lo), out=v)
