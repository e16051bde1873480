"""Divergence form and energies (``kanpde.DivergenceForm``, ``Problem.energy``, ``Problem.interface``).

Oracles: the energy of the exact solution is the minimum among fields with its boundary values: a
perturbation v that vanishes there raises it by exactly the second variation 1/2 int (a |v'|^2 + c v^2)
(to quadrature accuracy); with a Neumann end, perturbations that move that end raise it too, and only
with the boundary term. The residual a divergence form derives equals the one written by hand.
"""

import math

import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import DefinitionError
from kanpde.geometry.quadrature import box_quadrature
from kanpde.pde.field import Field

PI = math.pi


class Bar(kanpde.Problem):
    """-(a u')' + c u = f on (0, 1) with a = 1 + x, c = 2, exact u = sin(pi x) (u = 0 at both ends)."""

    domain = kanpde.Interval(0.0, 1.0)
    conditions = [kanpde.Dirichlet("boundary", 0.0)]

    def __init__(self):
        a = lambda x: 1 + x[:, 0]  # noqa: E731
        f = lambda x: (  # noqa: E731
            -(PI * torch.cos(PI * x[:, 0]) - (1 + x[:, 0]) * PI**2 * torch.sin(PI * x[:, 0]))
            + 2 * torch.sin(PI * x[:, 0])
        )
        self.divergence = kanpde.DivergenceForm(a=a, f=f, c=2.0)


def energy_of(problem, u, q, boundary=()):
    """The energy of u (a function of x: (n, 1) -> (n,)) by the quadrature q, plus boundary terms."""
    x = torch.as_tensor(q.points).requires_grad_(True)
    e = problem.energy(Field(u(x).reshape(-1, 1), x), x)
    total = float(torch.as_tensor(q.weights) @ e.values.detach().reshape(-1))
    for cond, xb in boundary:
        xb = torch.as_tensor(xb).requires_grad_(True)
        total += float(problem.boundary_energy(cond, Field(u(xb).reshape(-1, 1), xb), xb).detach().sum())
    return total


def test_the_exact_solution_minimises_the_energy_by_the_second_variation():
    problem, q = Bar(), box_quadrature([0.0], [1.0], 64, 4)
    exact = lambda x: torch.sin(PI * x[:, 0])  # noqa: E731
    e0 = energy_of(problem, exact, q)
    for k, eps in ((1, 0.1), (2, -0.05), (3, 0.2)):
        v = lambda x, k=k: torch.sin(k * PI * x[:, 0])  # noqa: E731
        xq = q.points[:, 0]
        second = 0.5 * q.integrate((1 + xq) * (k * PI * np.cos(k * PI * xq)) ** 2 + 2 * np.sin(k * PI * xq) ** 2)
        e1 = energy_of(problem, lambda x, v=v, eps=eps: exact(x) + eps * v(x), q)
        assert e1 > e0
        assert e1 - e0 == pytest.approx(eps**2 * second, rel=1e-9)


def test_a_neumann_end_is_natural_with_its_boundary_energy():
    """-u'' = (pi/2)^2 sin(pi x / 2), u(0) = 0, u'(1) = 0: exact sin(pi x / 2); a perturbation x that moves
    the free end raises the energy (the boundary term counts: u'(1) = g = 0.3 with a matching exact)."""
    g = 0.3

    class Free(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)
        conditions = [kanpde.Dirichlet("left", 0.0), kanpde.Neumann("right", g)]
        divergence = kanpde.DivergenceForm(a=1.0, f=lambda x: (PI / 2) ** 2 * torch.sin(PI * x[:, 0] / 2))

    problem, q = Free(), box_quadrature([0.0], [1.0], 64, 4)
    exact = lambda x: torch.sin(PI * x[:, 0] / 2) + g * x[:, 0]  # noqa: E731  (u'(1) = 0 + g)
    end = [(problem.conditions[1], np.array([[1.0]]))]
    e0 = energy_of(problem, exact, q, end)
    for eps in (0.1, -0.1, 0.02):
        e1 = energy_of(problem, lambda x, eps=eps: exact(x) + eps * x[:, 0], q, end)
        assert e1 - e0 == pytest.approx(0.5 * eps**2, rel=1e-9)  # 1/2 int (eps)^2 dx, nothing first order
    # without the boundary term the exact field is no stationary point: the first variation shows
    assert energy_of(problem, lambda x: exact(x) - 0.01 * x[:, 0], q) - energy_of(problem, exact, q) < 0


