"""Optimisers (Adam, AdaBelief), learning-rate schedules and gradient clipping.

Parameters and gradients are ``Params``; optimiser moments are ``Params`` of the same shapes, so
a checkpoint stores them like the weights. Updates (element-wise, bias-corrected, step t >= 1)::

    Adam (Kingma & Ba 2015):          m = b1 m + (1-b1) g,   v = b2 v + (1-b2) g^2
    AdaBelief (Zhuang et al. 2020):   m = b1 m + (1-b1) g,   v = b2 v + (1-b2) (g-m)^2 + eps
    p -= lr * m_hat / (sqrt(v_hat) + eps)

AdaBelief is the optimiser of the QIF papers (Klos & Memmesheimer 2025; Wenig et al. 2026).

The update runs as one compiled pass per array (``_step``), each element's operations in the
order the formulas above are written (so the same bits as the NumPy expressions, which
``tests/test_train.py`` checks); the NumPy form made about ten passes over the parameters and
took about 1 ms of every 700-128-10 training batch on the caller alone, while the workers waited
(docs/performance.md, issue 13, session 9).
"""
from dataclasses import dataclass
import math

import numpy as np

from snnexact.engine.jit import jit
from snnexact.engine.network import Params

OPTIMISERS = ("adam", "adabelief")
SCHEDULES = ("constant", "cosine", "step")


def zeros_like(params):
    return params.map(np.zeros_like)


def _pairs(*ps):
    """Aligned arrays of several Params (skipping absent recurrent weights and voltages)."""
    for group in Params.GROUPS:
        for arrays in zip(*(p.arrays(group) for p in ps)):
            if arrays[0] is not None:
                yield arrays


def global_norm(grads):
    return math.sqrt(sum(float(np.sum(g * g)) for (g,) in _pairs(grads)))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by ``min(1, max_norm / ||g||)``; returns the norm before clipping."""
    norm = global_norm(grads)
    if max_norm is not None and norm > max_norm:
        scale = max_norm / norm
        for (g,) in _pairs(grads):
            g *= scale
    return norm


def learning_rate(base, schedule, epoch, n_epochs, step_every=None, step_factor=0.5):
    """Learning rate of ``epoch`` (0-based): constant, cosine decay to 0 over ``n_epochs``, or
    multiplied by ``step_factor`` every ``step_every`` epochs."""
    if schedule == "constant":
        return base
    if schedule == "cosine":
        return 0.5 * base * (1.0 + math.cos(math.pi * epoch / max(n_epochs, 1)))
    if schedule == "step":
        return base * step_factor ** (epoch // max(step_every or 1, 1))
    raise ValueError(f"lr schedule must be one of {SCHEDULES}, got {schedule!r}")


@dataclass
class OptimiserState:
    """Moments and step count (what a checkpoint must hold to resume exactly)."""

    m: Params
    v: Params
    step: int = 0


def init_state(params):
    return OptimiserState(zeros_like(params), zeros_like(params), 0)


def apply(kind, params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One in-place update of ``params`` with ``grads``; advances ``state``."""
    if kind not in OPTIMISERS:
        raise ValueError(f"optimiser must be one of {OPTIMISERS}, got {kind!r}")
    state.step += 1
    t = state.step
    c1 = 1.0 - beta1 ** t
    c2 = 1.0 - beta2 ** t
    for p, g, m, v in _pairs(params, grads, state.m, state.v):
        # flat views of the updated arrays (copies, written back, for non-contiguous ones)
        updated = [(a, a.reshape(-1) if a.flags.c_contiguous else a.ravel()) for a in (p, m, v)]
        (_, fp), (_, fm), (_, fv) = updated
        _step(fp, np.ascontiguousarray(g).reshape(-1), fm, fv, lr, beta1, beta2, eps, c1, c2,
              kind == "adabelief")
        for a, f in updated:
            if not a.flags.c_contiguous:
                a[...] = f.reshape(a.shape)


@jit
def _step(p, g, m, v, lr, beta1, beta2, eps, c1, c2, belief):
    """One element-wise Adam (``belief=False``) or AdaBelief update, in place."""
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * beta1
        mi = mi + (1.0 - beta1) * gi
        m[i] = mi
        vi = v[i] * beta2
        if belief:
            d = gi - mi
            vi = vi + ((1.0 - beta2) * d * d + eps)
        else:
            vi = vi + (1.0 - beta2) * gi * gi
        v[i] = vi
        p[i] = p[i] - lr * (mi / c1) / (np.sqrt(vi / c2) + eps)
