"""Field: arithmetic acts on the values like plain tensor arithmetic; derivatives of expressions of a field
match the chain rule applied to analytic derivatives; misuse fails with the documented messages."""

import operator

import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde import ops
from kanpde.pde.field import Field, as_tensor

N = 40


def points(n=N, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g) * 2 - 1).requires_grad_(True)


def sin_y2(x):
    """u = sin(x) y^2 as an (n, 1) field, and its analytic derivatives (detached, (n,) each)."""
    u = Field((torch.sin(x[:, 0]) * x[:, 1] ** 2).reshape(-1, 1), x)
    a, b = x[:, 0].detach(), x[:, 1].detach()
    d = {
        "u": torch.sin(a) * b**2,
        "x": torch.cos(a) * b**2,
        "y": 2 * torch.sin(a) * b,
        "xx": -torch.sin(a) * b**2,
        "yy": 2 * torch.sin(a),
        "xy": 2 * torch.cos(a) * b,
    }
    return u, d


def close(actual, expected, tol=1e-12):
    torch.testing.assert_close(as_tensor(actual).detach(), expected, rtol=tol, atol=tol)


# --- arithmetic on values ---------------------------------------------------------------------------

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


def _operands(x):
    """Right-hand operands and how each reads against an (n, 1) field: (name, operand, as a plain tensor)."""
    col = (1.5 + x[:, 0]).detach()  # positive, so pow and div are defined
    return [
        ("int", 3, 3),
        ("float", 0.5, 0.5),
        ("0-d tensor", torch.tensor(1.25), torch.tensor(1.25)),
        ("(n,) tensor", col, col[:, None]),  # read as (n, 1): per point, never an outer product
        ("(n, 1) tensor", col[:, None], col[:, None]),
        ("(n, 3) tensor", col[:, None].repeat(1, 3) + torch.arange(3.0), col[:, None].repeat(1, 3) + torch.arange(3.0)),
        ("field", Field(col[:, None] * 2, x), col[:, None] * 2),
    ]


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
def test_binary_operators_act_on_the_values_like_tensors(op):
    x = points()
    v = (2.0 + torch.sin(x[:, :1])).detach()  # positive, for pow
    u = Field(v.clone(), x)
    for name, other, plain in _operands(x):
        pairs = [(op(u, other), op(v, plain))]
        pairs.append((op(other, u), op(plain, v)))
        for out, expected in pairs:
            assert isinstance(out, Field), name
            assert out.x is x, name
            assert out.shape == expected.shape, name
            torch.testing.assert_close(out.values, expected, rtol=1e-15, atol=0, msg=name)


def test_unary_operators_and_torch_functions_return_fields_at_the_same_points():
    x = points()
    v = (x[:, :1] - 0.2).detach()
    u = Field(v.clone(), x)
    cases = [
        (-u, -v),
        (+u, v),
        (abs(u), v.abs()),
        (torch.sin(u), torch.sin(v)),
        (torch.exp(u), torch.exp(v)),
        (torch.tanh(3 * u), torch.tanh(3 * v)),
        (torch.sqrt(u * u + 1), torch.sqrt(v * v + 1)),
        (torch.sub(u, 1.0), v - 1.0),
        (torch.mul(2.0, u), 2.0 * v),
    ]
    for out, expected in cases:
        assert isinstance(out, Field) and out.x is x
        torch.testing.assert_close(out.values, expected, rtol=1e-15, atol=0)
    assert +u is u


def test_a_reduction_over_the_points_is_a_plain_tensor():
    x = points()
    u = Field(x[:, :1] ** 2, x)
    m = torch.mean(u)
    assert type(m) is torch.Tensor and m.ndim == 0
    torch.testing.assert_close(m, (x[:, 0] ** 2).mean())
    rows = torch.sum(Field(x**2, x), dim=1)  # one value per point stays a field
    assert isinstance(rows, Field) and rows.shape == (N,)


def test_components_and_slices():
    x = points()
    v = torch.stack([x[:, 0], 2 * x[:, 1], x[:, 0] * x[:, 1]], 1)
    u = Field(v, x)
    assert len(u) == N and u.ndim == 2 and u.dtype == torch.float64 and u.device == x.device
    assert repr(u) == "Field(shape=(40, 3))"
    for i in range(-3, 3):
        assert u[i].shape == (N, 1)
        assert torch.equal(u[i].values, v[:, i % 3 : i % 3 + 1])
    assert torch.equal(u[:, 1:].values, v[:, 1:])
    assert torch.equal(as_tensor(u), v) and as_tensor(v) is v


# --- derivatives through expressions ----------------------------------------------------------------


