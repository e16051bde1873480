"""Hard Dirichlet constraints: exact on their faces for any weights, one pass equals autograd, saved and loaded."""

import math

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError
from kanpde.pde import jet
from kanpde.pinn.hard_constraints import Hard, HardDirichlet, split_conditions
from kanpde.pinn.loss import Collocation, loss_terms, plan_derivatives, total_loss
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson


class Mixed(kanpde.Problem):
    """Dirichlet 2 on the left and bottom of [0, 2] x [1, 3], Neumann on the right, nothing on top."""

    domain = kanpde.Box([0.0, 1.0], [2.0, 3.0])
    conditions = [kanpde.Dirichlet("left", 2.0), kanpde.Dirichlet("bottom", 2.0), kanpde.Neumann("right", 0.0)]

    def residual(self, u, x):
        return kanpde.ops.laplacian(u, x) + 1.0


def constrained(problem, net):
    hard, _ = split_conditions(problem, "hard")
    return Surrogate(net, problem.domain.lower, problem.domain.upper, hard.dirichlet)


def assert_one_pass_equals_autograd(problem, model, colloc, passes=1):
    """The loss gradients on the one-pass path equal nested autograd's to 1e-10 (relative), after
    ``passes`` evaluations on each path."""
    params = list(model.parameters())
    grads = {}
    for mode in ("jet", "autograd"):
        plan = plan_derivatives(problem, model, colloc, mode)
        for _ in range(passes):
            grads[mode] = torch.autograd.grad(total_loss(loss_terms(problem, model, colloc, plan)), params)
    for a, b in zip(grads["jet"], grads["autograd"]):
        assert float((a - b).abs().max() / b.abs().max()) <= 1e-10


