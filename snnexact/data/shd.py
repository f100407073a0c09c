"""Spike-data sets with one interface: the SHD-layout HDF5 loader and an in-memory twin.

Every data set here maps an index ``i`` to a :class:`Sample` ``(times, units, label, index)``:
``times`` are float64 seconds (or model time units) sorted ascending, ties broken by unit id;
``units`` are int64 channel ids in ``[0, n_channels)``.

SHD layout (Cramer et al. 2020): ``spikes/times`` vlen float16 seconds, ``spikes/units`` vlen
uint16, ``labels``, and optional ``extra/keys`` (class names) and ``extra/speaker``.
float16 -> float64 is exact, so no spike time is changed; float16 rounding creates many exact
ties, which are kept.
Nothing is downloaded: SHD is published at https://zenkelab.org/datasets/ and the path to a local
copy must be passed explicitly.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHD_N_CHANNELS = 700
SHD_URL = "https://zenkelab.org/datasets/"
_REQUIRED_KEYS = ("spikes/times", "spikes/units", "labels")
_BLOCK = 512  # samples per bulk read while iterating


@dataclass(frozen=True)
class Sample:
    """One spike pattern: sorted float64 ``times``, int64 ``units``, class ``label``, ``index``."""

    times: np.ndarray
    units: np.ndarray
    label: int
    index: int

    def __len__(self):
        return int(self.times.shape[0])


def sort_events(times, units):
    """Return ``(times, units)`` as float64/int64 sorted by (time, unit); a no-op copy if sorted."""
    times = np.asarray(times, dtype=np.float64)
    units = np.asarray(units, dtype=np.int64)
    if times.ndim != 1 or units.ndim != 1 or times.shape != units.shape:
        raise ValueError(f"times and units must be 1-D of equal length, got shapes "
                         f"{times.shape} and {units.shape}")
    if times.size > 1:
        dt = np.diff(times)
        if np.any(dt < 0) or np.any((dt == 0) & (np.diff(units) < 0)):
            order = np.lexsort((units, times))
            return times[order], units[order]
    return times.copy(), units.copy()


class _SequenceMixin:
    """``len``, iteration, integer and slice indexing on top of ``_get(i)`` / ``_block(a, b)``."""

    def _block(self, start, stop):
        return [self._get(i) for i in range(start, stop)]

    def __getitem__(self, i):
        n = len(self)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        if not isinstance(i, (int, np.integer)) or isinstance(i, (bool, np.bool_)):
            raise TypeError(f"index must be an int or a slice, got {type(i).__name__}")
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"index {int(i)} out of range for {n} samples")
        return self._get(j)

    def __iter__(self):
        n = len(self)
        for start in range(0, n, _BLOCK):
            yield from self._block(start, min(start + _BLOCK, n))


class SpikeDataset(_SequenceMixin):
    """In-memory data set of spike patterns with the same interface as :class:`SHDDataset`.

    ``times``/``units`` are sequences of per-sample arrays; they are sorted by (time, unit) and cast
    to float64/int64 once, here.
    """

    def __init__(self, times, units, labels, n_channels, n_classes=None, name="spikes"):
        labels = np.asarray(labels, dtype=np.int64)
        if labels.ndim != 1 or len(times) != labels.size or len(units) != labels.size:
            raise ValueError(f"labels: need one label per sample, got {labels.shape} labels for "
                             f"{len(times)} times and {len(units)} units arrays")
        if int(n_channels) < 1:
            raise ValueError(f"n_channels must be >= 1, got {n_channels}")
        if labels.size and labels.min() < 0:
            raise ValueError(f"labels must be >= 0, got {labels.min()}")
        self.n_channels = int(n_channels)
        self.n_classes = int(n_classes if n_classes is not None
                             else (labels.max() + 1 if labels.size else 0))
        if labels.size and labels.max() >= self.n_classes:
            raise ValueError(f"labels: {labels.max()} >= n_classes={self.n_classes}")
        self.name = name
        self.labels = labels
        self._times, self._units = [], []
        for i, (t, u) in enumerate(zip(times, units)):
            t, u = sort_events(t, u)
            if u.size and (u.min() < 0 or u.max() >= self.n_channels):
                raise ValueError(f"{name}: sample {i}: units out of range [0, {self.n_channels})")
            self._times.append(t)
            self._units.append(u)

    def __len__(self):
        return int(self.labels.size)

    def _get(self, i):
        return Sample(self._times[i], self._units[i], int(self.labels[i]), i)

    def __repr__(self):
        return (f"SpikeDataset({self.name!r}, n_samples={len(self)}, "
                f"n_channels={self.n_channels}, n_classes={self.n_classes})")


def _missing_message(path):
    return (f"SHD file not found: {path}. The Spiking Heidelberg Digits (SHD) are published by "
            f"Cramer et al. 2020 at {SHD_URL}; download the files there and pass the path "
            f"explicitly (nothing is downloaded at run time; .h5 and .h5.gz are accepted).")


def _decompressed_copy(path, cache_dir):
    """Decompress ``path`` (.gz) once into ``cache_dir``; the original is only read."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    cache_dir = Path(cache_dir) if cache_dir is not None else (
        Path(tempfile.gettempdir()) / "snnexact-cache")
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{path.name[:-3]}.{key}.h5"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(tmp, target)  # atomic: concurrent workers never see a partial file
        except (OSError, EOFError) as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise ValueError(f"{path}: cannot decompress gzip file ({exc})") from exc
    return target


