"""The trainer's executor: results in item order, the calling process's share, errors, and
work stealing from the workers' unfinished folds."""
import os
import threading
import time

import pytest

from snnexact.training.parallel import _Claims, executor


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


# ----------------------------------------------------------------------------- work stealing

STEP_SECONDS = 0.02


def _slow_fold(item, claim=None):
    """A fold whose result depends on the order of its additions: the sum of the steps' values,
    left to right, one step per ``STEP_SECONDS`` (for the item marked slow), and who ran each
    step (process and thread)."""
    slow, values = item
    total, who = 0.0, []
    for j, v in enumerate(values):
        if claim is not None and not claim(j):
            break
        if slow:
            time.sleep(STEP_SECONDS)
        total += v
        who.append((os.getpid(), threading.get_ident()))
    return total, who


def _append(a, b):
    return a[0] + b[0], a[1] + b[1]


@pytest.mark.parametrize("backend", ["loky", "threads"])
def test_an_idle_caller_takes_steps_from_the_end_and_the_fold_is_unchanged(backend):
    # 1.0 plus forty halves of an ulp: left to right every addition rounds back to 1.0, while
    # any two of them added first would show
    values = [1.0] + [2.0 ** -53] * 40
    items = [(False, values), (True, values)]  # the caller's own item is quick, the other slow
    with executor(backend, 2) as run:
        run(_pid_and_square, range(2))  # the worker is up
        results = run(_slow_fold, items, _append)
    me = (os.getpid(), threading.get_ident())
    assert [r[0] for r in results] == [1.0, 1.0]
    who = results[1][1]
    assert len(who) == len(values)
    mine = [w == me for w in who]
    # the worker ran a prefix, the caller the rest, at least the last step
    assert mine == sorted(mine) and mine[-1]


def test_claims_are_exclusive_and_end_with_the_call(tmp_path):
    folder = tmp_path / "claims"
    folder.mkdir()
    a, b = _Claims(str(folder), 1), _Claims(str(folder), 1)
    assert a(3) and not b(3) and b(4) and not a(4)
    assert _Claims(str(folder), 2)(3)  # another item's step 3
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    assert not a(5)  # the call has ended: nothing more is claimed
