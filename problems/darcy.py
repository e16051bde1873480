"""Darcy flow ``-div(a grad u) = f`` in a box with Dirichlet walls: variable and discontinuous coefficients.

Instances (``kanpde list``), both on (0, 1)^2 with u = 0 on the boundary, measured at the cell centres of
a 256 x 256 grid:

* ``darcy_smooth``: a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact u = sin(pi x) sin(pi y), f derived from u.
* ``darcy_piecewise``: f = 1, a = 1 where g(x, y) > 1.6 and 0.1 elsewhere, with g a sum of five
  Gaussian bumps. No closed form: errors are measured against the finite-volume reference registered
  below (``kanpde.validation.reference.fd.darcy_fv``: harmonic-mean face coefficients, 1024^2 cells).

The coefficients, sources and exact solutions are written once here, for the problems and the reference
alike; each takes points x: (n, 2) as a torch tensor or a numpy array and returns (n,) values of the same kind.

The residual is written as the equation reads, ``-div(a(x) * grad(u)) - f``; the one-pass derivative
path evaluates it as ``a lap(u) + grad(a) . grad(u)`` with one backward through ``a`` only.

Both declare their divergence form (``DivergenceForm``), so ``solve(form="energy")`` minimises the energy
``1/2 a |grad u|^2 - f u`` instead. ``darcy_piecewise`` also declares its interface, the level set
``g - 1.6``, so the recipe picks the energy form for it: the flux condition ``[a du/dn] = 0`` across the
jump is then part of the minimisation, the quadrature splits the cells the interface cuts, and the network
takes ``|g - 1.6|`` as an input so the field can kink there.

A strong-form residual cannot see that flux condition (its points almost never lie on the interface, and
there ``grad(a)`` is a delta). Under ``form="strong"`` ``darcy_piecewise`` therefore trains on a
coefficient smoothed over a width ``smoothing`` in g (a logistic step; 0 gives the sharp one); the energy
form uses the sharp one. Errors are always measured against the reference for the sharp coefficient.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import DefinitionError
from kanpde.geometry.box import Box, Grid
from kanpde.pde import ops
from kanpde.pde.conditions import Dirichlet
from kanpde.pde.field import Field
from kanpde.pde.forms import DivergenceForm
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance
from kanpde.pde.unknowns import UnknownField
from kanpde.validation.reference.cache import Reference, register_reference
from kanpde.validation.reference.fd import darcy_fv

__all__ = ["Darcy", "piecewise_coefficient"]

PI = math.pi

Array = Tensor | np.ndarray
PI = math.pi

#: (x_i, y_i) of the five Gaussian bumps whose sum thresholds the ``darcy_piecewise`` coefficient
DARCY_PIECEWISE_CENTRES = ((0.2474, 0.7552), (0.093, 0.1109), (0.6118, 0.0431), (0.0607, 0.4144), (0.661, 0.9886))
#: s_i, the widths in exp(-r^2 / s_i)
DARCY_PIECEWISE_SCALES = (0.4846, 0.1285, 0.2794, 0.1212, 0.161)
#: a = 1 where the bump sum exceeds this value, else 0.1
DARCY_PIECEWISE_THRESHOLD = 1.6


def _ns(x: Array):  # noqa: ANN202  (the torch or numpy module, whichever x belongs to)
    return torch if isinstance(x, Tensor) else np


def darcy_piecewise_bump(x: Array) -> Array:
    """g(x, y) = sum_i exp(-((x - x_i)^2 + (y - y_i)^2) / s_i) at x: (n, 2); returns (n,)."""
    ns = _ns(x)
    total = 0.0 * x[:, 0]
    for (xi, yi), si in zip(DARCY_PIECEWISE_CENTRES, DARCY_PIECEWISE_SCALES):
        total = total + ns.exp(-((x[:, 0] - xi) ** 2 + (x[:, 1] - yi) ** 2) / si)
    return total


def darcy_piecewise_coefficient(x: Array) -> Array:
    """a(x, y) = 1 where g(x, y) > 1.6, else 0.1 (see :func:`darcy_piecewise_bump`); x: (n, 2) -> (n,)."""
    g = darcy_piecewise_bump(x)
    if isinstance(g, Tensor):
        return torch.where(g > DARCY_PIECEWISE_THRESHOLD, torch.ones_like(g), torch.full_like(g, 0.1))
    return np.where(g > DARCY_PIECEWISE_THRESHOLD, 1.0, 0.1)


def darcy_piecewise_source(x: Array) -> Array:
    """f = 1; x: (n, 2) -> (n,)."""
    return 0.0 * x[:, 0] + 1.0


def darcy_smooth_coefficient(x: Array) -> Array:
    """a = 1 + 0.5 sin(2 pi x) sin(2 pi y); x: (n, 2) -> (n,)."""
    ns = _ns(x)
    return 1.0 + 0.5 * ns.sin(2 * PI * x[:, 0]) * ns.sin(2 * PI * x[:, 1])


def darcy_smooth_exact(x: Array) -> Array:
    """u = sin(pi x) sin(pi y); x: (n, 2) -> (n,)."""
    ns = _ns(x)
    return ns.sin(PI * x[:, 0]) * ns.sin(PI * x[:, 1])


def darcy_smooth_source(x: Array) -> Array:
    """f = -div(a grad u) for the ``darcy_smooth`` a and u, in closed form; x: (n, 2) -> (n,).

    With a = 1 + b, b = 0.5 sin(2 pi x) sin(2 pi y): f = 2 pi^2 a u - (b_x u_x + b_y u_y).
    """
    ns = _ns(x)
    sx, sy = ns.sin(PI * x[:, 0]), ns.sin(PI * x[:, 1])
    cx, cy = ns.cos(PI * x[:, 0]), ns.cos(PI * x[:, 1])
    s2x, s2y = ns.sin(2 * PI * x[:, 0]), ns.sin(2 * PI * x[:, 1])
    c2x, c2y = ns.cos(2 * PI * x[:, 0]), ns.cos(2 * PI * x[:, 1])
    a = 1.0 + 0.5 * s2x * s2y
    b_x, b_y = PI * c2x * s2y, PI * s2x * c2y
    u_x, u_y = PI * cx * sy, PI * sx * cy
    return 2 * PI**2 * a * sx * sy - (b_x * u_x + b_y * u_y)


class Darcy(Problem):
    """``-div(a grad u) = f`` in a box, ``u = boundary`` on its faces.

    Args:
        a: the permeability a(x) > 0 for x: (n, d), returning (n,) or (n, 1); a differentiable function
            of x (a torch expression) so the residual can take its gradient; or a ``kanpde.UnknownField``
            to identify it from data (``darcy_inverse``).
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
            if not callable(value) and not isinstance(value, UnknownField):
                raise DefinitionError(f"Darcy.{field} must be a function of the points x: (n, d); got {value!r}")
        self.domain = box if box is not None else Box([0.0, 0.0], [1.0, 1.0])
        self.a, self.f, self.exact = a, f, exact
        self.divergence = DivergenceForm(a=lambda x: self.a(x), f=lambda x: self.f(x))
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
    def smooth(cls) -> Darcy:
        """``darcy_smooth``: a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact u = sin(pi x) sin(pi y)."""
        return cls(a=darcy_smooth_coefficient, f=darcy_smooth_source, exact=darcy_smooth_exact, name="darcy_smooth")

    @classmethod
    def piecewise(cls, smoothing: float = 0.02) -> Darcy:
        """``darcy_piecewise``: f = 1, a = 1 where g > 1.6 else 0.1 (trained on a step of width ``smoothing`` in g)."""
        if not (isinstance(smoothing, (int, float)) and smoothing >= 0):
            raise DefinitionError(
                f"Darcy.piecewise smoothing must be a number >= 0 (0: the sharp coefficient); got {smoothing!r}"
            )
        problem = _PiecewiseDarcy(
            a=lambda x: piecewise_coefficient(x, smoothing),
            f=darcy_piecewise_source,
            name="darcy_piecewise",
            params={"smoothing": smoothing} if smoothing != 0.02 else {},
        )
        problem.divergence = DivergenceForm(a=darcy_piecewise_coefficient, f=1.0)  # the sharp jump
        problem.interface = darcy_piecewise_interface
        return problem


