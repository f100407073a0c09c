#!/usr/bin/env python
"""Where an epoch's time goes, beyond ``value_and_grad`` (the table in docs/performance.md).

    python benchmarks/profile_epoch.py [--max-samples N] [--models lif qif] [--json OUT]

Runs the epoch workload of ``run_all.py`` (``workload.epoch_config``) on FSDD-SHD's training
split (the first ``--max-samples`` of the training file; default 800, 720 after the validation
hold-out) and reports:

* data preparation: ``load_splits`` (reading the HDF5 file and the deterministic transforms,
  once per run, outside the epoch clock);
* n_jobs = 1 (under cProfile, which adds a little to Python-heavy parts): the epoch, the time
  inside ``sample_value_and_grad``, the rest of ``run_chunk`` (per-sample Python: gradient
  accumulation, spike counts), and the parent's own work per batch (gathering samples,
  reduction, gradient norms, clipping, optimiser step);
* the load imbalance of n_jobs = 2: per batch the slower of its chunks, from the chunk times of
  the n_jobs = 1 run, against half the batch;
* n_jobs = 2: the epoch, and what a batch sends to the workers and back (pickled bytes and the
  time to pickle and unpickle them in one process);
* what is left of n_jobs = 2 after the imbalance-aware ideal: dispatch, transfer, idle workers;
* the CPU time the trainer process itself used during the n_jobs = 2 run (its threads
  included: OpenBLAS's spinning idle threads once took a third of a core here);
* the cost of one dispatch (2 tasks of 1.7 MB, trivial work) through ``joblib.Parallel`` and
  through the trainer's executor (``snnexact.training.parallel.executor``);
* the share of a serial training pass spent outside the compiled kernels that release the GIL
  (parent work included): the part that the threads backend runs one thread at a time.
"""
import argparse
import cProfile
import json
import os
import pickle
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as wl  # noqa: E402

# (function, file) -> label: the parent's work per batch
PARENT_WORK = {("gather", "train.py"): "gather samples", ("_reduce", "train.py"): "reduce",
               ("norm", "linalg"): "gradient norms", ("clip_by_global_norm", "optim.py"): "clip",
               ("apply", "optim.py"): "optimiser step", ("project_v0", "network.py"): "project V0"}


def cumulative(stats, name, filename_part=""):
    """Cumulative seconds of every function called ``name`` (in a file containing
    ``filename_part``), over all callers."""
    return sum(v[3] for (f, _, n), v in stats.stats.items()
               if n == name and filename_part in f)