def test_a_robin_end_is_natural_with_its_boundary_energy():
    """-u'' = 0 on (0, 1), u(0) = 1, u + 2 u'(1) = 0.5: exact u = 1 + b x with 1 + b + 2 b = 0.5."""
    b = -0.5 / 3

    class Cooled(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)
        conditions = [kanpde.Dirichlet("left", 1.0), kanpde.Robin("right", 0.5, alpha=1.0, beta=2.0)]
        divergence = kanpde.DivergenceForm()

    problem, q = Cooled(), box_quadrature([0.0], [1.0], 8, 2)
    exact = lambda x: 1 + b * x[:, 0]  # noqa: E731
    end = [(problem.conditions[1], np.array([[1.0]]))]
    e0 = energy_of(problem, exact, q, end)
    for eps in (0.1, -0.2):  # E(u + eps x) - E(u) = eps^2 / 2 (1 + alpha / beta) for v = x
        e1 = energy_of(problem, lambda x, eps=eps: exact(x) + eps * x[:, 0], q, end)
        assert e1 - e0 == pytest.approx(0.5 * eps**2 * (1 + 0.5), rel=1e-9)


def test_the_derived_residual_is_the_written_one():
    from kanpde.problems.darcy import Darcy

    darcy = Darcy.smooth()
    x = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    u = Field((torch.sin(3 * x[:, :1]) * torch.exp(x[:, 1:])), x)
    written = Darcy.residual(darcy, u, x).values
    derived = darcy.divergence.residual(u, x).values
    torch.testing.assert_close(derived, written, rtol=1e-12, atol=1e-12)


def test_a_problem_may_declare_only_its_divergence_form():
    class OnlyForm(kanpde.Problem):
        domain = kanpde.Box([0, 0], [1, 1])
        conditions = [kanpde.Dirichlet("boundary", 0.0)]
        divergence = kanpde.DivergenceForm(a=2.0, f=1.0)

    p = OnlyForm()
    x = torch.rand(5, 2, dtype=torch.float64).requires_grad_(True)
    u = Field(x[:, :1] ** 2 + 0 * x[:, 1:], x)
    torch.testing.assert_close(p.residual(u, x).values, torch.full((5, 1), -4.0 - 1.0, dtype=torch.float64))
    assert p.has_energy and p.describe()["divergence"] == {"a": 2.0, "f": 1.0, "c": 0.0}


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: kanpde.DivergenceForm(a=0.0), r"DivergenceForm.a must be > 0"),
        (lambda: kanpde.DivergenceForm(c=-1.0), r"DivergenceForm.c must be >= 0"),
        (lambda: kanpde.DivergenceForm(f="one"), r"DivergenceForm.f must be a number or a function"),
    ],
)
def test_bad_divergence_forms_name_the_field(build, match):
    with pytest.raises(DefinitionError, match=match):
        build()


def test_bad_energy_declarations_name_the_attribute_and_the_fix():
    class NoEquation(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)

    with pytest.raises(DefinitionError, match=r"must define residual.*or declare divergence"):
        NoEquation()

    class Bad(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)
        divergence = "laplace"

    with pytest.raises(DefinitionError, match=r"Bad.divergence must be a kanpde.DivergenceForm"):
        Bad()

    class BadInterface(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)
        divergence = kanpde.DivergenceForm()
        interface = 0.5

    with pytest.raises(DefinitionError, match=r"BadInterface.interface must be a level-set function"):
        BadInterface()

    class System(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)
        outputs = ("u", "v")
        divergence = kanpde.DivergenceForm()

    with pytest.raises(DefinitionError, match=r"scalar equation, but the problem has 2 components"):
        System()

    class StrongOnly(kanpde.Problem):
        domain = kanpde.Interval(0.0, 1.0)

        def residual(self, u, x):
            return ops.laplacian(u, x)

    with pytest.raises(DefinitionError, match=r"StrongOnly has no energy: declare divergence"):
        StrongOnly().energy(None, None)
    assert not StrongOnly().has_energy


def test_a_jumping_coefficient_is_seen_and_a_smooth_one_is_not():
    box = kanpde.Box([0, 0], [1, 1])
    step = kanpde.DivergenceForm(a=lambda x: torch.where(x[:, 0] ** 2 + x[:, 1] ** 2 < 0.5, 1.0, 0.1))
    steep = kanpde.DivergenceForm(a=lambda x: 1 + 0.5 * torch.sin(20 * x[:, 0]))  # smooth, if fast
    reaction = kanpde.DivergenceForm(c=lambda x: torch.where(x[:, 1] < 0.3, 0.0, 5.0))
    assert step.jumps(box) and reaction.jumps(box)
    assert not steep.jumps(box) and not kanpde.DivergenceForm(a=2.0).jumps(box)
