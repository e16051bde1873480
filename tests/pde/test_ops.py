"""Operators against analytic derivatives of closed-form fields."""

import math

import pytest
import torch

from kanpde.errors import ConfigError, ShapeError
from kanpde.pde import ops
from kanpde.pde.field import Field


def points(n=50, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g) * 2 - 1).requires_grad_(True)


def field_of(fn, x):
    return Field(fn(x).reshape(x.shape[0], -1), x)


def u_fn(x):  # u = sin(x) exp(y) + x^2 y^3
    return torch.sin(x[:, 0]) * torch.exp(x[:, 1]) + x[:, 0] ** 2 * x[:, 1] ** 3


def test_grad_partial_laplacian_hessian_match_analytic():
    x = points()
    u = field_of(u_fn, x)
    a, b = x[:, 0].detach(), x[:, 1].detach()
    ux = torch.cos(a) * torch.exp(b) + 2 * a * b**3
    uy = torch.sin(a) * torch.exp(b) + 3 * a**2 * b**2
    uxx = -torch.sin(a) * torch.exp(b) + 2 * b**3
    uyy = torch.sin(a) * torch.exp(b) + 6 * a**2 * b
    uxy = torch.cos(a) * torch.exp(b) + 6 * a * b**2
    torch.testing.assert_close(ops.grad(u, x).values, torch.stack([ux, uy], 1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ops.partial(u, x, 0).values[:, 0], ux, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ops.partial(u, x, 1, 1).values[:, 0], uyy, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ops.partial(u, x, 0, 1).values[:, 0], uxy, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ops.laplacian(u, x).values[:, 0], uxx + uyy, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ops.laplacian(u, x, axes=[0]).values[:, 0], uxx, rtol=1e-12, atol=1e-12)
    hess = ops.hessian(u, x).values
    torch.testing.assert_close(
        hess, torch.stack([torch.stack([uxx, uxy], 1), torch.stack([uxy, uyy], 1)], 1), rtol=1e-12, atol=1e-12
    )
    assert ops.partial(u, x).values is u.values


def test_div_of_variable_coefficient_flux():
    """div(a grad u) = a lap u + grad a . grad u for a = 1 + x y."""
    x = points()
    u = field_of(u_fn, x)
    a = 1 + x[:, 0] * x[:, 1]
    lhs = ops.div(a * ops.grad(u, x), x).values[:, 0]
    g = ops.grad(u, x).values
    rhs = a * ops.laplacian(u, x).values[:, 0] + x[:, 1] * g[:, 0] + x[:, 0] * g[:, 1]
    torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)


def test_dt_is_last_coordinate_and_plain_tensors_work():
    x = points(d=3)
    t = x[:, 2]
    u = torch.exp(-t) * torch.sin(math.pi * x[:, 0])  # a plain tensor, not a Field
    torch.testing.assert_close(ops.dt(u, x).values[:, 0], -u.detach(), rtol=1e-12, atol=1e-12)


def test_field_arithmetic_and_torch_functions():
    x = points()
    u = field_of(u_fn, x)
    r = 5 * u**3 - u + torch.sin(u) / 2 - 1.0
    v = u.values.detach()
    torch.testing.assert_close(r.values.detach(), 5 * v**3 - v + torch.sin(v) / 2 - 1.0)
    assert isinstance(torch.exp(u), Field) and isinstance(-u, Field) and isinstance(abs(u), Field)
    # an (n,) tensor combines with an (n, 1) field per point, never as an outer product
    f = x[:, 0].detach()
    assert (u - f).shape == (50, 1)
    torch.testing.assert_close((u - f).values, v - f[:, None])
    torch.testing.assert_close((f - u).values, f[:, None] - v)
    torch.testing.assert_close((f * u).values, f[:, None] * v)
    torch.testing.assert_close(torch.mul(f, u).values, f[:, None] * v)
    torch.testing.assert_close((f / (2 + u)).values, f[:, None] / (2 + v))
    # derivatives of an expression of u
    w = u * u
    torch.testing.assert_close(ops.grad(w, x).values, 2 * v * ops.grad(u, x).values)


def test_field_shape_errors():
    x = points()
    u = field_of(u_fn, x)
    with pytest.raises(ShapeError, match="broadcasting would give"):
        u + torch.ones(1, 50)
    with pytest.raises(ShapeError, match=r"ops.grad needs a scalar field.*ops.grad\(u\[0\], x\)"):
        ops.grad(Field(torch.cat([u.values, u.values], 1), x), x)
    with pytest.raises(ShapeError, match=r"ops.div needs a vector field of shape \(n, 2\)"):
        ops.div(u, x)
    with pytest.raises(ConfigError, match="x is not the tensor u was evaluated at"):
        ops.laplacian(u, x.detach().clone().requires_grad_(True))
    with pytest.raises(ConfigError, match=r"derivative axis must be in \[0, 2\)"):
        ops.partial(u, x, 2)
    with pytest.raises(ShapeError, match="one row per point"):
        Field(torch.zeros(3, 1), x)
    y = x.detach()
    with pytest.raises(ConfigError, match="requires_grad=True"):
        ops.grad(Field(y[:, :1] * 2, y), y)


def test_derivative_of_constant_is_zero():
    x = points()
    c = Field(torch.ones(50, 1), x)
    torch.testing.assert_close(ops.laplacian(c, x).values, torch.zeros(50, 1))


def test_vector_field_components():
    x = points()
    v = Field(torch.stack([x[:, 0] ** 2, x[:, 0] * x[:, 1]], 1), x)
    torch.testing.assert_close(ops.div(v, x).values[:, 0], (3 * x[:, 0]).detach())
    torch.testing.assert_close(ops.grad(v[1], x).values, torch.stack([x[:, 1], x[:, 0]], 1).detach())
    torch.testing.assert_close(ops.partial(v, x, 0).values, torch.stack([2 * x[:, 0], x[:, 1]], 1).detach())
