"""Tolerances, named by meaning. Errors are scaled as |got - ref| / (atol + rtol |ref|)."""

SPIKE_TIME_RTOL = 1e-9   # exact simulator vs independent oracle (issue 2 standard)
SPIKE_TIME_ATOL = 1e-12  # spike times near t = 0
STATE_RTOL = 1e-9        # V, I at T
STATE_ATOL = 1e-10       # V, I that end near zero
SEMIGROUP_RTOL = 1e-11   # flow(flow(x, d1), d2) vs flow(x, d1 + d2): a few roundings apart
CONDITION_PERTURBATION = 1e-7  # relative weight perturbation that must not change spike counts


def scaled_error(got, ref, rtol, atol):
    import numpy as np
    got = np.asarray(got, dtype=float)
    ref = np.asarray(ref, dtype=float)
    same_inf = (got == ref)  # equal infinities (QIF V = -inf right after a reset)
    err = np.abs(got - ref) / (atol + rtol * np.abs(ref))
    return np.where(same_inf, 0.0, err)
FD_STEP = 1e-6           # relative step of central finite differences
FD_GRAD_RTOL = 1e-6      # exact gradient vs central differences (issue 3 standard)
FD_GRAD_ATOL = 1e-7      # gradients that vanish (FD truncation + rounding ~ 1e-9 / h)
READOUT_RTOL = 1e-10     # closed-form readout logits vs grid + scipy refinement / quad oracle
READOUT_ATOL = 1e-12     # readout logits near zero (weights are O(1) in the tests)
