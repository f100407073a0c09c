"""Closed-form event-driven oracle (plain Python/NumPy, no Numba, never imports snnexact).

Models (tau = tau_m, synaptic current decays with tau_s = tau / 2):

    LIF:  tau dV/dt = -V + I           spike at V = theta, reset V = 0
    QIF:  tau dV/dt = V (V - 1) + I    spike at V = +inf,  reset V = -inf
    both: I(t0 + dt) = I0 x^2 with x = exp(-dt / tau); a spike of weight w adds w to I.

Flow (docs/theory.md 1.1), with s = 1 - x and c = I0 fixed over the interval:

    LIF:  V(dt) = (V0 + I0) x - I0 x^2
    QIF:  V(dt) = x u(s), du/ds = u^2 + c, u(0) = V0, a = sqrt(|c|)
          c > 0          u = a tan(arctan(u0/a) + a s)         (u0 = -inf: -a cot(a s))
          c = 0          u = u0 / (1 - u0 s)                    (u0 = -inf: -1/s)
          c < 0, |u0|<a  u = a tanh(artanh(u0/a) - a s)
          c < 0, |u0|>a  u = a / tanh(artanh(a/u0) - a s)       (u0 = -inf: -a coth(a s))
          c < 0, |u0|=a  u = u0 (fixed point)

Next spike time (docs/theory.md 1.2):

    LIF:  needs I0 > 0 and D = (V0 + I0)^2 - 4 I0 theta > 0 (a tangential touch, D = 0, is none);
          x+ = ((V0 + I0) + sqrt(D)) / (2 I0), spike iff 0 < x+ < 1, dt* = -tau ln(x+)
    QIF:  c > 0: s* = (pi/2 - arctan(u0/a)) / a;  c = 0: s* = 1/u0 (u0 > 1);
          c < 0: s* = artanh(a/u0) / a (u0 > a);  spike iff s* < 1, dt* = -tau ln(1 - s*)

Event loop, one spiking layer at a time (the spikes of layer l are the input of layer l + 1).
All neurons of a layer are kept at a common time t; every neuron's pending spike time is recomputed
after every event that changes its state. Tie rules:

* input spikes with identical time stamps form one event (their weights are added at once);
* a network spike at the same time as an input event is processed before the input event;
* among equal pending spike times the lower neuron index fires first, and its spike is delivered to
  the recurrent targets before the next one fires; a neuron whose pending spike time equals the
  current time has reached threshold and fires regardless of what else arrives at that instant;
* a spike at exactly T (or later) is outside the trial and not recorded.

A neuron is never flowed up to its own spike: it is fired from its cached spike time.
``theta`` is used by the LIF only (the QIF threshold is +inf).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LayerResult", "simulate_closed_form", "lif_flow", "lif_next_spike",
           "qif_flow", "qif_next_spike", "qif_flow_branch", "qif_spike_branch"]

#: Hard bound on the number of spikes per layer; exceeding it raises (never a silent truncation).
MAX_SPIKES_PER_LAYER = 100_000


@dataclass(frozen=True)
class LayerResult:
    """Spikes of one spiking layer and its state at the end of the trial.

    times: float64 spike times in processing order (sorted by the tie rules).
    units: int64 neuron ids of those spikes.
    V, I: float64 membrane potential and synaptic current of every neuron at time T.
    """

    times: np.ndarray
    units: np.ndarray
    V: np.ndarray
    I: np.ndarray


# ----------------------------------------------------------------------------------------------
# scalar per-neuron closed forms
# ----------------------------------------------------------------------------------------------
def lif_flow(v0: float, i0: float, dt: float, tau: float) -> tuple[float, float]:
    """LIF state after dt without events: V = (V0 + I0) x - I0 x^2, I = I0 x^2."""
    x = math.exp(-dt / tau)
    return (v0 + i0) * x - i0 * x * x, i0 * x * x


def lif_next_spike(v0: float, i0: float, tau: float, theta: float) -> float:
    """Time to the next threshold crossing of an LIF neuron (inf if none); needs V0 < theta."""
    if i0 <= 0.0:
        return math.inf
    b = v0 + i0
    disc = b * b - 4.0 * i0 * theta
    if disc <= 0.0:          # D = 0: tangential touch, not a crossing
        return math.inf
    x_plus = (b + math.sqrt(disc)) / (2.0 * i0)
    if not (0.0 < x_plus < 1.0):
        return math.inf
    return -tau * math.log(x_plus)


def qif_flow_branch(u0: float, c: float) -> str:
    """Name of the QIF flow branch used for start value u0 = V0 and current c = I0."""
    if u0 == -math.inf:
        return "reset_pos" if c > 0 else ("reset_zero" if c == 0 else "reset_neg")
    if c > 0:
        return "pos"
    if c == 0:
        return "zero"
    a = math.sqrt(-c)
    if abs(u0) < a:
        return "neg_inside"
    if abs(u0) > a:
        return "neg_outside"
    return "neg_fixed"


def qif_u(u0: float, c: float, s: float) -> float:
    """Solution u(s) of du/ds = u^2 + c, u(0) = u0 (u0 may be -inf), valid before any blow-up."""
    if s == 0.0:
        return u0
    branch = qif_flow_branch(u0, c)
    a = math.sqrt(abs(c))
    if branch == "pos":
        return a * math.tan(math.atan(u0 / a) + a * s)
    if branch == "zero":
        return u0 / (1.0 - u0 * s)
    if branch == "neg_inside":
        return a * math.tanh(math.atanh(u0 / a) - a * s)
    if branch == "neg_outside":
        return a / math.tanh(math.atanh(a / u0) - a * s)
    if branch == "neg_fixed":
        return u0
    if branch == "reset_pos":
        return -a / math.tan(a * s)
    if branch == "reset_zero":
        return -1.0 / s
    return -a / math.tanh(a * s)   # reset_neg


def qif_flow(v0: float, i0: float, dt: float, tau: float) -> tuple[float, float]:
    """QIF state after dt without events (dt must be shorter than the time to the next spike)."""
    x = math.exp(-dt / tau)
    s = -math.expm1(-dt / tau)      # s = 1 - x, accurate for small dt
    u = qif_u(v0, i0, s)
    return x * u, i0 * x * x


def qif_spike_branch(u0: float, c: float) -> str | None:
    """Name of the QIF spike branch ('pos', 'zero', 'neg') or None if u never blows up."""
    if c > 0:
        return "pos"
    if c == 0:
        return "zero" if u0 > 0 else None
    a = math.sqrt(-c)
    return "neg" if u0 > a else None


def qif_next_spike(v0: float, i0: float, tau: float) -> float:
    """Time from now to the next blow-up V = +inf of a QIF neuron (inf if none in finite time)."""
    branch = qif_spike_branch(v0, i0)
    if branch is None:
        return math.inf
    if branch == "pos":
        a = math.sqrt(i0)
        s_star = (0.5 * math.pi - math.atan(v0 / a)) / a     # atan(-inf) = -pi/2
    elif branch == "zero":
        s_star = 1.0 / v0
    else:
        a = math.sqrt(-i0)
        s_star = math.atanh(a / v0) / a
    if not s_star < 1.0:
        return math.inf
    return -tau * math.log1p(-s_star)


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------
def _check_inputs(model, tau_m, W, R, input_times, input_units, T, theta, V0, I0):
    """Validate and convert the arguments; shared with reference.ode (no maths here)."""
    if model not in ("lif", "qif"):
        raise ValueError(f"model must be 'lif' or 'qif', got {model!r}")
    tau_m = float(tau_m)
    T = float(T)
    theta = float(theta)
    if not (math.isfinite(tau_m) and tau_m > 0):
        raise ValueError(f"tau_m must be finite and > 0, got {tau_m}")
    if not (math.isfinite(T) and T > 0):
        raise ValueError(f"T must be finite and > 0, got {T}")
    if model == "lif" and not (math.isfinite(theta) and theta > 0):
        raise ValueError(f"theta must be finite and > 0, got {theta}")
    W = [np.array(w, dtype=np.float64) for w in W]
    if len(W) == 0:
        raise ValueError("W must hold at least one weight matrix")
    n_layers = len(W)
    if R is None:
        R = [None] * n_layers
    if len(R) != n_layers:
        raise ValueError(f"R has {len(R)} entries, W has {n_layers}")
    sizes = []
    for l, w in enumerate(W):
        if w.ndim != 2:
            raise ValueError(f"W[{l}] must be 2-D, got shape {w.shape}")
        if l > 0 and w.shape[1] != sizes[-1]:
            raise ValueError(f"W[{l}] has {w.shape[1]} columns, layer {l} has {sizes[-1]} neurons")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"W[{l}] holds non-finite weights")
        sizes.append(w.shape[0])
    n_in = W[0].shape[1]
    R_out = []
    for l, r in enumerate(R):
        if r is None:
            R_out.append(None)
            continue
        r = np.array(r, dtype=np.float64)
        if r.shape != (sizes[l], sizes[l]):
            raise ValueError(f"R[{l}] must have shape {(sizes[l], sizes[l])}, got {r.shape}")
        if np.any(np.diag(r) != 0):
            raise ValueError(f"R[{l}] must have a zero diagonal (no self-connections)")
        if not np.all(np.isfinite(r)):
            raise ValueError(f"R[{l}] holds non-finite weights")
        R_out.append(r)
    times = np.asarray(input_times, dtype=np.float64).ravel()
    units = np.asarray(input_units).ravel()
    if times.shape != units.shape:
        raise ValueError(f"input_times ({times.size}) and input_units ({units.size}) differ "
                         "in length")
    if units.size and not np.issubdtype(units.dtype, np.integer):
        if not np.all(units == np.round(units)):
            raise ValueError("input_units must be integers")
    units = units.astype(np.int64)
    if units.size and (units.min() < 0 or units.max() >= n_in):
        raise ValueError(f"input_units must lie in [0, {n_in})")
    if times.size and not (np.all(np.isfinite(times)) and times.min() >= 0):
        raise ValueError("input_times must be finite and >= 0")
    order = np.argsort(times, kind="stable")
    times, units = times[order], units[order]

    def per_layer(arrs, name, default):
        if arrs is None:
            return [np.full(n, default) for n in sizes]
        if len(arrs) != n_layers:
            raise ValueError(f"{name} has {len(arrs)} entries, expected {n_layers}")
        out = []
        for l, a in enumerate(arrs):
            a = np.array(a, dtype=np.float64).ravel()
            if a.shape != (sizes[l],):
                raise ValueError(f"{name}[{l}] must have shape ({sizes[l]},), got {a.shape}")
            out.append(a)
        return out

    V0 = per_layer(V0, "V0", 0.0)
    I0 = per_layer(I0, "I0", 0.0)
    for l in range(n_layers):
        if not np.all(np.isfinite(I0[l])):
            raise ValueError(f"I0[{l}] must be finite")
        if model == "lif" and not (np.all(np.isfinite(V0[l])) and np.all(V0[l] < theta)):
            raise ValueError(f"LIF V0[{l}] must be finite and below theta={theta}")
        if model == "qif" and (np.any(np.isnan(V0[l])) or np.any(V0[l] == np.inf)):
            raise ValueError(f"QIF V0[{l}] must be < +inf (-inf = just reset is allowed)")
    return model, tau_m, W, R_out, times, units, T, theta, V0, I0


def _group_events(times: np.ndarray, units: np.ndarray, T: float):
    """Group presynaptic spikes with identical time stamps (< T) into events [(t, [units])]."""
    events = []
    for t, u in zip(times.tolist(), units.tolist()):
        if t >= T:
            break
        if events and events[-1][0] == t:
            events[-1][1].append(u)
        else:
            events.append((t, [u]))
    return events


# ----------------------------------------------------------------------------------------------
# event loop
# ----------------------------------------------------------------------------------------------
def _simulate_layer(model, tau, w, r, events, T, theta, v_init, i_init):
    n = w.shape[0]
    V = v_init.astype(np.float64).copy()
    I = i_init.astype(np.float64).copy()
    if model == "lif":
        flow = lif_flow

        def next_dt(v, i):
            return lif_next_spike(v, i, tau, theta)
        v_reset, v_thr = 0.0, theta
    else:
        flow = qif_flow

        def next_dt(v, i):
            return qif_next_spike(v, i, tau)
        v_reset, v_thr = -math.inf, math.inf

    t_now = 0.0
    t_spk = np.array([t_now + next_dt(V[i], I[i]) for i in range(n)])
    out_t: list[float] = []
    out_u: list[int] = []

    def advance(t_new):
        """Flow every neuron from t_now to t_new (<= every pending spike time)."""
        nonlocal t_now
        dt = t_new - t_now
        if dt > 0:
            for i in range(n):
                if t_spk[i] <= t_new:       # due exactly now: sits at threshold, never flowed
                    I[i] = I[i] * math.exp(-2.0 * dt / tau)
                    V[i] = v_thr
                else:
                    V[i], I[i] = flow(V[i], I[i], dt, tau)
        t_now = t_new

    def refresh(targets):
        """Recompute pending spike times of neurons whose state changed (not of those due now)."""
        for i in targets:
            if t_spk[i] > t_now:
                t_spk[i] = t_now + next_dt(V[i], I[i])

    k_ev = 0
    while True:
        t_in = events[k_ev][0] if k_ev < len(events) else math.inf
        k = int(np.argmin(t_spk))            # lowest index among equal spike times
        t_net = t_spk[k]
        t_next = min(t_net, t_in)
        if t_next >= T:
            break
        advance(t_next)
        if t_net <= t_in:                    # network spike first on ties
            out_t.append(t_net)
            out_u.append(k)
            if len(out_t) > MAX_SPIKES_PER_LAYER:
                raise RuntimeError(f"more than {MAX_SPIKES_PER_LAYER} spikes in one layer "
                                   f"(runaway activity) before t={t_net} < T={T}")
            V[k] = v_reset
            t_spk[k] = math.inf              # no longer due: refresh() recomputes it
            if r is not None:
                I += r[:, k]                 # recurrent delivery before the next tied spike
                refresh(range(n))
            else:
                refresh([k])
        else:
            _, pre = events[k_ev]
            k_ev += 1
            I += w[:, pre].sum(axis=1)
            refresh(range(n))
    advance(T)
    for i in range(n):
        if t_spk[i] <= T:
            V[i] = v_thr
    return LayerResult(times=np.asarray(out_t, dtype=np.float64),
                       units=np.asarray(out_u, dtype=np.int64), V=V, I=I)


def simulate_closed_form(model, tau_m, W, R, input_times, input_units, T, theta=1.0,
                         V0=None, I0=None):
    """Simulate a layered (optionally recurrent) LIF/QIF network with the closed-form flows.

    Parameters
    ----------
    model : "lif" or "qif".
    tau_m : membrane time constant (tau_s = tau_m / 2).
    W : list of weight matrices, W[l] of shape (n_{l+1}, n_l) (row = postsynaptic neuron).
    R : list of recurrent matrices (n_l, n_l) with zero diagonal, or None entries (or None).
    input_times, input_units : input spikes of layer 0 (any order; sorted stably by time here).
    T : trial length; spikes at t >= T are not recorded.
    theta : LIF threshold (unused by the QIF).
    V0, I0 : optional lists of per-layer initial arrays (default V = 0, I = 0).

    Returns
    -------
    list of LayerResult, one per spiking layer.
    """
    model, tau, W, R, times, units, T, theta, V0, I0 = _check_inputs(
        model, tau_m, W, R, input_times, input_units, T, theta, V0, I0)
    results = []
    for l, w in enumerate(W):
        events = _group_events(times, units, T)
        res = _simulate_layer(model, tau, w, R[l], events, T, theta, V0[l], I0[l])
        results.append(res)
        times, units = res.times, res.units
    return results
