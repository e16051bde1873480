"""Checks before training (kanpde.solvers.preflight): bad terms fail at once, naming the term, and nothing trains.

Oracles: the number of failing points and the first of them are counted independently from the same
collocation points (``Collocation.sample`` with the seed ``solve`` uses); a system of two equations returned
as ``torch.cat([r1, r2], dim=1)`` trains to its exact solution.
"""

import re

import pytest
import torch
from torch import nn

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pinn.loss import Collocation
from kanpde.pinn.surrogate import Surrogate
from kanpde.solvers.preflight import PREFLIGHT_POINTS, check_problem_attributes, preflight

SQUARE = kanpde.Box([0, 0], [1, 1])


def problem(residual=None, **options):
    """-lap u = 1 on the unit square, u = 0 on its boundary, on few points."""
    options.setdefault("conditions", [kanpde.Dirichlet("boundary", 0.0)])
    return kanpde.FunctionProblem(
        domain=SQUARE,
        residual=residual or (lambda u, x: ops.laplacian(u, x) + 1.0),
        n_interior=100,
        n_boundary=40,
        **options,
    )


def run(p, **options):
    options = {"model": kanpde.KAN([2, 3, 1]), "steps": 2, "progress": False, **options}
    return kanpde.solve(p, **options)


def where(bad, x):
    """The message's count and first point: ``k of the first n ... (first at x = [a, b])``."""
    first = ", ".join(f"{v:.4g}" for v in x[bad.nonzero()[0, 0]].tolist())
    return int(bad.sum()), re.escape(f"(first at x = [{first}])")


