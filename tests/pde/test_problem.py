"""Problem definitions: checks at construction, exact solutions that zero the residual, one-off problems."""

import math

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde import ops
from kanpde.pde.field import Field
from kanpde.problems import Poisson


class Bump(kanpde.Problem):
    domain = kanpde.Box([0, 0], [1, 1])
    conditions = [kanpde.Dirichlet("boundary", 0.0)]

    def residual(self, u, x):
        return ops.laplacian(u, x) + 1.0


def test_a_minimal_subclass_is_valid():
    p = Bump()
    assert p.dim == 2 and p.out_dim == 1 and p.exact is None
    assert p.evaluation_grid().shape == (101, 101)


def make(**attrs):
    return type("Custom", (Bump,), attrs)


@pytest.mark.parametrize(
    "attrs, err, match",
    [
        ({"domain": None}, DefinitionError, r"Custom.domain must be a kanpde domain .Box, Interval, Disk"),
        ({"domain": [0, 1]}, DefinitionError, "domain must be a kanpde domain"),
        (
            {"conditions": [kanpde.Dirichlet("north")]},
            ConfigError,
            r"unknown condition target 'north' in Dirichlet; the domain has parts .*boundary",
        ),
        ({"conditions": kanpde.Dirichlet("boundary")}, DefinitionError, "conditions must be a list"),
        ({"conditions": ["boundary"]}, DefinitionError, "must hold Dirichlet/Neumann/Robin objects; got 'boundary'"),
        ({"residual_weight": 0}, ConfigError, r"Custom.residual_weight must be a finite number > 0; got 0"),
        ({"residual_weight": float("inf")}, ConfigError, "residual_weight must be a finite number > 0"),
        ({"n_interior": 0}, ConfigError, r"Custom.n_interior must be an int >= 1; got 0"),
        ({"n_boundary": 2.5}, ConfigError, "n_boundary must be an int >= 1; got 2.5"),
        ({"out_dim": 0}, ConfigError, "out_dim must be an int >= 1"),
        ({"sampling": "halton"}, ConfigError, r"Custom.sampling must be one of random, sobol, lhs, grid; got 'halton'"),
        ({"exact": 3.0}, DefinitionError, "exact must be a function of x or None"),
    ],
)
def test_bad_definitions_fail_at_construction(attrs, err, match):
    with pytest.raises(err, match=match):
        make(**attrs)()


def test_missing_residual():
    class NoResidual(kanpde.Problem):
        domain = kanpde.Interval(0, 1)

    with pytest.raises(DefinitionError, match=r"NoResidual must define residual\(self, u, x\)"):
        NoResidual()


def test_validation_runs_after_a_subclass_init():
    class Late(kanpde.Problem):
        def __init__(self, a):
            self.domain = kanpde.Interval(0, a)

        def residual(self, u, x):
            return ops.partial(u, x, 0, 0)

    assert Late(2.0).domain.upper[0] == 2.0
    with pytest.raises(ConfigError, match="lower < upper"):
        Late(-1.0)


@pytest.mark.parametrize(
    "build, err, match",
    [
        (
            lambda: kanpde.Dirichlet("boundary", "zero"),
            DefinitionError,
            r"Dirichlet\('boundary'\).value must be a number or a function",
        ),
        (lambda: kanpde.Dirichlet("", 0.0), DefinitionError, "Dirichlet.on must name a boundary part"),
        (
            lambda: kanpde.Neumann("left", 1.0, weight=-1),
            ConfigError,
            r"Neumann\('left'\).weight must be a finite number > 0; got -1",
        ),
        (lambda: kanpde.Robin("top", 0.0, alpha=0, beta=0), ConfigError, "needs alpha or beta non-zero"),
        (lambda: kanpde.Robin("top", 0.0, alpha=float("nan")), DefinitionError, "alpha must be a finite number"),
        (lambda: Poisson(source=1.0), DefinitionError, "Poisson.source must be a function f"),
        (
            lambda: kanpde.FunctionProblem(domain=kanpde.Interval(0, 1), residual=None),
            DefinitionError,
            "FunctionProblem.residual must be a function",
        ),
    ],
)
def test_bad_conditions_and_constructors(build, err, match):
    with pytest.raises(err, match=match):
        build()


