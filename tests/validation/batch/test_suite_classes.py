"""Suites that name a problem class of one's own ("package.module:Class") and suites named by a bare name.

Oracles: the parsed case keeps the class path as a string and builds an instance of that class; each
documented mistake (a module that cannot be imported, a missing class, a class that is no Problem, a
constructor that raises, a malformed path) is refused with its message before any case runs; a user
class trains through the runner in this process, and through spawned workers from the command line with
the module found in the current folder only.
"""

from __future__ import annotations

import json
import re
import textwrap

import pytest
import torch

from kanpde.cli import main
from kanpde.errors import ConfigError
from kanpde.validation.batch import runner
from kanpde.validation.batch.runner import run_suite
from kanpde.validation.batch.suite import Case, build_problem, load_suite, parse_suite, shipped_suites

USER_MODULE = '''
"""Problems a user wrote, in a module of their own."""
import math

import torch

import kanpde
from kanpde import ops


class Bar(kanpde.Problem):
    """u'' = -pi^2 sin(pi x) on [0, 1], u = 0 at both ends; exact sin(pi x)."""

    domain = kanpde.Interval(0, 1)
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    n_interior = 64

    def residual(self, u, x):
        return ops.partial(u, x, 0, 0) + math.pi**2 * torch.sin(math.pi * x[:, 0])

    def exact(self, x):
        return torch.sin(math.pi * x[:, 0])


class NeedsArgs(Bar):
    def __init__(self, k):
        self.k = k


class Plain:
    pass


NOT_A_PROBLEM = 3
'''


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """``user_problems`` (the module above) and ``broken_problems`` (an import that fails) on sys.path."""
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "user_problems.py").write_text(USER_MODULE)
    (folder / "broken_problems.py").write_text("from math import no_such_name\n")
    monkeypatch.syspath_prepend(str(folder))
    for name in ("user_problems", "broken_problems"):
        monkeypatch.delitem(__import__("sys").modules, name, raising=False)
    return folder


def one_case(problem: str, **fields) -> dict:
    return {"case": [{"problem": problem, "steps": 5, "tol": 10.0, **fields}]}


def test_a_class_path_parses_and_builds(user_module):
    suite = parse_suite(one_case("user_problems:Bar", hidden=[4], seeds=[0, 1]))
    assert [c.id for c in suite.cases] == ["Bar-kan-4-g5-s0", "Bar-kan-4-g5-s1"]
    case = suite.cases[0]
    assert case.problem == "user_problems:Bar" and Case.from_dict(case.as_dict()) == case  # plain data
    problem = build_problem(case.problem)
    assert type(problem).__name__ == "Bar" and type(problem).__module__ == "user_problems"
    mlp = parse_suite(one_case("user_problems:Bar", model="mlp")).cases[0]
    assert mlp.id == "Bar-mlp-100x100x100-s0"


CLASS_ERRORS = [
    (
        "no_such_module_xyz:Bar",
        r"cannot import module 'no_such_module_xyz' \(ModuleNotFoundError: No module named 'no_such_module_xyz'\); "
        r"check the name, and that the module is importable",
    ),
    (
        "broken_problems:Bar",
        r"cannot import module 'broken_problems' \(ImportError: cannot import name 'no_such_name' from 'math'",
    ),
    ("user_problems:Baz", r"module 'user_problems' has no 'Baz'; its Problem classes are Bar, NeedsArgs$"),
    ("user_problems:Plain", r"user_problems.Plain is the class Plain, not a kanpde.Problem subclass; name a class"),
    ("user_problems:NOT_A_PROBLEM", r"user_problems.NOT_A_PROBLEM is an object of type int, not a kanpde.Problem"),
    (
        "user_problems:NeedsArgs",
        r"NeedsArgs\(\) raised TypeError: .*missing 1 required positional argument: 'k'; a suite builds the class "
        r"with no arguments: give every argument of its __init__ a default",
    ),
    ("user_problems:", r'a problem class is named "package.module:Class" .*; got \'user_problems:\''),
    ("user problems:Bar", r'a problem class is named "package.module:Class"'),
]


