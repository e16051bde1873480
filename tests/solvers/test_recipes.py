"""Recipes come from what a problem is (its features), never from its class: a user's copy of a built-in
problem gets the same recipe and the same result."""

import math

import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.problems import AllenCahn, Poisson
from kanpde.problems.allen_cahn import allen_cahn_initial
from kanpde.solvers import default_recipe, problem_features
from kanpde.solvers.recipes import is_linear, max_grid

PI = math.pi


class MyPoissonSin(kanpde.Problem):
    """poisson_sin written from scratch, as a user would."""

    domain = kanpde.Box([-1, -1], [1, 1])
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    residual_weight = 0.01
    n_interior, n_boundary = 2500, 400

    def residual(self, u, x):
        return ops.laplacian(u, x) + 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])

    def exact(self, x):
        return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])

    def evaluation_grid(self):
        return self.domain.grid(256)


class MyAllenCahn(kanpde.Problem):
    """allen_cahn written from scratch."""

    domain = kanpde.Box([-1, 0], [1, 1], axes=("x", "t"))
    conditions = [kanpde.Periodic("x"), kanpde.Initial(allen_cahn_initial, weight=100.0)]
    n_interior, n_boundary = 8192, 512

    def residual(self, u, x):
        return ops.dt(u, x) - 1e-4 * ops.partial(u, x, 0, 0) + 5 * (u**3 - u)


def heat(n_interior=4096):
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1], axes=("x", "t")),
        residual=lambda u, x: ops.dt(u, x) - 0.1 * ops.partial(u, x, 0, 0),
        conditions=[kanpde.Dirichlet("space_boundary", 0.0), kanpde.Initial(lambda x: torch.sin(PI * x[:, 0]))],
        exact=lambda x: torch.exp(-0.1 * PI**2 * x[:, 1]) * torch.sin(PI * x[:, 0]),
        n_interior=n_interior,
    )


@pytest.mark.parametrize(
    "builtin, mine, width",
    [(Poisson.sin, MyPoissonSin, [2, 10, 1]), (AllenCahn.standard, MyAllenCahn, [3, 10, 1])],
)
def test_a_users_copy_gets_the_builtin_recipe(builtin, mine, width):
    for kind, net in (("kan", kanpde.KAN(width, grid=5)), ("mlp", kanpde.MLP([width[0], 8, 1]))):
        assert default_recipe(mine(), net) == default_recipe(builtin(), net), kind
    assert problem_features(mine()) == problem_features(builtin())


def test_a_users_copy_gets_the_builtin_result():
    """Same recipe, same points, same numbers: bitwise-equal errors after a step budget."""
    a = kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 5, 1], grid=5), steps=12, progress=False)
    b = kanpde.solve(MyPoissonSin(), model=kanpde.KAN([2, 5, 1], grid=5), steps=12, progress=False)
    assert a.info["constraints"] == b.info["constraints"] == "hard (dirichlet on 4 faces)"
    assert a.errors["rel_l2"] == b.errors["rel_l2"] and a.info["recipe"] == b.info["recipe"]


def test_features_pick_the_recipe():
    steady = problem_features(MyPoissonSin())
    assert (steady.kind, steady.space_dim, steady.linear, steady.soft) == ("steady", 2, True, ())
    ac = problem_features(MyAllenCahn())
    assert (ac.kind, ac.periodic, ac.linear) == ("evolution", ("x",), False)
    assert default_recipe(MyAllenCahn(), kanpde.KAN([3, 10, 1])).causal is not None  # nonlinear: causal
    h = default_recipe(heat(), kanpde.KAN([2, 10, 1]))
    assert h.name == "evolution" and h.causal is None  # linear: no causal weights
    assert isinstance(h.schedule[0], kanpde.Adam) and h.schedule[0].share == 0.1
    assert problem_features(heat()).built_in == "hard (dirichlet on 3 faces)"
    assert default_recipe(MyPoissonSin(), kanpde.KAN([2, 10, 1])).name == "steady"


def test_grids_are_refined_only_as_far_as_the_points_support():
    assert max_grid(heat(4096)) == 40 and max_grid(heat(400)) == 4
    refines = [
        p.grid for p in default_recipe(heat(4096), kanpde.KAN([2, 10, 1])).schedule if isinstance(p, kanpde.Refine)
    ]
    assert refines == [10, 20, 40]
    few = default_recipe(heat(1500), kanpde.KAN([2, 10, 1])).schedule
    assert [p.grid for p in few if isinstance(p, kanpde.Refine)] == [10]
    assert few[-1].steps is None  # the last grid trains until the budget ends


def test_linearity_is_probed_from_the_residual():
    def problem(residual):
        return kanpde.FunctionProblem(domain=kanpde.Box([0, 0], [1, 1]), residual=residual)

    assert is_linear(problem(lambda u, x: ops.laplacian(u, x) + (1 + x[:, 0]) * u - torch.sin(x[:, 1])))
    assert is_linear(problem(lambda u, x: ops.div((1 + x[:, 0] ** 2) * ops.grad(u, x), x) - 1.0))
    assert not is_linear(problem(lambda u, x: ops.laplacian(u, x) - u**3))
    assert not is_linear(problem(lambda u, x: u * ops.partial(u, x, 0) - ops.partial(u, x, 0, 0)))
    assert not is_linear(problem(lambda u, x: torch.sin(u)))

    def broken(u, x):
        raise RuntimeError("user bug")

    assert not is_linear(problem(broken))  # counts as nonlinear; preflight reports the error


def test_the_report_says_which_recipe_and_why_conditions_stay_soft():
    flux = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: ops.partial(u, x, 0, 0) - u + 1.0,
        conditions=[kanpde.Neumann("boundary", 0.0)],
        exact=lambda x: 1.0 + 0 * x[:, 0],
    )
    sol = kanpde.solve(flux, model=kanpde.KAN([1, 4, 1], grid=5), steps=5, progress=False)
    recipe = sol.info["recipe"]
    assert recipe["name"] == "steady" and recipe["features"]["soft"] == ["neumann:boundary"]
    assert recipe["why_soft"] == "it has no Dirichlet or initial condition"
    asked = kanpde.solve(MyPoissonSin(), model=kanpde.KAN([2, 3, 1]), steps=2, constraints="soft", progress=False)
    assert asked.info["recipe"]["why_soft"] == "constraints='soft' was asked"
    given = kanpde.solve(MyPoissonSin(), model=kanpde.KAN([2, 3, 1]), schedule=[kanpde.LBFGS(steps=2)], progress=False)
    assert given.info["recipe"]["name"] == "given schedule" and given.info["recipe"]["why_soft"] is None


def test_a_share_of_a_step_budget():
    h = heat(1000)
    sol = kanpde.solve(h, model=kanpde.KAN([2, 4, 1], grid=5), steps=40, progress=False)
    phases = [(p["phase"], p["end_step"] - p["start_step"]) for p in sol.phases if p["phase"] in ("adam", "lbfgs")]
    assert phases[0] == ("adam", 4) and sol.info["steps"] == 40
