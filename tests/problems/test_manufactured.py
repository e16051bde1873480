"""Manufactured problems: the derived source makes the exact solution's residual vanish."""

from __future__ import annotations

import pytest
import sympy
import torch

import kanpde
from kanpde import Box
from kanpde.errors import DefinitionError
from kanpde.pinn.loss import residual_values
from kanpde.problems import Manufactured, Poisson

x, y, t = sympy.symbols("x y t")


class Exact(torch.nn.Module):
    """A 'surrogate' that is the exact solution, so residuals are the PDE applied to it."""

    def __init__(self, problem: Manufactured) -> None:
        super().__init__()
        self.problem = problem

    def forward(self, pts: torch.Tensor) -> torch.Tensor:
        return self.problem.exact(pts)


@pytest.mark.parametrize(
    "operator, exact, box",
    [
        (lambda u: u.diff(x, 2) + u.diff(y, 2), sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y), None),
        (lambda u: u.diff(x, 2) + u.diff(y, 2) - u**3 + x * u.diff(x, y), sympy.exp(x) * sympy.sin(sympy.pi * y), None),
        (
            lambda u: -(1 + x**2) * u.diff(x, 2) - 2 * x * u.diff(x) + sympy.cos(y) * u.diff(y),
            "tanh(3*x) * y**2",
            Box([0, 0], [1, 2]),
        ),
        (
            lambda u: u.diff(t) - 0.01 * u.diff(x, 2) + 5 * (u**3 - u),
            sympy.exp(-t) * sympy.cos(sympy.pi * x),
            Box([-1, 0], [1, 1], axes=("x", "t")),
        ),
    ],
)
def test_the_exact_solution_zeroes_the_residual(operator, exact, box) -> None:
    problem = Manufactured(operator, exact, box=box)
    pts = torch.as_tensor(problem.domain.sample(200, method="random", seed=1), dtype=torch.float64).requires_grad_(True)
    r = residual_values(problem, Exact(problem), pts)
    scale = float(problem._source(*pts.detach().unbind(1)).abs().max()) if problem.source_expr != 0 else 1.0
    assert r.shape == (200, 1)
    assert float(r.detach().abs().max()) <= 1e-12 * max(1.0, scale)


def test_a_wrong_solution_does_not_zero_the_residual() -> None:
    problem = Manufactured(lambda u: u.diff(x, 2) + u.diff(y, 2), sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y))
    other = Manufactured(lambda u: u.diff(x, 2) + u.diff(y, 2), sympy.sin(sympy.pi * x) * sympy.sin(2 * sympy.pi * y))
    pts = torch.as_tensor(problem.domain.sample(50, method="random", seed=2), dtype=torch.float64).requires_grad_(True)
    assert float(residual_values(problem, Exact(other), pts).detach().abs().max()) > 1.0


def test_the_derived_source_matches_the_hand_written_one() -> None:
    problem = Manufactured(lambda u: u.diff(x, 2) + u.diff(y, 2), "sin(pi*x)*sin(pi*y)")
    pts = torch.rand(100, 2, dtype=torch.float64) * 2 - 1
    assert problem.source_expr == -2 * sympy.pi**2 * sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y)
    assert torch.allclose(problem._source(*pts.unbind(1)), Poisson.sin().source(pts), atol=1e-12)


def test_conditions_follow_the_exact_solution_and_time() -> None:
    steady = Manufactured(lambda u: u.diff(x, 2) + u.diff(y, 2), "x*y")
    assert [(type(c).__name__, c.on) for c in steady.conditions] == [("Dirichlet", "boundary")]
    heat = Manufactured(lambda u: u.diff(t) - u.diff(x, 2), "exp(-t)*sin(x)", box=Box([0, 0], [1, 1], axes=("x", "t")))
    assert [(type(c).__name__, c.on) for c in heat.conditions] == [
        ("Initial", "t_min"),
        ("Dirichlet", "x_min"),
        ("Dirichlet", "x_max"),
    ]


def test_a_manufactured_problem_solves_on_the_one_pass_path() -> None:
    problem = Manufactured(lambda u: u.diff(x, 2) + u.diff(y, 2) - u, "exp(x/2)*cos(y)", n_interior=500, n_boundary=200)
    sol = kanpde.solve(problem, kanpde.KAN([2, 5, 1], grid=5), steps=150, progress=False)
    assert sol.info["derivatives"].startswith("one-pass")
    assert sol.errors["rel_l2"] < 1e-2


@pytest.mark.parametrize(
    "operator, exact, match",
    [
        ("not callable", "x", "operator must be a function"),
        (lambda u: u.diff(x, 2), "x + q", "uses \\['q'\\], which are not coordinates"),
        (lambda u: x**2, "x*y", "must depend on u"),
        (lambda u: u.diff(x), "x +* y", "sympy expression or a string sympy parses"),
    ],
)
def test_bad_definitions_are_explained(operator, exact, match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        Manufactured(operator, exact)