@pytest.mark.parametrize("problem, match", CLASS_ERRORS, ids=[p for p, _ in CLASS_ERRORS])
def test_a_bad_class_path_is_explained_before_any_case_runs(user_module, problem, match):
    with pytest.raises(ConfigError, match=match) as info:
        parse_suite(one_case(problem), source="mine.toml")
    assert str(info.value).startswith(f"mine.toml: [[case]] 1 ({problem}): ")  # the case and the value


def test_an_unknown_builtin_name_points_at_class_paths():
    with pytest.raises(
        ConfigError,
        match=r'problem \'poisson\' is unknown; .* or name a problem class of your own as "package.module:Class"',
    ):
        parse_suite(one_case("poisson"))


def test_a_user_class_runs_through_the_runner(user_module, tmp_path):
    suite = parse_suite(one_case("user_problems:Bar", hidden=[4]))
    results = run_suite(suite, tmp_path / "v", workers=1, plots=False)
    assert [r["outcome"] for r in results] == ["pass"] and 0 < results[0]["rel_l2"] < 10.0
    assert results[0]["steps"] == 5
    report = json.loads((tmp_path / "v" / "report.json").read_text())
    assert report["cases"][0]["problem"] == "user_problems:Bar"
    saved = json.loads((tmp_path / "v" / "cases" / "Bar-kan-4-g5-s0" / "report.json").read_text())
    assert saved["problem"] == "Bar"


def test_a_class_a_worker_cannot_import_is_a_failed_case(tmp_path):
    case = Case(
        id="gone", problem="gone_module:X", model="kan", hidden=(4,), grid=5, k=3, seed=0, budget=None, steps=1, tol=1.0
    )
    result = runner.run_case(case.as_dict(), str(tmp_path / "c"), plots=False)
    assert result["outcome"] == "error"
    assert result["reason"].startswith("ConfigError: problem 'gone_module:X': cannot import module 'gone_module'")


def test_the_cli_finds_a_class_in_the_current_folder_with_spawned_workers(tmp_path, monkeypatch, capsys):
    """``kanpde validate`` imports "module:Class" from the current folder, and its spawned workers do too."""
    (tmp_path / "cwd_problems.py").write_text(USER_MODULE)
    (tmp_path / "suite.toml").write_text(
        textwrap.dedent("""
        [defaults]
        hidden = [4]
        steps = 5
        tol = 10.0
        [[case]]
        problem = "cwd_problems:Bar"
        seeds = [0, 1]
        """)
    )
    monkeypatch.chdir(tmp_path)
    import sys

    before = list(sys.path)
    assert main(["validate", "suite.toml", "--out", "v", "--workers", "2", "--no-plots"]) == 0
    assert "suite: 2 of 2 cases passed" in capsys.readouterr().out
    assert sys.path == before  # the current folder was on the path for the run only
    rows = json.loads((tmp_path / "v" / "report.json").read_text())["cases"]
    assert [r["outcome"] for r in rows] == ["pass", "pass"]


def test_a_bare_name_is_a_shipped_suite(tmp_path, monkeypatch, capsys):
    assert {"default", "gallery"} <= set(shipped_suites())
    assert load_suite("gallery").name == "gallery" and load_suite("default").cases == load_suite().cases
    with pytest.raises(
        ConfigError,
        match=r"unknown suite 'galery': no such file, and no shipped suite has that name; the shipped suites are default, gallery",
    ):
        load_suite("galery")
    with pytest.raises(
        ConfigError,
        match=r"suite file 'galery.toml' does not exist; .* or the name of a shipped suite \(default, gallery",
    ):
        load_suite("galery.toml")
    seen = {}

    def fake_run_suite(suite, out, **kwargs):
        seen["suite"] = suite
        return []

    monkeypatch.setattr(runner, "run_suite", fake_run_suite)
    assert main(["validate", "gallery", "--out", str(tmp_path / "g")]) == 0
    assert seen["suite"].name == "gallery" and len(seen["suite"].cases) >= 40
    assert main(["validate", "galery", "--out", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"kanpde validate: error: unknown suite 'galery'.*the shipped suites are default, gallery", err)


def test_a_local_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gallery").write_text('[suite]\nname = "mine"\n[[case]]\nproblem = "poisson_sin"\nsteps = 1\ntol = 1\n')
    assert load_suite("gallery").name == "mine"
