r"""QIF pseudodynamics: pseudospike times for neurons that stay silent (docs/theory.md section 4).

After ``T`` the dynamics are replaced by a QIF with always-suprathreshold drive::

    tau dV/dt = (V - 1/2)^2 + sigma,   sigma = softplus_alpha(I(T) + input)
              = alpha ln(1 + exp((I(T) + input) / alpha)),

so with ``q = (V(T) - 1/2) / sqrt(sigma)`` the pseudo-period is ``theta_p = tau pi / sqrt(sigma)``,
the pseudo-phase ``phi_p = (tau / sqrt(sigma)) (arctan q + pi/2)`` and the k-th pseudospike is
``t_k = T + k theta_p - phi_p``. As ``V(T) -> +inf``, ``phi_p -> theta_p`` and ``t_1 -> T``: spike
times pass continuously through the trial end. ``V(T) = -inf`` (reset at ``T``) gives
``phi_p = 0``.

The drive ``input`` comes from a rate pass, layer by layer: the input layer has rate 0 and
layer ``l`` gets ``input_l = W_l r_{l-1} + R_l r0_l`` with ``r = phi_p / theta_p`` in [0, 1];
``r0_l`` is the rate of layer ``l`` computed with input 0 (docs/theory.md: "recurrent layers use rates
computed with input 0"; we read this as the recurrent part of the drive using those rates, so
that no fixed point has to be solved). LIF has no such extension: a silent LIF neuron gets no
gradient.
"""
from dataclasses import dataclass
import math

import numpy as np

DEFAULT_ALPHA = 10.0
MAX_WINDOW_SPIKES = 10_000_000  # pseudospikes of one readout window (memory bound, ~240 MB)
# Floor added to sigma (docs/theory.md section 4 leaves it out): softplus underflows to 0 for a drive
# below about -745 alpha, which would make the pseudo-period tau pi / sqrt(sigma) infinite (and
# its derivatives overflow well before). With the floor the first pseudospike lies at most
# tau pi / sqrt(SIGMA_FLOOR) (about 3e5 tau) after T; for sigma of order 1 (drives above about
# -10 alpha) it changes sigma by a relative 1e-10 or less, far below any tolerance of the tests.
SIGMA_FLOOR = 1e-10


def softplus(x, alpha):
    """``alpha ln(1 + exp(x / alpha)) + SIGMA_FLOOR``, computed without overflow or underflow
    to 0, and its derivative (``sigmoid(x / alpha)``)."""
    z = np.asarray(x, dtype=np.float64) / alpha
    value = alpha * (np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))) + SIGMA_FLOOR
    slope = 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid(z), overflow-free
    return value, slope


def _phase(V, sigma):
    """``(arctan q + pi/2) / pi`` (the rate ``r``) and ``q``; ``V = -inf`` gives 0."""
    rs = np.sqrt(sigma)
    q = (V - 0.5) / rs
    return (np.arctan(q) + math.pi / 2) / math.pi, q


@dataclass(frozen=True)
class PseudoState:
    """The rate pass: per layer the drive, ``sigma`` and its slope, ``q``, rates ``r`` and
    ``r0`` (input 0), and the first pseudospike delay ``t_1 - T`` of every neuron."""

    inputs: list
    sigma: list
    slope: list
    q: list
    rates: list
    rates0: list
    slope0: list
    q0: list
    sigma0: list
    first_delay: list
    tau: float
    alpha: float


def window_spikes(delay, period, window):
    """All pseudospikes ``t_k - T = delay + (k - 1) period < window`` (``k >= 1``) of a layer
    whose neurons have first delays ``delay`` and periods ``period``: returns the offsets after
    ``T``, the neuron of each and its ``k - 1``, in neuron order."""
    counts = np.where(delay < window, np.floor((window - delay) / period) + 1, 0.0)
    if counts.sum() > MAX_WINDOW_SPIKES:
        raise ValueError(f"readout window: {int(counts.sum())} pseudospikes (more than "
                         f"{MAX_WINDOW_SPIKES}); the drive after T is too strong for this window")
    counts = counts.astype(np.int64)  # one too many where the quotient rounds up: masked below
    units = np.repeat(np.arange(delay.size), counts)
    k = np.arange(units.size) - np.repeat(np.cumsum(counts) - counts, counts)
    offsets = delay[units] + k * period[units]
    keep = offsets < window
    return offsets[keep], units[keep], k[keep]


