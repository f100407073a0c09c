"""Parallel map over loky processes (default), threads (the Numba kernels release the GIL) or a
Dask distributed cluster (through joblib). Results come back in submission order, so
reductions are in sample order whatever the backend and number of workers.

Loky starts the worker processes (with one thread per numerical library, through their
environment), but each worker then runs one long task, ``_serve``, that takes work over a
``Channel`` of its own (``training/channel.py``: a Unix socket, and memory-mapped files for the
arrays). Through loky's own queues a training batch of 1.8 MB reached an idle worker about
3.5 ms after it was sent and the result came back about 1.5 ms after it was done, about 7 % of a
QIF batch on two processes (docs/performance.md, issue 13, sessions 8 and 9). Threads use a
``ThreadPoolExecutor``. Neither goes through ``joblib.Parallel``, whose call took about 23 ms
for two tasks (docs/performance.md, "Where an epoch's time goes").

With processes or threads the calling process does a share of the work itself: ``n_jobs - 1``
workers get the items ``i`` with ``i % n_jobs != 0``, and the caller runs the others while they
work (docs/performance.md, issue 13 session 7). The ``Runner`` also carries a claim table that
all parties share, with which ``training/batches.py`` balances a batch sample by sample.

The parent's BLAS library is held to one thread while an executor is open: OpenBLAS keeps its
idle threads spinning for a while after each call (a gradient norm is one), and those spinning
threads took about a third of a core from the workers (docs/performance.md, issue 13, "The
trainer's BLAS threads").

Loky worker processes outlive a parent that is killed (``kill -9`` leaves no chance to shut
them down), so each worker watches the process that started its task and exits when that
process is gone (``_watch_parent``); its channel's end of file ends ``_serve`` too."""
from concurrent.futures import ThreadPoolExecutor
import contextlib
from multiprocessing.connection import Connection
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback

import joblib
from joblib.externals.loky import ProcessPoolExecutor
from threadpoolctl import threadpool_limits

from snnexact.training.channel import Channel
from snnexact.training.claims import FileClaims, ThreadClaims

PARENT_POLL_SECONDS = 0.5
CONNECT_SECONDS = 120
SHM_MIN_FREE_BYTES = 1 << 30
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


class Runner:
    """``run(fn, items)`` is ``[fn(x) for x in items]`` on the executor's ``n_jobs`` parties
    (the calling process and ``n_jobs - 1`` workers); ``claims`` is a claim table that all
    parties share (``training/claims.py``; ``None`` with one party or a Dask cluster)."""

    def __init__(self, run, n_jobs, claims=None):
        self._run, self.n_jobs, self.claims = run, n_jobs, claims

    def __call__(self, fn, items):
        return self._run(fn, items)


@contextlib.contextmanager
def executor(backend="loky", n_jobs=1, scheduler=None):
    """Yields a ``Runner``: ``run(fn, items) -> list`` applies ``fn`` to every item, in order;
    the calling process's BLAS uses one thread meanwhile (see the module docstring)."""
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
                yield Runner(lambda fn, items: parallel(joblib.delayed(fn)(x) for x in items),
                             n_jobs)
        finally:
            client.close()
        return
    if n_jobs == 1:
        yield Runner(lambda fn, items: [fn(x) for x in items], 1)
        return
    if backend == "threads":
        with ThreadPoolExecutor(max_workers=n_jobs - 1) as pool:
            yield Runner(lambda fn, items: _shared(pool.submit, fn, items, n_jobs), n_jobs,
                         ThreadClaims())
        return
    # a pool of its own (not loky's process-wide reusable one, which joblib.Parallel manages)
    pool = ProcessPoolExecutor(max_workers=n_jobs - 1,
                               env={name: "1" for name in THREAD_LIMIT_VARIABLES})
    try:
        with _connections(pool, n_jobs - 1) as (channels, claims):
            yield Runner(lambda fn, items: _direct(channels, fn, items), n_jobs, claims)
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


