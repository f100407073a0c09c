"""Slow, obviously-correct twins of the adjoint kernels in ``snnexact/engine/neurons/*_adjoint.py``.

Plain Python floats (``math``/``cmath``); never imports snnexact. Each twin takes the kernel's
arguments (array kernels: the same arrays, but returns new ones instead of updating in place)
and reaches the same numbers by a different route, so that a shared bug cannot pass both:

LIF (tau dV/dt = -V + I, tau_s = tau/2):
  * flow Jacobian by the **complex step** (d f / d p = Im f(p + i h) / h, h = 1e-30, exact to
    rounding) through ``closed_form.lif_flow``, which is analytic in ``V0`` and ``I0``;
  * spike-time derivatives by the complex step through the *explicit* root formula
    ``dt* = -tau ln x+``, ``x+ = ((V0 + I0) + sqrt(D)) / (2 I0)`` (the kernel uses the
    implicit-function rule instead);
  * ``g_dt = lambda . F(z_end)`` with ``F`` the ODE right-hand side.

QIF (tau dV/dt = V (V - 1) + I, with V = x u, du/ds = u^2 + c):
  * ``C, S, D`` of ``z``: ``cos``/``cosh`` of ``w = sqrt(|z|)``, ``D = (sin w - w cos w)/(2 w^3)``
    written out by the chain rule (or its ``sinh`` twin), and a 30-term power series summed with
    ``math.fsum`` for ``|z| <= 1`` (where the trigonometric forms cancel);
  * flow sensitivities: ``du/du0 = f(u)/f(u0)`` (``f(u) = u^2 + c``, docs/theory.md 1.3) and ``du/dc``
    by the complex step through the tan/tanh branch formulas of docs/theory.md 1.1 (the kernel uses the
    Riccati linearisation and series instead); at ``c = 0`` docs/theory.md's
    ``du/dc = f(u) [G(u) - G(u0)]``, ``G = -1/(3u^3)``, expanded by hand:
    ``du/dc = (s - u0 s^2 + u0^2 s^3 / 3) / (1 - u0 s)^2``;
  * spike time: the complex step through ``dt* = -tau ln(1 - s*)`` with the ``s*`` formulas of
    docs/theory.md 1.2 (the kernel uses the series form of ``ds*/dc``); ``ds*/dc = -1/(3 u0^3)`` at
    ``c = 0``.
  The branch formulas lose digits as ``c -> 0``: use the twins for ``|c|`` of order one and at
  ``c = 0`` exactly. (docs/theory.md 1.3's general ``G`` forms cancel too badly to serve as a twin:
  ``|G| ~ |c|^-1.5`` while ``G(u) - G(u0) ~ s`` for short intervals.)

General-ratio LIF (tau_m dV/dt = (v_leak - V) + r I, tau_s dI/dt = -I; docs/theory.md 10):
  * flow Jacobian by the complex step through the amplitude form of the solution
    (``lif_general.closed_flow``; the kernel uses the divided-difference kernel ``K``),
    ``g_dt = lambda . F(end)`` with ``F`` the ODE right-hand side;
  * the input-time adjoint of every model: ``lambda . (F(z) - F(z + w e_I)) / w`` with the
    right-hand side evaluated at two states (``input_time_adjoint``).
"""
from __future__ import annotations

import cmath
import math

import numpy as np

from .closed_form import lif_flow, qif_next_spike, qif_u
from .lif_general import closed_flow

__all__ = ["lif_flow_grad", "lif_spike_time_grad", "lif_interval_vjp", "qif_css",
           "qif_flow_grad", "qif_spike_time_grad", "qif_one_vjp", "qif_interval_vjp",
           "general_lif_interval_vjp", "input_time_adjoint"]

_H = 1e-30  # complex step: no subtractive cancellation, so any tiny step is exact to rounding


