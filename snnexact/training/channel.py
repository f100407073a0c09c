"""A message channel between two processes that carries NumPy arrays cheaply.

A message is pickled with protocol 5: the arrays' buffers go out of band into a memory-mapped
file of the sending direction (one copy in), the rest (small) through a connected socket, and the
receiver copies the buffers out of its mapping (one copy out) before unpickling. With the whole
message through the socket, a QIF training batch's worker started 2.8 ms into the batch; with the
arrays in the mapped files, 1.3-2.0 ms (docs/performance.md, issue 13, session 9).

Each direction's file is written only by its sender and grows on demand (the sender truncates
it to a larger size, the receiver remaps when a message reaches past its mapping). The two
processes take turns (request, then reply), so a sender never overwrites a message that the
receiver has not yet copied out.
"""
import mmap
import os
import pickle

import cloudpickle

MIN_ARENA_BYTES = 1 << 20


class _Arena:
    """A memory-mapped file; ``reserve`` (the writer) grows it, ``cover`` (the reader) remaps."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.size = 0
        self.map = None

    def reserve(self, nbytes):
        if nbytes > self.size:
            new = max(nbytes, 2 * self.size, MIN_ARENA_BYTES)
            os.ftruncate(self.fd, new)
            self._remap(new)

    def cover(self, nbytes):
        if nbytes > self.size:
            self._remap(os.fstat(self.fd).st_size)

    def _remap(self, size):
        if self.map is not None:
            self.map.close()
        self.map = mmap.mmap(self.fd, size)
        self.size = size

    def close(self):
        if self.map is not None:
            self.map.close()
            self.map = None
        os.close(self.fd)


class Channel:
    """``send(obj)`` / ``recv()`` over ``conn`` (a ``multiprocessing.connection.Connection``),
    with array buffers through the files ``out_path`` (written here) and ``in_path`` (written by
    the other end). Objects are pickled with cloudpickle, so functions defined in ``__main__``
    travel too."""

    def __init__(self, conn, out_path, in_path):
        self.conn = conn
        self._out = _Arena(out_path)
        self._in = _Arena(in_path)

    def send(self, obj):
        buffers = []
        head = cloudpickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
        views = [b.raw() for b in buffers]
        sizes = [v.nbytes for v in views]
        if views:
            self._out.reserve(sum(sizes))
            with memoryview(self._out.map) as arena:
                offset = 0
                for v, n in zip(views, sizes):
                    arena[offset:offset + n] = v
                    offset += n
                    v.release()
        self.conn.send_bytes(pickle.dumps((head, sizes), protocol=5))

    def recv(self):
        """The next object; ``EOFError`` or ``OSError`` if the other end is gone."""
        head, sizes = pickle.loads(self.conn.recv_bytes())
        buffers = []
        if sizes:
            self._in.cover(sum(sizes))
            with memoryview(self._in.map) as arena:
                offset = 0
                for n in sizes:
                    buffers.append(bytearray(arena[offset:offset + n]))
                    offset += n
        return pickle.loads(head, buffers=buffers)

    def close(self):
        self.conn.close()
        self._out.close()
        self._in.close()
