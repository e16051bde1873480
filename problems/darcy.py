"""Darcy flow ``-div(a grad u) = f`` in a box with Dirichlet walls: variable and discontinuous coefficients.

Instances (``kanpde list``), both on (0, 1)^2 with u = 0 on the boundary, measured at the cell centres of
a 256 x 256 grid:

* ``darcy_smooth``: a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact u = sin(pi x) sin(pi y), f derived from u.
* ``darcy_piecewise``: f = 1, a = 1 where g(x, y) > 1.6 and 0.1 elsewhere, with g a sum of five
  Gaussian bumps (``piecewise_field``). No closed form: errors are measured against the finite-volume
  reference of ``kanpde.validation`` (harmonic-mean face coefficients, 1024^2 cells).

The residual is written as the equation reads, ``-div(a(x) * grad(u)) - f``; the one-pass derivative
path evaluates it as ``a lap(u) + grad(a) . grad(u)`` with one backward through ``a`` only.

A strong-form residual cannot see the flux condition ``[a du/dn] = 0`` across a jump of ``a`` (its
points almost never lie on the interface, and there ``grad(a)`` is a delta). ``darcy_piecewise`` therefore
trains on a coefficient smoothed over a width ``smoothing`` in g (a logistic step; 0 gives the sharp
one); errors are always measured against the reference for the sharp coefficient.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from kanpde import ops
from kanpde.conditions import Dirichlet
from kanpde.domain import Box, Grid
from kanpde.errors import DefinitionError
from kanpde.field import Field
from kanpde.problem import Problem, register_instance

__all__ = ["Darcy", "piecewise_field", "PIECEWISE_BUMPS"]

PI = math.pi

#: (x_i, y_i, s_i) of the bumps g = sum_i exp(-((x - x_i)^2 + (y - y_i)^2) / s_i) (DESIGN.md)
PIECEWISE_BUMPS = (
    (0.2474, 0.7552, 0.4846),
    (0.0930, 0.1109, 0.1285),
    (0.6118, 0.0431, 0.2794),
    (0.0607, 0.4144, 0.1212),
    (0.6610, 0.9886, 0.1610),
)
PIECEWISE_LEVEL, PIECEWISE_HIGH, PIECEWISE_LOW = 1.6, 1.0, 0.1


def piecewise_field(x: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """g(x, y) at points x: (n, 2), a torch tensor or a numpy array (the same type comes back, shape (n,))."""
    lib = torch if isinstance(x, Tensor) else np
    g = 0.0
    for xi, yi, si in PIECEWISE_BUMPS:
        g = g + lib.exp(-((x[:, 0] - xi) ** 2 + (x[:, 1] - yi) ** 2) / si)
    return g


class Darcy(Problem):
    """``-div(a grad u) = f`` in a box, ``u = boundary`` on its faces.

    Args:
        a: the permeability a(x) > 0 for x: (n, d), returning (n,) or (n, 1); a differentiable function
            of x (a torch expression) so the residual can take its gradient.
        f: the source f(x).
        box: the domain (default the unit square).
        boundary: Dirichlet value (a number or a function of x); default 0.
        exact: the exact solution, if known.
        residual_weight, n_interior, n_boundary, sampling: as for every problem.
        eval_cells: errors are measured at the centres of ``eval_cells`` cells per axis.
    """

    def __init__(
        self,
        *,
        a: Callable[[Tensor], Tensor],
        f: Callable[[Tensor], Tensor],
        box: Box | None = None,
        boundary: float | Callable[[Tensor], Tensor] = 0.0,
        exact: Callable[[Tensor], Tensor] | None = None,
        residual_weight: float = 1.0,
        n_interior: int = 10_000,
        n_boundary: int = 800,
        sampling: str = "sobol",
        eval_cells: int = 256,
        name: str | None = None,
        params: dict | None = None,
    ) -> None:
        for field, value in (("a", a), ("f", f)):
            if not callable(value):
                raise DefinitionError(f"Darcy.{field} must be a function of the points x: (n, d); got {value!r}")
        self.domain = box if box is not None else Box([0.0, 0.0], [1.0, 1.0])
        self.a, self.f, self.exact = a, f, exact
        self.conditions = [Dirichlet("boundary", boundary)]
        self.residual_weight = residual_weight
        self.n_interior, self.n_boundary, self.sampling = n_interior, n_boundary, sampling
        self.eval_cells = eval_cells
        self.name, self.params = name, dict(params or {})

    def residual(self, u: Field, x: Tensor) -> Field:
        return -ops.div(self.a(x) * ops.grad(u, x), x) - self.f(x)

    def evaluation_grid(self) -> Grid:
        return self.domain.grid(self.eval_cells, cells=True)

    @classmethod
    def smooth(cls) -> "Darcy":
        """``darcy_smooth``: a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact u = sin(pi x) sin(pi y)."""
        return cls(a=_smooth_a, f=_smooth_f, exact=lambda x: torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]), name="darcy_smooth")

    @classmethod
    def piecewise(cls, smoothing: float = 0.02) -> "Darcy":
        """``darcy_piecewise``: f = 1, a = 1 where g > 1.6 else 0.1 (trained on a step of width ``smoothing`` in g)."""
        if not (isinstance(smoothing, (int, float)) and smoothing >= 0):
            raise DefinitionError(f"Darcy.piecewise smoothing must be a number >= 0 (0: the sharp coefficient); got {smoothing!r}")
        return _PiecewiseDarcy(
            a=lambda x: piecewise_coefficient(x, smoothing),
            f=lambda x: torch.ones_like(x[:, 0]),
            name="darcy_piecewise",
            params={"smoothing": smoothing} if smoothing != 0.02 else {},
        )


class _PiecewiseDarcy(Darcy):
    """``darcy_piecewise``, measured against the finite-volume reference."""

    def reference_values(self, x: Tensor) -> Tensor | None:
        from kanpde.validation.references import reference

        return reference("darcy_piecewise", x)


def piecewise_coefficient(x: Tensor, smoothing: float = 0.0) -> Tensor:
    """a(x) of ``darcy_piecewise``: 1 where g > 1.6, 0.1 elsewhere; a logistic step of width ``smoothing``
    in g when it is > 0 (differentiable, for the strong-form residual)."""
    g = piecewise_field(x)
    if smoothing == 0:
        return torch.where(g > PIECEWISE_LEVEL, PIECEWISE_HIGH, PIECEWISE_LOW).to(x.dtype)
    return PIECEWISE_LOW + (PIECEWISE_HIGH - PIECEWISE_LOW) * torch.sigmoid((g - PIECEWISE_LEVEL) / smoothing)


def _smooth_a(x: Tensor) -> Tensor:
    return 1 + 0.5 * torch.sin(2 * PI * x[:, 0]) * torch.sin(2 * PI * x[:, 1])


def _smooth_f(x: Tensor) -> Tensor:
    """-div(a grad u) for u = sin(pi x) sin(pi y): -(a lap u + grad a . grad u)."""
    sx, sy, cx, cy = torch.sin(PI * x[:, 0]), torch.sin(PI * x[:, 1]), torch.cos(PI * x[:, 0]), torch.cos(PI * x[:, 1])
    s2x, s2y, c2x, c2y = torch.sin(2 * PI * x[:, 0]), torch.sin(2 * PI * x[:, 1]), torch.cos(2 * PI * x[:, 0]), torch.cos(2 * PI * x[:, 1])
    a = 1 + 0.5 * s2x * s2y
    return 2 * PI**2 * a * sx * sy - PI**2 * (c2x * s2y * cx * sy + s2x * c2y * sx * cy)


register_instance("darcy_smooth", Darcy.smooth, "Darcy on (0,1)^2, a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact sin(pi x) sin(pi y)")
register_instance("darcy_piecewise", Darcy.piecewise, "Darcy on (0,1)^2, f = 1, a piecewise 1 / 0.1 (five bumps); finite-volume reference")
