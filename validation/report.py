"""The validation suite as a report (``snnexact validate [--quick|--thorough] --out DIR``).

Each check returns a ``Check`` with its figures and pass/fail; ``run`` writes ``report.md`` and
``report.json`` and returns the checks. The checks, with the number of cases per level
(quick / default / thorough) in ``LEVELS``:

* ``ode``: spike times and end states against the numerical ODE oracle (``reference/ode.py``,
  solve_ivp, no closed forms) over random small networks; worst scaled error. Cases whose spike
  counts change when all weights are scaled by ``1 -+ 1e-7`` are ill-conditioned (two exact
  simulators may differ there) and counted apart.
* ``gradients``: the exact gradient against central finite differences (one Richardson step) for
  random weight entries of random networks, both models, all readouts; entries whose spike
  sequence changes within the step are skipped.
* ``mpmath``: tiny networks (inputs -> spiking outputs, first-spike loss), loss and gradient in
  50-digit arithmetic from the closed forms (written again here with mpmath, independent of
  snnexact) and differentiated numerically by mpmath, against snnexact's double-precision
  values.
* ``continuity``: loss along random lines in weight space (``validation/continuity.py``): the QIF
  loss has no jump that survives refinement and its spikes enter or leave only through ``T``;
  the LIF figures (jumps, grazing crossings) are reported.
* ``nan_free``: ``validation/nan_free.py`` over the whole valid range.
* ``determinism``: a short training run with 1 and with 2 worker processes, bitwise equal.
* ``speed``: forward and forward+gradient time per sample of a 100-64-10 network, median of
  the repetitions (information, always passes).
"""
from dataclasses import asdict, dataclass, field
import json
import math
import os
from pathlib import Path
import platform
import tempfile
import time
import warnings

import numpy as np

import snnexact
from snnexact.engine.simulate import SpikeBudgetWarning

LEVELS = {
    "quick": dict(ode=24, gradients=24, mpmath=6, lines=1, points=161, nan_free=4000, speed=5),
    "default": dict(ode=60, gradients=60, mpmath=12, lines=2, points=301, nan_free=20000,
                    speed=10),
    "thorough": dict(ode=300, gradients=300, mpmath=40, lines=4, points=601, nan_free=100000,
                     speed=30),
}
CHECKS = ("ode", "gradients", "mpmath", "continuity", "nan_free", "determinism", "speed")

# tolerances (the same meaning and values as tests/tolerances.py)
SPIKE_TIME_RTOL, SPIKE_TIME_ATOL = 1e-9, 1e-12
STATE_RTOL, STATE_ATOL = 1e-9, 1e-10
FD_STEP, FD_GRAD_RTOL, FD_GRAD_ATOL = 1e-6, 1e-6, 1e-7
MPMATH_RTOL, MPMATH_ATOL = 1e-10, 1e-13      # double precision vs 50 digits
CONDITION_PERTURBATION = 1e-7
MIN_DIST_TO_T = 1e-6


@dataclass
class Check:
    """One check: ``name``, ``passed``, a one-line ``summary`` and its ``figures``."""

    name: str
    passed: bool
    summary: str
    figures: dict = field(default_factory=dict)
    seconds: float = 0.0


def _scaled(got, ref, rtol, atol):
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    same = got == ref
    with np.errstate(invalid="ignore"):
        err = np.abs(got - ref) / (atol + rtol * np.abs(ref))
    return np.where(same, 0.0, err)


def _random_network(rng, model, recurrent=None, sizes=None):
    neuron = snnexact.LIF(tau_m=1.0) if model == "lif" else snnexact.QIF(tau_m=1.0)
    if sizes is None:
        sizes = (int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(2, 4)))
    rec = bool(rng.integers(2)) if recurrent is None else recurrent
    net = snnexact.Network(neuron, sizes, recurrent=rec)
    params = net.init_params(int(rng.integers(2 ** 31)), w_mean=0.6 * net.kick,
                             w_std=0.8 * net.kick)
    n_in = int(rng.integers(4, 12))
    T = 2.0
    times = np.sort(rng.uniform(0.0, 0.7 * T, n_in))
    units = rng.integers(0, sizes[0], n_in)
    return net, params, times, units, T


