"""``snnexact demo``: simulates both models on the embedded input and writes a raster plot."""
from snnexact.interfaces.cli import main
from snnexact.interfaces.demo import poisson_input


def test_demo_writes_raster(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "LIF:" in printed and "QIF:" in printed
    assert (tmp_path / "raster.png").stat().st_size > 10_000


def test_poisson_input_is_sorted_and_seeded():
    t1, u1 = poisson_input(20, 5.0, 1.0, seed=3)
    t2, u2 = poisson_input(20, 5.0, 1.0, seed=3)
    assert (t1 == t2).all() and (u1 == u2).all()
    assert (t1[1:] >= t1[:-1]).all() and u1.min() >= 0 and u1.max() < 20
