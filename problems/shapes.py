"""Poisson problems on domains that are not boxes: a disk, an L-shape with its corner singularity, and a
rectangle with circular holes.

Each declares its Dirichlet data as a user would: a function of the points that equals the solution on
the boundary but not inside (the solver lifts the data into the domain, so data that equalled the
solution everywhere would hand it the answer).

* ``poisson_disk``: -lap u = f on the unit disk, exact u = sin(pi x) cos(pi y) + x^2 y; the data add
  (1 - |x|^2) cos(x + y), which vanishes on the circle.
* ``poisson_lshape``: lap u = 0 on (-1, 1)^2 without the quadrant x > 0, y < 0; exact u = r^(2/3)
  sin(2 theta / 3) with theta in [0, 2 pi) from the positive x axis, singular at the re-entrant corner
  (its gradient blows up like r^(-1/3)). u = 0 on the two edges at the corner; on each outer edge the data
  are the solution at the point's projection onto that edge's line.
* ``poisson_holes``: -lap u = 1 on (-1, 1)^2 minus four disks of radius 0.2 centred at (+-0.5, +-0.5);
  u = 0 on the outer edge (part ``outer``) and u = 1 on the holes (``hole1`` ... ``hole4``). No closed
  form: measured against the P1 finite-element reference (``kanpde.validation.reference.fem``).
* ``poisson_cavity``: -lap u = f on a tetrahedral mesh (a gmsh file read by ``MeshDomain.read``) of the unit
  cube minus a ball of radius 0.25 at its centre; exact u = sin(pi x) sin(pi y) sin(pi z) + x y z; the data
  add a bubble that vanishes on the cube's faces and on the sphere (``cavity_data``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from kanpde.geometry.box import Box
from kanpde.geometry.shapes import Disk, Polygon
from kanpde.pde import ops
from kanpde.pde.conditions import Dirichlet
from kanpde.pde.field import Field
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance
from kanpde.validation.reference.cache import Reference, register_reference

__all__ = ["PoissonDisk", "PoissonLShape", "PoissonHoles", "PoissonCavity"]


def disk_exact(x: Tensor) -> Tensor:
    """u = sin(pi x) cos(pi y) + x^2 y."""
    a, b = x[:, 0], x[:, 1]
    return torch.sin(math.pi * a) * torch.cos(math.pi * b) + a**2 * b


def disk_source(x: Tensor) -> Tensor:
    """f = -lap u = 2 pi^2 sin(pi x) cos(pi y) - 2 y."""
    a, b = x[:, 0], x[:, 1]
    return 2 * math.pi**2 * torch.sin(math.pi * a) * torch.cos(math.pi * b) - 2 * b


def disk_data(x: Tensor) -> Tensor:
    """The Dirichlet data: u on the unit circle, u + (1 - |x|^2) cos(x + y) inside."""
    return disk_exact(x) + (1 - (x**2).sum(dim=1)) * torch.cos(x[:, 0] + x[:, 1])


class PoissonDisk(Problem):
    """``poisson_disk``: -lap u = f on the unit disk, u = g on the circle (see the module doc)."""

    domain = Disk([0.0, 0.0], 1.0)
    conditions = [Dirichlet("circle", disk_data)]

    def __init__(self) -> None:
        self.name, self.params = "poisson_disk", {}

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.laplacian(u, x) + disk_source(x)

    def exact(self, x: Tensor) -> Tensor:
        return disk_exact(x)


LSHAPE_VERTICES = ((-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (-1.0, 1.0))
"""Counter-clockwise; edges 1 and 2 meet at the re-entrant corner (0, 0)."""


def lshape_exact(x: Tensor, *, wrap: bool = True) -> Tensor:
    """u = r^(2/3) sin(2 theta / 3), theta = atan2(y, x) taken in [0, 2 pi) (``wrap=False``: in (-pi, pi])."""
    theta = torch.atan2(x[:, 1], x[:, 0])
    if wrap:
        theta = torch.remainder(theta, 2 * math.pi)
    r2 = (x**2).sum(dim=1)
    return r2 ** (1 / 3) * torch.sin(2 * theta / 3)


def _on_line(axis: int, value: float, wrap: bool = True) -> Callable[[Tensor], Tensor]:
    """The solution at the projection of x onto the line x[axis] = value (the data of one edge, extended
    smoothly: the angle's branch cut is kept off the projected points)."""

    def data(x: Tensor) -> Tensor:
        y = torch.cat([x[:, :axis], torch.full_like(x[:, axis : axis + 1], value), x[:, axis + 1 :]], dim=1)
        return lshape_exact(y, wrap=wrap)

    return data


class PoissonLShape(Problem):
    """``poisson_lshape``: lap u = 0 on the L-shape, u = r^(2/3) sin(2 theta / 3) on its boundary."""

    domain = Polygon(
        LSHAPE_VERTICES, name="lshape", edges=("bottom", "corner_down", "corner_right", "right", "top", "left")
    )
    conditions = [
        Dirichlet("corner_down", 0.0),
        Dirichlet("corner_right", 0.0),
        Dirichlet("bottom", _on_line(1, -1.0)),
        Dirichlet("right", _on_line(0, 1.0, wrap=False)),
        Dirichlet("top", _on_line(1, 1.0)),
        Dirichlet("left", _on_line(0, -1.0)),
    ]

    def __init__(self) -> None:
        self.name, self.params = "poisson_lshape", {}

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.laplacian(u, x)

    def exact(self, x: Tensor) -> Tensor:
        return lshape_exact(x)


HOLE_CENTRES = ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))
HOLE_RADIUS = 0.2


