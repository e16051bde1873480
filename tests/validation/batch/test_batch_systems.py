"""Batch validation with systems: each case's result names its components and has the errors of each;
report.json, report.csv and report.md show them beside the scalar cases (whose CSV stays as it was), the
chart marks them, and the case folder holds the plots of every component.

Oracles: the reported per-component errors are those of the saved run, recomputed by ``kanpde.load`` with
the problem; a suite of scalar problems writes exactly the columns it always did."""

from __future__ import annotations

import csv
import json

import pytest
import torch

import kanpde
from kanpde.validation.batch.report import CSV_COLUMNS, csv_columns, write_reports
from kanpde.validation.batch.runner import run_suite
from kanpde.validation.batch.suite import build_problem, parse_suite

SYSTEM_MODULE = '''
"""A system a user wrote: u0'' + u1 = 0, u1'' = 2 on [0, 1]; exact ((x - x^4) / 12, x^2)."""
import torch

import kanpde
from kanpde import ops


class Coupled(kanpde.Problem):
    domain = kanpde.Interval(0, 1)
    outputs = ("a", "b")
    conditions = [kanpde.Dirichlet("boundary", lambda x: torch.stack([0 * x[:, 0], x[:, 0] ** 2], 1))]
    n_interior = 32

    def residual(self, u, x):
        return ops.partial(u["a"], x, 0, 0) + u["b"], ops.partial(u["b"], x, 0, 0) - 2

    def exact(self, x):
        return torch.stack([(x[:, 0] - x[:, 0] ** 4) / 12, x[:, 0] ** 2], 1)
'''

SUITE = {
    "suite": {"name": "systems"},
    "defaults": {"model": "kan", "hidden": [3], "grid": 3, "steps": 2, "tol": 10.0},
    "case": [{"problem": "batch_systems_user:Coupled"}, {"problem": "poisson_sin", "name": "scalar"}],
}


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "batch_systems_user.py").write_text(SYSTEM_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(__import__("sys").modules, "batch_systems_user", raising=False)


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def read(folder):
    report = json.loads((folder / "report.json").read_text())
    with open(folder / "report.csv", newline="") as f:
        reader = csv.DictReader(f)
        return report, reader.fieldnames, list(reader), (folder / "report.md").read_text()


def test_a_system_case_reports_each_component(user_module, tmp_path):
    suite = parse_suite(SUITE, source="systems.toml")
    results = run_suite(suite, tmp_path / "out", workers=1)
    system, scalar = results
    assert system["components"] == ["a", "b"] and scalar["components"] == ["u"]
    assert {"rel_l2_a", "max_abs_a", "rel_l2_b", "max_abs_b"} <= set(system)
    assert not any(k.startswith("rel_l2_") for k in scalar)
    # the errors are the saved run's own, against the problem's exact solution
    case = tmp_path / "out" / "cases" / system["id"]
    again = kanpde.load(case, problem=build_problem("batch_systems_user:Coupled"))
    assert system["rel_l2_b"] == pytest.approx(again.errors["rel_l2_b"], rel=1e-9)
    assert {"solution.png", "history.png", "kan.png", "report.json"} <= {p.name for p in case.iterdir()}

    report, columns, rows, md = read(tmp_path / "out")
    at = columns.index("max_abs") + 1
    assert columns[at : at + 4] == ["rel_l2_a", "max_abs_a", "rel_l2_b", "max_abs_b"]
    assert columns[:at] + columns[at + 4 :] == list(CSV_COLUMNS)
    assert float(rows[0]["rel_l2_a"]) == system["rel_l2_a"] and rows[1]["rel_l2_a"] == ""
    assert report["cases"][0]["rel_l2_b"] == system["rel_l2_b"] and report["cases"][0]["components"] == ["a", "b"]
    header = md.splitlines()[next(i for i, line in enumerate(md.splitlines()) if line.startswith("| case"))]
    assert "| rel L2 per component |" in header
    assert f"a {system['rel_l2_a']:.1e}, b {system['rel_l2_b']:.1e}" in md


def test_a_suite_of_scalar_problems_keeps_its_columns(tmp_path):
    suite = parse_suite({"case": [{"problem": "poisson_sin", "steps": 1, "tol": 0.5}]}, source="s.toml")
    results = {
        suite.cases[0].id: {"rel_l2": 0.1, "max_abs": 0.2, "passed": True, "outcome": "pass", "components": ["u"]}
    }
    write_reports(suite, results, tmp_path, chart=False)
    _, columns, rows, md = read(tmp_path)
    assert tuple(columns) == CSV_COLUMNS
    assert "per component" not in md


def test_columns_follow_the_components_first_seen():
    rows = [
        {"rel_l2": 1.0, "rel_l2_u": 0.1, "max_abs_u": 0.2},
        {"rel_l2": 1.0, "rel_l2_h": 0.3, "max_abs_h": 0.4, "rel_l2_u": 0.5, "max_abs_u": 0.6},
    ]
    columns = csv_columns(rows)
    at = CSV_COLUMNS.index("max_abs") + 1
    assert columns[at : at + 4] == ("rel_l2_u", "max_abs_u", "rel_l2_h", "max_abs_h")
    assert columns[:at] + columns[at + 4 :] == CSV_COLUMNS


def test_the_chart_marks_each_component(tmp_path):
    suite = parse_suite({"case": [{"problem": "poisson_sin", "steps": 1, "tol": 0.5}]}, source="s.toml")
    case = suite.cases[0].id
    result = {"rel_l2": 0.1, "max_abs": 0.2, "passed": True, "outcome": "pass", "components": ["u", "v"]}
    result.update(rel_l2_u=0.01, rel_l2_v=0.2, max_abs_u=0.1, max_abs_v=0.3)
    paths = write_reports(suite, {case: result}, tmp_path)
    assert (tmp_path / "summary.png") in paths
    from kanpde.validation.batch.report import report_rows, summary_chart

    fig = summary_chart(report_rows(suite, {case: result}), "s")
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["u", "v"]
    dots = [c for c in ax.collections if c.get_label() == "component"][0]
    assert sorted(dots.get_offsets()[:, 1]) == [0.01, 0.2]
