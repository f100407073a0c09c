"""``event_flow``, the step of the forward pass and the replay at each event, and
``spike_sweep``, the forward pass's step at a spike (``event_flow`` then ``sweep``): LIF's
one-pass versions must equal, bit for bit, the same steps composed of its other verbs
(``sweep``, ``reset_neuron``, ``add_current``: what QIF and the general LIF run; the composed
``spike_sweep`` leaves its sweep to the event loop), and the scalar ``flow`` of every neuron
followed by the reset and the recurrent jump."""
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


@pytest.mark.parametrize("m", [0, 17, N - 1])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("dt1, dt", [(0.0, 0.0), (1e-6, 3e-3), (3e-3, 1e-6), (0.2, 0.05)])
def test_lif_spike_sweep_equals_the_composed_step(m, recurrent, dt1, dt):
    p = snnexact.LIF(0.02).kernel
    rng = np.random.default_rng(12)
    V, I = lif_states(rng)
    V[m], I[m] = 0.5, 9.0  # the spiking neuron would fire again soon after its reset
    S = np.empty((2, N))
    interface.init_state(p, V, I, S)
    RT = rng.normal(0.0, 1.0, (N, N)) if recurrent else np.empty((0, N))
    x1, s1 = interface.interval_factors(p, dt1)
    x, s = interface.interval_factors(p, dt)
    results = []
    for spike_sweep in (interface.spike_sweep, composed.spike_sweep):
        state, post = S.copy(), np.full_like(S, np.nan)
        flags = np.zeros(N, np.bool_)
        n_flag = spike_sweep(p, state, post, flags, x1, s1, m, RT, x, s)
        if n_flag < 0:  # the composed version leaves the sweep to the event loop
            assert spike_sweep is composed.spike_sweep
            n_flag = interface.sweep(p, post, state, flags, x, s)
        results.append((n_flag, state, post, flags))
    (n_fused, swept, post, flags), (n_steps, swept_steps, post_steps, flags_steps) = results
    assert n_fused == n_steps == flags.sum()
    assert np.array_equal(flags, flags_steps)
    assert np.array_equal(post, post_steps) and np.array_equal(swept, swept_steps)
    assert post[0, m] == 0.0  # reset
    # the reset neuron's sweep starts from its reset state, not from its pre-spike voltage
    tentative = interface.flow(p, 0.0, post[1, m], dt)
    assert swept[:, m] == pytest.approx(tentative, rel=1e-14, abs=1e-14)