@pytest.mark.parametrize("net", [kanpde.KAN([2, 5, 1], grid=5, init_noise=1.0, seed=3), kanpde.MLP([2, 16, 1], seed=4)])
def test_values_hold_on_the_constrained_faces_for_any_weights(net):
    model = constrained(Mixed(), net)
    s = torch.linspace(0, 1, 17).reshape(-1, 1)
    left = torch.cat([0 * s, 1 + 2 * s], 1)
    bottom = torch.cat([2 * s, 1 + 0 * s], 1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
        assert torch.equal(model(left), torch.full((17, 1), 2.0))
        assert torch.equal(model(bottom), torch.full((17, 1), 2.0))
        right = torch.cat([2 + 0 * s, 1.5 + s], 1)
        assert (model(right) - 2.0).abs().max() > 1e-3  # the Neumann face is free


def test_constraint_faces_and_soft_remainder():
    hard, soft = split_conditions(Mixed(), "hard")
    assert hard.dirichlet == HardDirichlet(((0, 0), (1, 0)), 2.0) and hard.periodic == ()
    assert [c.label for c in soft] == ["neumann:right"]
    assert split_conditions(Mixed(), "soft") == (Hard(), tuple(Mixed.conditions))


def test_one_pass_equals_autograd_through_the_constraint():
    problem = Mixed()
    model = constrained(problem, kanpde.KAN([2, 4, 3, 1], grid=6, init_noise=1.0, seed=1))
    _, soft = split_conditions(problem, "hard")
    colloc = Collocation.sample(problem, n_interior=40, n_boundary=8, conditions=soft)
    assert_one_pass_equals_autograd(problem, model, colloc)


def test_jet_product_is_the_leibniz_rule():
    spec = jet.JetSpec.build([0, 1], [((0, 0), (1, 1)), ((0, 1),)])
    x = torch.rand(9, 2, dtype=torch.float64).requires_grad_(True)
    t = jet.seed(x, spec)
    a = jet.elementwise(t[..., :1], spec, jet.sin3)  # sin(x0)
    b = jet.elementwise(
        jet.linear(t, torch.tensor([[1.0, 2.0]], dtype=torch.float64), None), spec, jet.tanh3
    )  # tanh(x0 + 2 x1)
    ab = jet.product(a, b, spec)
    u = torch.sin(x[:, :1]) * torch.tanh(x[:, :1] + 2 * x[:, 1:])
    g = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    h = [torch.autograd.grad(g[:, i].sum(), x, create_graph=True)[0] for i in range(2)]
    torch.testing.assert_close(ab[0], u, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ab[1:3].squeeze(-1).T, g, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ab[3, :, 0], h[0][:, 0] + h[1][:, 1], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ab[4, :, 0], h[0][:, 1], rtol=1e-12, atol=1e-12)


def test_hard_solve_drops_the_boundary_term_and_round_trips(tmp_path):
    sol = kanpde.solve(
        Poisson.sin(), model=kanpde.KAN([2, 4, 1], grid=5), steps=100, constraints="hard", progress=False
    )
    assert sol.info["constraints"] == "hard (dirichlet on 4 faces)" and sol.info["collocation"] == {"interior": 2500}
    assert sol.errors["rel_l2"] < 0.05
    edge = torch.tensor([[1.0, 0.3], [-1.0, -0.7], [0.2, 1.0], [0.9, -1.0]])
    assert torch.equal(sol(edge), torch.zeros(4, 1))
    sol.save(tmp_path / "run")
    back = kanpde.load(tmp_path / "run")
    x = torch.rand(20, 2) * 2 - 1
    torch.testing.assert_close(back(x), sol(x), rtol=0, atol=0)
    assert back.model.constraint == sol.model.constraint


def test_refinement_keeps_the_constraint():
    schedule = [kanpde.LBFGS(steps=3), kanpde.Refine(grid=10), kanpde.LBFGS(steps=3)]
    sol = kanpde.solve(
        Poisson.sin(), model=kanpde.KAN([2, 3, 1], grid=5), schedule=schedule, constraints="hard", progress=False
    )
    assert sol.model.grid == 10 and sol.model.constraint is not None
    assert sol.phases[1]["fit_error"] < 1e-10


@pytest.mark.parametrize(
    "problem, match",
    [
        (
            kanpde.FunctionProblem(
                domain=kanpde.Interval(0, 1), residual=lambda u, x: u, conditions=[kanpde.Neumann("boundary", 1.0)]
            ),
            "it has no Dirichlet or initial condition; use constraints='soft'",
        ),
        (
            kanpde.FunctionProblem(
                domain=kanpde.Box([0, 0], [1, 1]),
                residual=lambda u, x: u,
                conditions=[kanpde.Dirichlet("boundary", 0.0), kanpde.Dirichlet("left", lambda x: x[:, 1])],
            ),
            r"dirichlet:boundary and dirichlet:left set different values on the face x_min",
        ),
    ],
)
def test_hard_is_refused_with_the_reason(problem, match):
    with pytest.raises(ConfigError, match=match):
        kanpde.solve(problem, model=kanpde.MLP([problem.dim, 4, 1]), steps=1, constraints="hard", progress=False)
    sol = kanpde.solve(problem, model=kanpde.MLP([problem.dim, 4, 1]), steps=1, progress=False)
    assert sol.info["constraints"] == "soft"


def test_unknown_mode_is_an_error():
    with pytest.raises(ConfigError, match=r"constraints must be one of soft, hard or None .*got 'exact'"):
        kanpde.solve(Poisson.sin(), steps=1, constraints="exact", progress=False)


def test_distance_vanishes_only_on_its_faces():
    c = HardDirichlet(((0, 1),), 0.0)
    t = torch.tensor([[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]])
    assert c.distance(t).flatten().tolist() == [0.0, 2.0, 1.0]
    assert math.isclose(float(HardDirichlet(((0, 0), (0, 1))).distance(torch.tensor([[0.5, 0.0]]))), 0.75)


def test_a_function_value_is_built_in_and_needs_the_problem_to_load(tmp_path):
    problem = Poisson(
        source=lambda x: 0 * x[:, 0],
        exact=lambda x: x[:, 0] * x[:, 1],
        boundary=lambda x: x[:, 0] * x[:, 1] + 0 * x[:, 0] ** 2,
    )
    sol = kanpde.solve(problem, model=kanpde.KAN([2, 3, 1], grid=5), steps=3, progress=False)
    assert sol.info["constraints"] == "hard (dirichlet on 4 faces)"
    edge = torch.tensor([[1.0, 0.3], [-0.2, -1.0]])
    torch.testing.assert_close(sol(edge), (edge[:, 0] * edge[:, 1]).reshape(-1, 1), rtol=0, atol=1e-14)
    sol.save(tmp_path / "run")
    with pytest.raises(ConfigError, match=r"load it with its problem: kanpde.load\(DIR, problem=MyProblem\(\)\)"):
        kanpde.load(tmp_path / "run")
    back = kanpde.load(tmp_path / "run", problem=problem)
    x = torch.rand(9, 2) * 2 - 1
    torch.testing.assert_close(back(x), sol(x), rtol=0, atol=0)


class Sides(kanpde.Problem):
    """u = x + 2 y on [0, 2] x [0, 1]: 0 on the left, 2 + 2 y on the right (a function), u_y = 2 on top and
    bottom; the two Dirichlet values differ and neither fits the other's face, so they are blended."""

    domain = kanpde.Box([0.0, 0.0], [2.0, 1.0])
    conditions = [
        kanpde.Dirichlet("left", lambda x: 2 * x[:, 1]),
        kanpde.Dirichlet("right", lambda x: 2 + 2 * x[:, 1]),
        kanpde.Neumann("top", 2.0),
        kanpde.Neumann("bottom", -2.0),
    ]

    def residual(self, u, x):
        return kanpde.ops.laplacian(u, x)

    def exact(self, x):
        return x[:, 0] + 2 * x[:, 1]


class Corner(kanpde.Problem):
    """Different functions on the left and bottom faces of [0, 1]^2 that agree at the corner (0, 0)."""

    domain = kanpde.Box([0.0, 0.0], [1.0, 1.0])
    conditions = [
        kanpde.Dirichlet("left", lambda x: torch.sin(3 * x[:, 1])),
        kanpde.Dirichlet("bottom", lambda x: x[:, 0] ** 2),
        kanpde.Dirichlet("top", 1.5),
    ]

    def residual(self, u, x):
        return kanpde.ops.laplacian(u, x) - u**2


def test_different_values_are_blended_and_hold_on_their_faces():
    hard, soft = split_conditions(Sides(), "hard")
    assert len(hard.dirichlet.blend) == 2 and [c.label for c in soft] == ["neumann:top", "neumann:bottom"]
    model = constrained(Sides(), kanpde.KAN([2, 4, 1], grid=5, init_noise=1.0, seed=2))
    s = torch.linspace(0, 1, 11, dtype=torch.float64).reshape(-1, 1)
    model = model.double()
    with torch.no_grad():
        torch.testing.assert_close(model(torch.cat([0 * s, s], 1)), 2 * s, rtol=0, atol=1e-14)
        torch.testing.assert_close(model(torch.cat([2 + 0 * s, s], 1)), 2 + 2 * s, rtol=0, atol=1e-14)


def test_blended_corners_take_the_mean_and_stay_finite():
    model = constrained(Corner(), kanpde.MLP([2, 8, 1], seed=0)).double()
    corners = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        u = model(corners).flatten()
    # (0, 0): left and bottom agree (0); (0, 1): left sin(3) and top 1.5 meet, the mean; (1, 1): only the top
    torch.testing.assert_close(u, torch.tensor([0.0, (math.sin(3) + 1.5) / 2, 1.5], dtype=torch.float64))
    s = torch.linspace(0.05, 0.95, 7, dtype=torch.float64).reshape(-1, 1)
    with torch.no_grad():
        torch.testing.assert_close(model(torch.cat([0 * s, s], 1)), torch.sin(3 * s), rtol=0, atol=1e-14)
        torch.testing.assert_close(model(torch.cat([s, 0 * s], 1)), s**2, rtol=0, atol=1e-14)
        torch.testing.assert_close(model(torch.cat([s, 1 + 0 * s], 1)), 1.5 + 0 * s, rtol=0, atol=1e-14)


@pytest.mark.parametrize("problem", [Sides(), Corner()])
def test_one_pass_equals_autograd_through_a_blend(problem):
    model = constrained(problem, kanpde.KAN([2, 4, 1], grid=6, init_noise=1.0, seed=1)).double()
    _, soft = split_conditions(problem, "hard")
    colloc = Collocation.sample(problem, n_interior=40, n_boundary=8, conditions=soft, dtype=torch.float64)
    assert_one_pass_equals_autograd(problem, model, colloc, passes=2)  # the second pass uses the cached lift


def test_one_value_that_fits_every_part_is_extended_unblended():
    heat = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1], axes=("x", "t")),
        residual=lambda u, x: kanpde.ops.dt(u, x) - kanpde.ops.partial(u, x, 0, 0),
        conditions=[
            kanpde.Dirichlet("x_min", 0.0),
            kanpde.Dirichlet("x_max", 0.0),
            kanpde.Initial(lambda x: torch.sin(math.pi * x[:, 0])),
        ],
    )
    hard, _ = split_conditions(heat, "hard")
    assert hard.dirichlet.blend == () and hard.dirichlet.value is heat.conditions[2].value
    assert sorted(hard.dirichlet.faces) == [(0, 0), (0, 1), (1, 0)]
    shifted = kanpde.FunctionProblem(
        domain=heat.domain,
        residual=heat.residual,
        conditions=[*heat.conditions[:2], kanpde.Initial(lambda x: 1 + torch.sin(math.pi * x[:, 0]))],
    )
    assert len(split_conditions(shifted, "hard")[0].dirichlet.blend) == 2


