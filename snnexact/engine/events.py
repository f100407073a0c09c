"""Input spike trains: validation and merging of equal time stamps into single events.

Input spikes that share a time stamp are delivered as one event whose weight column is the sum
of the units' columns. This is exact (the dynamics only see the summed jump) and a large saving
on SHD, whose float16 time stamps create many ties.
"""

import numpy as np

from snnexact.checks import positive_real


def check_input(times, units, n_in, T):
    """Validated ``(times float64, units int64)`` input spike train; spikes at ``t >= T`` are
    dropped. ``T`` must be finite and > 0; the rest as for ``check_spike_train``."""
    T = check_T(T)
    t, u = check_spike_train(times, units, n_in, "input_times", "input_units",
                             f"the input layer [0, {n_in})")
    keep = t < T
    return t[keep], u[keep]


def check_spike_train(times, units, n_units, times_name="times", units_name="units",
                      where=None):
    """Validated ``(times float64, units int64)``: raises ``TypeError``/``ValueError`` naming the
    argument for non-numeric or non-1-D arrays, different lengths, NaN, inf or negative times,
    times not sorted in non-decreasing order and units outside ``[0, n_units)`` (``where``
    describes that range in the message)."""
    where = f"[0, {n_units})" if where is None else where
    t = np.asarray(times)
    u = np.asarray(units)
    if u.size == 0 and u.dtype.kind == "f":
        u = u.astype(np.int64)  # an empty list is float64 to NumPy
    if t.dtype.kind not in "fiu" or t.dtype == np.bool_:
        raise TypeError(f"{times_name} must be a real array, got dtype {t.dtype}")
    if u.dtype.kind not in "iu":
        raise TypeError(f"{units_name} must be an integer array, got dtype {u.dtype}")
    if t.ndim != 1 or u.ndim != 1:
        raise ValueError(f"{times_name} and {units_name} must be 1-D, got shapes {t.shape} and "
                         f"{u.shape}")
    if t.shape != u.shape:
        raise ValueError(f"{times_name} and {units_name} differ in length: {t.size} and {u.size}")
    t = np.ascontiguousarray(t, dtype=np.float64)
    if t.size:
        if not np.all(np.isfinite(t)):
            bad = int(np.flatnonzero(~np.isfinite(t))[0])
            raise ValueError(f"{times_name}[{bad}] is {t[bad]}: times must be finite")
        if t.min() < 0.0:
            bad = int(np.flatnonzero(t < 0)[0])
            raise ValueError(f"{times_name}[{bad}] = {t[bad]} is negative")
        if np.any(np.diff(t) < 0.0):
            bad = int(np.flatnonzero(np.diff(t) < 0)[0]) + 1
            raise ValueError(f"{times_name} must be sorted: {times_name}[{bad}] = {t[bad]} "
                             f"< {times_name}[{bad - 1}] = {t[bad - 1]}")
        if u.min() < 0 or u.max() >= n_units:
            bad = int(np.flatnonzero((u < 0) | (u >= n_units))[0])
            raise ValueError(f"{units_name}[{bad}] = {u[bad]} is outside {where}")
    return t, np.ascontiguousarray(u, dtype=np.int64)


def check_T(T):
    return positive_real("T", T)


def merge_ties(times):
    """Unique time stamps of a sorted array and CSR offsets: spikes ``offsets[k]:offsets[k+1]``
    share ``event_times[k]``. (NumPy, not a compiled kernel: about 5 us slower per call on an
    SHD-size sample, and one compilation, about 0.3 s, less in every fresh process.)"""
    n = times.shape[0]
    first = np.empty(n, np.bool_)  # spike i starts an event
    first[:1] = True
    np.not_equal(times[1:], times[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return (times[starts].astype(np.float64, copy=False),
            np.append(starts, n).astype(np.int64, copy=False))