def test_a_nan_source_term_fails_before_training_naming_the_residual(tmp_path):
    p = problem(lambda u, x: ops.laplacian(u, x) - torch.log(x[:, 0] - 0.5))
    x = Collocation.sample(p, seed=0).interior[:PREFLIGHT_POINTS].detach()
    k, first = where(x[:, 0] < 0.5, x)
    assert 0 < k < PREFLIGHT_POINTS
    with pytest.raises(
        DefinitionError,
        match=rf"^FunctionProblem.residual is not finite at {k} of the first 32 interior points {first}; "
        r"check its source terms and coefficients there \(and any log, sqrt or division of u\)$",
    ):
        run(p, checkpoint=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing written


def test_fewer_points_than_the_check_uses():
    p = kanpde.FunctionProblem(
        domain=SQUARE, residual=lambda u, x: ops.laplacian(u, x) + float("nan"), n_interior=20, n_boundary=8
    )
    with pytest.raises(DefinitionError, match=r"residual is not finite at 20 of the first 20 interior points"):
        run(p)


def test_a_nan_dirichlet_value_names_the_condition():
    value = lambda x: torch.log(x[:, 1] - 0.5)  # noqa: E731  NaN on the lower half of the face
    p = problem(conditions=[kanpde.Dirichlet("left", value)])
    soft = Collocation.sample(p, seed=0).boundary[0].x.detach()
    k, first = where(soft[:, 1] < 0.5, soft)
    with pytest.raises(
        DefinitionError,
        match=rf"^Dirichlet\('left'\).value\(x\) is not finite at {k} of the {soft.shape[0]} points on 'left' "
        rf"{first}; check the function given as its value there$",
    ):
        run(p, constraints="soft")
    # built into the surrogate, the value is evaluated in the whole box: the same function is named
    x = Collocation.sample(p, seed=0).interior[:PREFLIGHT_POINTS].detach()
    k, first = where(x[:, 1] < 0.5, x)
    with pytest.raises(
        DefinitionError,
        match=rf"^Dirichlet\('left'\).value\(x\) is not finite at {k} of the first 32 interior points {first}; "
        r"built into the surrogate \(constraints='hard'\), it is evaluated in the whole box: check the function "
        r"given as its value there, or pass constraints='soft'$",
    ):
        run(p, constraints="hard")


def test_a_nan_neumann_value_names_the_condition():
    p = problem(conditions=[kanpde.Dirichlet("left"), kanpde.Neumann("right", lambda x: 0 * x[:, 0] / 0)])
    n = Collocation.sample(p, seed=0).boundary[1].x.shape[0]
    with pytest.raises(
        DefinitionError, match=rf"^Neumann\('right'\).value\(x\) is not finite at {n} of the {n} points on 'right'"
    ):
        run(p)


def test_a_nan_exact_solution_fails_at_the_first_points_or_on_the_evaluation_grid():
    p = problem(exact=lambda x: torch.sqrt(x[:, 0] - 0.5))
    x = Collocation.sample(p, seed=0).interior[:PREFLIGHT_POINTS].detach()
    k, first = where(x[:, 0] < 0.5, x)
    with pytest.raises(
        DefinitionError,
        match=rf"^FunctionProblem.exact\(x\) is not finite at {k} of the first 32 interior points {first}; "
        r"check exact\(\) there$",
    ):
        run(p)
    # NaN on the face x = 0 only: no training point sees it, the evaluation grid (101 x 101 nodes) does
    edge = problem(exact=lambda x: torch.where(x[:, 0] == 0, float("nan"), 0.0))
    with pytest.raises(
        DefinitionError,
        match=r"^FunctionProblem.exact\(x\) is not finite at 101 of the 10201 points of the evaluation grid "
        r"\(first at x = \[0, 0\]\); check exact\(\) there$",
    ):
        run(edge)


class NoReference(kanpde.Problem):
    domain = SQUARE
    conditions = [kanpde.Dirichlet("boundary")]
    n_interior = 100
    n_boundary = 40

    def residual(self, u, x):
        return ops.laplacian(u, x) + 1.0

    def reference_values(self, x):
        return torch.where(x[:, :1] > 0.99, float("inf"), 0.0)


def test_a_non_finite_numerical_reference_is_named():
    with pytest.raises(
        DefinitionError,
        match=r"^NoReference.reference_values\(x\) is not finite at 101 of the 10201 points of the evaluation grid "
        r"\(first at x = \[1, 0\]\); check the numerical reference it returns there$",
    ):
        run(NoReference())


class Learned(kanpde.Problem):
    domain = SQUARE
    conditions = [kanpde.Dirichlet("boundary")]
    n_interior = 100
    n_boundary = 40

    def __init__(self, c=1.0):
        self.c = c

    def residual(self, u, x):
        return self.c * ops.laplacian(u, x) + 1.0


class LearnedOnTheClass(Learned):
    k = nn.Parameter(torch.tensor(2.0))

    def __init__(self):
        self.c = 1.0


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: Learned(nn.Parameter(torch.tensor(1.0))),
            r"^Learned.c is a torch.nn.Parameter, which solve\(\) would not train \(the problem's attributes are "
            r"constants\); use a number or a tensor without requires_grad; to identify a coefficient, declare it as "
            r"kanpde.Unknown or kanpde.UnknownField$",
        ),
        (LearnedOnTheClass, r"^LearnedOnTheClass.k is a torch.nn.Parameter, which solve\(\) would not train"),
        (
            lambda: Learned(torch.ones(1, requires_grad=True)),
            r"^Learned.c is a tensor with requires_grad=True, .*; use a number or a tensor without requires_grad "
            r"\(.detach\(\) it\);",
        ),
        (
            lambda: Learned([1.0, torch.ones(1, requires_grad=True)]),
            r"^Learned.c\[1\] is a tensor with requires_grad=True",
        ),
        (
            lambda: Learned(nn.Linear(2, 1)),
            r"^Learned.c is a torch.nn.Module \(Linear\) with trainable parameters, which solve\(\) would not "
            r"train .*; freeze it with .requires_grad_\(False\) to use it as a fixed coefficient; to identify",
        ),
    ],
)
def test_trainable_values_on_a_problem_are_refused(make, match):
    with pytest.raises(DefinitionError, match=match):
        run(make())


