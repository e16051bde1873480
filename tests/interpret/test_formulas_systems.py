"""Formulas of a system: ``sol.formula()`` is one ``Formula`` per component, ``sol.formula(component=...)`` one
of them, hard conditions per component (``Componentwise``) enter each component's formula or refuse it
with the component named, and ``kanpde solve --symbolic`` records them per component.

Oracle: a KAN whose edges are all fixed symbols composes exactly, so each component's formula equals the
surrogate's column to round-off, and its errors equal the solution's errors for that component."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy
import torch

import kanpde
from kanpde import KAN, ops
from kanpde.cli.solve import with_formula
from kanpde.errors import ConfigError
from kanpde.interpret.formulas import Formula, read_formula
from kanpde.io.solution import evaluate_errors
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.components import Componentwise
from kanpde.pinn.hard_constraints import HardDirichlet
from kanpde.pinn.surrogate import Surrogate

F64 = torch.float64
PI = math.pi
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")
ALL_FACES = ((0, 0), (0, 1), (1, 0), (1, 1))


class Cell(kanpde.Problem):
    """Three components on [0, 1] x [0, 2], the pressure compared up to a constant; only the names, the box
    and the exact solution matter here."""

    outputs = ("u", "v", "p")
    up_to_constant = ("p",)
    domain = kanpde.Box([0, 0], [1, 2])

    def residual(self, u, x):
        return ops.partial(u["u"], x, "x") + ops.partial(u["v"], x, "y"), ops.partial(u["p"], x, "y")

    def exact(self, x):
        s = torch.sin(PI * x)
        return torch.stack([s[:, 0] * s[:, 1], x[:, 0] * x[:, 1], x[:, 1] ** 2 + 7], 1)


def symbolic_net(seed=0):
    """KAN [2, 3, 3] with every edge a fixed symbol, c f(a h + b) + d, its constants drawn from ``seed``."""
    gen = np.random.default_rng(seed)
    kan = KAN([2, 3, 3], grid=4)
    for l, names in enumerate((("x", "sin", "x^2"), ("cos", "x", "x^2"))):
        layer = kan.layers[l]
        edges = {}
        for o in range(layer.out_dim):
            for i in range(layer.in_dim):
                a, b, c, d = gen.uniform(0.3, 1.2), gen.uniform(-0.5, 0.5), gen.uniform(-1, 1), gen.uniform(-0.2, 0.2)
                edges[(o, i)] = (names[(o + i) % 3], (a, b, c, d))
        kan.layers[l] = layer.with_fixed(edges)
    return kan


def solution(constraint=None, problem=None, seed=0):
    """A Solution around a KAN [2, 3, 3] whose every edge is a fixed symbol."""
    problem = problem or Cell()
    model = Surrogate(symbolic_net(seed), torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]), constraint)
    return kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors=evaluate_errors(model, problem))


def grid():
    return kanpde.Box([0, 0], [1, 2]).grid((9, 13)).points()


@pytest.fixture(scope="module")
def sol():
    return solution()


def test_a_system_has_a_formula_per_component(sol):
    formulas = sol.formula()
    assert list(formulas) == ["u", "v", "p"] and all(isinstance(f, Formula) for f in formulas.values())
    x = grid()
    for j, (name, f) in enumerate(formulas.items()):
        assert f.names == (name,) and f.columns == (j,) and len(f.exprs) == 1
        assert f.variables == (sympy.Symbol("x", real=True), sympy.Symbol("y", real=True))
        np.testing.assert_allclose(f(x)[:, 0], sol(x)[:, j], rtol=0, atol=1e-10)
        # the formula is the surrogate, so its errors are the solution's (p mean-free in both)
        assert f.rel_l2 == pytest.approx(sol.errors[f"rel_l2_{name}"], rel=1e-8)
        assert f.errors["max_abs"] == pytest.approx(sol.errors[f"max_abs_{name}"], rel=1e-8)
    assert sympy.sympify(formulas["v"]) == formulas["v"].expr


def test_one_component_by_name_or_index(sol):
    whole = sol.formula()
    v = sol.formula(component="v")
    assert isinstance(v, Formula) and v.expr == whole["v"].expr and v.rel_l2 == pytest.approx(whole["v"].rel_l2)
    assert sol.formula(component=2).expr == whole["p"].expr


def test_simplified_keeps_the_component_and_its_reference_column(sol):
    p = sol.formula(component="p").simplified()
    assert p.names == ("p",) and p.columns == (2,)
    assert p.rel_l2 == pytest.approx(sol.errors["rel_l2_p"], rel=1e-4)


def test_read_formula_gives_all_components_with_their_errors(sol):
    formula, short, seconds = read_formula(sol)
    assert len(formula.exprs) == 3 and formula.names == ("u", "v", "p") and set(seconds) == {"formula_s", "simplify_s"}
    assert formula.rel_l2 == pytest.approx(sol.errors["rel_l2"], rel=1e-8)
    assert {f"rel_l2_{n}" for n in "uvp"} <= set(formula.errors) and {f"rel_l2_{n}" for n in "uvp"} <= set(short.errors)
    assert formula.component("p").expr == sol.formula(component="p").expr
    with pytest.raises(
        ConfigError, match=r"Formula.component\('q'\): no component named 'q'; the names are 'u', 'v', 'p'"
    ):
        formula.component("q")


def test_hard_conditions_per_component_enter_each_formula():
    constraint = Componentwise((HardDirichlet(ALL_FACES, 0.5), None, HardDirichlet(((1, 0),), -1.0)), ("u", "v", "p"))
    sol = solution(constraint, seed=1)
    formulas = sol.formula()
    x = grid()
    for j, f in enumerate(formulas.values()):
        np.testing.assert_allclose(f(x)[:, 0], sol(x)[:, j], rtol=0, atol=1e-10)
    on_wall = x[np.isclose(x[:, 0], 0) | np.isclose(x[:, 1], 2)]
    np.testing.assert_allclose(formulas["u"](on_wall)[:, 0], 0.5, rtol=0, atol=1e-12)


def test_a_component_without_a_closed_form_is_named():
    constraint = Componentwise(
        (HardDirichlet(ALL_FACES, 0.0), HardDirichlet(ALL_FACES, lambda x: x[:, 0]), None), ("u", "v", "p")
    )
    sol = solution(constraint, seed=2)
    match = (
        r"component 'v' of this surrogate has a function-valued \(or blended\) boundary condition, or a distance "
        r"function, built into its output, which has no formula; solve with constraints='soft' to read a formula, "
        r"or ask for another component: sol.formula\(component=...\)"
    )
    with pytest.raises(ConfigError, match=match):
        sol.formula()
    with pytest.raises(ConfigError, match=match):
        sol.formula(component="v")
    x = grid()
    np.testing.assert_allclose(sol.formula(component="p")(x)[:, 0], sol(x)[:, 2], rtol=0, atol=1e-10)


def test_symbolic_report_and_tex_per_component(sol, tmp_path):
    out = with_formula(sol, tmp_path)
    info = out.info
    assert set(info["formula"]) == {"u", "v", "p"} and set(info["formula_simplified"]) == {"u", "v", "p"}
    x, y = sympy.symbols("x y", real=True)
    parsed = sympy.sympify(info["formula"]["v"], locals={"x": x, "y": y})
    pts = grid()
    values = sympy.lambdify((x, y), parsed, "numpy")(*pts.T)
    np.testing.assert_allclose(values, sol(pts)[:, 1], rtol=0, atol=1e-8)  # a sympy-parsable string
    assert info["formula_rel_l2_p"] == pytest.approx(sol.errors["rel_l2_p"], rel=1e-8)
    assert info["formula_rel_l2"] == pytest.approx(sol.errors["rel_l2"], rel=1e-8)
    assert "formula_simplified_rel_l2_u" in info
    tex = (tmp_path / "formula.tex").read_text().splitlines()
    assert [line.split("(")[0] for line in tex if not line.startswith("%")] == ["u", "v", "p"] * 2
    out.save(tmp_path / "run")
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["formula"] == info["formula"] and report["components"] == ["u", "v", "p"]
