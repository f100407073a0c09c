"""Atomic checkpoints of the full training state.

One ``.npz`` per run holding the parameters, the optimiser moments and step, the position
(epoch, batch) and, as JSON, the config and the metrics history. It is written to a temporary
file in the same folder, flushed to disk and renamed over the old one (``os.replace`` is atomic
on POSIX), so a crash or ``kill -9`` leaves either the old or the new checkpoint, never a torn
one. Randomness is keyed by (seed, epoch, sample), so no RNG state needs saving.
"""
import json
import os
from pathlib import Path
import tempfile
import zipfile

import numpy as np

from snnexact.engine.network import Params
from snnexact.training.optim import OptimiserState


def _flatten(prefix, params, out):
    for name, arr in params.named().items():
        out[f"{prefix}/{name}"] = arr


def _unflatten(prefix, data, n_layers):
    def group(name):
        return tuple(np.array(data[f"{prefix}/{name}{l}"]) if f"{prefix}/{name}{l}" in data
                     else None for l in range(n_layers))
    V0 = group("V0")
    return Params(group("W"), group("R"), None if all(v is None for v in V0) else V0)


def save(path, params, opt_state, epoch, batch, config_json, history, extra=None):
    """Write the checkpoint atomically."""
    path = Path(path)
    arrays = {}
    _flatten("params", params, arrays)
    _flatten("m", opt_state.m, arrays)
    _flatten("v", opt_state.v, arrays)
    meta = {"epoch": int(epoch), "batch": int(batch), "step": int(opt_state.step),
            "n_layers": len(params.W), "config": config_json, "history": history,
            "extra": extra or {}}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """``(params, opt_state, meta)`` from a checkpoint; ``ValueError`` naming the file if it is
    not a readable snnexact checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            data = dict(npz)
        meta = json.loads(bytes(data["meta"]).decode())
        n = meta["n_layers"]
        params = _unflatten("params", data, n)
        state = OptimiserState(_unflatten("m", data, n), _unflatten("v", data, n), meta["step"])
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"checkpoint {path} is not a readable snnexact checkpoint: {exc}") from exc
    return params, state, meta
