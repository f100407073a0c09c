"""Directions in parameter space and points on lines and planes (docs/landscapes.md).

A direction ``d`` is a ``Params`` with the shapes of the parameters ``p``. Landscapes evaluate
``L(p + a d1 + b d2)``. Random directions are normalised per neuron (Li et al. 2018): row ``i``
of every weight array (the incoming weights of neuron ``i``) is scaled to the norm of row ``i``
of ``p``, so that ``a = 1`` moves every neuron by as much as its own weights.
"""
import numpy as np

from snnexact.network import Params


def random_direction(params, rng):
    """A Gaussian direction with the shapes of ``params``, normalised per neuron.

    Recurrent matrices keep a zero diagonal. ``rng`` is a ``np.random.Generator`` or a seed.
    """
    rng = np.random.default_rng(rng)
    W = tuple(rng.standard_normal(w.shape) for w in params.W)
    R = []
    for r in params.R:
        if r is None:
            R.append(None)
            continue
        d = rng.standard_normal(r.shape)
        np.fill_diagonal(d, 0.0)
        R.append(d)
    return normalize_per_neuron(Params(W, tuple(R)), params)


def normalize_per_neuron(direction, params):
    """``direction`` with each row scaled to the norm of the same row of ``params`` (a row of
    zeros in either stays zero)."""
    def scale(d, p):
        dn = np.linalg.norm(d, axis=1, keepdims=True)
        pn = np.linalg.norm(p, axis=1, keepdims=True)
        return np.where(dn > 0, d * pn / np.where(dn > 0, dn, 1.0), 0.0)
    W = tuple(scale(d, p) for d, p in zip(direction.W, params.W))
    R = tuple(None if d is None else scale(d, p) for d, p in zip(direction.R, params.R))
    return Params(W, R)


def combine(params, terms):
    """``params + sum_k c_k d_k`` for ``terms = [(c_k, d_k), ...]`` (a term with ``d_k = None``
    is skipped), added in the given order."""
    W = [w.copy() for w in params.W]
    R = [None if r is None else r.copy() for r in params.R]
    for c, d in terms:
        if d is None:
            continue
        for l in range(len(W)):
            W[l] += c * d.W[l]
            if R[l] is not None:
                R[l] += c * d.R[l]
    return Params(tuple(W), tuple(R))


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
        W, R = [], []
        for l, (w, r) in enumerate(zip(params.W, params.R)):
            dw = data.get(f"{name}/W{l}")
            dr = data.get(f"{name}/R{l}")
            bad_r = r is not None and (dr is None or dr.shape != r.shape)
            if dw is None or dw.shape != w.shape or bad_r:
                raise ValueError(f"direction file {path}: {name} does not match the parameter "
                                 f"shapes at layer {l}")
            W.append(np.asarray(dw, np.float64))
            R.append(None if r is None else np.asarray(dr, np.float64))
        out.append(Params(tuple(W), tuple(R)))
    return out[0], out[1]