def holes_domain() -> Box:
    domain = Box([-1.0, -1.0], [1.0, 1.0], name="outer")
    for i, c in enumerate(HOLE_CENTRES, start=1):
        domain = domain - Disk(c, HOLE_RADIUS, name=f"hole{i}")
    return domain


class PoissonHoles(Problem):
    """``poisson_holes``: -lap u = 1 on a square with four holes, u = 0 outside, 1 on the holes."""

    domain = holes_domain()
    conditions = [Dirichlet("outer", 0.0)] + [Dirichlet(f"hole{i}", 1.0) for i in range(1, 5)]

    def __init__(self) -> None:
        self.name, self.params = "poisson_holes", {}

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.laplacian(u, x) + 1.0

    def reference_values(self, x: Tensor) -> Tensor | None:
        from kanpde.validation.reference.cache import reference

        return reference("poisson_holes", x).to(device=x.device, dtype=x.dtype)


def holes_reference(resolution: int, *, device: object = None) -> Reference:
    """The P1 finite-element solution of ``poisson_holes`` on a gmsh mesh of element size 2 / resolution
    (``resolution`` elements across the square), as a ``"mesh"`` reference."""
    import time

    from kanpde.geometry.meshing import mesh_domain
    from kanpde.validation.reference.fem import solve_p1

    start = time.perf_counter()
    mesh = mesh_domain(holes_domain(), 2.0 / resolution)
    dirichlet = {"outer": 0.0, **{f"hole{i}": 1.0 for i in range(1, 5)}}
    sol = solve_p1(mesh, f=1.0, dirichlet=dirichlet)
    return Reference.from_mesh(
        mesh.points,
        mesh.cells,
        sol.values,
        method=f"P1 finite elements, {len(mesh.cells)} triangles (gmsh, size {2.0 / resolution:.4g})",
        wall_s=time.perf_counter() - start,
    )


CAVITY_MESH = Path(__file__).resolve().parent / "data" / "cube_cavity.msh"
"""9,083 tetrahedra of the unit cube minus the ball of radius 0.25 at its centre, 1,488 boundary facets (gmsh:
size 0.05 on the sphere, 0.16 on the cube's faces, 0.065 inside; ``data/make_cavity_mesh.py``; physical
groups ``x_min`` ... ``z_max``, ``outer`` and ``cavity``). Few facets keep the distance function cheap:
its derivatives cost about 6 microseconds per point and facet, once per point set."""


def cavity_exact(x: Tensor) -> Tensor:
    """u = sin(pi x) sin(pi y) sin(pi z) + x y z."""
    s = torch.sin(math.pi * x)
    return s[:, 0] * s[:, 1] * s[:, 2] + x[:, 0] * x[:, 1] * x[:, 2]


def cavity_source(x: Tensor) -> Tensor:
    """f = -lap u = 3 pi^2 sin(pi x) sin(pi y) sin(pi z)."""
    s = torch.sin(math.pi * x)
    return 3 * math.pi**2 * s[:, 0] * s[:, 1] * s[:, 2]


def cavity_data(x: Tensor) -> Tensor:
    """The Dirichlet data: u + 0.5 b(x) cos(x + y + z), with the bubble b = 64 x(1-x) y(1-y) z(1-z) (|x - c|^2 -
    r^2) / (3/4 - r^2), zero on the cube's faces and on the sphere, so the data are u on the boundary (within
    about 2e-4 on the mesh's flat facets, which lie up to 0.0015 inside the sphere) but not inside."""
    bubble = 64 * (x * (1 - x)).prod(dim=1) * (((x - 0.5) ** 2).sum(dim=1) - 0.25**2) / (0.75 - 0.25**2)
    return cavity_exact(x) + 0.5 * bubble * torch.cos(x.sum(dim=1))


class PoissonCavity(Problem):
    """``poisson_cavity``: -lap u = f on a tetrahedral mesh of a cube with a spherical cavity (module doc)."""

    conditions = [Dirichlet("boundary", cavity_data)]

    def __init__(self) -> None:
        from kanpde.geometry.mesh import MeshDomain

        self.domain = MeshDomain.read(CAVITY_MESH)
        self.name, self.params = "poisson_cavity", {}

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.laplacian(u, x) + cavity_source(x)

    def exact(self, x: Tensor) -> Tensor:
        return cavity_exact(x)


register_reference(
    "poisson_holes",
    holes_reference,
    resolution=400,
    min_resolution=8,
    summary="P1 finite elements on a gmsh mesh (400 elements across the square)",
)

register_instance("poisson_disk", PoissonDisk, "Poisson on the unit disk, smooth exact solution, data lifted inside")
register_instance(
    "poisson_lshape", PoissonLShape, "Laplace on the L-shape, exact r^(2/3) sin(2 theta/3): the corner singularity"
)
register_instance(
    "poisson_cavity",
    PoissonCavity,
    "Poisson on a 9,083-tetrahedron mesh of a cube with a spherical cavity (a gmsh file), smooth exact solution",
)
register_instance(
    "poisson_holes", PoissonHoles, "-lap u = 1 on a square with four holes (u = 1 on them), against a P1 FE reference"
)