def profile_epoch(model, n_jobs, splits, data_dir):
    """One epoch under cProfile, with the wall time of each ``run`` call of the trainer (one per
    batch: dispatch, the chunks, transfer, waiting) and, for n_jobs = 1, of each chunk."""
    import contextlib
    import snnexact.training.batches as batches
    import snnexact.training.train as tr
    from snnexact.training.parallel import Runner
    chunk_seconds, run_seconds = [], []
    inner_chunk, inner_executor = batches.run_chunk, tr.executor

    def timed_chunk(args):
        t0 = time.perf_counter()
        out = inner_chunk(args)
        chunk_seconds.append(time.perf_counter() - t0)
        return out

    @contextlib.contextmanager
    def timed_executor(*args, **kwargs):
        with inner_executor(*args, **kwargs) as run:
            def timed_run(fn, items):
                t0 = time.perf_counter()
                out = run(fn, items)
                if items:  # evaluation of the empty validation and test splits: not timed
                    run_seconds.append(time.perf_counter() - t0)
                return out
            yield Runner(timed_run, run.n_jobs, run.claims)

    if n_jobs == 1:  # the trainer's warm-up calls it by its own name
        batches.run_chunk = tr.run_chunk = timed_chunk
    tr.executor = timed_executor
    prof = cProfile.Profile()
    cpu0 = os.times()
    try:
        prof.enable()
        seconds, _ = wl.time_epoch(model, n_jobs, splits, data_dir)
        prof.disable()
        cpu1 = os.times()
    finally:
        batches.run_chunk = tr.run_chunk = inner_chunk
        tr.executor = inner_executor
    stats = pstats.Stats(prof)
    n_chunks = -(-len(splits[0]) // 16)
    warm_chunks = chunk_seconds[:len(chunk_seconds) - n_chunks]  # the warm-up comes first
    chunk_seconds = chunk_seconds[len(warm_chunks):]
    run_seconds = run_seconds[1:]  # the warm-up call
    out = {"epoch_s": seconds, "run_calls_s": sum(run_seconds),
           "parent": {label: cumulative(stats, *key) for key, label in PARENT_WORK.items()}}
    out["parent_total_s"] = seconds - out["run_calls_s"]
    # CPU the trainer process used during train() (warm-up included): with n_jobs = 2 it should
    # be little more than its work between batches; spinning BLAS threads showed up here
    out["trainer_cpu_s"] = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    if n_jobs == 1:
        batches = [chunk_seconds[i:i + 2] for i in range(0, len(chunk_seconds), 2)]
        out["value_and_grad_s"] = cumulative(stats, "sample_value_and_grad") - sum(warm_chunks)
        out["run_chunk_rest_s"] = sum(chunk_seconds) - out["value_and_grad_s"]
        out["slower_chunk_per_batch_s"] = sum(max(b) for b in batches)
        out["balanced_half_s"] = sum(sum(b) for b in batches) / 2
    return out


# the compiled kernels a training step calls from Python; all release the GIL (jit.py: nogil)
NOGIL_KERNELS = {"snnexact.engine.simulate": ("event_loop",),
                 "snnexact.engine.backward": ("reverse_loop",),
                 "snnexact.engine.losses": ("_max_forward", "_max_vjp", "_integral_kernel")}


def gil_share(model, splits, data_dir):
    """The share of a serial training pass (n_jobs = 1, no profiler) spent outside the kernels
    that release the GIL: what threads cannot run in parallel. The kernels are timed through
    wrappers around their module attributes (Python call sites look them up there)."""
    import importlib
    inside = [0.0]
    patched = []

    def timed(fn):
        def call(*args):
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                inside[0] += time.perf_counter() - t0
        return call

    for module_name, names in NOGIL_KERNELS.items():
        module = importlib.import_module(module_name)
        for name in names:
            patched.append((module, name, getattr(module, name)))
            setattr(module, name, timed(getattr(module, name)))
    try:
        import snnexact.training.batches as batches
        import snnexact.training.train as tr
        inner, first = batches.run_chunk, [True]

        def reset_after_warm_up(args):  # train's warm-up chunk runs before its clock starts
            out = inner(args)
            if first[0]:
                first[0] = False
                inside[0] = 0.0
            return out
        batches.run_chunk = tr.run_chunk = reset_after_warm_up
        try:
            seconds, _ = wl.time_epoch(model, 1, splits, data_dir)
        finally:
            batches.run_chunk = tr.run_chunk = inner
    finally:
        for module, name, fn in patched:
            setattr(module, name, fn)
    return {"train_pass_s": seconds, "in_nogil_kernels_s": inside[0],
            "gil_held_share": 1.0 - inside[0] / seconds}


def transfer_costs(model, splits):
    """Pickled bytes and pickle + unpickle seconds of one batch's tasks and results."""
    import numpy as np
    import snnexact.training.train as tr
    cfg = wl.epoch_config(model, None)
    net = tr.build_network(cfg, splits[3], splits[4])
    params = net.init_params(0)
    job = tr.ChunkJob(net, params, cfg.T, tr.loss_config(cfg), cfg.max_spikes, True)
    samples = tr.gather(splits[0], np.arange(32), None, cfg, 0)
    tasks = [(job, c) for c in tr.chunks(samples, 16)]
    result = tr.run_chunk(tasks[0])

    def cost(obj, repeats=20):
        t0 = time.perf_counter()
        for _ in range(repeats):
            blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(blob)
        return len(blob), (time.perf_counter() - t0) / repeats

    weights = cost(params)
    task = cost(tasks[0])
    back = cost(result)
    return {"weights_bytes": weights[0], "task_bytes": task[0], "task_roundtrip_s": task[1],
            "result_bytes": back[0], "result_roundtrip_s": back[1], "tasks_per_batch": len(tasks)}


def _payload_sum(item):
    return float(item[0].sum())


def dispatch_costs(repeats=30):
    """Median seconds of one call with 2 tasks of about 1.7 MB (weights-sized array and 32
    samples, trivial work) through ``joblib.Parallel`` and through the trainer's executor."""
    import joblib
    import numpy as np
    from snnexact.training.parallel import executor
    item = (np.ones((700, 128)), [np.ones(4000) for _ in range(32)])

    def median_call(call):
        call()  # start-up
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            call()
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts))

    with joblib.Parallel(n_jobs=2, backend="loky") as par:
        via_joblib = median_call(lambda: par(joblib.delayed(_payload_sum)(item) for _ in range(2)))
    with executor("loky", 2) as run:
        via_executor = median_call(lambda: run(_payload_sum, [item, item]))
    return {"joblib_parallel_s": via_joblib, "trainer_executor_s": via_executor}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--max-samples", type=int, default=800)
    p.add_argument("--models", nargs="+", default=list(wl.MODELS), choices=wl.MODELS)
    p.add_argument("--data-dir", default=wl.DATA_DIR)
    p.add_argument("--json", metavar="OUT")
    args = p.parse_args(argv)
    os.environ["NUMBA_NUM_THREADS"] = "1"
    t0 = time.perf_counter()
    splits, desc = wl.training_splits(args.data_dir, args.max_samples)
    out = {"data": desc, "load_splits_s": time.perf_counter() - t0,
           "load_average_start": wl.load_average(), "models": {}}
    print(f"{desc}; load_splits {out['load_splits_s']:.2f} s")
    n_batches = -(-len(splits[0]) // 32)
    for model in args.models:
        r = out["models"][model] = {n: profile_epoch(model, n, splits, args.data_dir)
                                    for n in (1, 2)}
        r["transfer"] = tr = transfer_costs(model, splits)
        r["gil"] = g = gil_share(model, splits, args.data_dir)
        tr["per_epoch_s"] = n_batches * tr["tasks_per_batch"] * (
            tr["task_roundtrip_s"] + tr["result_roundtrip_s"])
        one, two = r[1], r[2]
        print(f"\n{model}, n_jobs=1 (under cProfile): epoch {one['epoch_s']:.2f} s = "
              f"value_and_grad {one['value_and_grad_s']:.2f} s + rest of run_chunk "
              f"{one['run_chunk_rest_s']:.2f} s + parent {one['parent_total_s']:.2f} s")
        for n in (1, 2):
            print(f"  parent work, n_jobs={n}: " + ", ".join(
                f"{k} {v * 1e3:.0f} ms" for k, v in r[n]["parent"].items()))
        print(f"  trainer process CPU during train(), n_jobs=2: {two['trainer_cpu_s']:.2f} s")
        print(f"  n_jobs=2: epoch {two['epoch_s']:.2f} s = waiting for the chunks "
              f"{two['run_calls_s']:.2f} s + parent {two['parent_total_s']:.2f} s; from the "
              f"n_jobs=1 chunk times: slower chunk per batch {one['slower_chunk_per_batch_s']:.2f}"
              f" s, perfectly balanced {one['balanced_half_s']:.2f} s")
        print(f"  per task {tr['task_bytes'] / 1e6:.2f} MB out (weights "
              f"{tr['weights_bytes'] / 1e6:.2f} MB), {tr['result_bytes'] / 1e6:.2f} MB back; "
              f"pickle+unpickle {1e3 * (tr['task_roundtrip_s'] + tr['result_roundtrip_s']):.1f} ms "
              f"per task, {tr['per_epoch_s']:.2f} s per epoch")
        print(f"  serial training pass {g['train_pass_s']:.2f} s, of which outside the kernels that "
              f"release the GIL {g['gil_held_share']:.1%} (what threads run one at a time)")
    out["dispatch"] = d = dispatch_costs()
    print(f"\none call with 2 tasks of 1.7 MB: joblib.Parallel "
          f"{d['joblib_parallel_s'] * 1e3:.1f} ms, the trainer's executor "
          f"{d['trainer_executor_s'] * 1e3:.1f} ms")
    out["load_average_end"] = wl.load_average()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
