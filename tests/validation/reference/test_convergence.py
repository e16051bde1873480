"""Convergence-order fit and grid metrics."""

import math

import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError
from kanpde.geometry.box import Box
from kanpde.validation import convergence_order, grid_errors, observed_orders, rel_h1


def test_convergence_order_recovers_the_exponent():
    h = [1 / 8, 1 / 16, 1 / 32, 1 / 64]
    assert convergence_order(h, [3 * x**2 for x in h]) == pytest.approx(2.0, abs=1e-12)
    assert observed_orders(h, [0.5 * x**1.5 for x in h]) == pytest.approx([1.5] * 3, abs=1e-12)


def test_convergence_order_errors():
    with pytest.raises(ConfigError, match=r"same length >= 2; got 2 and 3"):
        convergence_order([0.1, 0.2], [1, 2, 3])
    with pytest.raises(ConfigError, match=r"positive finite errors.*an error of 0 means"):
        convergence_order([0.1, 0.2], [0.0, 1e-3])
    with pytest.raises(ConfigError, match=r"two different mesh widths"):
        convergence_order([0.1, 0.1], [1e-3, 2e-3])


def quadratic(x):
    return 1 + x[:, 0] ** 2 - 3 * x[:, 0] * x[:, 1] + 0.5 * x[:, 1]


def quadratic_grad(x):
    return torch.stack([2 * x[:, 0] - 3 * x[:, 1], -3 * x[:, 0] + 0.5], dim=1)


def test_rel_h1_by_differences_equals_exact_gradients_on_quadratics():
    grid = Box([0.0, -1.0], [2.0, 1.0]).grid([7, 9])
    x = torch.as_tensor(grid.points())
    ref, pred = quadratic(x), quadratic(x) + 0.1 * x[:, 0] * x[:, 1]
    grad_pred = quadratic_grad(x) + 0.1 * torch.stack([x[:, 1], x[:, 0]], dim=1)
    exact = rel_h1(pred, ref, grad_pred=grad_pred, grad_ref=quadratic_grad(x))
    assert rel_h1(pred, ref, grid=grid) == pytest.approx(exact, rel=1e-12)
    manual = math.sqrt(
        (float(((pred - ref) ** 2).sum()) + float(((grad_pred - quadratic_grad(x)) ** 2).sum()))
        / (float((ref**2).sum()) + float((quadratic_grad(x) ** 2).sum()))
    )
    assert exact == pytest.approx(manual, rel=1e-12)
    out = grid_errors(pred.reshape(-1, 1), ref.reshape(-1, 1), grid=grid)
    assert set(out) == {"rel_l2", "max_abs", "rel_h1"}
    assert out["max_abs"] == pytest.approx(float((0.1 * x[:, 0] * x[:, 1]).abs().max()))
    assert set(grid_errors(pred, ref)) == {"rel_l2", "max_abs"}


def test_rel_h1_errors():
    x = torch.as_tensor(np.linspace(0, 1, 5)).reshape(-1, 1)
    with pytest.raises(ConfigError, match=r"rel_h1 needs derivatives"):
        rel_h1(x, x)
    with pytest.raises(ConfigError, match=r"give both grad_pred and grad_ref"):
        rel_h1(x, x, grad_pred=x)
    with pytest.raises(ConfigError, match=r"grid of shape \(4, 4\) .* must hold the 5 points"):
        rel_h1(x, x, grid=Box([0.0, 0.0], [1.0, 1.0]).grid(4))
