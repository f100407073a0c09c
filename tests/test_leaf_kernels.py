"""Leaf kernels (``jit.leaf`` and every neuron verb) run without Numba's reference counting, which is safe only if they return no arrays: a caller would release a
reference that was never taken. Numba itself refuses allocations there, not array returns."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import snnexact
from snnexact.engine.neurons import interface

# kernel parameters of every model the package registers
MODELS = {"lif": snnexact.LIF(0.02), "qif": snnexact.QIF(0.02),
          "general lif": snnexact.LIF(0.02, tau_s=0.007, v_leak=0.1, v_reset=-0.2, r=1.5)}
N = 5


def holds_array(value):
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, tuple) and any(holds_array(v) for v in value)


def verb_calls(p):
    """One valid call of every verb: ``(name, args)``."""
    rng = np.random.default_rng(0)
    V, I = 0.5 * rng.random(N), rng.normal(size=N)
    S = np.empty((interface.state_rows(p), N))
    interface.init_state(p, V, I, S)
    lam = lambda: rng.normal(size=N)  # noqa: E731
    flags = np.zeros(N, np.bool_)
    x, s = interface.interval_factors(p, 0.001)
    return [
        ("init_state", (V, I, np.empty_like(S))), ("flow", (0.5, 1.0, 0.01)), ("next_spike_time", (0.5, 1.0)), ("jump", (1.0, 0.5)),
        ("reset", (0.9,)), ("flow_grad", (0.5, 1.0, 0.01)), ("spike_time_grad", (0.5, 80.0)),
        ("state_VI", (S, np.empty(N), np.empty(N))), ("interval_factors", (0.01,)),
        ("sweep", (S, np.empty_like(S), flags, x, s)),
        ("exact_end", (S, np.empty_like(S), 0, x, s)), ("spike_key", (S, 0, 0.01)),
        ("event_flow", (S, np.empty_like(S), flags, x, s, 1, rng.normal(size=(N, N)))),
        ("spike_sweep", (S.copy(), np.empty_like(S), flags, x, s, 1, rng.normal(size=(N, N)), x, s)),
        ("key_dt", (0.5,)), ("key_gap_dt", (0.25, 0.5)),
        ("reset_neuron", (S.copy(), 0)), ("add_current", (S.copy(), lam())),
        ("interval_vjp", (S, S, lam(), lam(), x, s, 0.001, -1, flags, np.empty(N))),
        ("neuron_VI", (S, 0)),
        ("input_time_adjoint", (lam(), lam(), np.empty(N))),
        ("spike_tied_to_previous", (0.5, 0.001)),
    ]


@pytest.mark.parametrize("model", list(MODELS))
def test_no_verb_returns_an_array(model):
    p = MODELS[model].kernel
    calls = verb_calls(p)
    assert sorted(name for name, _ in calls) == sorted(interface.VERBS)
    for name, args in calls:
        result = getattr(interface, name)(p, *args)
        assert not holds_array(result), f"{model} verb {name} returns an array"


LEAF_SCRIPT = textwrap.dedent("""
    import importlib, pkgutil
    import numpy as np
    import snnexact
    from snnexact.engine.traces import layer_states
    from numba.core.registry import CPUDispatcher
    from numba.core.types import Array
    for neuron in (snnexact.LIF(0.02), snnexact.QIF(0.02), snnexact.LIF(0.02, tau_s=0.007)):
        net = snnexact.Network(neuron, (3, 4, 2), recurrent=True)
        params = net.init_params(1, w_mean=2.0, w_std=1.0)
        snnexact.value_and_grad(net, params, [0.01, 0.02, 0.03], [0, 1, 2], 0, 0.2)
        res = snnexact.simulate(net, params, [0.01, 0.02, 0.03], [0, 1, 2], 0.2)
        layer_states(net, res, 0)  # the replay's Python entry (traces)
    def holds_array(t):
        return isinstance(t, Array) or any(holds_array(x) for x in getattr(t, "types", ()))
    found = 0
    for info in pkgutil.walk_packages(snnexact.__path__, "snnexact."):
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if (isinstance(obj, CPUDispatcher) and obj.__module__ == info.name
                    and obj.targetoptions.get("_nrt") is False):
                sigs = obj.nopython_signatures
                assert sigs, f"{info.name}.{name} was not compiled by the run"
                for sig in sigs:
                    assert not holds_array(sig.return_type), f"{info.name}.{name}: {sig}"
                found += 1
    print("leaf kernels checked:", found)
""")


def test_no_leaf_kernel_returns_an_array(tmp_path):
    """In a fresh process with an empty Numba cache (so every kernel compiles through its
    dispatcher), simulate and differentiate each model, then read the return type of every
    compiled ``jit.leaf`` kernel of the package."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", LEAF_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    found = int(run.stdout.strip().splitlines()[-1].split(":")[1])
    assert found >= 9  # event_loop, earliest_spike, add_input_event, replay, copy_state,
    # reverse_loop, two sums, the QIF sweep, replay_states


def test_inner_kernel_refuses_python_calls_and_has_a_python_twin():
    """An ``inner`` kernel has no CPython wrapper: a Python call raises ``TypeError`` naming it
    (instead of jumping through the missing wrapper), and its ``python_twin`` runs the same
    function (a sum of small integers is exact in any order: 1 + ... + 10 = 55)."""
    from snnexact.engine.sums import ordered_total
    a = np.arange(1.0, 11.0)
    with pytest.raises(TypeError, match="sums.ordered_total runs only inside compiled kernels"):
        ordered_total(a)
    assert ordered_total.python_twin()(a) == 55.0
