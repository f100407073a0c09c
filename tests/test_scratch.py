"""Per-thread work buffers (snnexact/engine/scratch.py)."""
import threading

import numpy as np

from snnexact.engine.scratch import scratch


def test_a_slot_reuses_its_memory_and_grows_when_asked_for_more():
    a = scratch("test.a", (4, 3))
    assert a.shape == (4, 3) and a.dtype == np.float64 and a.flags.c_contiguous
    b = scratch("test.a", (2, 5))
    assert np.shares_memory(a, b)
    big = scratch("test.a", (100,))
    assert big.shape == (100,) and not np.shares_memory(a, big)
    assert np.shares_memory(scratch("test.a", (7,)), big)


def test_slots_and_dtypes_do_not_share_memory():
    a = scratch("test.b", (8,))
    assert not np.shares_memory(a, scratch("test.c", (8,)))
    ints = scratch("test.b", (8,), np.int64)
    assert ints.dtype == np.int64 and not np.shares_memory(a, ints)


def test_threads_get_their_own_buffers():
    mine = scratch("test.d", (16,))
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(scratch("test.d", (16,))))
    worker.start()
    worker.join()
    assert not np.shares_memory(mine, theirs[0])
