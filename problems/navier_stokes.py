"""Steady incompressible Navier-Stokes: the Kovasznay flow (exact) and the lid-driven cavity (FD reference).

Both are systems with three components, ``outputs = ("u", "v", "p")``, and the residual

    u . grad u + grad p - (1/Re) Delta u = 0,    div u = 0,

written with named components and axes (``u["p"]``, ``ops.partial(vx, x, "y")``). The walls set the
velocity components only (``Dirichlet(..., component="u")``), so a hard constraint pins u and v and leaves
p free; the pressure is defined up to a constant, fixed by a declared gauge (a point value for Kovasznay,
a zero mean for the cavity) and compared after removing its mean (``up_to_constant``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_positive
from kanpde.geometry.box import Box, Grid
from kanpde.pde import ops
from kanpde.pde.conditions import Dirichlet, MeanValue, PointValue
from kanpde.pde.field import Field
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance
from kanpde.validation.reference.cache import register_reference
from kanpde.validation.reference.cavity import CAVITY_RESOLUTION, cavity_reference

__all__ = ["NavierStokes", "Kovasznay", "LidDrivenCavity", "navier_stokes_residual"]


def navier_stokes_residual(u: Field, x: Tensor, re: float) -> tuple[Field, Field, Field]:
    """The two momentum equations and continuity of steady 2-D Navier-Stokes at Reynolds number ``re``."""
    vx, vy, p = u["u"], u["v"], u["p"]
    ux, uy = ops.partial(vx, x, "x"), ops.partial(vx, x, "y")
    vxx, vyy = ops.partial(vy, x, "x"), ops.partial(vy, x, "y")
    momentum_x = vx * ux + vy * uy + ops.partial(p, x, "x") - ops.laplacian(vx, x) / re
    momentum_y = vx * vxx + vy * vyy + ops.partial(p, x, "y") - ops.laplacian(vy, x) / re
    return momentum_x, momentum_y, ux + vyy


class NavierStokes(Problem):
    """Steady incompressible flow in 2-D with velocity (u, v) and pressure p; ``re``: Reynolds number."""

    outputs = ("u", "v", "p")
    vectors = {"velocity": ("u", "v")}
    up_to_constant = ("p",)

    def __init__(self, re: float) -> None:
        self.re = check_positive(re, f"{type(self).__name__}.re")

    def residual(self, u: Field, x: Tensor) -> tuple[Field, Field, Field]:
        return navier_stokes_residual(u, x, self.re)


def kovasznay_exact(x: Tensor, re: float = 20.0) -> Tensor:
    """Kovasznay's flow behind a grid (Proc. Camb. Phil. Soc. 44 (1948) 58-62): (n, 3) columns u, v, p with
    lambda = Re/2 - sqrt(Re^2/4 + 4 pi^2): u = 1 - e^(lambda x) cos(2 pi y), v = lambda/(2 pi) e^(lambda x)
    sin(2 pi y), p = (1 - e^(2 lambda x)) / 2."""
    lam = re / 2 - math.sqrt(re**2 / 4 + 4 * math.pi**2)
    a, b = x[:, 0], x[:, 1]
    e = torch.exp(lam * a)
    u = 1 - e * torch.cos(2 * math.pi * b)
    v = lam / (2 * math.pi) * e * torch.sin(2 * math.pi * b)
    return torch.stack([u, v, 0.5 * (1 - torch.exp(2 * lam * a))], dim=1)


class Kovasznay(NavierStokes):
    """``kovasznay``: Re = 20 on [-0.5, 1] x [-0.5, 1.5], the exact velocity on the walls, the exact
    pressure at the corner (-0.5, -0.5) as the gauge; an oracle for the system path."""

    domain = Box([-0.5, -0.5], [1.0, 1.5])

    def __init__(self, re: float = 20.0, name: str | None = None) -> None:
        super().__init__(re)
        self.conditions = [
            Dirichlet("boundary", self._column(0), component="u"),
            Dirichlet("boundary", self._column(1), component="v"),
            PointValue((-0.5, -0.5), self._column(2), component="p"),
        ]
        self.name, self.params = name, {"re": self.re}

    def _column(self, j: int) -> _ExactColumn:
        return _ExactColumn(self.re, j)

    def exact(self, x: Tensor) -> Tensor:
        return kovasznay_exact(x, self.re)


class _ExactColumn:
    """Column j of the Kovasznay solution as a condition's value (an object, so two are compared by value)."""

    def __init__(self, re: float, j: int) -> None:
        self.re, self.j = re, j

    def __call__(self, x: Tensor) -> Tensor:
        return kovasznay_exact(x, self.re)[:, self.j]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ExactColumn) and (other.re, other.j) == (self.re, self.j)

    def __hash__(self) -> int:
        return hash((self.re, self.j))


