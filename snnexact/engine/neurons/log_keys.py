"""Key verbs shared by the models whose spike time from an interval start is
``dt* = -tau log(1 - s*)`` with ``s* = 1 - x*`` in ``[0, 1)`` (LIF with ``tau_s = tau_m / 2``,
QIF): ``spike_key`` returns ``s*`` (``inf``: no spike), and since ``d dt*/ds* = tau / (1 - s*)
>= tau``, a key larger by ``d`` spikes at least ``tau d`` later (``simulate.earliest_spike``)."""
import math

from snnexact.engine.jit import jit


@jit
def key_dt(p, k):
    """``dt* = -tau log(1 - s*)`` of the key ``k = s*`` (0 for 0, ``inf`` for ``k >= 1``)."""
    if k == 0.0:
        return 0.0
    return -p.tau * math.log1p(-k) if k < 1.0 else math.inf


@jit
def key_gap_dt(p, k_lo, k_hi):
    """``tau (k_hi - k_lo) <= dt*(k_hi) - dt*(k_lo)``."""
    return p.tau * (k_hi - k_lo)