@contextlib.contextmanager
def _connections(pool, n_workers):
    """``(channels, claims)``: a ``Channel`` to each of the pool's ``n_workers`` processes,
    each running ``_serve`` until the block ends (a Unix socket and two memory-mapped files per
    worker), and a ``FileClaims`` table, all in a private temporary folder (on ``/dev/shm``
    where there is room: ``_memory_folder``); ``accept`` waits at most ``CONNECT_SECONDS`` for
    a worker."""
    folder = tempfile.mkdtemp(prefix="snnexact_workers_", dir=_memory_folder())
    path = os.path.join(folder, "socket")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channels, claims = [], None
    try:
        claims = FileClaims(os.path.join(folder, "claims"))
        server.bind(path)
        server.listen(n_workers)
        server.settimeout(CONNECT_SECONDS)
        for k in range(n_workers):
            files = (os.path.join(folder, f"to_{k}"), os.path.join(folder, f"from_{k}"))
            serving = pool.submit(_serve, path, *files[::-1], os.getpid())
            try:
                sock, _ = server.accept()
            except socket.timeout:
                detail = f": {serving.exception()!r}" if serving.done() else ""
                raise RuntimeError(f"a worker process did not connect within "
                                   f"{CONNECT_SECONDS} s{detail}") from None
            sock.setblocking(True)
            channels.append(Channel(Connection(sock.detach()), *files))
        yield channels, claims
        for channel in channels:
            with contextlib.suppress(OSError):  # a worker that died has nothing to stop
                channel.send(None)
    finally:
        for channel in channels:
            channel.close()
        if claims is not None:
            claims.close()
        server.close()
        shutil.rmtree(folder, ignore_errors=True)


def _memory_folder():
    """``/dev/shm`` where it exists with at least ``SHM_MIN_FREE_BYTES`` free (a container's
    is often 64 MB, too small for the messages of several workers), else ``None`` (the system's
    temporary folder: the same mapped files, kept in the page cache)."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if st.f_bavail * st.f_frsize >= SHM_MIN_FREE_BYTES else None


def _serve(path, out_path, in_path, parent_pid):
    """A worker's loop: receive ``(fn, items)`` over the channel, reply ``("ok", [fn(x) for x
    in items])`` or ``("error", exception, traceback text)``; return at ``None`` or when the
    caller is gone."""
    _watch_parent(parent_pid)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    channel = Channel(Connection(sock.detach()), out_path, in_path)
    try:
        while True:
            try:
                msg = channel.recv()
            except (EOFError, OSError):
                return
            except BaseException as exc:  # noqa: BLE001 - a message that does not unpickle
                msg = exc
            if msg is None:
                return
            try:
                if isinstance(msg, BaseException):
                    raise msg
                fn, items = msg
                reply = ("ok", [fn(x) for x in items])
            except BaseException as exc:  # noqa: BLE001 - every error goes back to the caller
                reply = ("error", exc, traceback.format_exc())
            try:
                channel.send(reply)
            except OSError:
                return
            except Exception:  # noqa: BLE001 - the result or the exception does not pickle
                channel.send(("error", RuntimeError(f"a worker's reply could not be pickled: "
                                                    f"{reply[:2]!r}"), traceback.format_exc()))
    finally:
        channel.close()


def _direct(channels, fn, items):
    """``[fn(x) for x in items]``: the items ``i % n_jobs == k`` (``k >= 1``) are sent to
    worker ``k`` in one message, the items ``i % n_jobs == 0`` are computed here meanwhile;
    every reply is received before an error propagates, so the channels stay in step."""
    items = list(items)
    n_jobs = len(channels) + 1
    sent = []
    try:
        for k, channel in enumerate(channels, start=1):
            if items[k::n_jobs]:
                channel.send((fn, items[k::n_jobs]))
                sent.append(k)
        local = [fn(x) for x in items[0::n_jobs]]
    finally:
        replies = {k: _receive(channels[k - 1]) for k in sent}
    out = [None] * len(items)
    out[0::n_jobs] = local
    for k, reply in replies.items():
        if reply[0] == "error":
            exc = reply[1]
            exc.add_note(f"in worker {k}:\n{reply[2]}")
            raise exc
        out[k::n_jobs] = reply[1]
    return out


def _receive(channel):
    try:
        return channel.recv()
    except (EOFError, OSError) as exc:
        raise RuntimeError("a worker process ended unexpectedly (killed, or out of memory?)") \
            from exc
