"""Reductions in a fixed order: four interleaved partial sums, so results are reproducible bit
for bit (independent of how the loop is compiled) and the loops still vectorise."""
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
    results are reproducible bit for bit) that still lets the loop vectorise."""
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
