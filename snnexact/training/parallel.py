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

Items may be folds (``run(fn, items, merge)``): ``fn`` folds the steps of an item in order, and
the result of the first ``k`` steps merged with the results of the single steps ``k, k+1, ...``
equals the whole fold bit for bit. Then a caller done with its own items takes steps from the
end of the workers' unfinished items (work stealing), so that two chunks of unequal cost still
finish together; which steps it takes changes no result. Every step is claimed before it runs by
creating a file exclusively (``O_CREAT | O_EXCL``, atomic for threads and processes alike): the
worker claims upwards from the first step and stops at the first step it cannot claim, the
caller downwards from the last (``_Claims``).

Loky worker processes outlive a parent that is killed (``kill -9`` leaves no chance to shut
them down), so each worker watches the process that submitted its work and exits when that
process is gone (``_watch_parent``)."""
from concurrent.futures import ThreadPoolExecutor
import contextlib
from functools import reduce
import os
import shutil
import tempfile
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


def _call(fn, item, parent_pid, claim=None):
    _watch_parent(parent_pid)
    return fn(item) if claim is None else fn(item, claim)


class _Claims:
    """Exclusive claims on the steps of item ``item`` of one ``run`` call: ``claim(j)`` is True
    for exactly one of the threads and processes that ask (it creates the file ``item-j`` in
    ``folder`` with ``O_EXCL``); False once the folder is gone (the call has ended). Picklable:
    a folder and an item index."""

    def __init__(self, folder, item):
        self.folder = folder
        self.item = item

    def __call__(self, j):
        try:
            os.close(os.open(os.path.join(self.folder, f"{self.item}-{j}"),
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except OSError:  # FileExistsError: claimed already; FileNotFoundError: call over
            return False


@contextlib.contextmanager
def executor(backend="loky", n_jobs=1, scheduler=None):
    """Yields ``run(fn, items, merge=None) -> list`` that applies ``fn`` to every item, in
    order; the calling process's BLAS uses one thread meanwhile. With ``merge``, every item is
    a fold ``(context, steps)`` that the caller may share out (see the module docstring):
    ``fn(item, claim)`` must fold the steps in order and stop before the first step ``j`` for
    which ``claim(j)`` is False, and ``merge(a, b)`` append result ``b`` to result ``a``."""
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
                yield lambda fn, items, merge=None: parallel(joblib.delayed(fn)(x)
                                                             for x in items)
        finally:
            client.close()
        return
    if n_jobs == 1:
        yield lambda fn, items, merge=None: [fn(x) for x in items]
        return
    if backend == "threads":
        with ThreadPoolExecutor(max_workers=n_jobs - 1) as pool:
            yield lambda fn, items, merge=None: _shared(pool.submit, fn, items, n_jobs, merge)
        return
    pid = os.getpid()
    # a pool of its own (not loky's process-wide reusable one, which joblib.Parallel manages)
    pool = ProcessPoolExecutor(max_workers=n_jobs - 1,
                               env={name: "1" for name in THREAD_LIMIT_VARIABLES})
    try:
        yield lambda fn, items, merge=None: _shared(
            lambda f, *args: pool.submit(_call, f, *args[:1], pid, *args[1:]), fn, items,
            n_jobs, merge)
    finally:
        pool.shutdown(wait=True)


def _shared(submit, fn, items, n_jobs, merge=None):
    """``[fn(x) for x in items]``, the items ``i % n_jobs != 0`` submitted to ``n_jobs - 1``
    workers, the others computed here meanwhile, then (with ``merge``) the steps this caller
    can still claim from the end of the submitted items, last item first; if one raises, the
    tasks not yet started are cancelled and the error propagates."""
    items = list(items)
    folder = tempfile.mkdtemp(prefix="snnexact-claims-", dir=_CLAIMS_ROOT) if merge else None
    try:
        futures = {i: submit(fn, items[i], *([_Claims(folder, i)] if merge else []))
                   for i in range(len(items)) if i % n_jobs}
        try:
            done = {i: fn(items[i]) for i in range(0, len(items), n_jobs)}
            taken = {}
            for i in sorted(futures, reverse=True) if merge else ():
                context, steps = items[i]
                claim = _Claims(folder, i)
                taken[i] = []
                for j in range(len(steps) - 1, -1, -1):
                    if futures[i].done() or not claim(j):
                        break
                    taken[i].insert(0, fn((context, steps[j:j + 1])))
            for i, f in futures.items():
                done[i] = reduce(merge, taken.get(i, ()), f.result())
            return [done[i] for i in range(len(items))]
        finally:
            for f in futures.values():
                f.cancel()
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


# claim files live in memory where the system offers it
_CLAIMS_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
    else None
