"""Argument validation shared by the public functions: errors name the argument."""
import math

import numpy as np


class UndefinedResultError(ArithmeticError):
    """A loss or gradient that is genuinely undefined for these (valid) inputs; the message names
    the cause. Every other valid input gives a finite loss and gradient."""


def real_array(name, a, ndim=None, shape=None):
    """``a`` as a C-contiguous float64 array; ``TypeError`` if it is not real-valued,
    ``ValueError`` (naming ``name`` and the first bad index) for a wrong ``ndim``/``shape`` or a
    NaN/inf entry."""
    a = np.asarray(a)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"{name} must be a real array, got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        idx = ", ".join(str(int(b)) for b in bad)
        raise ValueError(f"{name}[{idx}] is {a[tuple(bad)]}: values must be finite")
    return a


def check_fields(prefix, obj, checks):
    """Raise ``ValueError("{prefix}: {name} must be {want}, got {value!r}")`` for the first
    ``(name, ok, want)`` of ``checks`` whose ``ok`` is false (``value``: ``obj.name``)."""
    for name, ok, want in checks:
        if not ok:
            raise ValueError(f"{prefix}: {name} must be {want}, got {getattr(obj, name)!r}")


def finite_real(name, value):
    """``value`` as a float if it is a finite real number; else a ``TypeError`` or
    ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def positive_real(name, value):
    """``value`` as a float if it is a finite real number > 0; else a ``TypeError`` or
    ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)
