r"""The current-based synapse both built-in models share: ``tau_s dI/dt = -I`` with
``tau_s = tau / 2``, and a presynaptic spike of weight ``w`` adds ``w`` to ``I``."""
from snnexact.engine.jit import jit


@jit
def jump(p, I, w):
    """Synaptic input: the current jumps by the weight."""
    return I + w


@jit
def input_time_adjoint(p, lamV, lamI, out):
    """``out[n] = (2 lamI[n] - lamV[n]) / tau``: an input jump ``w`` moved later by ``dt``
    changes the vector field by ``(w, -2 w) / tau`` (``dV`` and ``dI``) over ``dt``."""
    for n in range(lamV.shape[0]):
        out[n] = (2.0 * lamI[n] - lamV[n]) / p.tau
