#!/usr/bin/env python
"""Where the cold start goes: compile time per Numba function of the first ``value_and_grad``.

    python benchmarks/profile_cold_start.py [--models lif qif] [--top 25]

Runs the first ``value_and_grad`` of each model (the one-sample workload of ``run_all.py``) in
this process with an empty, temporary ``NUMBA_CACHE_DIR`` and records Numba's compile events
(``numba.core.event``): per compiled function (outermost calls and the functions they compile
directly) the wall time of its compilation, nested compilations included, and the argument types
of each specialisation, so that duplicate compilations of one function show up. The recorder
adds a little to the times; ``run_all.py`` gives the cold start without it.
"""
import argparse
import collections
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as wl  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(wl.MODELS), choices=wl.MODELS)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="snnexact_cold_") as cache:
        os.environ["NUMBA_CACHE_DIR"] = cache  # before Numba is imported
        profile(a.models, a.top)


def profile(models, top):
    import numpy as np
    from numba.core import event
    import snnexact

    records = []  # (seconds, depth, function name, argument types)

    class Recorder(event.Listener):
        def __init__(self):
            self.stack = []

        def on_start(self, ev):
            self.stack.append((ev.data.get("dispatcher"), ev.data.get("args"),
                               time.perf_counter()))

        def on_end(self, ev):
            fn, args, t0 = self.stack.pop()
            name = getattr(getattr(fn, "py_func", fn), "__qualname__", str(fn))
            records.append((time.perf_counter() - t0, len(self.stack), name, str(args)))

    event.register("numba:compile", Recorder())
    times, units, desc = wl.load_sample(wl.TEST_FILE, np, 32)
    print(f"input: {desc}")
    for model in models:
        net = wl.network(model)
        params = wl.scaled_params(net, 0, wl.SCALES[model])
        t0 = time.perf_counter()
        snnexact.value_and_grad(net, params, times, units, 0, wl.T)
        print(f"{model}: first value_and_grad {time.perf_counter() - t0:.2f} s")
    shown = sorted((r for r in records if r[1] <= 1), reverse=True)[:top]
    print("\nslowest compilations (depth 0: called from Python; 1: compiled by those):")
    for seconds, depth, name, _ in shown:
        print(f"  {seconds:5.2f} s  {'  ' * depth}{name}")
    by_name = collections.defaultdict(list)
    for seconds, _, name, args in records:
        by_name[name].append((seconds, args))
    repeated = {k: v for k, v in by_name.items() if len(v) > 1}
    print("\nfunctions compiled more than once (one line per specialisation):")
    for name, items in sorted(repeated.items(), key=lambda kv: -sum(s for s, _ in kv[1])):
        print(f"  {name}: {sum(s for s, _ in items):.2f} s in {len(items)}")
        for seconds, args in items:
            print(f"      {seconds:5.2f} s  {args[:110]}")


if __name__ == "__main__":
    main()
