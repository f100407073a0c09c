"""Composable transforms on spike patterns ``(times, units) -> (times, units)``.

Each transform is a frozen dataclass called as ``tf(times, units, rng=None)``; ``rng`` is a
``numpy.random.Generator``, an int seed, or None (fresh entropy; only random transforms use it).
Outputs are always float64 times and int64 units sorted by (time, unit). All transforms are exact
(they move, drop or relabel spikes without rounding) except :class:`Bin`, which quantises times.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from snnexact.checks import positive_real
from snnexact.data.shd import SHD_N_CHANNELS, sort_events
from snnexact.engine.events import merge_ties

__all__ = ["Compose", "TimeScale", "TimeNormalise", "Crop", "PoolChannels", "Bin", "MaxSpikes",
           "ChannelShift", "TimeJitter", "TiedEvents", "tied_events", "as_generator"]


def as_generator(rng):
    """Return a ``numpy.random.Generator`` from a Generator, an int seed, or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, an int seed or None, "
                     f"got {type(rng).__name__}")


_positive = positive_real  # (name, value): finite and > 0, or an error naming it


def _count(name, value, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order; one Generator is threaded through all of them."""

    transforms: tuple

    def __post_init__(self):
        object.__setattr__(self, "transforms", tuple(self.transforms))
        for tf in self.transforms:
            if not callable(tf):
                raise ValueError(f"transforms: {tf!r} is not callable")

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        gen = None
        for tf in self.transforms:
            if gen is None and getattr(tf, "random", False):
                gen = as_generator(rng)
            times, units = tf(times, units, rng=gen)
        return times, units


@dataclass(frozen=True)
class TimeScale:
    """t -> factor * t (e.g. seconds -> milliseconds with factor=1e3)."""

    factor: float

    def __post_init__(self):
        _positive("factor", self.factor)

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        return times * self.factor, units


@dataclass(frozen=True)
class TimeNormalise:
    """Per-sample time normalisation (docs/theory.md section 9; docs/data.md).

    With ``t_lo``, ``t_hi`` the spike times at the ``quantile`` and ``1 - quantile`` points of the
    sample's spike count and ``w = t_hi - t_lo``, the window ``[t_lo - margin w, t_hi + margin w]``
    is mapped linearly onto ``[0, span)``; spikes mapped outside are dropped. If the window has
    zero width (``t_lo = t_hi``), the spikes at that time move to ``span / 2`` and the rest
    are dropped. Exact up to one rounding per time
    (a linear map); it changes the input, so it belongs to the data, not the simulator.
    """

    span: float
    quantile: float = 0.05
    margin: float = 0.0

    def __post_init__(self):
        _positive("span", self.span)
        if not 0 <= self.quantile < 0.5:
            raise ValueError(f"quantile must lie in [0, 0.5), got {self.quantile!r}")
        if not (np.isfinite(self.margin) and self.margin >= 0):
            raise ValueError(f"margin must be finite and >= 0, got {self.margin!r}")

    def window(self, times):
        """``(start, width)`` of the window mapped onto ``[0, span)`` for sorted ``times``."""
        n = times.size
        lo = times[int(math.floor(self.quantile * (n - 1)))]
        hi = times[int(math.ceil((1 - self.quantile) * (n - 1)))]
        width = hi - lo
        return lo - self.margin * width, (1 + 2 * self.margin) * width

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        if times.size == 0:
            return times, units
        start, width = self.window(times)
        if width == 0:
            keep = times == start
            return np.full(int(keep.sum()), 0.5 * self.span), units[keep]
        mapped = (times - start) * (self.span / width)
        keep = (mapped >= 0) & (mapped < self.span)
        return mapped[keep], units[keep]


@dataclass(frozen=True)
class Crop:
    """Keep spikes with t0 <= t < t1; with ``shift`` subtract t0 afterwards."""

    t0: float = 0.0
    t1: float = np.inf
    shift: bool = False

    def __post_init__(self):
        if not (np.isfinite(self.t0) and self.t1 > self.t0):
            raise ValueError(f"t0, t1: need finite t0 < t1, got t0={self.t0}, t1={self.t1}")

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        keep = (times >= self.t0) & (times < self.t1)
        times, units = times[keep], units[keep]
        return (times - self.t0 if self.shift else times), units


@dataclass(frozen=True)
class PoolChannels:
    """Merge ``factor`` neighbouring channels: u -> u // factor, giving ceil(n_channels/factor)."""

    factor: int
    n_channels: int = SHD_N_CHANNELS

    def __post_init__(self):
        _count("factor", self.factor, 1)
        _count("n_channels", self.n_channels, 1)

    @property
    def n_out(self):
        """Number of output channels."""
        return -(-self.n_channels // self.factor)

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        if units.size and (units.min() < 0 or units.max() >= self.n_channels):
            raise ValueError(f"units must lie in [0, {self.n_channels}), got "
                             f"[{units.min()}, {units.max()}]")
        return sort_events(times, units // self.factor)


@dataclass(frozen=True)
class Bin:
    """Quantise times to the left bin edge, t -> floor(t / dt) * dt.

    An approximation (it changes spike times by up to dt and creates ties); the exact simulator
    does not need it. Spikes falling into the same (bin, unit) are all kept.

    Binned virtual input events (docs/theory.md section 9): the simulator applies all spikes of one
    time stamp as one event whose weight vector is the sum of their weight columns, ``W @ c_b``
    with ``c_b`` the spike counts of bin ``b``; so after ``Bin(T / n_bins)`` a sample has at most
    ``n_bins`` input events, whatever its spike count, and the simulation is exact for the
    binned input.
    """

    dt: float

    def __post_init__(self):
        _positive("dt", self.dt)

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        return sort_events(np.floor(times / self.dt) * self.dt, units)


@dataclass(frozen=True)
class MaxSpikes:
    """Keep the first ``n`` spikes in (time, unit) order."""

    n: int

    def __post_init__(self):
        _count("n", self.n, 0)

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        return times[:self.n], units[:self.n]


@dataclass(frozen=True)
class ChannelShift:
    """Augmentation: shift all units by one integer s ~ U{-max_shift..max_shift}; drop units
    leaving [0, n_channels)."""

    max_shift: int
    n_channels: int = SHD_N_CHANNELS
    random = True

    def __post_init__(self):
        _count("max_shift", self.max_shift, 0)
        _count("n_channels", self.n_channels, 1)

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        s = int(as_generator(rng).integers(-self.max_shift, self.max_shift + 1))
        units = units + s
        keep = (units >= 0) & (units < self.n_channels)
        return times[keep], units[keep]


@dataclass(frozen=True)
class TimeJitter:
    """Augmentation: t -> max(0, t + sigma * N(0, 1)) independently per spike, then re-sort."""

    sigma: float
    random = True

    def __post_init__(self):
        if not (np.isfinite(self.sigma) and self.sigma >= 0):
            raise ValueError(f"sigma must be finite and >= 0, got {self.sigma}")

    def __call__(self, times, units, rng=None):
        times, units = sort_events(times, units)
        noise = as_generator(rng).normal(0.0, self.sigma, size=times.size)
        return sort_events(np.maximum(times + noise, 0.0), units)


@dataclass(frozen=True)
class TiedEvents:
    """Spikes grouped by identical time stamp (CSR layout).

    ``times[k]`` is the k-th distinct time (strictly increasing); the units that fire at it are
    ``units[offsets[k]:offsets[k + 1]]`` (ascending). ``offsets`` has ``len(times) + 1`` entries.
    """

    times: np.ndarray
    offsets: np.ndarray
    units: np.ndarray

    def expand(self):
        """Back to one entry per spike: ``(times, units)`` sorted by (time, unit)."""
        return np.repeat(self.times, np.diff(self.offsets)), self.units.copy()


def tied_events(times, units):
    """Group spikes with exactly equal time stamps (no tolerance: exact ties only), as the
    simulator does (``engine.events.merge_ties``).

    An exact simulator must apply all input spikes of one time stamp together; float16 SHD times
    produce many such ties. ``tied_events(t, u).expand()`` returns the sorted input unchanged.

    >>> ev = tied_events(np.array([0.5, 0.1, 0.5]), np.array([4, 2, 1]))
    >>> ev.times.tolist(), ev.offsets.tolist(), ev.units.tolist()
    ([0.1, 0.5], [0, 1, 3], [2, 1, 4])
    """
    times, units = sort_events(times, units)
    event_times, offsets = merge_ties(times)
    return TiedEvents(event_times, offsets, units)
