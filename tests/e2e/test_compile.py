"""torch.compile of the one-pass evaluation, end to end (tens of seconds of compilation: run in CI)."""

import pytest

import kanpde
from kanpde.problems import Poisson


@pytest.mark.slow
def test_compiled_solve_matches_and_reports_compile_time():
    schedule = [kanpde.LBFGS(steps=5)]
    eager = kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 4, 1], grid=5), schedule=schedule, progress=False)
    compiled = kanpde.solve(
        Poisson.sin(), model=kanpde.KAN([2, 4, 1], grid=5), schedule=schedule, compile=True, progress=False
    )
    assert compiled.info["compile_s"] > 0 and eager.info["compile_s"] == 0
    assert compiled.errors["rel_l2"] == pytest.approx(eager.errors["rel_l2"], rel=1e-6)
