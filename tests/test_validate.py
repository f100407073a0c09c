"""``snnexact validate``: the quick report passes and is written as Markdown and JSON, and a
deliberately broken formula makes it fail with a non-zero exit code."""
import dataclasses
import json

import numpy as np

from snnexact.engine import losses
from snnexact.interfaces.cli import main


def test_validate_quick_passes_and_writes_the_report(tmp_path, capsys):
    assert main(["validate", "--quick", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    names = [c["name"] for c in report["checks"]]
    assert names == ["ode", "gradients", "mpmath", "continuity", "nan_free", "determinism",
                     "speed"]
    assert report["passed"] and all(c["passed"] for c in report["checks"])
    by = {c["name"]: c["figures"] for c in report["checks"]}
    assert by["ode"]["cases"] > 0 and by["gradients"]["entries"] > 0
    assert by["nan_free"]["counts"]["nonfinite"] == 0
    md = (tmp_path / "report.md").read_text()
    assert "Overall: **PASS**" in md and "| nan_free | pass |" in md
    assert "7 of 7 checks passed" in capsys.readouterr().out


def test_a_broken_gradient_formula_fails_validation(tmp_path, monkeypatch, capsys):
    """The first-spike loss returns a gradient 10 % too large: the finite-difference and the
    mpmath checks must fail, and the command must exit with 1."""
    exact = losses.first_spike_loss

    def broken(*args, **kwargs):
        res = exact(*args, **kwargs)
        return dataclasses.replace(res, dloss_dt=np.asarray(res.dloss_dt) * 1.1)

    monkeypatch.setattr(losses, "first_spike_loss", broken)
    rc = main(["validate", "--quick", "--checks", "gradients", "mpmath", "--out", str(tmp_path)])
    assert rc == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert not report["passed"]
    assert {c["name"]: c["passed"] for c in report["checks"]} == {"gradients": False,
                                                                  "mpmath": False}
    assert "FAILED: gradients, mpmath" in capsys.readouterr().out