class SHDDataset(_SequenceMixin):
    """Lazy reader for files in the Spiking Heidelberg Digits HDF5 layout (.h5 or .h5.gz).

    The file is opened on first access in each process (the PID is stored; a forked or loky worker
    reopens it), and the handle is dropped when pickling. ``.h5.gz`` is decompressed once into
    ``cache_dir`` (default: ``<tmp>/snnexact-cache``). Samples are validated when read; any
    problem raises ``ValueError`` naming the file and the sample index.

    n_channels: channel count for validation; default the file attribute ``n_channels`` if set,
        else 700 (SHD).
    """

    def __init__(self, path, n_channels=None, cache_dir=None):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(_missing_message(path))
        if n_channels is not None and int(n_channels) < 1:
            raise ValueError(f"n_channels must be >= 1, got {n_channels}")
        self.path = path
        self._n_channels_arg = None if n_channels is None else int(n_channels)
        self.cache_dir = cache_dir
        self._file = None
        self._pid = None
        self._meta = None

    # --- file handling -------------------------------------------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_file"] = None
        state["_pid"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _h5(self):
        if self._file is None or self._pid != os.getpid():
            import h5py
            source = self.path
            if source.name.endswith(".gz"):
                source = _decompressed_copy(source, self.cache_dir)
            try:
                self._file = h5py.File(source, "r")
            except OSError as exc:
                raise ValueError(f"{self.path}: not a readable HDF5 file "
                                 f"(corrupt or truncated?): {exc}") from exc
            self._pid = os.getpid()
            if self._meta is None:
                self._meta = self._read_meta(self._file)
        return self._file

    def close(self):
        """Close the HDF5 handle (it reopens on the next access)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None
        self._pid = None

    def _read_meta(self, f):
        import h5py
        for key in _REQUIRED_KEYS:
            if key not in f:
                raise ValueError(f"{self.path}: missing dataset '{key}' (SHD layout needs "
                                 f"{', '.join(_REQUIRED_KEYS)})")
        for key in ("spikes/times", "spikes/units"):
            if h5py.check_vlen_dtype(f[key].dtype) is None or f[key].ndim != 1:
                raise ValueError(f"{self.path}: '{key}' must be a 1-D variable-length dataset, "
                                 f"got dtype {f[key].dtype} shape {f[key].shape}")
        try:
            labels = np.asarray(f["labels"][()])
        except OSError as exc:
            raise ValueError(f"{self.path}: cannot read 'labels': {exc}") from exc
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{self.path}: 'labels' must be a 1-D integer array, "
                             f"got dtype {labels.dtype} shape {labels.shape}")
        n = labels.size
        for key in ("spikes/times", "spikes/units"):
            if f[key].shape[0] != n:
                raise ValueError(f"{self.path}: '{key}' has {f[key].shape[0]} samples but "
                                 f"'labels' has {n}")
        if n and labels.min() < 0:
            raise ValueError(f"{self.path}: negative label {labels.min()}")
        if "extra/keys" in f:
            n_classes = int(f["extra/keys"].shape[0])
            if n and labels.max() >= n_classes:
                raise ValueError(f"{self.path}: label {labels.max()} >= number of class names "
                                 f"in 'extra/keys' ({n_classes})")
        else:
            n_classes = int(labels.max()) + 1 if n else 0
        n_channels = self._n_channels_arg
        if n_channels is None:
            n_channels = int(f.attrs.get("n_channels", SHD_N_CHANNELS))
        return {"labels": labels.astype(np.int64), "n_classes": n_classes,
                "n_channels": n_channels}

    def _ensure_meta(self):
        if self._meta is None:
            self._h5()
        return self._meta

    # --- public properties -----------------------------------------------------------------------
    def __len__(self):
        return int(self._ensure_meta()["labels"].size)

    @property
    def labels(self):
        """int64 label per sample."""
        return self._ensure_meta()["labels"]

    @property
    def n_classes(self):
        """Number of classes: entries of ``extra/keys`` if present, else max label + 1."""
        return self._ensure_meta()["n_classes"]

    @property
    def n_channels(self):
        return self._ensure_meta()["n_channels"]

    @property
    def class_names(self):
        """Decoded ``extra/keys`` (empty tuple if absent)."""
        f = self._h5()
        if "extra/keys" not in f:
            return ()
        return tuple(k.decode() if isinstance(k, bytes) else str(k) for k in f["extra/keys"][()])

    @property
    def speakers(self):
        """``extra/speaker`` as int64, or None if absent."""
        f = self._h5()
        return np.asarray(f["extra/speaker"][()], dtype=np.int64) if "extra/speaker" in f else None

    # --- reading --------------------------------------------------------------------------------
    def _read(self, key, start, stop):
        try:
            return self._h5()[key][start:stop]
        except OSError as exc:
            raise ValueError(f"{self.path}: cannot read '{key}' for samples {start}..{stop - 1} "
                             f"(corrupt or truncated file?): {exc}") from exc

    def _block(self, start, stop):
        times = self._read("spikes/times", start, stop)
        units = self._read("spikes/units", start, stop)
        return [self._make(start + k, t, u) for k, (t, u) in enumerate(zip(times, units))]

    def _get(self, i):
        return self._block(i, i + 1)[0]

    def _make(self, i, t, u):
        where = f"{self.path}: sample {i}"
        t, u = np.asarray(t), np.asarray(u)
        if t.shape != u.shape:
            raise ValueError(f"{where}: {t.size} spike times but {u.size} units")
        if t.size and not np.issubdtype(t.dtype, np.floating):
            raise ValueError(f"{where}: spike times must be floating point, got {t.dtype}")
        if u.size and not np.issubdtype(u.dtype, np.integer):
            raise ValueError(f"{where}: units must be integers, got {u.dtype}")
        times = t.astype(np.float64)  # exact for float16/float32
        units = u.astype(np.int64)
        if times.size:
            if not np.all(np.isfinite(times)):
                raise ValueError(f"{where}: spike times contain NaN or inf")
            if times.min() < 0:
                raise ValueError(f"{where}: negative spike time {times.min()}")
            if np.any(np.diff(times) < 0):
                k = int(np.argmax(np.diff(times) < 0))
                raise ValueError(f"{where}: spike times unsorted at position {k + 1} "
                                 f"({times[k]} then {times[k + 1]})")
            n_ch = self.n_channels
            if units.min() < 0 or units.max() >= n_ch:
                bad = units.max() if units.max() >= n_ch else units.min()
                raise ValueError(f"{where}: unit {bad} out of range [0, {n_ch})")
            times, units = sort_events(times, units)  # ties: order by unit id
        return Sample(times, units, int(self.labels[i]), i)

    def __repr__(self):
        return f"SHDDataset({str(self.path)!r})"
