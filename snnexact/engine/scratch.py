"""Work buffers reused across calls, one set per thread.

A large fresh array can cost a page fault per 4 KB on first touch: when a call frees several
hundred kilobytes at the top of the heap, the C allocator may give them back to the operating
system, and the next call faults them in again (531 faults, about 0.35 ms, per QIF
``value_and_grad`` of the benchmark sample; docs/performance.md, issue 13, session 13). Buffers
that never leave a call (replay segments, budget-sized logs that are copied out) come from here
instead: each named slot keeps one flat array per thread, grown to the largest size asked for.
"""
import threading

import numpy as np

_local = threading.local()


def scratch(slot, shape, dtype=np.float64):
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` for work inside one call,
    valid until the same thread asks for ``slot`` again (never return it, or a view of it, to a
    caller). Slot names must be unique per use."""
    buffers = _local.__dict__.setdefault("buffers", {})
    size = 1
    for d in shape:
        size *= int(d)
    key = (slot, np.dtype(dtype))
    flat = buffers.get(key)
    if flat is None or flat.size < size:
        flat = buffers[key] = np.empty(size, dtype)
    return flat[:size].reshape(shape)