# ----------------------------------------------------------------------------------------------
# LIF
# ----------------------------------------------------------------------------------------------
def lif_flow_grad(V0, I0, dt, tau):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` by the complex step through the closed-form flow."""
    V, I = lif_flow(V0, I0, dt, tau)
    dV_dV0 = lif_flow(complex(V0, _H), I0, dt, tau)[0].imag / _H
    VI, II = lif_flow(V0, complex(I0, _H), dt, tau)
    return V, I, dV_dV0, VI.imag / _H, II.imag / _H


def _lif_root_time(V0, I0, tau, theta):
    """``dt* = -tau ln x+`` written for complex arguments (the explicit larger root)."""
    b = V0 + I0
    x_plus = (b + cmath.sqrt(b * b - 4.0 * I0 * theta)) / (2.0 * I0)
    return -tau * cmath.log(x_plus)


def lif_spike_time_grad(V0, I0, tau, theta):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)``; ``(inf, 0, 0)`` without a crossing (D <= 0, x+ >= 1)."""
    if I0 <= 0.0:
        return math.inf, 0.0, 0.0
    b = V0 + I0
    D = b * b - 4.0 * I0 * theta
    if D <= 0.0:
        return math.inf, 0.0, 0.0
    x_plus = (b + math.sqrt(D)) / (2.0 * I0)
    if not 0.0 < x_plus < 1.0:
        return math.inf, 0.0, 0.0
    dt = -tau * math.log(x_plus)
    d_V0 = _lif_root_time(complex(V0, _H), I0, tau, theta).imag / _H
    d_I0 = _lif_root_time(V0, complex(I0, _H), tau, theta).imag / _H
    return dt, d_V0, d_I0


def lif_interval_vjp(V0, I0, lamV, lamI, x, tau, m):
    """Adjoint pulled back over one interval: ``(lamV0, lamI0, g_dt)`` (new arrays).

    ``lam0 = J^T lam`` with ``J`` the complex-step flow Jacobian; ``g_dt = sum lam . F(end)``.
    The neuron ``m`` that spikes at the end needs nothing special (its ``lamV`` is zero).
    """
    dt = -tau * math.log(x)
    lv0, li0, terms = [], [], []
    for V0n, I0n, lv, li in zip(V0, I0, lamV, lamI):
        V, I, dV_dV0, dV_dI0, dI_dI0 = lif_flow_grad(V0n, I0n, dt, tau)
        lv0.append(lv * dV_dV0)
        li0.append(lv * dV_dI0 + li * dI_dI0)
        terms.append(lv * (-V + I) / tau + li * (-2.0 * I / tau))
    return np.array(lv0), np.array(li0), math.fsum(terms)


# ----------------------------------------------------------------------------------------------
# QIF
# ----------------------------------------------------------------------------------------------
def qif_css(z):
    """``C(z) = cos(sqrt(-z))``, ``S(z) = sin(sqrt(-z))/sqrt(-z)`` (cosh/sinh for z > 0) and
    ``D = dS/dz``."""
    if abs(z) <= 1.0:
        # C = sum z^k/(2k)!, S = sum z^k/(2k+1)!, D = sum (k+1) z^k/(2k+3)!; 30 terms: tail < 1e-60
        C = math.fsum(z ** k / math.factorial(2 * k) for k in range(30))
        S = math.fsum(z ** k / math.factorial(2 * k + 1) for k in range(30))
        D = math.fsum((k + 1) * z ** k / math.factorial(2 * k + 3) for k in range(30))
        return C, S, D
    w = math.sqrt(abs(z))
    if z < 0.0:  # S = sin(w)/w, dS/dw = (w cos w - sin w)/w^2, dw/dz = -1/(2w)
        return math.cos(w), math.sin(w) / w, (math.sin(w) - w * math.cos(w)) / (2.0 * w ** 3)
    # S = sinh(w)/w, dS/dw = (w cosh w - sinh w)/w^2, dw/dz = 1/(2w)
    return math.cosh(w), math.sinh(w) / w, (w * math.cosh(w) - math.sinh(w)) / (2.0 * w ** 3)


def _qif_u_complex(u0, c, s):
    """The branch formulas of ``closed_form.qif_u`` for a complex ``c`` (branch by ``c.real``)."""
    if c.real > 0.0:
        a = cmath.sqrt(c)
        if u0 == -math.inf:
            return -a / cmath.tan(a * s)
        return a * cmath.tan(cmath.atan(u0 / a) + a * s)
    a = cmath.sqrt(-c)
    if u0 == -math.inf:
        return -a / cmath.tanh(a * s)
    if abs(u0) < a.real:
        return a * cmath.tanh(cmath.atanh(u0 / a) - a * s)
    return a / cmath.tanh(cmath.atanh(a / u0) - a * s)


def _qif_spike_s_complex(u0, c):
    """``s*`` of the blow-up (docs/theory.md 1.2) for complex ``u0`` or ``c`` (a spike exists)."""
    if c == 0.0:
        return 1.0 / u0
    if c.real > 0.0:
        a = cmath.sqrt(c)
        return (math.pi if u0 == -math.inf else math.pi / 2 - cmath.atan(u0 / a)) / a
    a = cmath.sqrt(-c)
    return cmath.atanh(a / u0) / a


def _qif_du(u0, c, s):
    """``(u, du/du0, du/dc)`` of the Riccati flow over ``s``; ``u0`` may be ``-inf``."""
    u = qif_u(u0, c, s)
    if c == 0.0:
        if u0 == -math.inf:  # u = -1/s: du/dc = f(u) [G(u) - G(-inf)] = -1/(3 u) = s/3
            return u, 0.0, s / 3.0
        q = 1.0 - u0 * s
        return u, 1.0 / q ** 2, (s - u0 * s * s + u0 * u0 * s ** 3 / 3.0) / q ** 2
    du_du0 = 0.0 if u0 == -math.inf else (u * u + c) / (u0 * u0 + c)
    return u, du_du0, _qif_u_complex(u0, complex(c, _H), s).imag / _H


def qif_flow_grad(V0, I0, dt, tau):
    """``(V, I, dV/dV0, dV/dI0, dI/dI0)`` from the generic docs/theory.md 1.3 forms (see module doc)."""
    x = math.exp(-dt / tau)
    s = -math.expm1(-dt / tau)
    u, du_du0, du_dc = _qif_du(V0, I0, s)
    return x * u, I0 * x * x, x * du_du0, x * du_dc, x * x


def qif_spike_time_grad(V0, I0, tau):
    """``(dt*, d(dt*)/dV0, d(dt*)/dI0)`` of the blow-up; ``(inf, 0, 0)`` if none. The complex
    step through ``dt* = -tau ln(1 - s*(u0, c))`` (``ds*/dc = -1/(3 u0^3)`` at ``c = 0``)."""
    t_spike = qif_next_spike(V0, I0, tau)
    if t_spike == math.inf:
        return math.inf, 0.0, 0.0

    def time_of(u0, c):
        return -tau * cmath.log(1.0 - _qif_spike_s_complex(u0, c))
    by_u0 = 0.0 if V0 == -math.inf else time_of(complex(V0, _H), I0).imag / _H
    if I0 == 0.0:  # s* = 1/u0: ds*/dc = -[G(inf) - G(u0)] with G = -1/(3 u^3)
        by_c = tau / (1.0 - 1.0 / V0) * (-1.0 / (3.0 * V0 ** 3))
    else:
        by_c = time_of(V0, complex(I0, _H)).imag / _H
    return t_spike, by_u0, by_c


def qif_one_vjp(V0, I0, lv, li, dt, tau, spiking):
    """``(lamV0, lamI0, g_dt)`` of one neuron: ``J^T lam`` and ``lam . F(end)``; a neuron that
    spikes at the end (``spiking``) ends on the pole, where only ``lamI`` carries back."""
    if spiking:
        s = -math.expm1(-dt / tau)
        I = I0 * (1.0 - s) ** 2
        return 0.0, li * (1.0 - s) ** 2, li * (-2.0 * I / tau)
    V, I, dV_dV0, dV_dI0, dI_dI0 = qif_flow_grad(V0, I0, dt, tau)
    g = lv * (V * V - V + I) / tau + li * (-2.0 * I / tau)
    return lv * dV_dV0, lv * dV_dI0 + li * dI_dI0, g


def qif_interval_vjp(V0, I0, lamV, lamI, dt, tau, m):
    """The layer pull-back, neuron by neuron: ``(lamV0, lamI0, g_dt)`` (new arrays)."""
    out = [qif_one_vjp(V0[n], I0[n], lamV[n], lamI[n], dt, tau, n == m) for n in range(len(V0))]
    return (np.array([o[0] for o in out]), np.array([o[1] for o in out]),
            math.fsum(o[2] for o in out))


# ----------------------------------------------------------------------------------------------
# General-ratio LIF and the input-time adjoint of every model
# ----------------------------------------------------------------------------------------------
def _general_rhs(V, I, tau_m, tau_s, v_leak, r):
    return ((v_leak - V) + r * I) / tau_m, -I / tau_s


def _general_flow_complex(V0, I0, dt, tau_m, tau_s, v_leak, r):
    """``closed_flow`` in complex arithmetic (amplitude form, ``tau_s != tau_m``)."""
    amp = r * I0 * tau_s / (tau_s - tau_m)
    V = v_leak + (V0 - v_leak - amp) * cmath.exp(-dt / tau_m) + amp * cmath.exp(-dt / tau_s)
    return V, I0 * cmath.exp(-dt / tau_s)


def general_lif_interval_vjp(V0, I0, lamV, lamI, dt, tau_m, tau_s, v_leak, r, m):
    """``(lamV0, lamI0, g_dt)`` over one interval of the general LIF (new arrays); the neuron
    ``m`` spiking at the end has its ``lamV`` erased by the reset first. Needs
    ``tau_s != tau_m`` (the amplitude form)."""
    lamV = np.array(lamV, dtype=float)
    if m >= 0:
        lamV[m] = 0.0
    lv0, li0, terms = [], [], []
    for V0n, I0n, lv, li in zip(V0, I0, lamV, lamI):
        dV0 = _general_flow_complex(V0n + 1j * _H, I0n, dt, tau_m, tau_s, v_leak, r)
        dI0 = _general_flow_complex(V0n, I0n + 1j * _H, dt, tau_m, tau_s, v_leak, r)
        lv0.append(lv * dV0[0].imag / _H + li * dV0[1].imag / _H)
        li0.append(lv * dI0[0].imag / _H + li * dI0[1].imag / _H)
        V, I = closed_flow(V0n, I0n, dt, tau_m, tau_s, v_leak, r)
        FV, FI = _general_rhs(V, I, tau_m, tau_s, v_leak, r)
        terms.append(lv * FV + li * FI)
    return np.array(lv0), np.array(li0), math.fsum(terms)


def input_time_adjoint(lamV, lamI, rhs, w=1.0):
    """``lam . (F(z) - F(z + w e_I)) / w`` per neuron for the right-hand side ``rhs(V, I) ->
    (dV/dt, dI/dt)``, evaluated at ``z = 0`` (it is affine in ``I`` for every model here)."""
    out = []
    for lv, li in zip(lamV, lamI):
        F0 = rhs(0.0, 0.0)
        F1 = rhs(0.0, w)
        out.append((lv * (F0[0] - F1[0]) + li * (F0[1] - F1[1])) / w)
    return np.array(out)
