"""Per-chunk parallel map over loky processes (default), threads (the Numba kernels release the
GIL) or a Dask distributed cluster (through joblib). Results come back in submission order, so
reductions are in sample order whatever the backend and number of workers.

Processes and threads are driven through ``concurrent.futures``-style executors directly (a
loky ``ProcessPoolExecutor``, a ``ThreadPoolExecutor``) rather than through ``joblib.Parallel``:
a training step makes one call per batch with only a few tasks, and a ``joblib.Parallel`` call
took about 23 ms with two tasks against about 6 ms for ``submit`` and ``result`` in order
(docs/performance.md, "Where an epoch's time goes").

The parent's BLAS library is held to one thread while an executor is open: OpenBLAS keeps its
idle threads spinning for a while after each call (a gradient norm is one), and those spinning
threads took about a third of a core from the workers (docs/performance.md, issue 13, "The
trainer's BLAS threads"). Workers get one thread per library through their environment.

With processes or threads the calling process does a share of the work itself: ``n_jobs - 1``
workers get the items ``i`` with ``i % n_jobs != 0``, and the caller runs the others while they
work. A training batch of two chunks thus sends one chunk to one worker instead of two chunks to
two, and the caller, which would only wait, computes (docs/performance.md, issue 13 session 7).

Loky worker processes outlive a parent that is killed (``kill -9`` leaves no chance to shut
them down), so each worker watches the process that submitted its work and exits when that
process is gone (``_watch_parent``)."""
from concurrent.futures import ThreadPoolExecutor
import contextlib
import os
import threading
import time

import joblib
from joblib.externals.loky import ProcessPoolExecutor
from threadpoolctl import threadpool_limits

PARENT_POLL_SECONDS = 0.5
# numerical libraries in a worker use one thread each: the workers already fill the cores
THREAD_LIMIT_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                          "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
_watching = False


def _watch_parent(parent_pid):
    """In a worker process (not in ``parent_pid`` itself): start, once, a daemon thread that
    ends this process when ``parent_pid`` dies. A direct child notices by being re-parented
    (which happens at once, even while the dead parent is an unreaped zombie)."""
    global _watching
    if _watching or os.getpid() == parent_pid:
        return
    _watching = True
    direct = os.getppid() == parent_pid

    def alive():
        if direct:
            return os.getppid() == parent_pid
        try:
            os.kill(parent_pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def loop():
        while alive():
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=loop, name="snnexact-parent-watch", daemon=True).start()


def _call(fn, item, parent_pid):
    _watch_parent(parent_pid)
    return fn(item)


@contextlib.contextmanager
def executor(backend="loky", n_jobs=1, scheduler=None):
    """Yields ``run(fn, items) -> list`` that applies ``fn`` to every item, in order; the
    calling process's BLAS uses one thread meanwhile (see the module docstring)."""
    with threadpool_limits(limits=1, user_api="blas"):
        with _executor(backend, n_jobs, scheduler) as run:
            yield run


@contextlib.contextmanager
def _executor(backend, n_jobs, scheduler):
    if backend == "dask":
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise ValueError("backend 'dask' needs the optional dependency: "
                             "pip install 'snnexact[dask]'") from exc
        client = Client(scheduler)
        try:
            with joblib.parallel_config(backend="dask"):
                parallel = joblib.Parallel(n_jobs=-1)
                yield lambda fn, items: parallel(joblib.delayed(fn)(x) for x in items)
        finally:
            client.close()
        return
    if n_jobs == 1:
        yield lambda fn, items: [fn(x) for x in items]
        return
    if backend == "threads":
        with ThreadPoolExecutor(max_workers=n_jobs - 1) as pool:
            yield lambda fn, items: _shared(pool.submit, fn, items, n_jobs)
        return
    pid = os.getpid()
    # a pool of its own (not loky's process-wide reusable one, which joblib.Parallel manages)
    pool = ProcessPoolExecutor(max_workers=n_jobs - 1,
                               env={name: "1" for name in THREAD_LIMIT_VARIABLES})
    try:
        yield lambda fn, items: _shared(lambda f, x: pool.submit(_call, f, x, pid), fn, items,
                                        n_jobs)
    finally:
        pool.shutdown(wait=True)


def _shared(submit, fn, items, n_jobs):
    """``[fn(x) for x in items]``, the items ``i % n_jobs != 0`` submitted to ``n_jobs - 1``
    workers, the others computed here meanwhile; if one raises, the tasks not yet started are
    cancelled and the error propagates."""
    items = list(items)
    futures = {i: submit(fn, x) for i, x in enumerate(items) if i % n_jobs}
    try:
        local = {i: fn(items[i]) for i in range(0, len(items), n_jobs)}
        return [local[i] if i in local else futures[i].result() for i in range(len(items))]
    finally:
        for f in futures.values():
            f.cancel()
