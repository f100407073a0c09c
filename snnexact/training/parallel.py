"""Per-chunk parallel map over joblib backends: loky processes (default), threads (the Numba
kernels release the GIL) or a Dask distributed cluster. Results come back in submission order,
so reductions are in sample order whatever the backend and number of workers.

Loky worker processes outlive a parent that is killed (``kill -9`` leaves no chance to shut
them down), so each worker watches the process that submitted its work and exits when that
process is gone (``_watch_parent``)."""
import contextlib
import os
import threading
import time

import joblib

PARENT_POLL_SECONDS = 0.5
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
    """Yields ``run(fn, items) -> list`` that applies ``fn`` to every item, in order."""
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
        with joblib.Parallel(n_jobs=n_jobs, backend="threading") as parallel:
            yield lambda fn, items: parallel(joblib.delayed(fn)(x) for x in items)
        return
    pid = os.getpid()
    with joblib.Parallel(n_jobs=n_jobs, backend="loky") as parallel:
        yield lambda fn, items: parallel(joblib.delayed(_call)(fn, x, pid) for x in items)