@pytest.mark.parametrize("problem", [Poisson.sin(), Poisson.kan_paper()], ids=["poisson_sin", "poisson_kan"])
def test_exact_solution_zeroes_the_residual(problem):
    x = torch.as_tensor(problem.domain.sample(2000, seed=1)).requires_grad_(True)
    u = Field(problem.exact(x).reshape(-1, 1), x)
    r = problem.residual(u, x).values
    assert r.abs().max() < 1e-11
    # and satisfies the boundary condition
    b = problem.domain.sample_boundary("boundary", 400)
    xb = torch.as_tensor(b.x)
    assert problem.exact(xb).abs().max() < 1e-12


def test_general_poisson_with_its_own_box_and_boundary_data():
    exact = lambda x: x[:, 0] ** 2 + x[:, 1] ** 2 + x[:, 2]  # noqa: E731
    p = Poisson(source=lambda x: torch.full((x.shape[0],), 4.0), exact=exact, box=kanpde.Box([0, 0, 0], [1, 2, 3]))
    assert p.dim == 3 and p.conditions[0].value is exact
    x = torch.as_tensor(p.domain.sample(100)).requires_grad_(True)
    r = p.residual(Field(exact(x).reshape(-1, 1), x), x).values
    assert r.abs().max() < 1e-12


def test_function_problem_and_instances_registry():
    p = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: ops.partial(u, x, 0, 0) + 1.0,
        conditions=[kanpde.Dirichlet("boundary", 0.0)],
        exact=lambda x: 0.5 * x[:, 0] * (1 - x[:, 0]),
    )
    x = torch.linspace(0, 1, 11).reshape(-1, 1).requires_grad_(True)
    assert p.residual(Field(p.exact(x).reshape(-1, 1), x), x).values.abs().max() < 1e-12
    from kanpde.pde.registry import instance, instances

    assert {"poisson_sin", "poisson_kan"} <= set(instances())
    assert instance("poisson_kan").residual_weight == 0.01
    with pytest.raises(ConfigError, match="unknown problem 'poisson'; the built-in problems are: .*poisson_kan"):
        instance("poisson")


def test_exact_values_shape_is_checked():
    p = make(exact=lambda self, x: torch.zeros(x.shape[0], 2))()
    with pytest.raises(
        ShapeError, match=r"Custom.exact\(x\) must return shape \(5,\) or \(5, 1\) for 5 points; got \(5, 2\)"
    ):
        p.exact_values(torch.zeros(5, 2))


def test_condition_residuals_on_exact_functions():
    """Dirichlet, Neumann and Robin residuals of u = x^2 + y on the right face (normal +x) of [0, 1]^2."""
    box = kanpde.Box([0, 0], [1, 1])
    b = box.sample_boundary("right", 20)
    x = torch.as_tensor(b.x).requires_grad_(True)
    n = torch.as_tensor(b.normal)
    u = Field((x[:, 0] ** 2 + x[:, 1]).reshape(-1, 1), x)
    y = x[:, 1].detach()
    assert kanpde.Dirichlet("right", lambda x: 1 + x[:, 1]).residual(u, x, n).abs().max() < 1e-14
    assert kanpde.Neumann("right", 2.0).residual(u, x, n).abs().max() < 1e-14
    robin = kanpde.Robin("right", lambda x: 3 * (1 + x[:, 1]) + 2 * 2, alpha=3, beta=2)
    assert robin.residual(u, x, n).abs().max() < 1e-13
    with pytest.raises(ShapeError, match=r"Dirichlet\('right'\).value\(x\) must return shape \(20,\) or \(20, 1\)"):
        kanpde.Dirichlet("right", lambda x: torch.zeros(3)).residual(u, x, n)
    assert y.shape == (20,)


def test_normals_point_outward_on_the_left_face():
    box = kanpde.Box([0, 0], [1, 1])
    b = box.sample_boundary("left", 10)
    x = torch.as_tensor(b.x).requires_grad_(True)
    u = Field((3 * x[:, 0]).reshape(-1, 1), x)  # du/dx = 3, so du/dn = -3 on the left face
    r = kanpde.Neumann("left", -3.0).residual(u, x, torch.as_tensor(b.normal))
    assert r.abs().max() < 1e-14 and math.isclose(float(b.normal[0, 0]), -1.0)
