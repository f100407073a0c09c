"""The only place Numba options are set.

``cache=True`` stores compiled kernels on disk (it also spares every joblib worker a recompile),
``error_model="numpy"`` gives IEEE results (inf/nan) instead of Python exceptions inside kernels,
``nogil=True`` lets thread-based backends run kernels in parallel. fastmath stays off: the kernels
promise bit-for-bit reproducible, exactly rounded closed forms.

Numba gives every compiled function two wrappers, each lowered and compiled on its own, which a
cold start pays for: a C-callable one (for passing functions as values), which no kernel uses
(``no_cfunc_wrapper``), and the CPython one that calls from Python go through, which only the
kernels Python calls need. Kernels that only other kernels call are ``inner``: no CPython
wrapper. Numba compiles a verb of the model interface once per set of caller flags, so the verbs
that inner kernels call also share one compilation with the verbs that other verbs call. Both
together shortened the cold start by 14-16 % (docs/performance.md, issue 13, session 11).
"""
import numba
from numba.core.registry import CPUDispatcher

# compile options of every kernel; the neuron-model interface's overloads (compiled into their
# cached callers, so not cached themselves: a second cache entry under the same function
# would collide with the kernel's own) use them too
OPTIONS = {"error_model": "numpy", "nogil": True, "no_cfunc_wrapper": True}

jit = numba.njit(cache=True, **OPTIONS)

# Kernels that neither allocate nor return arrays (only scalars, or nothing) are compiled
# without Numba's reference counting: every array they see belongs to a caller that outlives the
# call, so the counts would only cost two atomic operations per array argument and per view on
# each call; these helpers run once per event or neuron (with counting they took a fifth of the
# QIF reverse pass, docs/performance.md). Numba refuses to compile an allocation here; returning
# an array would be unsafe and is ruled out by tests/test_leaf_kernels.py.
LEAF_OPTIONS = {**OPTIONS, "_nrt": False}

leaf = numba.njit(cache=True, **LEAF_OPTIONS)


class InnerKernel(CPUDispatcher):
    """A leaf kernel that only other kernels call, compiled without the CPython wrapper (cached
    like the others). A Python call, which would jump through a missing wrapper, raises
    ``TypeError`` instead; ``python_twin()`` is the same function with a wrapper, for tests."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} runs only inside "
                        f"compiled kernels; from Python, call its python_twin()")

    def python_twin(self):
        """The function compiled as a ``leaf`` kernel with a CPython wrapper (not cached: its
        entries would share this kernel's cache files)."""
        if "_twin" not in self.__dict__:
            self._twin = numba.njit(**LEAF_OPTIONS)(self.py_func)
        return self._twin


def inner(fn):
    """``leaf``, for kernels called only from other kernels: no CPython wrapper."""
    if numba.config.DISABLE_JIT:  # plain Python, as numba.njit gives then
        fn.python_twin = lambda: fn
        return fn
    options = {**LEAF_OPTIONS, "nopython": True, "no_cpython_wrapper": True}
    kernel = InnerKernel(py_func=fn, locals={}, targetoptions=options)
    kernel.enable_caching()
    return kernel
