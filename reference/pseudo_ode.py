"""Numerical-ODE oracle for QIF pseudospike times after the trial end (never imports snnexact).

After ``T`` a neuron follows ``tau dV/dt = (V - 1/2)^2 + sigma`` (sigma > 0), which in the
theta-neuron form ``V - 1/2 = tan(phi / 2)`` reads::

    tau dphi/dt = (1 - cos phi) + sigma (1 + cos phi)  > 0

so ``phi`` increases through every odd multiple of pi, where ``V`` blows up (a pseudospike) and
restarts from ``-inf``. The pseudospikes are the zeros of ``cos(phi / 2)`` after ``T``, found as
solve_ivp events (DOP853, rtol = atol = 1e-13); no closed form is used.
"""
import math

import numpy as np
from scipy.integrate import solve_ivp


def pseudospike_times(V_T, sigma, tau, T, t_end):
    """Pseudospike times in ``(T, t_end)`` of one neuron starting at ``V(T) = V_T`` (may be
    ``-inf``) with drive ``sigma``."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    phi0 = -math.pi if V_T == -math.inf else 2.0 * math.atan(V_T - 0.5)

    def rhs(t, y):
        return [((1.0 - math.cos(y[0])) + sigma * (1.0 + math.cos(y[0]))) / tau]

    def crossing(t, y):
        return math.cos(0.5 * y[0])

    crossing.direction = 0.0
    sol = solve_ivp(rhs, (T, t_end), [phi0], method="DOP853", events=crossing, rtol=1e-13,
                    atol=1e-13)
    times = np.asarray(sol.t_events[0], dtype=np.float64)
    return times[times > T]
