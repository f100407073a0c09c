"""The trainer's executor: results in item order, the calling process's share, errors."""
import os

import pytest

from snnexact.training.parallel import executor


def _pid_and_square(x):
    return os.getpid(), x * x


def _fail_on_three(x):
    if x == 3:
        raise RuntimeError("item 3")
    return x


@pytest.mark.parametrize("backend", ["loky", "threads"])
@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_results_in_item_order(backend, n_jobs):
    with executor(backend, n_jobs) as run:
        got = run(_pid_and_square, range(7))
    assert [r[1] for r in got] == [x * x for x in range(7)]


def test_caller_runs_every_n_jobs_th_item_and_workers_the_rest():
    with executor("loky", 3) as run:
        pids = [pid for pid, _ in run(_pid_and_square, range(7))]
    me = os.getpid()
    assert [pid == me for pid in pids] == [i % 3 == 0 for i in range(7)]


@pytest.mark.parametrize("backend", ["loky", "threads"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_an_error_in_any_item_propagates(backend, n_jobs):
    with executor(backend, n_jobs) as run:
        with pytest.raises(RuntimeError, match="item 3"):
            run(_fail_on_three, range(6))
        assert run(_fail_on_three, [0, 1]) == [0, 1]  # the executor still works afterwards


def test_channel_carries_arrays_of_any_layout_and_grows(tmp_path):
    import socket
    from multiprocessing.connection import Connection

    import numpy as np

    from snnexact.training.channel import MIN_ARENA_BYTES, Channel
    a, b = socket.socketpair()
    files = (str(tmp_path / "ab"), str(tmp_path / "ba"))
    left = Channel(Connection(a.detach()), *files)
    right = Channel(Connection(b.detach()), *files[::-1])
    rng = np.random.default_rng(0)
    big = rng.normal(size=MIN_ARENA_BYTES // 4)           # twice the first arena
    msgs = [{"c": rng.normal(size=(3, 4)), "f": np.asfortranarray(rng.normal(size=(4, 3))),
             "strided": rng.normal(size=10)[::3], "ints": np.arange(7), "text": "x"},
            ("no arrays", 1), [big, big[::-1].copy()], [np.zeros(0), np.float64(2.5)]]
    try:
        for msg in msgs:
            left.send(msg)
            got = right.recv()
            right.send(got)
            back = left.recv()
            assert repr(back) == repr(msg)
            for x, y in ((got, msg), (back, msg)):
                for u, v in (zip(x.values(), y.values()) if isinstance(x, dict) else zip(x, y)):
                    if isinstance(v, np.ndarray):
                        assert np.array_equal(u, v) and u.flags.writeable
    finally:
        left.close()
        right.close()


def _exit_in_a_worker(caller_pid):
    if os.getpid() != caller_pid:
        os._exit(3)


def _lock(x):
    import threading
    return threading.Lock()


def test_a_dead_worker_and_an_unpicklable_result_give_clear_errors():
    with executor("loky", 2) as run:
        with pytest.raises(RuntimeError, match="could not be pickled"):
            run(_lock, [0, 1])
        assert run(_pid_and_square, [2, 3])[1][1] == 9  # still in step
        with pytest.raises(RuntimeError, match="ended unexpectedly"):
            run(_exit_in_a_worker, [os.getpid()] * 2)
