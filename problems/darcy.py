"""Darcy flow ``-div(a grad u) = f`` in a box with Dirichlet walls: variable and discontinuous coefficients.

Instances (``kanpde list``), both on (0, 1)^2 with u = 0 on the boundary, measured at the cell centres of
a 256 x 256 grid:

* ``darcy_smooth``: a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact u = sin(pi x) sin(pi y), f derived from u.
* ``darcy_piecewise``: f = 1, a = 1 where g(x, y) > 1.6 and 0.1 elsewhere, with g a sum of five
  Gaussian bumps (``kanpde.validation.instances``, shared with the reference). No closed form: errors are measured against the finite-volume
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

import torch
from torch import Tensor

from kanpde import ops
from kanpde.conditions import Dirichlet
from kanpde.domain import Box, Grid
from kanpde.errors import DefinitionError
from kanpde.field import Field
from kanpde.problem import Problem, register_instance
from kanpde.validation.instances import (
    DARCY_PIECEWISE_THRESHOLD,
    darcy_piecewise_bump,
    darcy_piecewise_coefficient,
    darcy_piecewise_source,
    darcy_smooth_coefficient,
    darcy_smooth_exact,
    darcy_smooth_source,
)

__all__ = ["Darcy", "piecewise_coefficient"]

PI = math.pi


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
        return cls(a=darcy_smooth_coefficient, f=darcy_smooth_source, exact=darcy_smooth_exact, name="darcy_smooth")

    @classmethod
    def piecewise(cls, smoothing: float = 0.02) -> "Darcy":
        """``darcy_piecewise``: f = 1, a = 1 where g > 1.6 else 0.1 (trained on a step of width ``smoothing`` in g)."""
        if not (isinstance(smoothing, (int, float)) and smoothing >= 0):
            raise DefinitionError(f"Darcy.piecewise smoothing must be a number >= 0 (0: the sharp coefficient); got {smoothing!r}")
        return _PiecewiseDarcy(
            a=lambda x: piecewise_coefficient(x, smoothing),
            f=darcy_piecewise_source,
            name="darcy_piecewise",
            params={"smoothing": smoothing} if smoothing != 0.02 else {},
        )


class _PiecewiseDarcy(Darcy):
    """``darcy_piecewise``, measured against the finite-volume reference."""

    def reference_values(self, x: Tensor) -> Tensor | None:
        from kanpde.validation.references import reference

        return reference("darcy_piecewise", x).to(device=x.device, dtype=x.dtype)


def piecewise_coefficient(x: Tensor, smoothing: float = 0.0) -> Tensor:
    """a(x) of ``darcy_piecewise``: 1 where g > 1.6, 0.1 elsewhere (``darcy_piecewise_coefficient``); a
    logistic step of width ``smoothing`` in g when it is > 0 (differentiable, for the strong-form residual)."""
    if smoothing == 0:
        return darcy_piecewise_coefficient(x)
    return 0.1 + 0.9 * torch.sigmoid((darcy_piecewise_bump(x) - DARCY_PIECEWISE_THRESHOLD) / smoothing)


register_instance("darcy_smooth", Darcy.smooth, "Darcy on (0,1)^2, a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact sin(pi x) sin(pi y)")
register_instance("darcy_piecewise", Darcy.piecewise, "Darcy on (0,1)^2, f = 1, a piecewise 1 / 0.1 (five bumps); finite-volume reference")