# ----------------------------------------------------------------------------- ODE oracle

def _oracle(fn, net, params, times, units, T, scale=1.0):
    W = [w * scale for w in params.W]
    R = [None if r is None else r * scale for r in params.R]
    theta = net.neuron.theta if net.neuron.name == "lif" else 1.0
    return fn(net.neuron.name, net.neuron.tau_m, W, R, times, units, T, theta=theta)


def check_ode(n_cases, rng):
    import reference
    worst_t = worst_s = 0.0
    n_ok = n_ill = n_spikes = 0
    failures = []
    for i in range(n_cases):
        model = ("lif", "qif")[i % 2]
        net, params, times, units, T = _random_network(rng, model)
        res = snnexact.simulate(net, params, times, units, T, on_budget="raise")
        ref = _oracle(reference.simulate_ode, net, params, times, units, T)
        counts = [np.bincount(L.units, minlength=n) for L, n in zip(ref, net.sizes[1:])]
        ill = False
        for f in (1 - CONDITION_PERTURBATION, 1 + CONDITION_PERTURBATION):
            other = _oracle(reference.simulate_closed_form, net, params, times, units, T, f)
            ill |= any(not np.array_equal(a, np.bincount(L.units, minlength=n))
                       for a, L, n in zip(counts, other, net.sizes[1:]))
        if ill or any(np.any(np.abs(L.times - T) < MIN_DIST_TO_T) for L in ref):
            n_ill += 1
            continue
        for l, (got, want) in enumerate(zip(res.layers, ref)):
            if got.n_spikes != len(want.times) or not np.array_equal(got.units, want.units):
                failures.append(f"case {i} ({model}) layer {l}: {got.n_spikes} spikes, oracle "
                                f"{len(want.times)}")
                continue
            n_spikes += got.n_spikes
            if got.n_spikes:
                worst_t = max(worst_t, float(_scaled(got.times, want.times, SPIKE_TIME_RTOL,
                                                     SPIKE_TIME_ATOL).max()))
            for a, b in ((got.V, want.V), (got.I, want.I)):
                if model == "qif":   # compare V as a phase (V may be -inf after a reset)
                    a, b = 2 * np.arctan(a - 0.5), 2 * np.arctan(b - 0.5)
                worst_s = max(worst_s, float(_scaled(a, b, STATE_RTOL, STATE_ATOL).max()))
        n_ok += 1
    passed = not failures and worst_t <= 1.0 and worst_s <= 1.0
    return Check("ode", passed,
                 f"{n_ok} networks ({n_spikes} spikes) match the ODE oracle; worst spike-time "
                 f"error {worst_t:.3g} x tolerance, worst end-state error {worst_s:.3g} x "
                 f"tolerance; {n_ill} ill-conditioned cases set aside",
                 dict(cases=n_ok, spikes=n_spikes, ill_conditioned=n_ill,
                      worst_spike_time_error=worst_t, worst_state_error=worst_s,
                      tolerance=f"rtol {SPIKE_TIME_RTOL}, atol {SPIKE_TIME_ATOL}",
                      failures=failures[:10]))


# ----------------------------------------------------------------------------- finite differences

def _signature(ev):
    return ([L.units.tobytes() for L in ev.simulation.layers], ev.pseudo_outputs.tobytes())


