"""Collocation sets, the derivative plan and the physics-informed loss.

Oracles: sampled counts and faces by construction; an exact solution drives the residual term to
round-off and a known perturbation of it gives the term computed by hand; the one-pass derivative path
gives the same loss and gradients as nested autograd; ``total_loss`` is the sum of the weighted terms.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

import kanpde
from kanpde.errors import ConfigError, ShapeError
from kanpde.pde import jet, ops
from kanpde.pde.jet import JetSpec
from kanpde.pinn.loss import (
    BoundarySet,
    Collocation,
    DerivativePlan,
    loss_terms,
    plan_derivatives,
    residual_values,
    total_loss,
)
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson

PI = math.pi


def sin_sin(x):
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


def poisson(**kw):
    """Laplacian(u) = -2 pi^2 sin(pi x) sin(pi y) on [-1, 1]^2 with u = 0 on the boundary; exact sin sin."""
    args = dict(source=lambda x: -2 * PI**2 * sin_sin(x), exact=sin_sin, boundary=0.0, n_interior=200, n_boundary=64)
    return Poisson(**{**args, **kw})


class ExactPlus(nn.Module):
    """u = sin(pi x) sin(pi y) + eps x^2, with values (forward) and one-pass derivatives (forward_jet)."""

    def __init__(self, eps=0.0):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        return (sin_sin(x) + self.eps * x[:, 0] ** 2).reshape(-1, 1)

    def forward_jet(self, x, spec):
        t = jet.seed(x, spec)
        u = jet.product(
            jet.elementwise(PI * t[..., :1], spec, jet.sin3), jet.elementwise(PI * t[..., 1:2], spec, jet.sin3), spec
        )
        return u + self.eps * jet.product(t[..., :1], t[..., :1], spec)


class Mixed(kanpde.Problem):
    """A nonlinear residual with Dirichlet (a function), Neumann and Robin conditions on [0, 2] x [-1, 1]."""

    domain = kanpde.Box([0.0, -1.0], [2.0, 1.0])
    conditions = [
        kanpde.Dirichlet("left", lambda x: x[:, 1] ** 2),
        kanpde.Neumann("right", 0.5, weight=2.0),
        kanpde.Robin("top", 1.0, alpha=2.0, beta=0.5),
    ]

    def residual(self, u, x):
        return ops.laplacian(u, x) + u * ops.partial(u, x, 0) - torch.cos(x[:, 1])


def kan_surrogate(problem, seed=1, width=(2, 4, 1)):
    net = kanpde.KAN(list(width), grid=5, init_noise=1.0, seed=seed)
    return Surrogate(net, problem.domain.lower, problem.domain.upper)


# --- Collocation.sample ----------------------------------------------------------------------------


def test_sample_counts_shapes_and_faces():
    problem = poisson()
    colloc = Collocation.sample(problem, n_interior=100, n_boundary=40, seed=3)
    x = colloc.interior
    assert x.shape == (100, 2) and x.dtype == torch.float64 and x.requires_grad and x.is_leaf
    assert bool(((x > -1) & (x < 1)).all())
    assert colloc.sizes == {"interior": 100, "dirichlet:boundary": 40}
    assert colloc.conditions == tuple(problem.conditions)
    (b,) = colloc.boundary
    assert isinstance(b, BoundarySet) and b.x.shape == b.normal.shape == (40, 2)
    assert not b.x.requires_grad  # a Dirichlet condition needs no derivatives
    # unit outward normals, and each point on the face its normal points out of: x . n = 1 on [-1, 1]^2
    assert torch.equal(b.normal.abs().sum(1), torch.ones(40))
    assert torch.equal((b.x * b.normal).sum(1), torch.ones(40))
    assert torch.equal(b.normal.sum(0), torch.zeros(2))  # as many points on each face (same length)


def test_sample_defaults_dtype_and_condition_choice():
    problem = poisson(n_interior=50, n_boundary=12)
    colloc = Collocation.sample(problem)
    assert colloc.sizes == {"interior": 50, "dirichlet:boundary": 12}
    single = Collocation.sample(problem, dtype=torch.float32)
    assert single.interior.dtype == single.boundary[0].x.dtype == single.boundary[0].normal.dtype == torch.float32
    assert Collocation.sample(problem, conditions=()).boundary == ()
    mixed = Collocation.sample(Mixed(), n_interior=8, n_boundary=10, conditions=Mixed.conditions[1:])
    assert list(mixed.sizes) == ["interior", "neumann:right", "robin:top"]
    assert all(s.x.requires_grad for s in mixed.boundary)  # both need du/dn
    assert mixed.sizes["neumann:right"] == 10 and bool((mixed.boundary[0].x[:, 0] == 2.0).all())


def random_problem():
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 2]),
        residual=lambda u, x: u,
        conditions=[kanpde.Dirichlet("boundary", 0.0), kanpde.Periodic("x")],
        sampling="random",
        boundary_sampling="random",
        n_interior=30,
        n_boundary=20,
    )


@pytest.mark.parametrize("problem", [poisson(), random_problem()], ids=["sobol/grid", "random"])
def test_same_seed_same_points_other_seed_other_points(problem):
    a, b, c = (Collocation.sample(problem, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.interior, b.interior)
    assert all(torch.equal(p.x, q.x) and torch.equal(p.normal, q.normal) for p, q in zip(a.boundary, b.boundary))
    assert not torch.equal(a.interior, c.interior)
    gen = Collocation.sample(problem, seed=np.random.default_rng(5))
    assert torch.equal(gen.interior, a.interior)  # an int seed is the Generator it names
    with pytest.raises(ConfigError, match="seed must be a non-negative int or a numpy Generator; got -1"):
        Collocation.sample(problem, seed=-1)


def test_random_boundary_points_follow_the_seed():
    a, c = (Collocation.sample(random_problem(), seed=s) for s in (0, 1))
    assert not torch.equal(a.boundary[0].x, c.boundary[0].x)


def test_periodic_points_come_in_pairs_across_the_faces():
    colloc = Collocation.sample(random_problem(), seed=2)
    s = colloc.boundary[1]
    assert s.condition.group == 2 and s.x.shape == (20, 2)
    lo, hi = s.x[0::2], s.x[1::2]
    assert torch.equal(lo[:, 0], torch.zeros(10)) and torch.equal(hi[:, 0], torch.ones(10))
    assert torch.equal(lo[:, 1], hi[:, 1])
    assert torch.equal(s.normal[0::2], torch.tensor([[-1.0, 0.0]]).expand(10, 2))
    xs, ns = s.head(5)  # rounded up to whole pairs
    assert xs.shape == ns.shape == (6, 2) and torch.equal(xs, s.x[:6])


def test_subset_keeps_a_fraction_of_every_set_and_whole_pairs():
    colloc = Collocation.sample(random_problem(), seed=2)
    sub = colloc.subset(0.25, torch.Generator().manual_seed(0))
    assert sub.sizes == {"interior": round(0.25 * 30), "dirichlet:boundary": 5, "periodic:x": 2 * round(0.25 * 10)}
    again = colloc.subset(0.25, torch.Generator().manual_seed(0))
    assert torch.equal(sub.interior, again.interior)
    rows = {tuple(r) for r in colloc.interior.tolist()}
    assert all(tuple(r) in rows for r in sub.interior.tolist())
    assert sub.interior.is_leaf and sub.interior.requires_grad
    p = sub.boundary[1].x
    assert torch.equal(p[0::2, 1], p[1::2, 1]) and torch.equal(p[0::2, 0], torch.zeros(len(p) // 2))
    tiny = colloc.subset(1e-6, torch.Generator().manual_seed(0))
    assert tiny.sizes == {"interior": 1, "dirichlet:boundary": 1, "periodic:x": 2}  # at least one point (pair) each


# --- plan_derivatives -------------------------------------------------------------------------------


@pytest.mark.parametrize("net", [kanpde.KAN([2, 3, 1], grid=5), kanpde.MLP([2, 6, 1])], ids=["kan", "mlp"])
def test_plan_takes_the_one_pass_path_where_it_covers_the_terms(net):
    problem = Mixed()
    model = Surrogate(net, problem.domain.lower, problem.domain.upper)
    colloc = Collocation.sample(problem, n_interior=20, n_boundary=12)
    plan = plan_derivatives(problem, model, colloc)
    assert plan.interior == JetSpec(axes=(0, 1), second=(((0, 0), (1, 1)),))
    assert plan.boundary == (JetSpec(), JetSpec(axes=(0, 1)), JetSpec(axes=(0, 1)))  # u; du/dn twice
    assert plan.notes == ()
    assert plan.describe() == "one-pass (d/dx0, d/dx1, d2/dx0dx0+d2/dx1dx1)"
    assert plan_derivatives(problem, model, colloc, "jet") == plan


def test_plan_says_why_it_falls_back_to_autograd():
    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]),
        residual=lambda u, x: ops.laplacian(torch.exp(u), x),  # a derivative of an expression: not in the jet
        conditions=[kanpde.Neumann("left", 0.0)],
    )
    model = kan_surrogate(problem, width=(2, 3, 1))
    colloc = Collocation.sample(problem, n_interior=16, n_boundary=8)
    plan = plan_derivatives(problem, model, colloc)
    assert plan.interior is None and plan.boundary == (JetSpec(axes=(0, 1)),)
    assert plan.notes == ("FunctionProblem.residual needs a derivative of an expression of the surrogate",)
    assert plan.describe() == "autograd (FunctionProblem.residual needs a derivative of an expression of the surrogate)"
    with pytest.raises(
        ConfigError,
        match=r"derivatives='jet', but FunctionProblem.residual needs a derivative of an "
        r"expression of the surrogate, which one pass does not carry; use derivatives='auto'",
    ):
        plan_derivatives(problem, model, colloc, "jet")


def test_plan_autograd_on_request_or_without_a_jet():
    problem = poisson()
    colloc = Collocation.sample(problem, n_interior=16, n_boundary=8)
    asked = plan_derivatives(problem, kan_surrogate(problem), colloc, "autograd")
    assert asked == DerivativePlan(None, (None,), ("asked for",)) and asked.describe() == "autograd (asked for)"
    plain = plan_derivatives(problem, nn.Linear(2, 1), colloc)  # no forward_jet
    assert plain == DerivativePlan(None, (None,), ())
    with pytest.raises(ConfigError, match="derivatives must be one of auto, jet, autograd; got 'fast'"):
        plan_derivatives(problem, kan_surrogate(problem), colloc, "fast")


@pytest.mark.parametrize(
    "net",
    [kanpde.KAN([2, 4, 3, 1], grid=6, init_noise=1.0, seed=2), kanpde.MLP([2, 12, 1], seed=3)],
    ids=["kan", "mlp"],
)
def test_one_pass_terms_and_gradients_equal_nested_autograd(net):
    problem = Mixed()
    model = Surrogate(net, problem.domain.lower, problem.domain.upper)
    colloc = Collocation.sample(problem, n_interior=60, n_boundary=24)
    params = list(model.parameters())
    terms, grads = {}, {}
    for mode in ("jet", "autograd"):
        plan = plan_derivatives(problem, model, colloc, mode)
        terms[mode] = loss_terms(problem, model, colloc, plan)
        grads[mode] = torch.autograd.grad(total_loss(terms[mode]), params)
    assert list(terms["jet"]) == ["residual", "dirichlet:left", "neumann:right", "robin:top"]
    for label, value in terms["autograd"].items():
        assert terms["jet"][label].item() == pytest.approx(value.item(), rel=1e-12, abs=1e-14), label
    for a, b in zip(grads["jet"], grads["autograd"]):
        assert float((a - b).abs().max()) <= 1e-10 * float(b.abs().max())


# --- loss_terms and total_loss ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["jet", "autograd"])
def test_an_exact_solution_drives_the_terms_to_round_off(mode):
    problem = poisson()
    colloc = Collocation.sample(problem)
    model = ExactPlus()
    plan = plan_derivatives(problem, model, colloc, mode)
    assert (plan.interior is None) == (mode == "autograd")
    terms = loss_terms(problem, model, colloc, plan)
    assert set(terms) == {"residual", "dirichlet:boundary"}
    assert terms["residual"].item() < 1e-24  # |r| ~ 1e-13 against a source of size 2 pi^2 ~ 20
    assert terms["dirichlet:boundary"].item() < 1e-30  # sin(pi) ~ 1e-16


@pytest.mark.parametrize("mode", ["jet", "autograd"])
def test_a_known_perturbation_gives_the_terms_computed_by_hand(mode):
    """u = exact + eps x^2: the residual is Laplacian(eps x^2) = 2 eps everywhere and the boundary error
    eps x^2, so the terms are w_r (2 eps)^2 and w_b mean(eps^2 x^4) over the boundary points."""
    eps, w_r, w_b = 1e-2, 0.3, 4.0
    problem = poisson(residual_weight=w_r)
    problem.conditions = [kanpde.Dirichlet("boundary", 0.0, weight=w_b)]
    colloc = Collocation.sample(problem)
    model = ExactPlus(eps)
    terms = loss_terms(problem, model, colloc, plan_derivatives(problem, model, colloc, mode))
    xb = colloc.boundary[0].x[:, 0]
    assert terms["residual"].item() == pytest.approx(w_r * (2 * eps) ** 2, rel=1e-9)
    assert terms["dirichlet:boundary"].item() == pytest.approx(w_b * float((eps**2 * xb**4).mean()), rel=1e-9)
    assert total_loss(terms).item() == pytest.approx(
        (terms["residual"] + terms["dirichlet:boundary"]).item(), rel=1e-15
    )


def test_total_loss_is_the_weighted_sum_of_the_terms():
    """Weights scale their own term and nothing else; the total is the sum of the weighted terms."""
    model = kan_surrogate(Mixed(), seed=4)

    def terms_with(w_r, w_d):
        problem = Mixed()
        problem.residual_weight = w_r
        problem.conditions = [kanpde.Dirichlet("left", lambda x: x[:, 1] ** 2, weight=w_d), *Mixed.conditions[1:]]
        colloc = Collocation.sample(problem, n_interior=40, n_boundary=16, seed=1)
        return loss_terms(problem, model, colloc)

    plain, weighted = terms_with(1.0, 1.0), terms_with(0.25, 7.0)
    assert weighted["residual"].item() == pytest.approx(0.25 * plain["residual"].item(), rel=1e-14)
    assert weighted["dirichlet:left"].item() == pytest.approx(7.0 * plain["dirichlet:left"].item(), rel=1e-14)
    assert weighted["neumann:right"].item() == pytest.approx(plain["neumann:right"].item(), rel=1e-14)
    # Neumann carries its declared weight 2: its term is 2 mean(r^2)
    assert all(t.item() > 0 for t in weighted.values())
    expected = sum(t.item() for t in weighted.values())
    assert total_loss(weighted).item() == pytest.approx(expected, rel=1e-14)
    assert total_loss(weighted).requires_grad


def test_condition_terms_match_a_direct_computation():
    problem = Mixed()
    model = kan_surrogate(problem, seed=5)
    colloc = Collocation.sample(problem, n_interior=30, n_boundary=16, seed=2)
    terms = loss_terms(problem, model, colloc)
    left, right, top = colloc.boundary
    u_left = model(left.x)[:, 0]
    assert terms["dirichlet:left"].item() == pytest.approx(((u_left - left.x[:, 1] ** 2) ** 2).mean().item(), rel=1e-13)
    (g,) = torch.autograd.grad(model(right.x).sum(), right.x)
    assert terms["neumann:right"].item() == pytest.approx(2.0 * float(((g[:, 0] - 0.5) ** 2).mean()), rel=1e-13)
    (g,) = torch.autograd.grad(model(top.x).sum(), top.x)
    robin = 2.0 * model(top.x)[:, 0] + 0.5 * g[:, 1] - 1.0
    assert terms["robin:top"].item() == pytest.approx((robin**2).mean().item(), rel=1e-13)


def test_a_reduce_replaces_the_mean_square_and_repeated_labels_stay_apart():
    problem = poisson(residual_weight=0.5)
    problem.conditions = [kanpde.Dirichlet("boundary", 0.0), kanpde.Dirichlet("boundary", 0.0, weight=3.0)]
    colloc = Collocation.sample(problem, n_interior=50, n_boundary=16)
    model = ExactPlus(0.1)
    terms = loss_terms(problem, model, colloc, reduce=lambda r, x: r.abs().max())
    assert terms["residual"].item() == pytest.approx(0.5 * 0.2, rel=1e-9)  # max |2 eps|
    assert list(terms) == ["residual", "dirichlet:boundary", "dirichlet:boundary'"]
    assert terms["dirichlet:boundary'"].item() == pytest.approx(3.0 * terms["dirichlet:boundary"].item(), rel=1e-14)


def test_residual_values_shape_is_checked():
    x = torch.rand(6, 2).requires_grad_(True)
    per_point = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]), residual=lambda u, x: ops.laplacian(u, x).values[:, 0]
    )
    assert residual_values(per_point, ExactPlus(), x).shape == (6, 1)
    transposed = kanpde.FunctionProblem(domain=kanpde.Box([0, 0], [1, 1]), residual=lambda u, x: u.values.T)
    with pytest.raises(
        ShapeError,
        match=r"FunctionProblem.residual\(u, x\) must return shape \(6,\) or \(6, m\) for 6 points; got \(1, 6\)",
    ):
        residual_values(transposed, ExactPlus(), x)