def darcy_piecewise_interface(x: Array) -> Array:
    """The level set g - 1.6 of ``darcy_piecewise`` (positive where a = 1); x: (n, 2) -> (n,)."""
    return darcy_piecewise_bump(x) - DARCY_PIECEWISE_THRESHOLD


class _PiecewiseDarcy(Darcy):
    """``darcy_piecewise``, measured against the finite-volume reference."""

    def reference_values(self, x: Tensor) -> Tensor | None:
        from kanpde.validation.reference.cache import reference

        return reference("darcy_piecewise", x).to(device=x.device, dtype=x.dtype)


def piecewise_coefficient(x: Tensor, smoothing: float = 0.0) -> Tensor:
    """a(x) of ``darcy_piecewise``: 1 where g > 1.6, 0.1 elsewhere (``darcy_piecewise_coefficient``); a
    logistic step of width ``smoothing`` in g when it is > 0 (differentiable, for the strong-form residual)."""
    if smoothing == 0:
        return darcy_piecewise_coefficient(x)
    return 0.1 + 0.9 * torch.sigmoid((darcy_piecewise_bump(x) - DARCY_PIECEWISE_THRESHOLD) / smoothing)


register_instance(
    "darcy_smooth", Darcy.smooth, "Darcy on (0,1)^2, a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact sin(pi x) sin(pi y)"
)
register_instance(
    "darcy_piecewise",
    Darcy.piecewise,
    "Darcy on (0,1)^2, f = 1, a piecewise 1 / 0.1 (five bumps); finite-volume reference",
)


def _finite_volume_reference(resolution: int, *, device: str | torch.device | None = None) -> Reference:
    sol = darcy_fv(darcy_piecewise_coefficient, 1.0, Box([0.0, 0.0], [1.0, 1.0]), resolution, device=device)
    return Reference.from_grid(sol.grid, sol.values, method=sol.method, wall_s=sol.wall_s)


register_reference(
    "darcy_piecewise",
    _finite_volume_reference,
    resolution=1024,
    min_resolution=8,
    summary="cell-centred finite volumes, harmonic-mean faces, 1024^2 cells (first order across the jump)",
)
