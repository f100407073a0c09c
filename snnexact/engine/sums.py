"""Reductions in a fixed order: four interleaved partial sums, so results are reproducible bit
for bit (independent of how the loop is compiled). They run as four scalar chains: packing the
chains into vector lanes is the job of LLVM's SLP vectoriser, which Numba leaves off by default
(it has miscompiled). With it on (``NUMBA_SLP_VECTORIZE=1``) a 128-term dot product in this
order (with a row update beside it) ran about 1.5x faster (docs/performance.md, issue 13,
session 12); snnexact does not turn it on. Keeping a reduction out of a loop keeps that loop
vectorisable."""
from snnexact.engine.jit import inner


@inner
def ordered_total(a):
    """``sum_n a[n]`` in the fixed interleaved order of ``ordered_sum``."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    m = n - n % 4
    for i in range(0, m, 4):
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
    for i in range(m, n):
        s0 += a[i]
    return (s0 + s1) + (s2 + s3)


@inner
def ordered_sum(a, b):
    """``sum_n a[n] b[n]`` with four interleaved partial sums: a fixed summation order (so
    results are reproducible bit for bit)."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    m = n - n % 4
    for i in range(0, m, 4):
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
    for i in range(m, n):
        s0 += a[i] * b[i]
    return (s0 + s1) + (s2 + s3)