def rate_pass(W, R, V_T, I_T, tau, alpha=DEFAULT_ALPHA):
    """Pseudodynamics of every layer from the trial-end states ``V_T[l], I_T[l]``."""
    out = {k: [] for k in ("inputs", "sigma", "slope", "q", "rates", "rates0", "slope0", "q0",
                           "sigma0", "first_delay")}
    r_prev = None  # the input layer's rates: none (no pseudodynamics), so W[0] does not enter
    for l in range(len(W)):
        sigma0, slope0 = softplus(I_T[l], alpha)
        r0, q0 = _phase(V_T[l], sigma0)
        drive = W[l] @ r_prev if l > 0 else np.zeros(W[0].shape[0])
        if R[l] is not None:
            drive = drive + R[l] @ r0
        sigma, slope = softplus(I_T[l] + drive, alpha)
        r, q = _phase(V_T[l], sigma)
        delay = tau * math.pi / np.sqrt(sigma) * (1.0 - r)  # theta_p - phi_p
        for k, v in zip(out, (drive, sigma, slope, q, r, r0, slope0, q0, sigma0, delay)):
            out[k].append(v)
        r_prev = r
    return PseudoState(**out, tau=float(tau), alpha=float(alpha))


def _phase_vjp(g_r, q, sigma):
    """Pull ``dL/dr`` back through ``r = (arctan q + pi/2)/pi``, ``q = (V - 1/2)/sqrt(sigma)``:
    returns ``(dL/dV, dL/dsigma)``. At ``V = -inf`` (``q = -inf``) ``r`` is flat: both are 0."""
    finite = np.isfinite(q)
    q = np.where(finite, q, 0.0)
    g_q = np.where(finite, g_r / (math.pi * (1.0 + q * q)), 0.0)
    return g_q / np.sqrt(sigma), g_q * (-q / (2.0 * sigma))


def periods(ps):
    """Pseudo-periods ``theta_p = tau pi / sqrt(sigma)`` of every layer."""
    return [ps.tau * math.pi / np.sqrt(s) for s in ps.sigma]


def rate_pass_vjp(ps, W, R, g_delay, g_period=None):
    """Pull ``g_delay[l]`` = dL/d(first pseudospike delay) and ``g_period[l]`` = dL/d(pseudo-
    period theta_p) (optional; ``d theta_p / d sigma = -theta_p / (2 sigma)``) back to the
    trial-end states and the weights. Returns ``(lamV_T, lamI_T, dW, dR)`` lists (``dR[l]`` None
    where ``R[l]`` is; ``dW[0]`` None: the inputs have no pseudodynamics, so ``W[0]`` does not
    enter, and a zero array of its size would only cost page faults)."""
    lamV = [np.zeros_like(x) for x in ps.rates]
    lamI = [np.zeros_like(x) for x in ps.rates]
    dW = [None] + [np.zeros_like(w) for w in W[1:]]
    dR = [None if r is None else np.zeros_like(r) for r in R]
    g_r = [np.zeros_like(x) for x in ps.rates]  # dL/d(rate r of layer l)
    for l in range(len(W) - 1, -1, -1):
        sigma, r, gd = ps.sigma[l], ps.rates[l], g_delay[l]
        # delay P = tau pi / sqrt(sigma) (1 - r(V, sigma))
        scale = ps.tau * math.pi / np.sqrt(sigma)
        g_V, g_sigma = _phase_vjp(g_r[l] - gd * scale, ps.q[l], sigma)
        gp = 0.0 if g_period is None else g_period[l]
        g_sigma = g_sigma - (gd * (1.0 - r) + gp) * scale / (2.0 * sigma)
        g_x = g_sigma * ps.slope[l]  # dL/d(I_T + drive)
        lamV[l] += g_V
        lamI[l] += g_x
        if l > 0:
            dW[l] += np.outer(g_x, ps.rates[l - 1])
            g_r[l - 1] += W[l].T @ g_x
        if R[l] is not None:
            dR[l] += np.outer(g_x, ps.rates0[l])
            np.fill_diagonal(dR[l], 0.0)
            g_V0, g_sigma0 = _phase_vjp(R[l].T @ g_x, ps.q0[l], ps.sigma0[l])
            lamV[l] += g_V0
            lamI[l] += g_sigma0 * ps.slope0[l]
    return lamV, lamI, dW, dR
