"""``event_flow``, the step of the forward pass and the replay at each event: LIF's one-pass
version must equal, bit for bit, the same step composed of its other verbs (``sweep``,
``reset_neuron``, ``add_current``: what QIF and the general LIF run), and the scalar ``flow``
of every neuron followed by the reset and the recurrent jump."""
import numpy as np
import pytest

import snnexact
from snnexact.engine.neurons import composed, interface

N = 37  # not a multiple of a vector width: the loops' remainders run too


def lif_states(rng):
    """Voltages below threshold and currents of both signs, some large enough to fire."""
    return rng.uniform(-1.0, 0.99, N), rng.uniform(-3.0, 8.0, N)


@pytest.mark.parametrize("m", [-1, 0, 17, N - 1])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("dt", [0.0, 1e-6, 3e-3, 0.2])
def test_lif_event_flow_equals_the_composed_step(m, recurrent, dt):
    p = snnexact.LIF(0.02).kernel
    rng = np.random.default_rng(11)
    V, I = lif_states(rng)
    S = np.empty((2, N))
    interface.init_state(p, V, I, S)
    RT = rng.normal(0.0, 1.0, (N, N)) if recurrent else np.empty((0, N))
    x, s = interface.interval_factors(p, dt)
    fused, steps = np.full_like(S, np.nan), np.full_like(S, np.nan)
    interface.event_flow(p, S, fused, np.zeros(N, np.bool_), x, s, m, RT)
    composed.event_flow(p, S, steps, np.zeros(N, np.bool_), x, s, m, RT)
    assert np.array_equal(fused, steps)
    # and against the scalar flow of each neuron, then the reset and jump of m's spike
    for n in range(N):
        Vn, In = interface.flow(p, V[n], I[n], dt)
        if m >= 0:
            In += RT[m, n] if recurrent else 0.0
            Vn = interface.reset(p, Vn) if n == m else Vn
        assert fused[:, n] == pytest.approx([Vn, In], rel=1e-14, abs=1e-14)
