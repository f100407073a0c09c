"""Per-chunk parallel map over joblib backends: loky processes (default), threads (the Numba
kernels release the GIL) or a Dask distributed cluster. Results come back in submission order,
so reductions are in sample order whatever the backend and number of workers."""
import contextlib

import joblib


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
    with joblib.Parallel(n_jobs=n_jobs,
                         backend="threading" if backend == "threads" else "loky") as parallel:
        yield lambda fn, items: parallel(joblib.delayed(fn)(x) for x in items)
