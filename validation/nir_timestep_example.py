"""Check a time-stepped CubaLIF network against snnexact through NIR (docs/nir.md).

A 20 -> 30 (recurrent) -> 5 network with tau_mem = 20 ms, tau_syn = 10 ms is written in the
parameter convention of a typical time-stepped framework (Norse-style forward Euler, below),
exported to a NIR graph built by hand, imported with ``from_nir`` and simulated exactly. The
discrete spike times are then compared with the exact ones as ``dt`` shrinks, and the exact
gradient of the first-spike loss with respect to one weight with central differences of the
discrete loss.

Time-stepped convention (one step of length ``dt``, per layer, layers in order)::

    v <- v + dt/tau_mem ((v_leak - v) + r i)
    i <- i - dt/tau_syn i
    z = v > v_threshold;  v <- v_reset where z
    i <- i + W s_in + R z             (a spike adds its weight to i)

so a spike adds ``W`` to ``i``; in NIR's continuous CubaLIF (``tau_syn dI/dt = -I + w_in S``,
Dirac spikes) the same jump is ``w_in W_nir / tau_syn``: the export writes
``W_nir = tau_syn W`` with ``w_in = 1``. A discrete spike is stamped at the end of its step;
``interp`` also reports the time linearly interpolated inside the step.

Run: ``python validation/nir_timestep_example.py`` (numpy, snnexact and nir; ~1 minute).
"""
import numpy as np

import nir
import snnexact
from snnexact.engine.losses import first_spike_loss
from snnexact.interfaces.nir_io import from_nir

TAU_MEM, TAU_SYN, THETA = 0.02, 0.01, 1.0
SIZES = (20, 30, 5)
T = 0.15
DTS = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
LABEL = 0
GRAD_STEPS = (3e-2, 1e-2)    # central-difference steps (absolute; weights are O(1))


def framework_network(seed=4):
    """Weights in the framework's units (a spike adds W to i; W = 4 fires a neuron from rest),
    scaled so that every output neuron fires a few times."""
    rng = np.random.default_rng(seed)
    W0 = rng.normal(0.0, 1.0, (SIZES[1], SIZES[0])) * 4 / np.sqrt(SIZES[0])
    R0 = rng.normal(0.0, 0.5, (SIZES[1], SIZES[1])) * 4 / np.sqrt(SIZES[1])
    np.fill_diagonal(R0, 0.0)
    W1 = rng.normal(0.1, 0.8, (SIZES[2], SIZES[1])) * 4 / np.sqrt(SIZES[1])
    return [W0, W1], [R0, None]


def inputs(seed=2):
    """About 4 spikes per input unit, all in the first 100 ms."""
    rng = np.random.default_rng(seed)
    n = 4 * SIZES[0]
    return np.sort(rng.uniform(0.0, 0.1, n)), rng.integers(0, SIZES[0], n)


