"""Who computes which sample of a batch: a claim table shared by the executor's parties.

The batch's samples are cut into chunks (the unit whose gradients are summed in sample order,
see ``training/batches.py``). Per chunk the table holds ``front`` and ``back``, the first and the
last sample nobody has claimed yet. A party that owns a chunk claims from the front and sums as
it goes; a party with nothing of its own left steals from the back of the chunk with the most
samples left, and keeps those samples' results apart. The stolen samples of a chunk are thus
always its last ones, so the owner's running sum followed by the stolen samples in order is the
chunk's sum in sample order: bitwise the same whoever computed what.

``ThreadClaims`` serves threads of one process (a ``threading.Lock``); ``FileClaims`` serves
processes (the table is a memory-mapped file, its lock a POSIX record lock on that file, so the
process backend needs a POSIX system); a worker process reopens it by its path.
"""
import contextlib
import mmap
import os
import threading

import numpy as np

NOT_FOUND = (-1, -1)


class _Table:
    """The claims on a table ``t`` of ``2 * n_chunks`` int64: ``t[2c]`` front, ``t[2c+1]``
    back. Subclasses provide ``_locked()``, a context manager that holds the lock and yields
    the table."""

    def next_of(self, chunk):
        """The owner's next sample of ``chunk``, or -1 when the rest is claimed."""
        with self._locked() as t:
            i = t[2 * chunk]
            if i > t[2 * chunk + 1]:
                return -1
            t[2 * chunk] = i + 1
            return int(i)

    def pick(self, party, n_parties):
        """``(chunk, sample)``: the first sample of a chunk nobody has started (this party's
        own chunks ``c % n_parties == party`` first, then the others in order), which makes the
        caller its owner; else the last unclaimed sample of the chunk with the most left
        (stolen); else ``(-1, -1)``."""
        with self._locked() as t:
            front, back = t[0::2], t[1::2]
            n = len(front)
            fresh = np.flatnonzero((front == 0) & (back >= 0))
            if len(fresh):
                c = int(min(fresh, key=lambda c: ((c - party) % n_parties != 0, c)))
                t[2 * c] = 1
                return c, 0
            left = back - front
            if n == 0 or left.max() < 0:
                return NOT_FOUND
            c = int(np.argmax(left))
            i = int(back[c])
            t[2 * c + 1] = i - 1
            return c, i


class ThreadClaims(_Table):
    """The table for threads of one process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._t = np.zeros(0, np.int64)

    def reset(self, lengths):
        """A fresh table for chunks of ``lengths`` samples (before any party starts)."""
        with self._lock:
            self._t = _fresh(lengths)

    @contextlib.contextmanager
    def _locked(self):
        with self._lock:
            yield self._t


class FileClaims(_Table):
    """The table for processes: a memory-mapped file at ``path`` holding ``n_chunks`` and the
    table, locked with ``fcntl.lockf``. The caller creates it and calls ``reset`` before it sends
    a batch; a worker gets it by unpickling (one instance per path and process, because closing
    any descriptor of a file drops the process's record locks on it)."""

    def __init__(self, path):
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._map = None
        _OPEN[path] = self

    def __reduce__(self):
        return _attach, (self.path,)

    def reset(self, lengths):
        t = _fresh(lengths)
        nbytes = 8 * (1 + t.size)
        if os.fstat(self._fd).st_size < nbytes:
            os.ftruncate(self._fd, nbytes)
        whole = self._whole()
        whole[0] = len(lengths)
        whole[1:1 + t.size] = t
        del whole

    @contextlib.contextmanager
    def _locked(self):
        import fcntl  # POSIX only; imported here so that threads work everywhere
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        whole = None
        try:
            whole = self._whole()
            yield whole[1:1 + 2 * int(whole[0])]
        finally:
            whole = None  # no view of the mapping may outlive the lock (a remap needs none)
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def _whole(self):
        """The file as int64 (remapped first if it grew)."""
        size = os.fstat(self._fd).st_size
        if self._map is None or len(self._map) != size:
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(self._fd, size)
        return np.frombuffer(self._map, np.int64)

    def close(self):
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if _OPEN.get(self.path) is self:
            del _OPEN[self.path]


_OPEN = {}


def _attach(path):
    claims = _OPEN.get(path)
    return claims if claims is not None else FileClaims(path)


def _fresh(lengths):
    """``[0, n_0 - 1, 0, n_1 - 1, ...]``."""
    t = np.zeros(2 * len(lengths), np.int64)
    t[1::2] = np.asarray(lengths, np.int64) - 1
    return t