def test_derivatives_of_u_match_the_analytic_ones():
    x = points()
    u, d = sin_y2(x)
    close(ops.grad(u, x), torch.stack([d["x"], d["y"]], 1))
    close(ops.partial(u, x, 0)[0], d["x"][:, None])
    close(ops.partial(u, x, 1, 1), d["yy"][:, None])
    close(ops.partial(u, x, 0, 1), d["xy"][:, None])
    close(ops.partial(u, x, 1, 0), d["xy"][:, None])
    close(ops.laplacian(u, x), (d["xx"] + d["yy"])[:, None])
    close(ops.laplacian(u, x, axes=[1]), d["yy"][:, None])
    hess = torch.stack([torch.stack([d["xx"], d["xy"]], 1), torch.stack([d["xy"], d["yy"]], 1)], 1)
    close(ops.hessian(u, x), hess)


def test_derivatives_through_arithmetic_follow_the_chain_rule():
    """w = u^2 / (1 + x) + exp(u) - 3 u, with the derivatives of u known in closed form."""
    x = points()
    u, d = sin_y2(x)
    a = x[:, 0]
    w = u**2 / (1.0 + 1.5 + a) + torch.exp(u) - 3 * u  # 1 + 1.5 + x > 0 on [-1, 1]
    s = (2.5 + a).detach()
    v, vx, vy, vxx, vyy = d["u"], d["x"], d["y"], d["xx"], d["yy"]
    ev = torch.exp(v)
    # q = v^2 / s with s = 2.5 + x: q_x = 2 v v_x / s - v^2 / s^2, q_y = 2 v v_y / s
    qx = 2 * v * vx / s - v**2 / s**2
    qy = 2 * v * vy / s
    qxx = 2 * (vx**2 + v * vxx) / s - 4 * v * vx / s**2 + 2 * v**2 / s**3
    qyy = 2 * (vy**2 + v * vyy) / s
    wx = qx + ev * vx - 3 * vx
    wy = qy + ev * vy - 3 * vy
    wxx = qxx + ev * (vx**2 + vxx) - 3 * vxx
    wyy = qyy + ev * (vy**2 + vyy) - 3 * vyy
    close(w, (v**2 / s + ev - 3 * v)[:, None])
    close(ops.grad(w, x), torch.stack([wx, wy], 1))
    close(ops.laplacian(w, x), (wxx + wyy)[:, None])
    close(ops.partial(w, x, 0, 0), wxx[:, None])


def test_divergence_of_a_flux_built_from_the_field():
    """div(u * grad u) = |grad u|^2 + u lap u."""
    x = points()
    u, d = sin_y2(x)
    flux = u * ops.grad(u, x)
    assert isinstance(flux, Field) and flux.shape == (N, 2)
    expected = d["x"] ** 2 + d["y"] ** 2 + d["u"] * (d["xx"] + d["yy"])
    close(ops.div(flux, x), expected[:, None])


def test_derivatives_are_cached_on_the_field():
    x = points()
    u, _ = sin_y2(x)
    assert u.partial(0) is u.partial(0) and u.partial(-1) is u.partial(1)
    assert u.partial(0).partial(1) is u.partial(0).partial(1)


def test_values_that_do_not_depend_on_x_have_zero_derivatives():
    x = points()
    p = torch.tensor(0.7, requires_grad=True)  # a parameter, not a function of x
    u = Field(p * torch.ones(N, 1), x)
    assert torch.equal(ops.grad(u, x).values, torch.zeros(N, 2))
    assert torch.equal(ops.laplacian(u, x).values, torch.zeros(N, 1))


def test_a_derivative_keeps_the_graph_for_training():
    """The residual's derivative is differentiable in a parameter: d/dp lap(p u) = lap(u)."""
    x = points()
    p = torch.tensor(2.0, requires_grad=True)
    u, d = sin_y2(x)
    lap = ops.laplacian(p * u, x).values.sum()
    (g,) = torch.autograd.grad(lap, p)
    torch.testing.assert_close(g, (d["xx"] + d["yy"]).sum(), rtol=1e-12, atol=1e-12)


# --- misuse ---------------------------------------------------------------------------------------


def test_construction_errors():
    x = points(n=5)
    with pytest.raises(ShapeError, match="Field needs tensors for values and x; got ndarray and Tensor"):
        Field(np.zeros((5, 1)), x)
    with pytest.raises(ShapeError, match=r"Field.values must have one row per point of x \(5\); got shape \(6, 1\)"):
        Field(torch.zeros(6, 1), x)
    with pytest.raises(ShapeError, match=r"Field.values must have one row per point of x \(5\); got shape \(\)"):
        Field(torch.tensor(1.0), x)