def test_blended_numbers_load_without_the_problem(tmp_path):
    problem = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: kanpde.ops.partial(u, x, 0, 0),
        conditions=[kanpde.Dirichlet("left", 0.0), kanpde.Dirichlet("right", 1.0)],
        exact=lambda x: x[:, 0],
    )
    sol = kanpde.solve(problem, model=kanpde.KAN([1, 3, 1], grid=5), steps=20, progress=False)
    assert sol.info["constraints"] == "hard (dirichlet on 2 faces, 2 values interpolated)"
    assert sol.errors["rel_l2"] < 1e-3
    x = torch.linspace(0, 1, 11, dtype=torch.float64).reshape(-1, 1)
    torch.testing.assert_close(sol.model.constraint.lift(x), x, rtol=0, atol=1e-15)  # the blend of 0 and 1 is x
    sol.save(tmp_path / "run")
    back = kanpde.load(tmp_path / "run")
    x = torch.rand(9, 1)
    torch.testing.assert_close(back(x), sol(x), rtol=0, atol=0)


class Quadratic(kanpde.Problem):
    """u = x^2 + y^2 + x y on [0, 1] x [0, 2], its data given face by face as restrictions (each a function
    of the one coordinate that varies along its face), agreeing at the corners."""

    domain = kanpde.Box([0.0, 0.0], [1.0, 2.0])
    conditions = [
        kanpde.Dirichlet("left", lambda x: x[:, 1] ** 2),
        kanpde.Dirichlet("right", lambda x: 1 + x[:, 1] ** 2 + x[:, 1]),
        kanpde.Dirichlet("bottom", lambda x: x[:, 0] ** 2),
        kanpde.Dirichlet("top", lambda x: x[:, 0] ** 2 + 4 + 2 * x[:, 0]),
    ]

    def residual(self, u, x):
        return kanpde.ops.laplacian(u, x) - 4


