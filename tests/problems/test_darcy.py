"""Darcy problems: exact solution zeroes the residual, div(a grad u) on one pass equals autograd, instances."""

import numpy as np
import pytest
import torch

import kanpde
from kanpde.pde import ops
from kanpde.pde.field import Field
from kanpde.pinn.loss import Collocation, loss_terms, plan_derivatives, total_loss
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Darcy
from kanpde.problems.darcy import darcy_piecewise_bump as piecewise_field
from kanpde.problems.darcy import piecewise_coefficient


def test_smooth_exact_solution_zeroes_the_residual():
    problem = Darcy.smooth()
    x = torch.rand(500, 2, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    u = Field(problem.exact(x).reshape(-1, 1), x)
    r = problem.residual(u, x).values
    assert float(r.detach().abs().max()) <= 1e-12 * float(problem.f(x).detach().abs().max())


@pytest.mark.parametrize("coefficient", ["smooth", "of u"])
def test_divergence_form_on_one_pass_equals_autograd(coefficient):
    if coefficient == "smooth":
        problem = Darcy.smooth()
    else:  # a nonlinear coefficient a(u) = 1 + u^2: its gradient goes through the network
        problem = kanpde.FunctionProblem(
            domain=kanpde.Box([0, 0], [1, 1]),
            residual=lambda u, x: -ops.div((1 + u**2) * ops.grad(u, x), x) - 1.0,
            conditions=[kanpde.Dirichlet("boundary", 0.0)],
        )
    model = Surrogate(kanpde.KAN([2, 5, 1], grid=5, init_noise=1.0, seed=4), problem.domain.lower, problem.domain.upper)
    colloc = Collocation.sample(problem, n_interior=40, n_boundary=16)
    plan = plan_derivatives(problem, model, colloc)
    assert plan.interior is not None, plan.notes  # the natural form stays on the one-pass path
    params = list(model.parameters())
    fast = torch.autograd.grad(total_loss(loss_terms(problem, model, colloc, plan)), params)
    slow = torch.autograd.grad(
        total_loss(loss_terms(problem, model, colloc, plan_derivatives(problem, model, colloc, "autograd"))), params
    )
    for a, b in zip(fast, slow):
        assert float((a - b).abs().max() / b.abs().max()) <= 1e-10


def test_piecewise_coefficient():
    x = torch.tensor([[0.2474, 0.7552], [0.95, 0.5], [0.5, 0.5]])
    g = piecewise_field(x)
    np.testing.assert_allclose(piecewise_field(x.numpy()), g.numpy())
    sharp = piecewise_coefficient(x, 0.0)
    assert set(sharp.tolist()) <= {1.0, 0.1}
    assert sharp.tolist() == [1.0 if v > 1.6 else 0.1 for v in g.tolist()]
    smooth = piecewise_coefficient(x, 0.02)
    assert torch.all((smooth - sharp).abs() < 0.9) and torch.all((smooth >= 0.1) & (smooth <= 1.0))
    problem = kanpde.pde.instance("darcy_piecewise")
    assert problem.exact is None and problem.evaluation_grid().shape == (256, 256)
    assert problem.evaluation_grid().axes[0][0] == pytest.approx(0.5 / 256)


def test_darcy_smooth_on_a_step_budget():
    sol = kanpde.solve(Darcy.smooth(), model=kanpde.KAN([2, 6, 1], grid=5), steps=150, progress=False)
    assert sol.info["constraints"].startswith("hard") and sol.info["derivatives"].startswith("one-pass")
    assert sol.errors["rel_l2"] < 1e-2, sol.errors


def test_bad_darcy_definitions():
    with pytest.raises(kanpde.DefinitionError, match=r"Darcy.a must be a function of the points"):
        Darcy(a=1.0, f=lambda x: x[:, 0])
    with pytest.raises(kanpde.DefinitionError, match=r"smoothing must be a number >= 0"):
        Darcy.piecewise(smoothing=-1)