def to_nir_graph(W, R):
    """NIR graph of the framework network (the export a framework would write)."""
    def cuba(n):
        full = lambda x: np.full(n, float(x))  # noqa: E731
        return nir.CubaLIF(tau_syn=full(TAU_SYN), tau_mem=full(TAU_MEM), r=full(1),
                           v_leak=full(0), v_threshold=full(THETA), v_reset=full(0), w_in=full(1))
    nodes = {"input": nir.Input(input_type={"input": np.array([SIZES[0]])}),
             "fc0": nir.Linear(weight=TAU_SYN * W[0]), "lif0": cuba(SIZES[1]),
             "rec0": nir.Linear(weight=TAU_SYN * R[0]),
             "fc1": nir.Linear(weight=TAU_SYN * W[1]), "lif1": cuba(SIZES[2]),
             "output": nir.Output(output_type={"output": np.array([SIZES[2]])})}
    edges = [("input", "fc0"), ("fc0", "lif0"), ("lif0", "rec0"), ("rec0", "lif0"),
             ("lif0", "fc1"), ("fc1", "lif1"), ("lif1", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def simulate_discrete(W, R, times, units, dt):
    """Spike trains per layer (lists of per-neuron time arrays): end-of-step stamps and
    times interpolated linearly inside the crossing step."""
    n_steps = int(round(T / dt))
    drive = np.zeros((n_steps, SIZES[0]))
    np.add.at(drive, (np.minimum((times / dt).astype(int), n_steps - 1), units), 1.0)
    v = [np.zeros(n) for n in SIZES[1:]]
    i = [np.zeros(n) for n in SIZES[1:]]
    stamps = [[[] for _ in range(n)] for n in SIZES[1:]]
    interp = [[[] for _ in range(n)] for n in SIZES[1:]]
    for k in range(n_steps):
        s = drive[k]
        for l in range(len(W)):
            v_old = v[l]
            v_new = v_old + dt / TAU_MEM * (-v_old + i[l])
            i[l] = i[l] - dt / TAU_SYN * i[l]
            z = v_new > THETA
            for n in np.nonzero(z)[0]:
                stamps[l][n].append((k + 1) * dt)
                interp[l][n].append((k + (THETA - v_old[n]) / (v_new[n] - v_old[n])) * dt)
            v_new[z] = 0.0
            v[l] = v_new
            zf = z.astype(float)
            i[l] = i[l] + W[l] @ s + (R[l] @ zf if R[l] is not None else 0.0)
            s = zf
    as_arrays = lambda trains: [[np.array(t) for t in layer] for layer in trains]  # noqa: E731
    return as_arrays(stamps), as_arrays(interp)


def exact_trains(net, params, times, units):
    res = snnexact.simulate(net, params, times, units, T)
    return [[L.times[L.units == n] for n in range(size)]
            for L, size in zip(res.layers, SIZES[1:])]


def compare(exact, discrete):
    """Mean |t_discrete - t_exact| over spikes of neurons with equal counts, and the fraction
    of neurons whose spike count differs."""
    errors, mismatched, total = [], 0, 0
    for layer_e, layer_d in zip(exact, discrete):
        for te, td in zip(layer_e, layer_d):
            total += 1
            if te.size != td.size:
                mismatched += 1
            else:
                errors.append(np.abs(td - te))
    errors = np.concatenate(errors) if errors else np.zeros(0)
    return errors.mean(), mismatched / total


def discrete_loss(W, R, times, units, dt):
    """First-spike loss of the discrete network (interpolated times; silent outputs count as T,
    as snnexact does for LIF)."""
    _, interp = simulate_discrete(W, R, times, units, dt)
    t_first = np.array([t[0] if t.size else T for t in interp[-1]])
    return first_spike_loss(t_first, LABEL, TAU_MEM, T, 1e-2).loss


def main():
    W, R = framework_network()
    times, units = inputs()
    net, params = from_nir(to_nir_graph(W, R))
    exact = exact_trains(net, params, times, units)
    n_exact = [sum(t.size for t in layer) for layer in exact]
    print(f"imported: {net}\nexact spikes per layer: {n_exact} (first output spikes "
          f"{[round(float(t[0]) * 1e3, 3) if t.size else None for t in exact[-1]]} ms)\n")
    print("| dt (s) | mean abs error, end-of-step (s) | mean abs error, interpolated (s) "
          "| neurons with a different spike count |")
    print("|---|---|---|---|")
    for dt in DTS:
        stamps, interp = simulate_discrete(W, R, times, units, dt)
        e_stamp, miss = compare(exact, stamps)
        e_interp, _ = compare(exact, interp)
        print(f"| {dt:.0e} | {e_stamp:.2e} | {e_interp:.2e} | {100 * miss:.1f} % |")

    value, grads, _ = snnexact.value_and_grad(net, params, times, units, LABEL, T)
    # an output weight of the label neuron, the one with the largest exact gradient (hidden
    # weights here are dominated by a nearly grazing hidden spike: docs/nir.md)
    l, post = 1, LABEL
    pre = int(np.argmax(np.abs(grads.W[l][post])))
    g_exact = grads.W[l][post, pre]
    print(f"\nfirst-spike loss (label {LABEL}) = {value:.6f}; exact dL/dW{l}[{post},{pre}] = "
          f"{g_exact:.6f} (snnexact.value_and_grad)")
    print("\n| dt (s) | h | central difference of the loss | relative error vs exact gradient |")
    print("|---|---|---|---|")

    def perturbed(h):
        Wh = [w.copy() for w in W]
        Wh[l][post, pre] += h
        return Wh

    def exact_loss(Wh):  # imported again, as a framework would re-export after a change
        net_h, params_h = from_nir(to_nir_graph(Wh, R))
        return snnexact.loss(net_h, params_h, times, units, LABEL, T)

    for dt in (None,) + DTS[-3:]:
        for h in GRAD_STEPS:
            if dt is None:
                fd = (exact_loss(perturbed(h)) - exact_loss(perturbed(-h))) / (2 * h)
            else:
                fd = (discrete_loss(perturbed(h), R, times, units, dt)
                      - discrete_loss(perturbed(-h), R, times, units, dt)) / (2 * h)
            label = "exact (snnexact)" if dt is None else f"{dt:.0e}"
            print(f"| {label} | {h:.0e} | {fd:.6f} | {abs(fd - g_exact) / abs(g_exact):.1e} |")

if __name__ == "__main__":
    main()
