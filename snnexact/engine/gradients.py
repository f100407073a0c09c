"""Loss and exact gradient of one sample: ``loss`` and ``value_and_grad``.

Readouts (docs/theory.md section 5):

* ``"first_spike"``: the last network layer spikes; ``t_o`` is each output neuron's first spike.
  A silent QIF output uses its first pseudospike (``pseudo.py``), so its time passes
  continuously through ``T`` and it receives a gradient. A silent LIF output counts as
  ``t_o = T`` with zero gradient: nothing moves it (the paper's permanently silent neurons).
* ``"max_voltage"`` / ``"integral"``: the last network layer is a non-spiking leaky readout of
  the layer below (``losses.py``); cross-entropy on its maximum voltage over ``[0, T]`` or on its
  ``exp(-t/T)``-weighted time integral divided by ``tau`` (unit-free).

The gradient is the exact derivative of the simulated loss with the event order held fixed
(``backward.py``); it matches central finite differences wherever the spike sequence does not
change within the step.
"""
from dataclasses import dataclass, replace

import numpy as np

from snnexact.engine import losses
from snnexact.engine.backward import backward_network
from snnexact.engine.events import check_input
from snnexact.engine.network import Network, Params
from snnexact.engine.pseudo import DEFAULT_ALPHA, periods, rate_pass, rate_pass_vjp, window_spikes
from snnexact.engine.simulate import simulate_layers

READOUTS = ("first_spike", "max_voltage", "integral")


@dataclass(frozen=True)
class Evaluation:
    """One sample's forward evaluation: the loss, the readout values (first spike times or
    logits), the prediction, which outputs used pseudospikes, and the simulation result.

    First-spike readout: the prediction is the output that fires first; a silent output only
    competes through its pseudospike (QIF), and ``-1`` means no output fired at all (counted as
    wrong). ``prediction_no_pseudo`` ignores pseudospikes (ordinary spikes in ``[0, T]`` only).
    After ``value_and_grad`` also ``input_time_grads`` (dL/d each input spike time that is
    ``< T``, in input order) and ``initial_state_grads`` (per simulated layer ``(dL/dV0,
    dL/dI0)``; the QIF ``dL/dV0`` of a neuron that starts at ``-inf`` is 0), and
    ``spike_time_sensitivity``: per layer the largest ``|d t_spike / d V|`` (in time units per
    voltage unit). Near a grazing LIF crossing it diverges like ``1/sqrt(D)``: a value far above
    ``tau_m`` says some gradient is dominated by a spike that nearly fails to happen (the exact
    gradient is returned as it is, never clamped). QIF has no such divergence.
    ``window_spikes``: with a readout window, the pseudospikes ``(times, units)`` of the last
    hidden layer that the readout counted (``None`` without one).
    """

    loss: float
    outputs: np.ndarray
    prediction: int
    pseudo_outputs: np.ndarray
    simulation: object
    prediction_no_pseudo: int
    input_time_grads: np.ndarray = None
    initial_state_grads: tuple = None
    spike_time_sensitivity: tuple = None
    window_spikes: tuple = None


