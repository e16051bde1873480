"""Saved runs carry a format version, and runs saved before it existed still load and evaluate the same."""

import json
import shutil
from pathlib import Path

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError
from kanpde.io.solution import FORMAT_VERSION

DATA = Path(__file__).parent / "data" / "format0"
EXPECTED = json.loads((DATA / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_run_saved_before_format_versions_loads_and_evaluates_the_same(name):
    """Oracle: the values the saving kanpde (the flat layout, commit fd6ca84) computed at 16 points."""
    expected = EXPECTED[name]
    sol = kanpde.load(DATA / name)
    x = torch.tensor(expected["x"], dtype=torch.float64)
    assert torch.allclose(sol(x), torch.tensor(expected["u"], dtype=torch.float64), rtol=0, atol=1e-13)
    assert str(sol.status) == expected["status"]
    if expected["rel_l2"] is not None:  # a built-in problem: the errors are measured again, on the same grid
        assert sol.errors["rel_l2"] == pytest.approx(expected["rel_l2"], rel=1e-9)


def test_saving_writes_the_format_and_loading_refuses_a_newer_one(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(DATA / "kan_poisson_sin", run)
    sol = kanpde.load(run)
    again = tmp_path / "again"
    sol.save(again)
    description = json.loads((again / "model.json").read_text())
    assert (
        description["format"] == FORMAT_VERSION
        and json.loads((again / "report.json").read_text())["format"] == FORMAT_VERSION
    )
    x = torch.zeros(3, 2, dtype=torch.float64)
    assert torch.equal(kanpde.load(again)(x), sol(x))
    description["format"] = FORMAT_VERSION + 1
    (again / "model.json").write_text(json.dumps(description))
    with pytest.raises(
        ConfigError,
        match=rf"saved in format {FORMAT_VERSION + 1} by kanpde .*reads formats up to {FORMAT_VERSION}\. Upgrade kanpde",
    ):
        kanpde.load(again)
    description["format"] = "one"
    (again / "model.json").write_text(json.dumps(description))
    with pytest.raises(ConfigError, match=r"model.json has format 'one'; expected an int >= 0"):
        kanpde.load(again)
