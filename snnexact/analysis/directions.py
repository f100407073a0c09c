"""Directions in parameter space and points on lines and planes (docs/landscapes.md).

A direction ``d`` is a ``Params`` with the shapes of the parameters ``p``. Landscapes evaluate
``L(p + a d1 + b d2)``. Random directions are normalised per neuron (Li et al. 2018): row ``i``
of every weight array (the incoming weights of neuron ``i``) is scaled to the norm of row ``i``
of ``p``, so that ``a = 1`` moves every neuron by as much as its own weights.
"""
import numpy as np

from snnexact.engine.network import Params


def random_direction(params, rng):
    """A Gaussian direction with the shapes of ``params`` (weights and any trained initial
    voltages), normalised per neuron. Recurrent matrices keep a zero diagonal. ``rng`` is a
    ``np.random.Generator`` or a seed."""
    rng = np.random.default_rng(rng)
    d = params.map(lambda a: rng.standard_normal(a.shape))
    return normalize_per_neuron(without_self_connections(d), params)


def without_self_connections(direction):
    """``direction`` with the diagonals of its recurrent matrices set to 0 (in place)."""
    for r in direction.arrays("R"):
        if r is not None:
            np.fill_diagonal(r, 0.0)
    return direction


def normalize_per_neuron(direction, params):
    """``direction`` with each row (a neuron's incoming weights; for initial voltages, each
    entry) scaled to the norm of the same row of ``params`` (a row of zeros in either stays
    zero)."""
    def scale(d, p):
        d2, p2 = d.reshape(d.shape[0], -1), p.reshape(p.shape[0], -1)
        dn = np.linalg.norm(d2, axis=1, keepdims=True)
        pn = np.linalg.norm(p2, axis=1, keepdims=True)
        return np.where(dn > 0, d2 * pn / np.where(dn > 0, dn, 1.0), 0.0).reshape(d.shape)
    return direction.zip_map(scale, params)


def combine(params, terms):
    """``params + sum_k c_k d_k`` for ``terms = [(c_k, d_k), ...]`` (a term with ``d_k = None``
    is skipped), added in the given order."""
    out = params.copy()
    for c, d in terms:
        if d is not None:
            out = out.zip_map(lambda x, y, c=c: x + c * y, d)
    return out


def shifted(params, direction, a):
    """``params + a * direction``."""
    return combine(params, [(a, direction)])


def flatten(params):
    """All arrays of ``params`` as one vector, in the order of ``Params.named()``."""
    return np.concatenate([np.ravel(x) for x in params.named().values()])


def save_directions(directions):
    """``{"d1/W0": ..., "d2/R0": ...}`` for ``np.savez`` (``directions``: ``{name: Params}``)."""
    return {f"{name}/{k}": v for name, d in directions.items() if d is not None
            for k, v in d.named().items()}


def load_directions(path, params):
    """``(d1, d2)`` from an NPZ written with ``save_directions`` (a landscape's ``.npz`` works);
    ``d2`` is ``None`` if the file holds only ``d1``. Shapes must match ``params``."""
    with np.load(path, allow_pickle=False) as npz:
        data = dict(npz)
    out = []
    for name in ("d1", "d2"):
        if f"{name}/W0" not in data:
            if name == "d1":
                raise ValueError(f"direction file {path}: no arrays named d1/W0, d1/W1, ...")
            out.append(None)
            continue
        arrays = {}
        for k, p in params.named().items():
            d = data.get(f"{name}/{k}")
            if d is None or d.shape != p.shape:
                raise ValueError(f"direction file {path}: {name}/{k} is missing or does not "
                                 f"match the parameter shape {p.shape}")
            arrays[k] = np.asarray(d, np.float64)
        out.append(_from_named(params, arrays))
    return out[0], out[1]


def _from_named(params, arrays):
    """A ``Params`` shaped like ``params`` whose arrays are ``arrays[name]`` (``named()`` keys)."""
    def group(g):
        if getattr(params, g) is None:
            return None
        return tuple(None if a is None else arrays[f"{g}{l}"]
                     for l, a in enumerate(params.arrays(g)))
    return Params(*(group(g) for g in Params.GROUPS))
