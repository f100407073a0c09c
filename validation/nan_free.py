"""NaN-free property over the whole valid range: random tiny networks, count the failures.

Each case draws a small network (1-8 inputs, 0-2 hidden layers of 1-8 neurons, 1-8 outputs,
LIF or QIF, recurrent or not), weights of magnitude ``10^U(-3, 3)`` kicks (the single kick that
fires a neuron from rest, ``Network.kick``) with random signs, a trial length
``T = 10^U(-3, 3) tau``, 1-8 random input spikes in ``[0, T)`` and one of the three readouts,
then calls ``value_and_grad``. A case counts as

* **non-finite**: the loss or any gradient entry is NaN or infinite;
* **unexpected exception**: anything raised other than ``snnexact.UndefinedResultError`` (a
  result that is genuinely undefined, reported by name) -- every input here is valid.

A hit spike budget is reported (and counted) but is not a failure: it is a status, and the
gradient of the truncated simulation must still be finite.

Run ``python -m validation.nan_free --cases 100000`` (docs/validation.md quotes the figures).
``check_case`` is shared with the hypothesis property test (``tests/test_nan_free.py``) and
``snnexact validate``.
"""
import argparse
from dataclasses import dataclass
import json
import math
import time
import traceback
import warnings

import numpy as np

import snnexact
from snnexact.engine.simulate import SpikeBudgetWarning

READOUTS = ("first_spike", "max_voltage", "integral")
LOG10_WEIGHT = (-3.0, 3.0)   # weights from 1e-3 to 1e3 kicks
LOG10_T = (-3.0, 3.0)        # trial length from 1e-3 to 1e3 tau


@dataclass(frozen=True)
class Case:
    """One random case: everything ``value_and_grad`` needs."""

    model: str
    sizes: tuple
    recurrent: bool
    params: object
    times: np.ndarray
    units: np.ndarray
    label: int
    T: float
    readout: str


@dataclass(frozen=True)
class Outcome:
    """``kind``: "ok", "budget" (finite, budget hit), "undefined" (UndefinedResultError),
    "nonfinite" or "exception"; ``detail`` the message for the last two."""

    kind: str
    detail: str = ""


def draw_case(rng, *, max_size=8, max_hidden=2, max_inputs=8):
    """A random case over the whole valid range (see the module docstring)."""
    model = ("lif", "qif")[int(rng.integers(2))]
    n_hidden = int(rng.integers(max_hidden + 1))
    sizes = tuple(int(rng.integers(1, max_size + 1)) for _ in range(n_hidden + 2))
    recurrent = bool(n_hidden > 0 and rng.integers(2))
    readout = READOUTS[int(rng.integers(3))]
    tau = 1.0
    neuron = snnexact.LIF(tau_m=tau) if model == "lif" else snnexact.QIF(tau_m=tau)
    net = snnexact.Network(neuron, sizes, recurrent)
    kick = net.kick

    def weights(shape):
        mag = 10.0 ** rng.uniform(*LOG10_WEIGHT, size=shape)
        return kick * mag * rng.choice((-1.0, 1.0), size=shape)

    W, R = [], []
    for l in range(net.n_layers):
        W.append(weights((sizes[l + 1], sizes[l])))
        if net.recurrent_layers[l]:
            r = weights((sizes[l + 1], sizes[l + 1]))
            np.fill_diagonal(r, 0.0)
            R.append(r)
        else:
            R.append(None)
    T = tau * 10.0 ** rng.uniform(*LOG10_T)
    n_in = int(rng.integers(1, max_inputs + 1))
    times = np.sort(rng.uniform(0.0, T, n_in))
    units = rng.integers(0, sizes[0], n_in)
    label = int(rng.integers(sizes[-1]))
    return Case(model, sizes, recurrent, snnexact.Params(tuple(W), tuple(R)), times, units,
                label, float(T), readout)


def network_of(case):
    neuron = snnexact.LIF(tau_m=1.0) if case.model == "lif" else snnexact.QIF(tau_m=1.0)
    return snnexact.Network(neuron, case.sizes, case.recurrent)


def check_case(case, max_spikes=200):
    """Run ``value_and_grad`` on ``case``; the ``Outcome``."""
    net = network_of(case)
    budget_hit = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value, grads, ev = snnexact.value_and_grad(
                net, case.params, case.times, case.units, case.label, case.T, case.readout,
                max_spikes=max_spikes)
        budget_hit = any(issubclass(w.category, SpikeBudgetWarning) for w in caught)
        others = [w for w in caught if not issubclass(w.category, SpikeBudgetWarning)]
        if others:
            return Outcome("exception", f"warning {others[0].category.__name__}: {others[0].message}")
    except snnexact.UndefinedResultError as e:
        return Outcome("undefined", str(e))
    except Exception as e:  # noqa: BLE001 -- counting them is the point
        return Outcome("exception", f"{type(e).__name__}: {e} @ "
                       + traceback.format_tb(e.__traceback__)[-1].strip().replace("\n", " "))
    arrays = [a for a in list(grads.W) + list(grads.R) if a is not None]
    finite = math.isfinite(value) and all(np.all(np.isfinite(a)) for a in arrays)
    if not finite:
        bad = [] if math.isfinite(value) else ["loss"]
        bad += [n for n, a in grads.named().items() if not np.all(np.isfinite(a))]
        return Outcome("nonfinite", "non-finite: " + ", ".join(bad))
    return Outcome("budget" if budget_hit else "ok")


def run(n_cases, seed=0, progress=False):
    """Counts of each outcome over ``n_cases`` random cases, and up to 20 failing examples."""
    rng = np.random.default_rng(seed)
    counts = {k: 0 for k in ("ok", "budget", "undefined", "nonfinite", "exception")}
    by_model = {m: {"nonfinite": 0, "exception": 0} for m in ("lif", "qif")}
    examples = []
    start = time.perf_counter()
    for i in range(n_cases):
        case = draw_case(rng)
        out = check_case(case)
        counts[out.kind] += 1
        if out.kind in ("nonfinite", "exception"):
            by_model[case.model][out.kind] += 1
            if len(examples) < 20:
                examples.append({"case": i, "model": case.model, "sizes": case.sizes,
                                 "recurrent": case.recurrent, "readout": case.readout,
                                 "T": case.T, "detail": out.detail})
        if progress and (i + 1) % 10000 == 0:
            print(f"{i + 1} cases, {counts}", flush=True)
    return {"cases": n_cases, "seed": seed, "counts": counts, "failures_by_model": by_model,
            "examples": examples, "seconds": time.perf_counter() - start}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000, help="number of random cases (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--json", default=None, help="also write the summary to this JSON file")
    args = p.parse_args(argv)
    summary = run(args.cases, args.seed, progress=True)
    c = summary["counts"]
    print(f"{summary['cases']} cases in {summary['seconds']:.0f} s: {c['nonfinite']} non-finite, "
          f"{c['exception']} unexpected exceptions, {c['undefined']} undefined (named), "
          f"{c['budget']} spike-budget hits (finite)")
    for ex in summary["examples"]:
        print("  ", ex)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return 0 if c["nonfinite"] == 0 and c["exception"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
