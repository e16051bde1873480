"""Differential operators for residuals: ``grad``, ``partial``, ``laplacian``, ``div``, ``hessian``, ``dt``.

Each takes a field ``u`` (the :class:`~kanpde.pde.field.Field` a residual receives, or any expression of
it) and the points ``x`` it was evaluated at, and returns a field. Coordinates are ordered space first,
time last, so ``dt(u, x)`` is the derivative along the last column of ``x``.

Example, the Poisson residual ``u_xx + u_yy - f``::

    def residual(self, u, x):
        return ops.laplacian(u, x) - self.source(x)

and a variable-coefficient Darcy residual ``-div(a grad u) - f``::

    return -ops.div(a(x) * ops.grad(u, x), x) - f(x)

A plain tensor computed from ``x`` (``torch.sin(x[:, 0])``) is accepted too and differentiated with
autograd.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from kanpde.errors import ConfigError, DefinitionError
from kanpde.pde.field import Field

__all__ = ["grad", "partial", "laplacian", "div", "hessian", "dt"]


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


def grad(u: Field | Tensor, x: Tensor) -> Field:
    """Gradient of a scalar field: (n, 1) -> (n, d)."""
    return _field(u, x, "grad").grad()


def partial(u: Field | Tensor, x: Tensor, *axes: int) -> Field:
    """Partial derivative along the given coordinate axes, in order: ``partial(u, x, 0, 1)`` is u_xy.

    The result has the shape of ``u``. With no axes, ``u`` itself.
    """
    f = _field(u, x, "partial")
    for axis in axes:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ConfigError(f"ops.partial axes must be ints (coordinate indices); got {axis!r}")
        f = f.partial(axis)
    return f


def laplacian(u: Field | Tensor, x: Tensor, axes: Sequence[int] | None = None) -> Field:
    """Sum_i d^2 u / dx_i^2 over the coordinate ``axes`` (default: all of them), same shape as u.

    For a space-time problem pass the spatial axes: ``laplacian(u, x, axes=range(d))``.
    """
    if axes is not None:
        axes = tuple(axes)
        if any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise ConfigError(f"ops.laplacian axes must be ints (coordinate indices); got {axes!r}")
    return _field(u, x, "laplacian").laplacian(axes)


def div(v: Field | Tensor, x: Tensor) -> Field:
    """Divergence of a vector field v: (n, d) -> (n, 1)."""
    return _field(v, x, "div").divergence()


def hessian(u: Field | Tensor, x: Tensor) -> Field:
    """Second derivatives of a scalar field: (n, 1) -> (n, d, d)."""
    return _field(u, x, "hessian").hessian()


def dt(u: Field | Tensor, x: Tensor) -> Field:
    """Time derivative: the partial derivative along the last coordinate (space first, time last)."""
    return _field(u, x, "dt").partial(-1)
