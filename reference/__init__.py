"""Slow, obviously-correct oracles for snnexact.

reference/ never imports snnexact (enforced by tests/test_reference.py), so a bug shared with the
fast Numba code cannot pass both:

* ``simulate_closed_form`` -- plain Python event loop with the closed-form flows and spike times;
* ``simulate_ode`` -- the same network integrated numerically with scipy's solve_ivp;
* ``reference.adjoint`` -- twins of the adjoint kernels (complex step, docs/theory.md 1.1-1.3 forms);
* ``reference.lif_general`` -- flow and spike-time oracles of the LIF with any ``tau_s``;
* ``reference.nir_cubalif`` -- chains of NIR CubaLIF layers in NIR's own units (per-neuron
  ``w_in``, ``r``, ``v_leak``, ``v_threshold``, ``v_reset``).
"""
from .closed_form import LayerResult, simulate_closed_form
from .ode import LIFSpec, simulate_ode

__all__ = ["LayerResult", "simulate_closed_form", "simulate_ode"]
