"""The only place Numba options are set.

``cache=True`` stores compiled kernels on disk (it also spares every joblib worker a recompile),
``error_model="numpy"`` gives IEEE results (inf/nan) instead of Python exceptions inside kernels,
``nogil=True`` lets thread-based backends run kernels in parallel. fastmath stays off: the kernels
promise bit-for-bit reproducible, exactly rounded closed forms.
"""
import numba

jit = numba.njit(cache=True, error_model="numpy", nogil=True)
