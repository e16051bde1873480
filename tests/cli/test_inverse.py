"""The command line with inverse problems: ``kanpde solve`` prints what it identified and its errors,
exports the identified field and plots the scalars; ``kanpde export`` of the saved run writes the field
again; ``kanpde validate`` reports each unknown (CSV/JSON columns, a column in report.md, diamonds in the
chart) and, with ``tol_unknowns``, judges them; the shipped ``inverse`` suite holds the five instances.

Oracles: the printed and reported numbers are those of the saved run (``kanpde.load``) and of the
problem's declared truth; the exported arrays equal ``sol.unknowns[name](x)``."""

from __future__ import annotations

import contextlib
import csv
import io
import json

import h5py
import meshio
import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.cli import main
from kanpde.cli.export import check_solve_exports
from kanpde.errors import ConfigError
from kanpde.pde.registry import instance, instances
from kanpde.problems.darcy import darcy_smooth_coefficient
from kanpde.validation.batch.report import CSV_COLUMNS, report_rows, summary_chart
from kanpde.validation.batch.suite import Case, load_suite, parse_suite


def _run(args):
    """``kanpde ARGS`` in this process: (exit status, what it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def scalar_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "pi"
    args = ["solve", "poisson_inverse", "--width", "2,3,1", "--grid", "3", "--steps", "3", "--export", "h5"]
    status, text = _run([*args, "--out", str(out), "--quiet"])
    assert status == 0
    return out, text


@pytest.fixture(scope="module")
def field_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "di"
    args = ["solve", "darcy_inverse", "--model", "mlp", "--width", "2,6,1", "--steps", "2", "--export", "vtu"]
    status, text = _run([*args, "--out", str(out), "--quiet"])
    assert status == 0
    return out, text


# --- solve -------------------------------------------------------------------------------------------------
def test_solve_prints_the_identified_scalar_and_its_error(scalar_run):
    out, text = scalar_run
    report = json.loads((out / "report.json").read_text())
    c = report["unknowns"]["c"]
    assert kanpde.load(out).unknowns == {"c": c}
    assert f"identified: c = {c:.6g} (true 2, rel_err_c = {report['rel_err_c']:.3e})" in text
    assert report["rel_err_c"] == pytest.approx(abs(c - 2) / 2, rel=1e-12)
    assert f"rel_err_c={report['rel_err_c']:.3e}" in text.splitlines()[0]
    assert all("c" in h["unknowns"] for h in report["history"] if "loss" in h)
    assert {"solution.h5", "unknowns.png", "solution.png", "history.png"} <= {p.name for p in out.iterdir()}
    with h5py.File(out / "solution.h5", "r") as f:
        assert f.attrs["unknown_c"] == c and f.attrs["exact_c"] == 2.0


def test_solve_prints_the_identified_field_and_exports_it(field_run):
    out, text = field_run
    sol = kanpde.load(out)
    rel, top = sol.errors["rel_l2_a"], sol.errors["max_abs_a"]
    line = f"identified: a: a field (rel_l2_a = {rel:.3e}, max_abs_a = {top:.3e}, array 'a' in the exports)"
    assert line in text
    mesh = meshio.read(out / "solution.vtu")
    x = mesh.points[:, :2]
    np.testing.assert_allclose(mesh.point_data["a"], sol.unknowns["a"](x)[:, 0], rtol=0, atol=1e-14)
    truth = darcy_smooth_coefficient(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(mesh.point_data["error_a"], mesh.point_data["a"] - truth, rtol=0, atol=1e-14)
    assert "unknowns.png" not in {p.name for p in out.iterdir()}  # no scalar to follow


def test_export_of_the_saved_run_writes_the_field(field_run, tmp_path):
    out, _ = field_run
    status, text = _run(["export", str(out), "--format", "xdmf", "--resolution", "5", "--out", str(tmp_path)])
    assert status == 0 and "solution.xdmf" in text
    sol = kanpde.load(out)
    with h5py.File(tmp_path / "solution.h5", "r") as f:
        assert {"a", "reference_a", "error_a"} <= set(f["fields"])
        np.testing.assert_allclose(f["fields/a"][()], sol.unknowns["a"](f["points"][()])[:, 0], atol=1e-14)
    assert 'Name="a"' in (tmp_path / "solution.xdmf").read_text()


def test_a_problem_without_unknowns_prints_no_identified_line(tmp_path):
    status, text = _run(
        ["solve", "poisson_sin", "--width", "2,2,1", "--steps", "1", "--no-plots", "--out", str(tmp_path / "r")]
    )
    assert status == 0 and "identified" not in text


class Clash(kanpde.Problem):
    """An unknown field named like the residual array every export writes."""

    domain = kanpde.Interval(0.0, 1.0)
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    residual_field = kanpde.UnknownField("residual")

    def residual(self, u, x):
        return ops.partial(u, x, 0, 0) - self.residual_field(x)


def test_solve_refuses_an_unknown_field_named_like_an_exported_array_before_training():
    with pytest.raises(
        ConfigError, match="the array 'residual' of unknown field 'residual' has the name of the residual"
    ):
        check_solve_exports(Clash(), [])


# --- validate ------------------------------------------------------------------------------------------------
SUITE = """
[suite]
name = "tiny-inverse"

