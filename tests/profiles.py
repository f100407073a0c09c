"""Hypothesis profiles (registered in conftest.py) and the number of NaN-free cases per profile.

``ci`` is the default (what ``python -m pytest`` and CI run); ``dev`` is a quick local run
(``HYPOTHESIS_PROFILE=dev``); ``thorough`` is what ``snnexact validate --thorough`` runs.
"""
import os

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
MAX_EXAMPLES = {"dev": 25, "ci": 100, "thorough": 1000}
# the NaN-free property over the whole valid range (tests/test_nan_free.py): tiny, cheap cases
NAN_FREE_CASES = {"dev": 500, "ci": 10_000, "thorough": 100_000}
