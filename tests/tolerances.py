"""Tolerances, named by meaning. Errors are scaled as |got - ref| / (atol + rtol |ref|)."""
import numpy as np

SPIKE_TIME_RTOL = 1e-9   # exact simulator vs independent oracle (issue 2 standard)
SPIKE_TIME_ATOL = 1e-12  # spike times near t = 0
STATE_RTOL = 1e-9        # V, I at T
STATE_ATOL = 1e-10       # V, I that end near zero
SEMIGROUP_RTOL = 1e-11   # flow(flow(x, d1), d2) vs flow(x, d1 + d2): a few roundings apart
CONDITION_PERTURBATION = 1e-7  # relative weight perturbation that must not change spike counts


FD_STEP = 1e-6           # relative step of central finite differences
FD_GRAD_RTOL = 1e-6      # exact gradient vs central differences (issue 3 standard)
FD_GRAD_ATOL = 1e-7      # gradients that vanish (FD truncation + rounding ~ 1e-9 / h)
READOUT_RTOL = 1e-10     # closed-form readout logits vs grid + scipy refinement / quad oracle
READOUT_ATOL = 1e-12     # readout logits near zero (weights are O(1) in the tests)
# continuity along lines in weight space (tests/test_continuity.py, validation/continuity.py)
REFINE_REL_WIDTH = 1e-9        # bisect a grid interval down to this fraction of its width
JUMP_KEEP_FRACTION = 0.5       # a true jump keeps |dL| above this fraction while refined
CONTINUOUS_SHRINK = 1e-5       # a continuous piece: final |dL| / initial |dL| (~ width ratio 1e-9)
AT_T_GAP = 1e-6                # T - t of a QIF spike entering/leaving the trial at the final bracket
SPIKE_SPEED_BOUND = 1e3        # |d t_spike / d a| bound: T - t <= this * bracket width (QIF)
MID_TRIAL_MARGIN = 0.05        # a mid-trial spike lies in [margin T, (1 - margin) T]
GRAZING_V_ATOL = 1e-6          # theta - V(t*) without the spike, relative to theta: a grazing crossing
GRAZING_RTOL = 1e-9            # dt*/dw near D = 0 vs closed form, well-conditioned part
GRAZING_COND_EPS = 1e-14       # plus this * w^2 / D: rounding of D = w^2 - 4 w theta near D = 0
ORACLE_STATE_ATOL = 1e-9  # closed-form oracle vs ODE oracle, V (LIF) and I at T
QIF_PHASE_ATOL = 1e-9     # QIF V at T compared as the phase 2 arctan(V - 1/2) (V may be +-inf)
MIN_DIST_TO_T = 1e-6      # oracle comparisons discard spikes this close to T (ill-conditioned)
MIN_EVENT_GAP = 1e-9      # ... and distinct events this close to each other


def scaled_error(got, ref, rtol, atol):
    got = np.asarray(got, dtype=float)
    ref = np.asarray(ref, dtype=float)
    same_inf = (got == ref)  # equal infinities (QIF V = -inf right after a reset)
    err = np.abs(got - ref) / (atol + rtol * np.abs(ref))
    return np.where(same_inf, 0.0, err)
# adjoint kernels vs their reference/adjoint.py twins (complex step, docs/theory.md 1.3 G forms)
ADJOINT_TWIN_RTOL = 1e-9   # the G forms lose up to ~|G| eps / |G(u) - G(u0)| to cancellation
ADJOINT_TWIN_ATOL = 1e-12  # sensitivities that vanish (D(z) at its zeros, x - x^2 at small x)
# general-ratio LIF (snnexact/engine/neurons/lif_general.py)
ODE_CROSSING_V_ATOL = 1e-12  # voltage error of the ODE oracle near a crossing: a spike time
                             # there is known only to this / |dV/dt| (grazing: dV/dt ~ 1e-5)
BRACKET_VS_CLOSED_RTOL = 1e-12  # bracketed root vs lif.py's closed form: both a few ulp of the
                                # root, amplified by 1/|dV/dt| (cases with tau |dV/dt| >= 1e-3)