class LidDrivenCavity(NavierStokes):
    """``ns_cavity``: the unit square, the lid y = 1 moving at u = 1 (the other walls at rest), Re = 100;
    the pressure's mean is zero (``MeanValue``). Validated against the finite-difference reference of
    ``kanpde.validation.reference.cavity`` (checked there against Ghia, Ghia and Shin 1982). The velocity
    jumps at the lid's corners, where the pressure is unbounded: errors in p are reported apart."""

    domain = Box([0.0, 0.0], [1.0, 1.0])

    def __init__(self, re: float = 100.0, name: str | None = None, eval_n: int = 101) -> None:
        super().__init__(re)
        self.conditions = [
            Dirichlet("y_max", 1.0, component="u"),
            Dirichlet("x_min", 0.0, component="u"),
            Dirichlet("x_max", 0.0, component="u"),
            Dirichlet("y_min", 0.0, component="u"),
            Dirichlet("boundary", 0.0, component="v"),
            MeanValue(0.0, component="p"),
        ]
        self.eval_n = eval_n
        self.name, self.params = name, {"re": self.re}

    def evaluation_grid(self) -> Grid:
        nodes = np.linspace(0.0, 1.0, self.eval_n)
        return Grid((nodes, nodes))

    def reference_values(self, x: Tensor) -> Tensor | None:
        from kanpde.validation.reference.cache import reference

        return reference("ns_cavity", x).to(device=x.device, dtype=x.dtype)

    def away_from_corners(self, predict: Callable[[Tensor], Tensor], margin: float = 0.1) -> dict[str, float]:
        """Errors of ``predict`` (points (n, 2) -> (n, 3)) on the evaluation nodes at least ``margin`` from
        both lid corners, where p is unbounded: ``rel_l2_velocity`` (u and v stacked) and ``rel_l2_p``
        (both pressures made mean-free over those nodes)."""
        x = torch.as_tensor(self.evaluation_grid().points(), dtype=torch.float64)
        corners = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
        x = x[torch.cdist(x, corners).min(dim=1).values >= margin]
        with torch.no_grad():
            pred, ref = predict(x).to(torch.float64), self.reference_values(x)
        p, q = pred[:, 2] - pred[:, 2].mean(), ref[:, 2] - ref[:, 2].mean()
        return {
            "rel_l2_velocity": float((pred[:, :2] - ref[:, :2]).norm() / ref[:, :2].norm()),
            "rel_l2_p": float((p - q).norm() / q.norm()),
            "margin": margin,
        }


register_instance(
    "kovasznay",
    lambda **params: Kovasznay(name="kovasznay", **params),
    "Kovasznay flow, steady Navier-Stokes at Re = 20, exact (u, v, p)",
)
register_instance(
    "ns_cavity",
    lambda **params: LidDrivenCavity(name="ns_cavity", **params),
    "lid-driven cavity, steady Navier-Stokes at Re = 100; finite-difference reference (checked against Ghia 1982)",
)
register_reference(
    "ns_cavity",
    lambda resolution, *, device=None, re: cavity_reference(resolution, device=device, re=re),
    resolution=CAVITY_RESOLUTION,
    min_resolution=16,
    params={"re": 100.0},
    summary=f"stream function-vorticity finite differences, Newton, {CAVITY_RESOLUTION}^2 intervals",
)
