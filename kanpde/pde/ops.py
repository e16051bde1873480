"""Differential operators for residuals: ``grad``, ``partial``, ``laplacian``, ``div``, ``hessian``, ``dt``,
and ``stack`` for a system's equations.

Each takes a field ``u`` (the :class:`~kanpde.pde.field.Field` a residual receives, or any expression of
it) and the points ``x`` it was evaluated at, and returns a field. Coordinates are ordered space first,
time last, so ``dt(u, x)`` is the derivative along the last column of ``x``.

Example, the Poisson residual ``u_xx + u_yy - f``::

    def residual(self, u, x):
        return ops.laplacian(u, x) - self.source(x)

and a variable-coefficient Darcy residual ``-div(a grad u) - f``::

    return -ops.div(a(x) * ops.grad(u, x), x) - f(x)

A system (``outputs = ("u", "v", "p")`` on the problem) names its components: ``u["p"]`` is the
pressure with all its derivatives, and the residual returns one column per equation::

    def residual(self, u, x):
        vx, vy, p = u["u"], u["v"], u["p"]
        ux, uy = ops.partial(vx, x, "x"), ops.partial(vx, x, "y")
        ...
        return ops.stack(momentum_x, momentum_y, ops.partial(vx, x, "x") + ops.partial(vy, x, "y"))

A plain tensor computed from ``x`` (``torch.sin(x[:, 0])``) is accepted too and differentiated with
autograd.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from kanpde.errors import ConfigError, DefinitionError
from kanpde.pde.field import Field, stack

__all__ = ["grad", "partial", "laplacian", "div", "hessian", "dt", "stack"]


def _field(u: Field | Tensor, x: Tensor, op: str) -> Field:
    if isinstance(u, Field):
        if u.x is not x:
            raise ConfigError(
                f"ops.{op}(u, x): x is not the tensor u was evaluated at; pass the x your residual received "
                "(derivatives are taken with respect to all of its columns, not a slice)"
            )
        return u
    if isinstance(u, Tensor):
        return Field(u.reshape(-1, 1) if u.ndim == 1 else u, x)
    raise DefinitionError(f"ops.{op} takes a field or a tensor; got {type(u).__name__}")


Axis = int | str
Axes = Sequence[Axis] | None


def grad(u: Field | Tensor, x: Tensor, axes: Axes = None) -> Field:
    """Gradient of a scalar field along ``axes`` (default: all coordinates): (n, 1) -> (n, len(axes)).

    On a space-time problem the spatial gradient is ``grad(u, x, axes=("x", "y"))`` (or ``range(d)``).
    """
    return _field(u, x, "grad").grad(axes)


def partial(u: Field | Tensor, x: Tensor, *axes: Axis) -> Field:
    """Partial derivative along the given coordinate axes, in order: ``partial(u, x, 0, 1)`` is u_xy,
    ``partial(u, x, "t", "t")`` is u_tt (axes by index or by the domain's axis names).

    The result has the shape of ``u``. With no axes, ``u`` itself.
    """
    f = _field(u, x, "partial")
    for axis in axes:
        if isinstance(axis, bool) or not isinstance(axis, (int, str)):
            raise ConfigError(f"ops.partial axes must be ints (coordinate indices) or axis names; got {axis!r}")
        f = f.partial(axis)
    return f


def laplacian(u: Field | Tensor, x: Tensor, axes: Axes = None) -> Field:
    """Sum_i d^2 u / dx_i^2 over the coordinate ``axes`` (default: all of them), same shape as u.

    For a space-time problem pass the spatial axes: ``laplacian(u, x, axes=("x", "y"))`` or ``range(d)``.
    """
    return _field(u, x, "laplacian").laplacian(_checked(axes, "laplacian"))


def div(v: Field | Tensor, x: Tensor, axes: Axes = None) -> Field:
    """Divergence of a vector field v: (n, k) -> (n, 1), with k = len(axes) (default: all coordinates).

    ``div(ops.stack(u["u"], u["v"]), x, axes=("x", "y"))`` on a space-time problem.
    """
    return _field(v, x, "div").divergence(_checked(axes, "div"))


def hessian(u: Field | Tensor, x: Tensor, axes: Axes = None) -> Field:
    """Second derivatives of a scalar field along ``axes`` (default: all): (n, 1) -> (n, k, k)."""
    return _field(u, x, "hessian").hessian(_checked(axes, "hessian"))


def dt(u: Field | Tensor, x: Tensor) -> Field:
    """Time derivative: the partial derivative along the last coordinate (space first, time last)."""
    return _field(u, x, "dt").partial(-1)


def _checked(axes: Axes, op: str) -> tuple[Axis, ...] | None:
    if axes is None:
        return None
    axes = (axes,) if isinstance(axes, (int, str)) else tuple(axes)
    if any(isinstance(a, bool) or not isinstance(a, (int, str)) for a in axes):
        raise ConfigError(f"ops.{op} axes must be ints (coordinate indices) or axis names; got {axes!r}")
    return axes
