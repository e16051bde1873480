"""``kanpde solve --form``: the command line runs the form asked for (or the recipe's), records it in
report.json, and a run with interface inputs exports and loads with its built-in problem.

Oracles: the report's form and quadrature are those of ``solve``; the network's width shows the interface
input; the saved run evaluates like the loaded Solution."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch

import kanpde
from kanpde.cli import main
from kanpde.pde.registry import instance


def _run(args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


@pytest.mark.parametrize(
    "form, expected, inputs", [(None, "energy", 3), ("strong", "strong", 2), ("energy", "energy", 3)]
)
def test_solve_runs_and_records_the_form(tmp_path, form, expected, inputs):
    args = ["solve", "darcy_piecewise", "--steps", "2", "--quiet", "--out", str(tmp_path / "run")]
    status, printed = _run(args + (["--form", form] if form else []))
    assert status == 0, printed
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["form"] == expected and report["model"]["width"][0] == inputs
    assert ("quadrature" in report) == (expected == "energy")
    back = kanpde.load(tmp_path / "run", problem=instance("darcy_piecewise"))
    x = torch.rand(20, 2, dtype=torch.float64)
    assert back(x).shape == (20, 1) and torch.isfinite(back(x)).all()


def test_an_unknown_form_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["solve", "darcy_smooth", "--steps", "1", "--form", "weak", "--out", str(tmp_path / "r")])
    assert "invalid choice: 'weak'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