def test_constants_on_a_problem_are_fine():
    for value in (2.0, torch.tensor(2.0), nn.Linear(1, 1).requires_grad_(False)):
        check_problem_attributes(Learned(value))
    sol = run(Learned(torch.tensor(2.0)))
    assert sol.info["steps"] == 2


def test_a_model_with_non_finite_weights_or_output_is_refused():
    net = kanpde.MLP([2, 8, 1])
    with torch.no_grad():
        net.linears[0].weight[0, 0] = float("nan")
    with pytest.raises(
        ConfigError,
        match=r"^solve\(model=...\): the model's net.linears.0.weight holds 1 NaN or infinite values of 16; "
        r"pass a freshly built kanpde.KAN or kanpde.MLP, or the model of a run that ended finite$",
    ):
        run(problem(), model=net)
    big = kanpde.MLP([2, 8, 1])
    with torch.no_grad():  # finite weights, an output that overflows: 8 * tanh(1) * 1e308 = inf
        big.linears[0].weight.zero_()
        big.linears[0].bias.fill_(1.0)
        big.linears[-1].weight.fill_(1e308)
    with pytest.raises(ConfigError, match=r"^solve\(model=...\): the network output is not finite at 32 of the first"):
        run(problem(), model=big)


def test_a_residual_of_the_wrong_shape():
    p = problem(lambda u, x: ops.laplacian(u, x).values.reshape(1, -1))
    with pytest.raises(
        ShapeError,
        match=r"^FunctionProblem.residual\(u, x\) must return shape \(32,\) or \(32, m\) for 32 points; "
        r"got \(1, 32\)\. Per-point terms such as f\(x\) should have shape \(n,\) or \(n, 1\)$",
    ):
        run(p)


def test_preflight_can_be_called_on_its_own():
    p = problem(lambda u, x: ops.laplacian(u, x) / 0.0)
    model = Surrogate(kanpde.KAN([2, 3, 1]), p.domain.lower, p.domain.upper)
    colloc = Collocation.sample(p, seed=0)
    preflight(problem(), model, colloc)  # a finite problem passes
    with pytest.raises(DefinitionError, match=r"residual is not finite at 5 of the first 5 interior points"):
        preflight(p, model, colloc, points=5)


class System(kanpde.Problem):
    """Two coupled equations on [0, 1]: u0'' + u1 = 0, u1'' = 2, with u = (0, x^2) at the ends.

    Exact solution: u1 = x^2, u0 = (x - x^4) / 12.
    """

    domain = kanpde.Interval(0, 1)
    out_dim = 2
    conditions = [kanpde.Dirichlet("boundary", lambda x: torch.stack([0 * x[:, 0], x[:, 0] ** 2], 1))]
    n_interior = 64

    def residual(self, u, x):
        r1 = ops.partial(u[0], x, 0, 0) + u[1]  # each (n, 1)
        r2 = ops.partial(u[1], x, 0, 0) - 2
        return torch.cat([r1, r2], dim=1)  # (n, 2): one column per equation

    def exact(self, x):
        return torch.stack([(x[:, 0] - x[:, 0] ** 4) / 12, x[:, 0] ** 2], 1)


def test_a_system_of_two_equations_returned_as_an_n_by_2_residual():
    sol = kanpde.solve(System(), model=kanpde.MLP([1, 16, 2]), schedule=[kanpde.LBFGS(steps=100)], progress=False)
    assert sol.errors["rel_l2"] < 1e-3, sol.errors
    # the second equation counts: a residual that drops it does not find u1 = x^2 away from the ends
    x = torch.linspace(0, 1, 5).reshape(-1, 1)
    torch.testing.assert_close(sol(x)[:, 1], x[:, 0] ** 2, atol=1e-3, rtol=0)
