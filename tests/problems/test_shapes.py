"""Poisson on a disk, an L-shape and a square with holes: exact solutions zero the residual, the data
equal the solution on the boundary and not inside, and the holes' FE reference converges."""

import numpy as np
import pytest
import torch

import kanpde
from kanpde.pde.field import Field
from kanpde.problems import PoissonDisk, PoissonHoles, PoissonLShape


@pytest.mark.parametrize("problem", [PoissonDisk(), PoissonLShape()], ids=lambda p: p.name)
def test_exact_solution_zeroes_the_residual(problem):
    x = torch.as_tensor(problem.domain.sample(400, seed=0)).requires_grad_(True)
    u = Field(problem.exact(x).reshape(-1, 1), x)
    r = problem.residual(u, x).values.detach()
    assert float(r.abs().max()) <= 1e-10


@pytest.mark.parametrize("problem", [PoissonDisk(), PoissonLShape()], ids=lambda p: p.name)
def test_data_are_the_solution_on_the_boundary_but_not_inside(problem):
    for c in problem.conditions:
        b = torch.as_tensor(problem.domain.sample_boundary(c.on, 64, seed=0).x)
        assert torch.allclose(c.target(b, 1)[:, 0], problem.exact(b), rtol=0, atol=1e-12), c.label
    x = torch.as_tensor(problem.domain.sample(400, seed=0))
    hard, _ = kanpde.pinn.split_conditions(problem, "hard")
    assert float((hard.dirichlet.lift(x)[:, 0] - problem.exact(x)).abs().max()) > 0.05  # the lift is no answer


def test_instances_are_listed_and_solve():
    names = kanpde.pde.registry.instances()
    assert {"poisson_disk", "poisson_lshape", "poisson_holes"} <= set(names)
    sol = kanpde.solve(kanpde.pde.registry.instance("poisson_disk"), steps=3, progress=False)
    assert sol.info["constraints"] == "hard (dirichlet on circle by distance function)"
    assert np.isfinite(sol.errors["rel_l2"]) and len(PoissonDisk().evaluation_grid().points()) > 7000


def test_holes_reference_converges_at_second_order():
    pytest.importorskip("gmsh")
    from kanpde.problems.shapes import holes_reference

    problem = PoissonHoles()
    x = torch.as_tensor(problem.evaluation_grid().points()[::7])
    values = [holes_reference(n)(x).numpy()[:, 0] for n in (20, 40, 80, 160)]
    gaps = [np.sqrt(np.mean((a - values[-1]) ** 2)) for a in values[:-1]]
    slope = np.polyfit(np.log([20, 40]), np.log(gaps[:2]), 1)[0]
    assert slope < -1.6, gaps  # O(h^2): halving h quarters the error