def test_indexing_errors():
    x = points(n=5)
    u = Field(torch.zeros(5, 2), x)
    with pytest.raises(ShapeError, match=r"component 2 is out of range for a field of shape \(5, 2\)"):
        u[2]
    with pytest.raises(ShapeError, match=r"component -3 is out of range"):
        u[-3]
    with pytest.raises(
        ShapeError,
        match=r"indexing a field must keep one row per point; u\[slice\(None, 2, None\)\] has shape \(2, 2\)",
    ):
        u[:2]


def test_combination_errors():
    x = points(n=5)
    u = Field(x[:, :1] * 1.0, x)
    other = Field(torch.zeros(5, 1), points(n=5, seed=1))
    with pytest.raises(ShapeError, match="cannot combine fields evaluated at different points with '\\*'"):
        u * other
    with pytest.raises(
        ShapeError, match=r"shapes \(5, 1\) and \(1, 5\) do not match for '-': broadcasting would give \(5, 5\)"
    ):
        u - torch.zeros(1, 5)
    with pytest.raises(ShapeError, match=r"broadcasting would give \(5, 5\)"):
        torch.zeros(1, 5) + u  # the same rule with the tensor first
    with pytest.raises(TypeError, match="unsupported operand"):
        u + "1"


def test_derivative_errors():
    x = points(n=5)
    u = Field(x[:, :1] ** 2, x)
    with pytest.raises(ConfigError, match=r"axes= needs at least one axis; got axes=\(\)"):
        ops.laplacian(u, x, axes=())
    with pytest.raises(ConfigError, match=r"derivative axis must be in \[0, 2\) for points of dimension 2; got -3"):
        u.partial(-3)
    with pytest.raises(
        ConfigError, match=r"ops.partial axes must be ints \(coordinate indices\) or axis names; got 0.0"
    ):
        ops.partial(u, x, 0.0)
    with pytest.raises(
        ConfigError, match=r"ops.laplacian axes must be ints \(coordinate indices\) or axis names; got \(True,\)"
    ):
        ops.laplacian(u, x, axes=[True])
    with pytest.raises(DefinitionError, match="ops.grad takes a field or a tensor; got list"):
        ops.grad([1.0], x)
    with pytest.raises(ShapeError, match=r"ops.grad needs a scalar field \(shape \(n, 1\)\); got \(5, 2\)"):
        ops.hessian(Field(x * 1.0, x), x)
    with pytest.raises(ConfigError, match=r"ops.div\(u, x\): x is not the tensor u was evaluated at"):
        ops.div(Field(x * 1.0, x), x[:, :2])


# --- numbers, numpy scalars, lists of fields, and broadcasting that pairs every point with every other -------


def test_a_number_raised_to_a_field():
    x = points(n=5)
    u = Field(x[:, :1] * 1.0, x)
    out = 2**u
    assert isinstance(out, Field)
    torch.testing.assert_close(out.values, 2**u.values)


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)], ids=["float64", "float32", "int64"])
def test_numpy_scalars_scale_a_field(scalar):
    x = points(n=5)
    u = Field(x[:, :1] * 1.0, x)
    for out in (scalar * u, u * scalar):
        assert isinstance(out, Field)
        torch.testing.assert_close(out.values, 2.0 * u.values)


def test_concatenating_fields():
    x = points(n=5)
    u, v = Field(x[:, :1] * 1.0, x), Field(x[:, 1:] ** 2, x)
    out = torch.cat([u, v], dim=1)
    torch.testing.assert_close(as_tensor(out), torch.cat([u.values, v.values], 1))


def test_other_binary_torch_functions_follow_the_per_point_rule():
    x = points(n=5)
    u = Field(x[:, :1] * 1.0, x)
    f = torch.linspace(-1, 1, 5)
    with pytest.raises(
        ShapeError,
        match=r"torch.maximum of shapes \(5, 1\), \(5,\) gives \(5, 5\): every point paired with every other",
    ):
        torch.maximum(u, f)
    out = torch.maximum(u, f.reshape(-1, 1))
    torch.testing.assert_close(out.values, torch.maximum(u.values, f[:, None]))


def test_reshape_keeps_one_row_per_point():
    x = points(n=5)
    u = Field(torch.cat([x[:, :1], x[:, 1:] ** 2], dim=1), x)
    torch.testing.assert_close(u.reshape(5, 2, 1).values, u.values.reshape(5, 2, 1))
    with pytest.raises(
        ShapeError, match=r"reshaping a field must keep one row per point \(5\); u.reshape\(-1\) gives \(10,\)"
    ):
        u.reshape(-1)
