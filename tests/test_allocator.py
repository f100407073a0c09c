"""The allocator setting of the command line and the training workers (training/allocator.py)."""
import ctypes
import subprocess
import sys

import pytest


def _has_mallopt():
    try:
        ctypes.CDLL(None).mallopt
        return True
    except (OSError, AttributeError):
        return False


@pytest.mark.skipif(not _has_mallopt(), reason="no mallopt here (not glibc): the setting is a no-op")
def test_glibc_takes_the_thresholds_in_a_fresh_process():
    # in a subprocess: the setting is process-wide and cannot be undone
    code = ("from snnexact.training.allocator import keep_freed_memory as k; "
            "print(k(), k())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True"]  # mallopt accepted both values; the second call is a no-op
