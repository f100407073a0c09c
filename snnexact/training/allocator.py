"""Keep the C allocator from handing freed memory back to the system after every sample.

One value-and-grad allocates and frees a dozen arrays of 0.1 to 1 MB (event logs, checkpoints,
gradients). Left to its defaults, glibc serves blocks of that size with fresh pages from the
system (``mmap``) or trims the heap after the frees, so every sample pays page faults on the
first touch of its arrays: about 9 % of a LIF training epoch at the default initialisation and
up to 0.5 ms of one ``value_and_grad`` (docs/performance.md, "Page faults"). ``keep_freed_memory``
raises glibc's mmap and trim thresholds (``mallopt``), so those blocks are reused from the heap.

The setting is process-wide and cannot be undone, so it is applied only in processes snnexact
owns: the command line and the training workers. Where ``mallopt`` does not exist (not glibc)
it does nothing.
"""
import ctypes

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 2 ** 20    # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD_BYTES = 256 * 2 ** 20   # free memory kept at the top of the heap

_applied = False


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds for this process (once); returns whether the
    allocator took the setting."""
    global _applied
    if _applied:
        return True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _applied = (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    return _applied