def check_gradients(n_cases, rng):
    worst = 0.0
    n_checked = n_skipped = 0
    failures = []
    for i in range(n_cases):
        model = ("lif", "qif")[i % 2]
        readout = snnexact.engine.gradients.READOUTS[(i // 2) % 3]
        net, params, times, units, T = _random_network(rng, model)
        label = int(rng.integers(net.sizes[-1]))
        kw = dict(max_spikes=500, on_budget="ignore")
        _, grads, ev = snnexact.value_and_grad(net, params, times, units, label, T, readout, **kw)
        sig = _signature(ev)
        for _ in range(3):
            l = int(rng.integers(net.n_layers))
            idx = tuple(int(rng.integers(n)) for n in params.W[l].shape)
            w0 = params.W[l][idx]
            h = FD_STEP * max(1.0, abs(w0))

            def f(delta):
                W = [w.copy() for w in params.W]
                W[l][idx] = w0 + delta
                e = snnexact.evaluate(net, snnexact.Params(tuple(W), params.R), times, units,
                                      label, T, readout, **kw)
                return e.loss, _signature(e) == sig

            vals = [f(d) for d in (-h, h, -h / 2, h / 2)]
            if not all(same for _, same in vals):
                n_skipped += 1
                continue
            d1 = (vals[1][0] - vals[0][0]) / (2 * h)
            d2 = (vals[3][0] - vals[2][0]) / h
            fd = (4 * d2 - d1) / 3
            err = float(_scaled(grads.W[l][idx], fd, FD_GRAD_RTOL, FD_GRAD_ATOL))
            worst = max(worst, err)
            n_checked += 1
            if err > 1.0:
                failures.append(f"case {i} ({model}, {readout}) W[{l}]{list(idx)}: exact "
                                f"{grads.W[l][idx]:.10g}, finite differences {fd:.10g}")
    return Check("gradients", worst <= 1.0 and n_checked > 0,
                 f"{n_checked} gradient entries match central finite differences (worst "
                 f"{worst:.3g} x tolerance); {n_skipped} skipped (spike sequence changes "
                 f"within the step)",
                 dict(entries=n_checked, skipped=n_skipped, worst_error=worst,
                      tolerance=f"rtol {FD_GRAD_RTOL}, atol {FD_GRAD_ATOL}, step {FD_STEP}",
                      failures=failures[:10]))


# ----------------------------------------------------------------------------- mpmath

def _mp_first_spike(model, w_col, times, units, T, mp):
    """First spike time of one neuron (tau = 1, current-based synapse, from rest) driven by
    input spikes, in mpmath; ``T`` if none before ``T``. Closed forms of docs/theory.md 1.1-1.2."""
    V, I, t = mp.mpf(0), mp.mpf(0), mp.mpf(0)
    events = sorted(set(times))
    for k, te in enumerate(events + [T]):
        te = mp.mpf(te)
        dt = te - t
        # spike inside (t, te)?
        if model == "lif":
            if I > 0:
                D = (V + I) ** 2 - 4 * I
                if D > 0:
                    xp = ((V + I) + mp.sqrt(D)) / (2 * I)
                    if 0 < xp < 1 and -mp.log(xp) < dt:
                        return t - mp.log(xp)
        else:
            c, u0 = I, V
            s = mp.inf
            if c > 0:
                a = mp.sqrt(c)
                s = mp.atan2(a, u0) / a
            elif c == 0:
                s = 1 / u0 if u0 > 1 else mp.inf
            else:
                a = mp.sqrt(-c)
                s = mp.atanh(a / u0) / a if u0 > a else mp.inf
            if s < 1 and -mp.log(1 - s) < dt:
                return t - mp.log(1 - s)
        if te >= T:
            return mp.mpf(T)
        x = mp.exp(-dt)
        if model == "lif":
            V = (V + I) * x - I * x * x
        else:
            # the branch formulas of docs/theory.md 1.1 (not the Moebius form snnexact uses: with
            # 50 digits their loss of precision as c -> 0 does not matter)
            V = x * _mp_qif_u(V, I, 1 - x, mp)
        I = I * x * x
        t = te
        I += sum(w_col[u] for tt, u in zip(times, units) if tt == events[k])
    return mp.mpf(T)


def _mp_qif_u(u0, c, s, mp):
    if u0 == -mp.inf:
        return -mp.sqrt(c) * mp.cot(mp.sqrt(c) * s) if c > 0 else (
            -1 / s if c == 0 else -mp.sqrt(-c) * mp.coth(mp.sqrt(-c) * s))
    if c > 0:
        return mp.sqrt(c) * mp.tan(mp.atan(u0 / mp.sqrt(c)) + mp.sqrt(c) * s)
    if c == 0:
        return u0 / (1 - u0 * s)
    a = mp.sqrt(-c)
    if abs(u0) < a:
        return a * mp.tanh(mp.atanh(u0 / a) - a * s)
    if abs(u0) > a:
        return a / mp.tanh(mp.atanh(a / u0) - a * s)
    return u0


def _mp_loss(model, W, times, units, label, T, gamma, mp):
    t = [_mp_first_spike(model, W[o], times, units, T, mp) for o in range(len(W))]
    z = [-ti for ti in t]                       # tau_r = tau = 1
    zmax = max(z)
    lse = zmax + mp.log(sum(mp.exp(zi - zmax) for zi in z))
    return lse - z[label] + gamma * (mp.exp(t[label] / T) - 1), t


def check_mpmath(n_cases, rng):
    import mpmath
    mp = mpmath.mp
    mp.dps = 50
    worst_loss = worst_grad = 0.0
    n_checked = 0
    failures = []
    gamma = 1e-2
    i = 0
    attempts = 0
    while n_checked < n_cases and attempts < 20 * n_cases:
        attempts += 1
        model = ("lif", "qif")[i % 2]
        neuron = snnexact.LIF(tau_m=1.0) if model == "lif" else snnexact.QIF(tau_m=1.0)
        net = snnexact.Network(neuron, (2, 2))
        W = rng.uniform(0.8, 2.5, (2, 2)) * net.kick
        times = np.sort(rng.uniform(0.0, 0.5, 3))
        units = rng.integers(0, 2, 3)
        T = 2.0
        label = int(rng.integers(2))
        loss, grads, ev = snnexact.value_and_grad(net, snnexact.Params((W,), (None,)), times,
                                                  units, label, T, gamma=gamma)
        if ev.pseudo_outputs.any() or np.any(ev.outputs >= T - MIN_DIST_TO_T):
            continue      # both outputs must fire inside the trial (no pseudospikes here)
        i += 1
        Wm = [[mp.mpf(float(w)) for w in row] for row in W]
        tl = [float(t) for t in times]
        ul = [int(u) for u in units]
        ref, _ = _mp_loss(model, Wm, tl, ul, label, T, gamma, mp)
        worst_loss = max(worst_loss, float(_scaled(loss, float(ref), MPMATH_RTOL, MPMATH_ATOL)))
        for o in range(2):
            for k in range(2):
                def f(w, o=o, k=k):
                    Wc = [row[:] for row in Wm]
                    Wc[o][k] = w
                    return _mp_loss(model, Wc, tl, ul, label, T, gamma, mp)[0]
                g = float(mp.diff(f, Wm[o][k]))
                err = float(_scaled(grads.W[0][o, k], g, MPMATH_RTOL, MPMATH_ATOL))
                worst_grad = max(worst_grad, err)
                if err > 1.0:
                    failures.append(f"{model} W[{o},{k}]: {grads.W[0][o, k]:.15g} vs "
                                    f"{mpmath.nstr(g, 17)}")
        n_checked += 1
    passed = n_checked > 0 and worst_loss <= 1.0 and worst_grad <= 1.0
    return Check("mpmath", passed,
                 f"{n_checked} tiny networks: loss and gradient against 50-digit mpmath "
                 f"(worst loss error {worst_loss:.3g}, worst gradient error {worst_grad:.3g} x "
                 f"tolerance)",
                 dict(cases=n_checked, worst_loss_error=worst_loss,
                      worst_gradient_error=worst_grad,
                      tolerance=f"rtol {MPMATH_RTOL}, atol {MPMATH_ATOL}",
                      failures=failures[:10]))


# ----------------------------------------------------------------------------- continuity

def check_continuity(n_lines, n_points):
    from validation import continuity as cont
    alphas = np.linspace(-1.0, 1.0, n_points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikeBudgetWarning)
        reports = [cont.analyse_line(model, d, alphas) for model in ("lif", "qif")
                   for d in range(n_lines)]
    figs = {}
    for model in ("lif", "qif"):
        rs = [r for r in reports if r.model == model]
        ch = [c for r in rs for c in r.count_changes]
        figs[model] = dict(lines=len(rs), points=n_points,
                           evaluations=sum(r.scan.line.n_evaluations for r in rs),
                           jumps=sum(len(r.jumps) for r in rs),
                           count_changes_at_T=sum(c.where == "T" for c in ch),
                           count_changes_mid_trial=sum(c.where == "mid" for c in ch),
                           jumps_at_grazing=sum(len(cont._jumps_at_grazing(r)) for r in rs))
    q, lif = figs["qif"], figs["lif"]
    passed = q["jumps"] == 0 and q["count_changes_mid_trial"] == 0
    return Check("continuity", passed,
                 f"QIF: {q['jumps']} jumps, {q['count_changes_mid_trial']} spikes appearing or "
                 f"vanishing mid-trial ({q['count_changes_at_T']} at T) along {q['lines']} "
                 f"line(s); LIF: {lif['jumps']} jumps that survive refinement "
                 f"({lif['jumps_at_grazing']} at a grazing crossing), "
                 f"{lif['count_changes_mid_trial']} mid-trial count changes",
                 dict(figs, table=cont.summary_table(reports)))


# ----------------------------------------------------------------------------- NaN-free

def check_nan_free(n_cases):
    from validation import nan_free
    s = nan_free.run(n_cases, seed=0)
    c = s["counts"]
    return Check("nan_free", c["nonfinite"] == 0 and c["exception"] == 0,
                 f"{n_cases} random cases over the whole range: {c['nonfinite']} non-finite, "
                 f"{c['exception']} unexpected exceptions, {c['undefined']} undefined (named), "
                 f"{c['budget']} spike-budget hits (finite)",
                 dict(counts=c, examples=s["examples"][:10]))


# ----------------------------------------------------------------------------- determinism

def check_determinism():
    from snnexact.training.config import TrainConfig
    from snnexact.training.train import train
    base = dict(hidden=(6,), epochs=1, batch_size=16, max_samples=48, chunk_size=4, lr=1e-2,
                w_mean=1.0, w_std=0.75)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("lif", "qif"):
            runs = []
            for n_jobs in (1, 2):
                cfg = TrainConfig(**base, model=model, n_jobs=n_jobs)
                _, params, _ = train(cfg, Path(tmp) / f"{model}{n_jobs}", progress=False)
                runs.append(b"".join(a.tobytes() for a in params.named().values()))
            out[model] = runs[0] == runs[1]
    return Check("determinism", all(out.values()),
                 "one epoch of training with 1 and with 2 worker processes gives "
                 + ("bitwise identical weights" if all(out.values()) else
                    "DIFFERENT weights") + " (LIF and QIF)", dict(bitwise_equal=out))


# ----------------------------------------------------------------------------- speed

def check_speed(reps):
    from snnexact.interfaces.demo import poisson_input
    figs = {}
    for model in ("lif", "qif"):
        neuron = snnexact.LIF(tau_m=0.02) if model == "lif" else snnexact.QIF(tau_m=0.02)
        net = snnexact.Network(neuron, (100, 64, 10))
        params = net.init_params(0, w_mean=0.3 * net.kick)
        times, units = poisson_input(100, 10.0, 0.5, 0)
        snnexact.value_and_grad(net, params, times, units, 0, 0.5, on_budget="ignore")  # compile
        fwd, both = [], []
        for _ in range(reps):     # the median of the repetitions (robust on a shared machine)
            t0 = time.perf_counter()
            res = snnexact.simulate(net, params, times, units, 0.5, on_budget="ignore")
            fwd.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            snnexact.value_and_grad(net, params, times, units, 0, 0.5, on_budget="ignore")
            both.append(time.perf_counter() - t0)
        fwd, both = float(np.median(fwd)), float(np.median(both))
        figs[model] = dict(input_spikes=int(times.size), hidden_spikes=res.layers[0].n_spikes,
                           forward_ms=1e3 * fwd, forward_and_gradient_ms=1e3 * both)
    return Check("speed", True,
                 "100-64-10 network, {} input spikes: ".format(figs["qif"]["input_spikes"])
                 + "; ".join(f"{m.upper()} forward {f['forward_ms']:.2f} ms, forward + gradient "
                             f"{f['forward_and_gradient_ms']:.2f} ms" for m, f in figs.items()),
                 figs)


# ----------------------------------------------------------------------------- report

def run(level="default", out_dir=None, checks=None, log=print):
    """Run the checks of ``level`` (all of ``CHECKS`` unless ``checks`` names some) and write
    ``report.md`` and ``report.json`` into ``out_dir``; returns the list of ``Check``."""
    n = LEVELS[level]
    rng = np.random.default_rng(20261129)
    todo = CHECKS if checks is None else tuple(checks)
    runners = {
        "ode": lambda: check_ode(n["ode"], rng),
        "gradients": lambda: check_gradients(n["gradients"], rng),
        "mpmath": lambda: check_mpmath(n["mpmath"], rng),
        "continuity": lambda: check_continuity(n["lines"], n["points"]),
        "nan_free": lambda: check_nan_free(n["nan_free"]),
        "determinism": check_determinism,
        "speed": lambda: check_speed(n["speed"]),
    }
    results = []
    start = time.perf_counter()
    for name in todo:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SpikeBudgetWarning)
                check = runners[name]()
        except Exception as exc:  # noqa: BLE001 -- a crashing check is a failed check
            check = Check(name, False, f"raised {type(exc).__name__}: {exc}")
        check.seconds = time.perf_counter() - t0
        results.append(check)
        log(f"[{'PASS' if check.passed else 'FAIL'}] {name} ({check.seconds:.1f} s): "
            f"{check.summary}")
    total = time.perf_counter() - start
    if out_dir is not None:
        write(results, Path(out_dir), level, total)
    return results


def write(results, out_dir, level, seconds):
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = dict(level=level, seconds=seconds, snnexact=snnexact.__version__,
                python=platform.python_version(), machine=platform.machine(),
                cpus=os.cpu_count(), passed=all(c.passed for c in results))
    (out_dir / "report.json").write_text(json.dumps(
        dict(meta, checks=[asdict(c) for c in results]), indent=1, default=str))
    lines = [f"# snnexact validation report ({level})", "",
             f"snnexact {meta['snnexact']}, Python {meta['python']}, {meta['machine']}, "
             f"{meta['cpus']} CPUs; {seconds:.0f} s. Overall: "
             f"**{'PASS' if meta['passed'] else 'FAIL'}**.", "",
             "| check | result | figures | seconds |", "|---|---|---|---|"]
    for c in results:
        lines.append(f"| {c.name} | {'pass' if c.passed else '**FAIL**'} | {c.summary} | "
                     f"{c.seconds:.1f} |")
    for c in results:
        fails = c.figures.get("failures") or []
        if fails:
            lines += ["", f"## {c.name}: failures", ""] + [f"- {f}" for f in fails]
        if "table" in c.figures:
            lines += ["", f"## {c.name}", "", "```", c.figures["table"], "```"]
    lines += ["", "What each check does: `validation/report.py` (module docstring) and "
              "docs/validation.md."]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
