"""The only place Numba options are set.

``cache=True`` stores compiled kernels on disk (it also spares every joblib worker a recompile),
``error_model="numpy"`` gives IEEE results (inf/nan) instead of Python exceptions inside kernels,
``nogil=True`` lets thread-based backends run kernels in parallel. fastmath stays off: the kernels
promise bit-for-bit reproducible, exactly rounded closed forms.
"""
import numba

# compile options of every kernel; the neuron-model interface's overloads (compiled into their
# cached callers, so not cached themselves: a second cache entry under the same function
# would collide with the kernel's own) use them too
OPTIONS = {"error_model": "numpy", "nogil": True}

jit = numba.njit(cache=True, **OPTIONS)

# Kernels that neither allocate nor return arrays (only scalars, or nothing) are compiled
# without Numba's reference counting: every array they see belongs to a caller that outlives the
# call, so the counts would only cost two atomic operations per array argument and per view on
# each call; these helpers run once per event or neuron (with counting they took a fifth of the
# QIF reverse pass, docs/performance.md). Numba refuses to compile an allocation here; returning
# an array would be unsafe and is ruled out by tests/test_leaf_kernels.py.
LEAF_OPTIONS = {**OPTIONS, "_nrt": False}

leaf = numba.njit(cache=True, **LEAF_OPTIONS)