@dataclass(frozen=True)
class LossConfig:
    """Readout and loss settings. ``tau_r``: softmax temperature of the first-spike loss (default
    ``tau_m``); ``gamma``: weight of its ``exp(t_label/T) - 1`` term; ``alpha``: softplus
    sharpness of the QIF pseudodynamics; ``pseudo``: use pseudospikes for silent QIF outputs;
    ``window``: length ``T_p`` of the readout window after ``T`` (voltage readouts; models with
    pseudodynamics add the pseudospikes of the last hidden layer in ``(T, T + T_p)``);
    ``silence_reg``: strength of the silence regulariser (models with pseudodynamics; see
    ``_regularise``); ``rate_reg``, ``rate_lower``, ``rate_upper``: strength and band of the
    firing-rate regulariser on the hidden layers (``losses.rate_regulariser``)."""

    readout: str = "first_spike"
    tau_r: float = None
    gamma: float = 1e-2
    alpha: float = DEFAULT_ALPHA
    pseudo: bool = True
    window: float = 0.0
    silence_reg: float = 0.0
    rate_reg: float = 0.0
    rate_lower: float = 0.0
    rate_upper: float = float("inf")

    def __post_init__(self):
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.tau_r is not None and not self.tau_r > 0:
            raise ValueError(f"tau_r must be > 0, got {self.tau_r!r}")
        if not self.gamma >= 0:
            raise ValueError(f"gamma must be >= 0, got {self.gamma!r}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        if not (self.window >= 0 and np.isfinite(self.window)):
            raise ValueError(f"window must be finite and >= 0, got {self.window!r}")
        for name in ("silence_reg", "rate_reg", "rate_lower"):
            if not (getattr(self, name) >= 0 and np.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must be finite and >= 0, got {getattr(self, name)!r}")
        if not self.rate_upper >= self.rate_lower:
            raise ValueError(f"rate_upper must be >= rate_lower, got {self.rate_upper!r}")
        if self.window > 0 and self.readout == "first_spike":
            raise ValueError("window: the readout window extends the voltage readouts "
                             "('integral', 'max_voltage'), not 'first_spike'")


def simulated_layers(network, readout):
    """Number of simulated spiking layers: all, or all but a non-spiking readout layer."""
    return network.n_layers if readout == "first_spike" else network.n_layers - 1


def loss(network, params, input_times, input_units, label, T, readout="first_spike", **kwargs):
    """Loss of one sample (no gradient); ``kwargs`` as for ``value_and_grad``."""
    return evaluate(network, params, input_times, input_units, label, T, readout, **kwargs).loss


def evaluate(network, params, input_times, input_units, label, T, readout="first_spike",
             **kwargs):
    """Forward evaluation of one sample (loss, readout values, prediction, simulation)."""
    return _evaluate(network, params, input_times, input_units, label, T, readout, False,
                     kwargs)[2]


def value_and_grad(network, params, input_times, input_units, label, T, readout="first_spike",
                   **kwargs):
    """Loss of one sample and its exact gradient.

    Returns ``(loss, grads, evaluation)``: ``grads`` is a ``Params`` with the same shapes as
    ``params`` (a weight gradient of a simulated layer is the transposed view of the kernels'
    ``(n_in, n_out)`` array, so Fortran-ordered: ``np.ascontiguousarray`` gives C order);
    ``evaluation`` holds the readout values, the prediction and the
    ``SimulationResult``. Keyword options: ``tau_r``, ``gamma``, ``alpha``, ``pseudo`` (see
    ``LossConfig``), ``max_spikes``, ``checkpoint_every`` and ``initial_state`` (see
    ``simulate``; ``initial_state`` not together with trained initial voltages ``params.V0``,
    whose gradient ``grads.V0`` then holds).
    """
    value, grads, ev = _evaluate(network, params, input_times, input_units, label, T, readout,
                                 True, kwargs)
    return value, grads, ev


def _evaluate(network, params, input_times, input_units, label, T, readout, want_grad, kwargs):
    if not isinstance(network, Network):
        raise TypeError(f"network must be snnexact.Network, got {type(network).__name__}")
    sim_kw = {k: kwargs.pop(k) for k in ("max_spikes", "initial_state", "on_budget",
                                         "checkpoint_every") if k in kwargs}
    cfg = LossConfig(readout=readout, **kwargs)
    n_out = network.sizes[-1]
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_out:
        raise ValueError(f"label must be an integer in [0, {n_out}), got {label!r}")
    W, R = network.check_params(params)
    if params.V0 is not None:
        if "initial_state" in sim_kw:
            raise ValueError("initial_state: params.V0 already sets the initial voltages")
        sim_kw["initial_state"] = network.initial_state(params, simulated_layers(network,
                                                                                 cfg.readout))
    times, units = check_input(input_times, input_units, network.sizes[0], T)
    value, grads, ev = sample_value_and_grad(network, W, R, times, units, int(label), float(T),
                                             cfg, want_grad, **sim_kw)
    if grads is not None and params.V0 is not None:
        sim = ev.initial_state_grads  # the layers simulated (not a non-spiking readout)
        grads = Params(grads.W, grads.R, tuple(
            None if v is None else sim[l][0] if l < len(sim) else np.zeros(v.shape)
            for l, v in enumerate(params.V0)))
    return value, grads, ev


def sample_value_and_grad(network, W, R, times, units, label, T, cfg, want_grad,
                          input_grads=True, **sim_kw):
    """Core of ``value_and_grad`` on validated arrays (``W, R`` lists of float64 arrays, sorted
    ``times``, int64 ``units``); returns ``(loss, grads or None, Evaluation)``.
    ``input_grads=False`` leaves out ``Evaluation.input_time_grads`` (training does not need
    them; their cost is input spikes x first-layer neurons)."""
    n_out = network.sizes[-1]
    spiking_out = cfg.readout == "first_spike"
    n_sim = simulated_layers(network, cfg.readout)
    res = simulate_layers(network, W, R, times, units, float(T), n_sim, keep_states=want_grad,
                          **sim_kw)
    tau = network.neuron.tau_m
    mu = [np.zeros(L.n_spikes) for L in res.layers]
    lamV = [np.zeros(n) for n in network.sizes[1:n_sim + 1]]
    lamI = [np.zeros(n) for n in network.sizes[1:n_sim + 1]]
    # gradients from outside the reverse pass (readout, pseudodynamics); None: none so far
    dW = [None] * len(W)
    dR = [None] * len(R)
    g_input = np.zeros(times.size)
    win = None
    if spiking_out:
        out = res.layers[-1]
        t_first, first_idx = _first_spikes(out, n_out, float(T))
        silent = first_idx < 0
        use_pseudo = cfg.pseudo and network.neuron.has_pseudospikes and silent.any()
        if use_pseudo:
            ps = rate_pass(W, R, [L.V for L in res.layers], [L.I for L in res.layers], tau,
                           cfg.alpha)
            t_first[silent] = T + ps.first_delay[-1][silent]
        tau_r = tau if cfg.tau_r is None else cfg.tau_r
        fs = losses.first_spike_loss(t_first, int(label), tau_r, float(T), cfg.gamma)
        value, d_t, pred = fs.loss, fs.dloss_dt, fs.prediction
        outputs, pseudo_outputs = t_first, silent if use_pseudo else np.zeros(n_out, bool)
        pred = _first_to_fire(np.where(silent & ~pseudo_outputs, np.inf, t_first))
        pred_plain = _first_to_fire(np.where(silent, np.inf, t_first))
        if want_grad:
            mu[-1][first_idx[~silent]] = d_t[~silent]
            if use_pseudo:
                g_delay = [np.zeros_like(x) for x in ps.rates]
                g_delay[-1] = np.where(silent, d_t, 0.0)
                _add_pullback(rate_pass_vjp(ps, W, R, g_delay), lamV, lamI, dW, dR)
    else:
        src_t, src_u = (res.layers[-1].times, res.layers[-1].units) if n_sim else (times, units)
        n_plain = src_t.size
        if cfg.window > 0 and n_sim and network.neuron.has_pseudospikes:
            win = _window(W[:n_sim], R[:n_sim], res, tau, cfg)
            src_t = np.concatenate([src_t, T + win.offsets])
            src_u = np.concatenate([src_u, win.units])
        order = _time_unit_order(src_t, src_u)
        ro = _readout(cfg.readout, src_t[order], src_u[order], W[-1], tau, float(T),
                      float(T) + cfg.window)
        ce = losses.cross_entropy(ro.logits, int(label))
        value, d_logits, pred = ce.loss, ce.dloss_dlogits, ce.prediction
        outputs, pseudo_outputs = ro.logits, np.zeros(n_out, bool)
        pred_plain = pred if win is None else _plain_prediction(cfg, res, W, tau, T, label)
        if want_grad:
            vjp = ro.vjp(d_logits)
            g_t = np.empty(src_t.size)
            g_t[order] = vjp.dtimes
            _add_into(dW, -1, vjp.dW)
            if n_sim:
                mu[-1] += g_t[:n_plain]
            else:
                g_input += g_t[:n_plain]
            if win is not None:
                _window_vjp(win, g_t[n_plain:], W[:n_sim], R[:n_sim], lamV, lamI, dW, dR)
    n_hidden = network.n_layers - 1
    if cfg.silence_reg or cfg.rate_reg:
        value += _regularise(cfg, network, W[:n_hidden], R[:n_hidden], res.layers[:n_hidden],
                             float(T), want_grad, mu, lamV, lamI, dW, dR)
    ev = Evaluation(float(value), outputs, int(pred), pseudo_outputs, res, int(pred_plain),
                    window_spikes=None if win is None else (T + win.offsets, win.units))
    if not want_grad:
        return float(value), None, ev
    sens = []
    gW, gR, g_in = backward_network(network, res, mu, lamV, lamI, sens, input_grads=input_grads)
    if g_in is not None:
        g_input += g_in
    grads = Params(tuple(_total(gW[l] if l < n_sim else None, dW[l], w.shape)
                         for l, w in enumerate(W)),
                   tuple(None if r is None else
                         _total(gR[l] if l < n_sim else None, dR[l], r.shape)
                         for l, r in enumerate(R)))
    ev = replace(ev, input_time_grads=g_input if input_grads else None,
                 initial_state_grads=tuple(zip(lamV, lamI)),
                 spike_time_sensitivity=tuple(sens))
    return float(value), grads, ev


def _regularise(cfg, network, W, R, layers, T, want_grad, mu, lamV, lamI, dW, dR):
    """Regularisers of the hidden layers; adds their gradients in place, returns their value.

    * Firing rate (both models): ``losses.rate_regulariser`` per hidden layer, a squared hinge
      on each neuron's soft count ``sum_j (1 - t_j / T)``.
    * Silence (models with pseudodynamics): ``silence_reg / N sum_{silent n} (t_1,n - T) / tau``
      over the ``N`` hidden neurons, ``t_1,n`` the first pseudospike of a neuron with no spike
      in ``[0, T]``. It vanishes continuously as that pseudospike reaches ``T`` (dividing by all
      ``N``, not by the number of silent neurons, keeps it continuous when one starts firing).
    """
    value = 0.0
    if cfg.rate_reg:
        for l, L in enumerate(layers):
            rr = losses.rate_regulariser(L.times, L.units, network.sizes[l + 1], T,
                                         lower=cfg.rate_lower, upper=cfg.rate_upper,
                                         strength=cfg.rate_reg)
            value += rr.loss
            if want_grad:
                mu[l] += rr.dloss_dtimes
    if cfg.silence_reg and network.neuron.has_pseudospikes and layers:
        tau = network.neuron.tau_m
        ps = rate_pass(W, R, [L.V for L in layers], [L.I for L in layers], tau, cfg.alpha)
        scale = cfg.silence_reg / (tau * sum(network.sizes[1:len(layers) + 1]))
        g_delay = []
        for l, L in enumerate(layers):
            silent = np.bincount(L.units, minlength=network.sizes[l + 1]) == 0
            value += scale * float(np.sum(ps.first_delay[l][silent]))
            g_delay.append(np.where(silent, scale, 0.0))
        if want_grad:
            _add_pullback(rate_pass_vjp(ps, W, R, g_delay), lamV, lamI, dW, dR)
    return value


def _first_spikes(layer, n, T):
    """Per neuron of ``layer`` (``n`` neurons, spikes in time order) the time of its first spike
    (``T`` if silent) and that spike's index (``-1`` if silent)."""
    t_first = np.full(n, T)
    first_idx = np.full(n, -1)
    units, idx = np.unique(layer.units, return_index=True)  # first occurrence of each unit
    t_first[units] = layer.times[idx]
    first_idx[units] = idx
    return t_first, first_idx


def _time_unit_order(t, u):
    """The permutation that sorts spikes by (time, unit): ``np.lexsort``, or a slice of all
    when they are in that order already (a layer's own spikes nearly always are; the check
    costs a fiftieth of the sort)."""
    if t.size < 2 or np.all((t[1:] > t[:-1]) | ((t[1:] == t[:-1]) & (u[1:] >= u[:-1]))):
        return slice(None)
    return np.lexsort((u, t))


def _first_to_fire(t):
    return int(np.argmin(t)) if np.isfinite(t).any() else -1


def _readout(kind, times, units, W_out, tau, T, t_end):
    """The readout's logits and VJP over ``[0, t_end]`` (``t_end = T`` without a window). The
    integral readout is divided by ``tau`` so that its logits are unit-free like the maximum
    voltage (the integral of one PSP is ``tau / 2``); being linear in ``W``, that is the readout
    of ``W / tau``, with ``dL/dW`` scaled back."""
    if kind == "max_voltage":
        return losses.max_voltage_readout(times, units, W_out, tau, t_end, check=False)
    return _ScaledReadout(losses.integral_readout(times, units, W_out / tau, tau, T, t_end,
                                                  check=False),
                          1.0 / tau)


@dataclass(frozen=True)
class _Window:
    """Pseudospikes of the last simulated layer inside the readout window: offsets after ``T``,
    neuron, ``k - 1``, and the rate pass they came from."""

    offsets: np.ndarray
    units: np.ndarray
    k: np.ndarray
    rates: object


def _window(W, R, res, tau, cfg):
    """Readout window (docs/theory.md 9.4): every neuron of the last
    simulated layer continues with its pseudodynamics after ``T``; its pseudospikes
    ``t_k = T + delay + (k - 1) theta_p < T + window`` join the readout's input."""
    ps = rate_pass(W, R, [L.V for L in res.layers], [L.I for L in res.layers], tau, cfg.alpha)
    offsets, units, k = window_spikes(ps.first_delay[-1], periods(ps)[-1], cfg.window)
    return _Window(offsets, units, k, ps)


def _window_vjp(win, g_t, W, R, lamV, lamI, dW, dR):
    """Add the pull-back of ``g_t`` = dL/d(pseudospike times) to the trial-end adjoints and the
    weights: ``t_k = T + delay + (k - 1) theta_p`` gives dL/d delay = sum_k g_k and
    dL/d theta_p = sum_k (k - 1) g_k per neuron."""
    n = win.rates.rates[-1].size
    g_delay = [np.zeros_like(r) for r in win.rates.rates]
    g_period = [np.zeros_like(r) for r in win.rates.rates]
    g_delay[-1] = np.bincount(win.units, weights=g_t, minlength=n)
    g_period[-1] = np.bincount(win.units, weights=g_t * win.k, minlength=n)
    _add_pullback(rate_pass_vjp(win.rates, W, R, g_delay, g_period), lamV, lamI, dW, dR)


def _add_pullback(pullback, lamV, lamI, dW, dR):
    """Add a ``rate_pass_vjp`` result (per layer dL/dV(T), dL/dI(T), dL/dW, dL/dR, for the
    layers it covers) to the trial-end adjoints and weight gradients, in place."""
    pV, pI, pW, pR = pullback
    for l in range(len(pV)):
        lamV[l] += pV[l]
        lamI[l] += pI[l]
        if pW[l] is not None:  # None: W[l] does not enter (the first layer)
            _add_into(dW, l, pW[l])
        if pR[l] is not None:
            _add_into(dR, l, pR[l])


def _add_into(acc, l, g):
    """``acc[l] += g`` where ``acc[l] = None`` stands for zero (allocated at the first add)."""
    acc[l] = np.array(g, dtype=np.float64) if acc[l] is None else acc[l] + g


def _total(reverse, extra, shape):
    """A layer's gradient: the reverse pass's (ours to change; ``None`` for a readout layer it
    does not cover) plus ``extra`` from elsewhere (``None``: nothing), zeros if neither."""
    if reverse is None:
        return np.zeros(shape) if extra is None else extra
    if extra is not None:
        reverse += extra
    return reverse


def _plain_prediction(cfg, res, W, tau, T, label):
    """Prediction of the readout over ``[0, T]`` from the ordinary spikes only."""
    L = res.layers[-1]
    ro = _readout(cfg.readout, L.times, L.units, W[-1], tau, float(T), float(T))
    return losses.cross_entropy(ro.logits, int(label)).prediction


class _ScaledReadout:
    """A readout evaluated at ``scale * W``: same logits, ``dL/dW`` multiplied by ``scale``."""

    def __init__(self, readout, scale):
        self.logits = readout.logits
        self._readout = readout
        self._scale = scale

    def vjp(self, g):
        v = self._readout.vjp(g)
        return losses.ReadoutGradient(v.dW * self._scale, v.dtimes)
