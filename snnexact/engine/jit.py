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
