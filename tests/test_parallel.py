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