[defaults]
steps = 2
tol = 10.0
tol_unknowns = 10.0

[[case]]
problem = "poisson_inverse"
model = "mlp"
hidden = [4]

[[case]]
problem = "darcy_inverse"
model = "mlp"
hidden = [4]

[[case]]
problem = "poisson_inverse"
model = "mlp"
hidden = [4]
name = "strict"
tol_unknowns = 1e-9

[[case]]
problem = "poisson_sin"
model = "mlp"
hidden = [2]
"""


def test_validate_reports_each_unknown(tmp_path):
    (tmp_path / "s.toml").write_text(SUITE)
    status, text = _run(
        ["validate", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"), "--workers", "1", "--no-plots"]
    )
    assert status == 1 and "3 of 4 cases passed" in text  # "strict" fails on its unknown alone
    folder = tmp_path / "out"
    report = json.loads((folder / "report.json").read_text())
    scalar, field, strict, forward = report["cases"]
    loaded = kanpde.load(folder / "cases" / scalar["id"])
    assert scalar["unknowns"] == {"c": loaded.unknowns["c"]} and scalar["unknown_c"] == loaded.unknowns["c"]
    assert scalar["rel_err_c"] == loaded.errors["rel_err_c"]
    assert field["unknowns"] == {"a": "field"}
    assert field["rel_l2_a"] == kanpde.load(folder / "cases" / field["id"]).errors["rel_l2_a"]
    assert strict["outcome"] == "fail" and strict["rel_l2"] <= 10.0
    assert f"rel_err_c {strict['rel_err_c']:.3e} > 1e-09" in strict["reason"]
    assert forward["unknowns"] is None and "tol_unknowns" not in forward  # a default ignored without unknowns

    with open(folder / "report.csv", newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, list(reader)
    at = columns.index("max_abs") + 1
    assert columns[at : at + 4] == ["unknown_c", "rel_err_c", "rel_l2_a", "max_abs_a"]
    assert columns[columns.index("tol") + 1] == "tol_unknowns"
    assert [c for c in columns if c not in ("unknown_c", "rel_err_c", "rel_l2_a", "max_abs_a", "tol_unknowns")] == list(
        CSV_COLUMNS
    )
    assert float(rows[0]["rel_err_c"]) == scalar["rel_err_c"] and rows[0]["rel_l2_a"] == ""
    assert float(rows[1]["rel_l2_a"]) == field["rel_l2_a"] and rows[3]["unknown_c"] == ""

    md = (folder / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| case"))
    assert "| unknowns |" in header
    assert f"c = {scalar['unknown_c']:.5g} (rel err {scalar['rel_err_c']:.1e})" in md
    assert f"a: rel L2 {field['rel_l2_a']:.1e}" in md


def test_the_chart_marks_each_unknown():
    suite = parse_suite(
        {
            "case": [
                {"problem": "poisson_inverse", "steps": 1, "tol": 0.5},
                {"problem": "darcy_inverse", "steps": 1, "tol": 0.5},
            ]
        },
        source="s.toml",
    )
    results = {
        suite.cases[0].id: {
            "rel_l2": 0.1,
            "passed": True,
            "outcome": "pass",
            "components": ["u"],
            "unknowns": {"c": 2.01},
            "rel_err_c": 0.005,
        },
        suite.cases[1].id: {
            "rel_l2": 0.2,
            "passed": True,
            "outcome": "pass",
            "components": ["u"],
            "unknowns": {"a": "field"},
            "rel_l2_a": 0.03,
            "max_abs_a": 0.1,
        },
    }
    ax = summary_chart(report_rows(suite, results), "s").axes[0]
    (diamonds,) = [c for c in ax.collections if c.get_label() == "unknown (relative error)"]
    assert diamonds.get_offsets().tolist() == [[0, 0.005], [1, 0.03]]
    assert sorted(t.get_text() for t in ax.texts) == ["a", "c"]
    assert not [c for c in ax.collections if c.get_label() == "component"]  # an unknown field is no component


# --- suites ------------------------------------------------------------------------------------------------------
def test_the_shipped_inverse_suite_holds_the_five_instances_with_kan_and_mlp():
    suite = load_suite("inverse")
    inverse = {name for name in instances() if instance(name).unknowns}
    assert inverse == {
        "poisson_inverse",
        "poisson_inverse_noisy",
        "heat_inverse",
        "darcy_inverse",
        "darcy_inverse_noisy",
    }
    assert {(c.problem, c.model) for c in suite.cases} == {(p, m) for p in inverse for m in ("kan", "mlp")}
    assert all(c.tol_unknowns is not None and c.budget is not None and c.budget <= 120 for c in suite.cases)


def test_tol_unknowns_is_checked_when_the_suite_is_read():
    def case(**fields):
        return parse_suite({"case": [{"steps": 1, "tol": 1.0, **fields}]}, source="s.toml")

    with pytest.raises(
        ConfigError, match=r"tol_unknowns judges the unknowns of an inverse problem, and poisson_sin has none"
    ):
        case(problem="poisson_sin", tol_unknowns=0.1)
    with pytest.raises(ConfigError, match=r"tol_unknowns must be a relative error > 0 .* got -1"):
        case(problem="poisson_inverse", tol_unknowns=-1)
    assert case(problem="poisson_inverse", tol_unknowns=1e-2).cases[0].tol_unknowns == 0.01
    ignored = parse_suite(
        {"defaults": {"tol_unknowns": 0.1}, "case": [{"problem": "poisson_sin", "steps": 1, "tol": 1.0}]}
    )
    assert ignored.cases[0].tol_unknowns is None


def test_tol_unknowns_needs_a_true_value(tmp_path, monkeypatch):
    (tmp_path / "inverse_user.py").write_text(
        "import kanpde\n"
        "from kanpde import ops\n\n"
        "class Blind(kanpde.Problem):\n"
        "    domain = kanpde.Interval(0, 1)\n"
        "    conditions = [kanpde.Dirichlet('boundary', 0.0)]\n"
        "    c = kanpde.Unknown('c')\n\n"
        "    def residual(self, u, x):\n"
        "        return ops.partial(u, x, 0, 0) - self.c\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        ConfigError, match=r"tol_unknowns needs the true value of each unknown, .* none for c; give them exact="
    ):
        parse_suite({"case": [{"problem": "inverse_user:Blind", "steps": 1, "tol": 1.0, "tol_unknowns": 0.1}]})


def test_a_case_without_tol_unknowns_keeps_its_settings():
    """A result written before tol_unknowns existed still matches its case (a rerun resumes it)."""
    case = parse_suite({"case": [{"problem": "poisson_sin", "steps": 1, "tol": 1.0}]}).cases[0]
    assert "tol_unknowns" not in case.as_dict()
    assert Case.from_dict(case.as_dict()) == case
    strict = parse_suite({"case": [{"problem": "poisson_inverse", "steps": 1, "tol": 1.0, "tol_unknowns": 0.1}]}).cases[
        0
    ]
    assert Case.from_dict(strict.as_dict()) == strict and strict.as_dict()["tol_unknowns"] == 0.1