def test_data_that_agree_at_corners_are_interpolated_by_projection():
    """The Boolean sum of the projectors reproduces a quadratic from its face data everywhere (data
    that disagree at a corner, as in ``Corner``, are blended by distance weights instead)."""
    hard, _ = split_conditions(Quadratic(), "hard")
    assert hard.dirichlet.project and len(hard.dirichlet.blend) == 4
    assert not split_conditions(Corner(), "hard")[0].dirichlet.project
    x = torch.rand(200, 2, dtype=torch.float64) * torch.tensor([1.0, 2.0], dtype=torch.float64)
    exact = (x[:, 0] ** 2 + x[:, 1] ** 2 + x[:, 0] * x[:, 1]).reshape(-1, 1)
    torch.testing.assert_close(hard.dirichlet.lift(x), exact, rtol=0, atol=1e-13)
    assert kanpde.solvers.problem_features(Quadratic()).built_in == "hard (dirichlet on 4 faces, 4 values interpolated)"


def test_projection_on_a_space_time_box_is_exact_on_walls_and_initial_face():
    """Walls with time-dependent data and an initial condition that fits neither: interpolated, exact on
    all three faces; one pass equals autograd through it."""
    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1], axes=("x", "t")),
        residual=lambda u, x: kanpde.ops.dt(u, x) - kanpde.ops.partial(u, x, 0, 0),
        conditions=[
            kanpde.Dirichlet("x_min", 1.0),
            kanpde.Dirichlet("x_max", lambda x: 2 + torch.exp(-x[:, 1])),
            kanpde.Initial(lambda x: 1 + x[:, 0] + torch.sin(math.pi * x[:, 0] / 2)),
        ],
    )
    model = constrained(problem, kanpde.KAN([2, 4, 1], grid=5, init_noise=1.0, seed=5)).double()
    assert model.constraint.project
    s = torch.linspace(0, 1, 9, dtype=torch.float64).reshape(-1, 1)
    with torch.no_grad():
        torch.testing.assert_close(model(torch.cat([0 * s, s], 1)), 1 + 0 * s, rtol=0, atol=1e-14)
        torch.testing.assert_close(model(torch.cat([1 + 0 * s, s], 1)), 2 + torch.exp(-s), rtol=0, atol=1e-14)
        torch.testing.assert_close(
            model(torch.cat([s, 0 * s], 1)), 1 + s + torch.sin(math.pi * s / 2), rtol=0, atol=1e-14
        )
    colloc = Collocation.sample(problem, n_interior=40, n_boundary=8, conditions=(), dtype=torch.float64)
    assert_one_pass_equals_autograd(problem, model, colloc)
