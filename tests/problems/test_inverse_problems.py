"""The built-in inverse problems (``problems/inverse.py``) are what they say.

Oracles: with every unknown bound to its declared truth, the exact solution satisfies the residual to
round-off at random interior points (autograd derivatives, float64); the observations are the exact
solution at points inside the domain (clean) or differ from it by noise of the declared size (noisy, within
the sampling error of a standard deviation over the observations); an instance rebuilt from its name and
parameters has the same observations; and (slow, in CI) ``poisson_inverse`` identifies c to 1e-3 in 300
L-BFGS steps of the default KAN.
"""

import numpy as np
import pytest
import torch
from torch import nn

import kanpde
from kanpde.pde.registry import instance
from kanpde.pde.unknowns import bind
from kanpde.pinn.loss import residual_values

NAMES = ("poisson_inverse", "poisson_inverse_noisy", "darcy_inverse", "darcy_inverse_noisy", "heat_inverse")


class Truth:
    """A source that reads each unknown as its declared truth."""

    def __init__(self, problem):
        self.declared = {u.name: u for u in problem.unknowns}

    def value(self, name):
        return torch.tensor(float(self.declared[name].exact), dtype=torch.float64)

    def field(self, name):
        return self.declared[name].exact


class Exact(nn.Module):
    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, x):
        return self.problem.exact(x).reshape(-1, 1)


@pytest.mark.parametrize("name", NAMES)
def test_the_exact_solution_satisfies_the_residual_with_the_true_unknowns(name):
    problem = instance(name)
    assert problem.unknowns and all(u.exact is not None for u in problem.unknowns)
    x = torch.as_tensor(problem.domain.sample(200, method="random", seed=3), dtype=torch.float64).requires_grad_(True)
    bind(problem, Truth(problem))
    r = residual_values(problem, Exact(problem), x)
    bind(problem, None)  # unbound, the unknowns read their first guesses: the residual is then far from 0
    wrong = residual_values(problem, Exact(problem), x)
    assert float(r.abs().max()) < 1e-9 * (1 + float(wrong.abs().max()))
    assert float(wrong.abs().max()) > 1e-2


@pytest.mark.parametrize("name", NAMES)
def test_the_observations_are_the_exact_solution_inside_the_domain(name):
    problem = instance(name)
    (data,) = problem.data
    assert problem.domain.contains(data.points).all()
    exact = problem.exact(torch.as_tensor(data.points)).numpy()
    noise = data.values[:, 0] - exact
    if name.endswith("_noisy"):
        scale = np.abs(problem.exact(torch.as_tensor(problem.evaluation_grid().points())).numpy()).max()
        assert np.std(noise) == pytest.approx(0.01 * scale, rel=4 / np.sqrt(len(noise)))
    else:
        assert np.abs(noise).max() < 1e-14


@pytest.mark.parametrize("name", ["poisson_inverse", "darcy_inverse_noisy", "heat_inverse"])
def test_an_instance_rebuilt_from_its_parameters_has_the_same_observations(name):
    problem = instance(name, seed=4) if name != "heat_inverse" else instance(name, sensors=3, times=7)
    again = instance(name, **problem.params)
    assert again.name == problem.name
    np.testing.assert_array_equal(again.data[0].points, problem.data[0].points)
    np.testing.assert_array_equal(again.data[0].values, problem.data[0].values)


@pytest.mark.slow
def test_poisson_inverse_identifies_c_with_the_default_kan():
    sol = kanpde.solve(instance("poisson_inverse"), steps=300, progress=False)
    assert sol.errors["rel_err_c"] < 1e-3
    assert sol.errors["rel_l2"] < 1e-2
