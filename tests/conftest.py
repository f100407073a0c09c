"""Shared pytest configuration: hypothesis profiles, seeded RNG, path to ../shared/data."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from profiles import MAX_EXAMPLES, PROFILE

# dev and ci are derandomized (the same examples on every run: a test suite that cannot flake);
# thorough draws new examples each time (it is for searching, as in snnexact validate)
for _name, _n in MAX_EXAMPLES.items():
    settings.register_profile(_name, max_examples=_n, deadline=None,
                              derandomize=_name != "thorough", database=None,
                              suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(PROFILE)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def shared_data():
    """Path to ../shared/data; skips the test with a clear message when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent")
    return SHARED_DATA
