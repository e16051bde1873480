"""The gallery of user-style problems (``kanpde.problems.gallery``) and its validation suite.

Oracles: each exact solution, wrapped as a network, drives the PDE residual to round-off on random
interior points through nested autograd (``residual_values`` with no derivative plan) and every declared
condition to round-off on its own boundary samples (``Condition.residual``, what the loss penalises);
a perturbed solution does not, so the checks can fail. The shipped suite names every class.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from kanpde.pde import Problem
from kanpde.pinn.loss import Collocation, field_at, residual_values
from kanpde.problems import gallery
from kanpde.validation.batch.suite import load_suite

CLASSES = [getattr(gallery, name) for name in gallery.__all__]
TOL = 1e-8


class ExactNet(nn.Module):
    """A 'surrogate' that is the problem's exact solution (times ``scale``, plus ``shift``): (n, d) -> (n, 1)."""

    def __init__(self, problem: Problem, scale: float = 1.0, shift: float = 0.0) -> None:
        super().__init__()
        self.problem, self.scale, self.shift = problem, scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.scale * self.problem.exact(x) + self.shift).reshape(-1, 1)


def worst_residuals(problem: Problem, net: nn.Module) -> dict[str, float]:
    """max |residual| of the PDE on 300 random interior points and of each condition on its samples,
    relative to the size of the terms (the source, the datum) where they are larger than 1."""
    colloc = Collocation.sample(problem, seed=3, n_interior=300, n_boundary=120)
    x = torch.as_tensor(problem.domain.sample(300, method="random", seed=4)).requires_grad_(True)
    worst = {"residual": float(residual_values(problem, net, x).detach().abs().max())}
    for s in colloc.boundary:
        r = s.condition.residual(field_at(net, s.x, None), s.x, s.normal).detach()
        scale = max(1.0, float(s.condition.target(s.x.detach(), 1).abs().max()))
        label = s.condition.label
        while label in worst:
            label += "'"
        worst[label] = float(r.abs().max()) / scale
    return worst


def test_the_gallery_is_large_enough_and_plain():
    assert len(CLASSES) >= 12
    for cls in CLASSES:
        assert issubclass(cls, Problem) and cls.__doc__
        for attr in ("residual_weight", "n_interior", "n_boundary", "sampling"):  # left to the recipe
            assert getattr(cls, attr) == getattr(Problem, attr), f"{cls.__name__} sets {attr}"
        assert cls.out_dim == 1


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_exact_solution_solves_the_problem(cls):
    problem = cls()
    worst = worst_residuals(problem, ExactNet(problem))
    assert set(worst) >= {"residual"} | {c.label for c in problem.conditions}
    assert max(worst.values()) < TOL, worst
    values = problem.exact_values(torch.as_tensor(problem.evaluation_grid().points()))
    assert 0.5 < float(values.abs().max()) < 10  # O(1) amplitudes


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_perturbed_solution_fails_the_problem(cls):
    problem = cls()
    worst = worst_residuals(problem, ExactNet(problem, scale=1.01, shift=0.01))
    assert max(worst.values()) > 1e-4, worst


def test_the_gallery_suite_names_every_class():
    suite = load_suite("gallery")
    kan = [c for c in suite.cases if c.model == "kan"]
    mlp = [c for c in suite.cases if c.model == "mlp"]
    assert len(kan) >= 10 and all(c.problem.startswith("kanpde.problems.gallery:") for c in suite.cases)
    names = {c.problem.split(":")[1] for c in kan}
    assert names == set(gallery.__all__) == {c.problem.split(":")[1] for c in mlp}
    for c in kan:
        assert (c.hidden, c.grid, c.budget, c.dtype, c.tol) == ((10,), 5, 120.0, "float64", 1e-3)
    assert {c.seed for c in kan} == {0, 1, 2} and len(kan) == 3 * len(names)
    assert all(c.hidden == (100, 100, 100) and c.tol == 1e-2 and c.seed == 0 for c in mlp) and len(mlp) == len(names)
