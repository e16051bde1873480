"""Where an export evaluates a solution: the points, the cells over them and the time slices.

* a box: a uniform node grid (the problem's evaluation grid, or ``resolution`` points per axis);
* a user's mesh (``mesh=``): its nodes and top-dimensional cells;
* any other shape: the nodes and cells of :func:`kanpde.io.triangulate.shape_mesh` (a ``MeshDomain``'s own
  cells, a gmsh mesh, or a Delaunay triangulation), about one grid spacing apart;
* any other shape, ``masked=True`` (``.vti`` files and plots): the node grid of its bounding box, with a
  mask of the nodes inside (the export writes NaN outside).

A space-time shape (``shape * Interval(t0, t1, axis="t")``) is meshed in space and repeated at every time
slice (row ``s * nt + k`` is space node ``s`` at slice ``k``); a line in time is a quad, a triangle a wedge.
A saved run loaded without its problem is exported on its shape rebuilt from the saved description
(:func:`export_domain`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kanpde.errors import ConfigError, KanpdeError, ShapeError
from kanpde.geometry.box import Box, Grid
from kanpde.geometry.domain import Domain

if TYPE_CHECKING:
    import meshio

    from kanpde.io.solution import Solution
    from kanpde.pde.problem import Problem

__all__ = [
    "Where",
    "locate",
    "check_points",
    "export_domain",
    "point_counts",
    "box_grid",
    "bounding_grid",
    "grid_cells",
    "read_mesh",
    "time_dependent",
]

# topological dimension of meshio cell types, by name prefix
_CELL_DIMS = {
    "vertex": 0,
    "line": 1,
    "triangle": 2,
    "quad": 2,
    "polygon": 2,
    "tetra": 3,
    "hexahedron": 3,
    "wedge": 3,
    "pyramid": 3,
    "polyhedron": 3,
}


@dataclass(frozen=True)
class Where:
    """Export points and cells (see :class:`kanpde.io.sampled.Sampled` for the arrays), what they are
    (``on``, for the metadata) and ``inside``: (N,) mask of the points in the domain (None: all are)."""

    points: np.ndarray
    grid: Grid | None
    cells: list[tuple[str, np.ndarray]] | None
    space_points: np.ndarray
    space_cells: list[tuple[str, np.ndarray]] | None
    times: np.ndarray | None
    on: str
    inside: np.ndarray | None = None


# --- the domain -------------------------------------------------------------------------------------------
def export_domain(sol: Solution) -> Domain:
    """The problem's domain; without a problem, the shape rebuilt from the saved description, or (a box, or
    no description) the surrogate's input box with the saved axis names."""
    if sol.problem is not None:
        return sol.problem.domain
    saved = (sol.info.get("problem_description") or {}).get("domain") or {}
    if isinstance(saved, dict) and saved.get("kind", "box") != "box":
        from kanpde.geometry import from_description

        try:
            return from_description(saved)
        except (KanpdeError, KeyError, TypeError, ValueError) as err:
            warnings.warn(
                f"the saved domain ({saved.get('kind')!r}) could not be rebuilt ({type(err).__name__}: {err}); "
                "exporting on the surrogate's input box instead",
                stacklevel=3,
            )
    axes = saved.get("axes") if isinstance(saved, dict) else None
    lower, upper = sol.model.lower.cpu().tolist(), sol.model.upper.cpu().tolist()
    return Box(lower, upper, axes=axes if axes and len(axes) == len(lower) else None)


def time_dependent(axes: Sequence[str]) -> bool:
    """Whether the last of several axes is time (``t``)."""
    return len(axes) > 1 and axes[-1] == "t"


def _space(domain: Domain) -> Domain | None:
    """The spatial factor of a space-time shape, else None."""
    from kanpde.geometry.spacetime import SpaceTime

    return domain.space if isinstance(domain, SpaceTime) else None


# --- counts and grids ---------------------------------------------------------------------------------------
def default_count(dim: int) -> int:
    """Points per axis of an evaluation grid by default (``Problem.evaluation_grid``'s): 101, 33 or 9."""
    return 101 if dim <= 2 else 33 if dim == 3 else 9


def point_counts(dim: int, resolution: int | Sequence[int] | None) -> list[int]:
    """``resolution`` as points per axis (one per axis), checked; the default counts for None."""
    if resolution is None:
        return [default_count(dim)] * dim
    counts = [resolution] * dim if isinstance(resolution, (int, np.integer)) else list(resolution)
    if len(counts) != dim or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 2 for c in counts):
        raise ConfigError(
            f"export resolution must be an int >= 2 or {dim} of them (points per axis, boundary included); got {resolution!r}"
        )
    return [int(c) for c in counts]


def box_grid(problem: Problem | None, box: Box, resolution: int | Sequence[int] | None) -> Grid:
    """``resolution`` points per axis over the box, or the problem's evaluation grid (a grid by default)."""
    if resolution is None and problem is not None:
        grid = problem.evaluation_grid()
        if isinstance(grid, Grid):
            return grid
    return box.grid(point_counts(box.dim, resolution))


def bounding_grid(domain: Domain, resolution: int | Sequence[int] | None) -> Grid:
    """The node grid of the domain's bounding box: ``resolution`` points per axis (default 101, 33 or 9)."""
    counts = point_counts(domain.dim, resolution)
    return Grid(tuple(np.linspace(lo, hi, n) for lo, hi, n in zip(domain.lower, domain.upper, counts)))


def _masked_grid(domain: Domain, resolution: int | Sequence[int] | None) -> tuple[Grid, np.ndarray]:
    """The bounding grid and the mask of its nodes in the (closed) domain; a ConfigError if none is."""
    grid = bounding_grid(domain, resolution)
    inside = domain.contains(grid.points())
    if not inside.any():
        raise ConfigError(
            f"no node of the {'x'.join(map(str, grid.shape))} grid over the bounding box of {domain!r} lies in the "
            "domain; pass a finer resolution"
        )
    return grid, inside


def _times(problem: Problem | None, domain: Domain, resolution: int | Sequence[int] | None) -> np.ndarray:
    """(nt,) time slices: ``resolution`` of them (its last entry), or the evaluation grid's."""
    t0, t1 = float(domain.lower[-1]), float(domain.upper[-1])
    if resolution is not None:
        n = resolution if isinstance(resolution, (int, np.integer)) else list(resolution)[-1]
        return np.linspace(t0, t1, point_counts(1, n)[0])
    if isinstance(domain, Box):
        return box_grid(problem, domain, None).axes[-1]
    return np.linspace(t0, t1, default_count(domain.dim))


# --- where ----------------------------------------------------------------------------------------------------
def locate(
    problem: Problem | None,
    domain: Domain,
    *,
    resolution: int | Sequence[int] | None = None,
    mesh: str | os.PathLike[str] | meshio.Mesh | None = None,
    masked: bool = False,
) -> Where:
    """The export points of ``domain`` (see the module doc); ``masked``: a bounding-box grid for a shape."""
    if mesh is not None:
        return _on_user_mesh(problem, domain, mesh, resolution)
    if isinstance(domain, Box):
        return _on_grid(box_grid(problem, domain, resolution), domain.axes)
    if masked:
        grid, inside = _masked_grid(domain, resolution)
        where = _on_grid(grid, domain.axes, f" over the bounding box of {domain!r}; NaN outside it (field 'inside')")
        return replace(where, inside=inside)
    return _on_shape(problem, domain, resolution)


def _on_grid(grid: Grid, axes: Sequence[str], about: str = "") -> Where:
    timed = time_dependent(axes)
    points = grid.points()
    space_shape = grid.shape[:-1] if timed else grid.shape
    space_points = (
        np.stack([m.ravel() for m in np.meshgrid(*grid.axes[:-1], indexing="ij")], axis=1) if timed else points
    )
    return Where(
        points,
        grid,
        _blocks(grid_cells(grid.shape)),
        space_points,
        _blocks(grid_cells(space_shape)),
        grid.axes[-1] if timed else None,
        f"grid {'x'.join(map(str, grid.shape))}{about}",
    )


def _on_user_mesh(
    problem: Problem | None,
    domain: Domain,
    mesh: str | os.PathLike[str] | meshio.Mesh,
    resolution: int | Sequence[int] | None,
) -> Where:
    timed = time_dependent(domain.axes)
    ds = domain.dim - 1 if timed else domain.dim
    space_points, space_cells, name = read_mesh(mesh, ds, domain.axes[:ds], domain)
    if not timed:
        return Where(space_points, None, space_cells, space_points, space_cells, None, f"mesh {name}")
    times = _times(problem, domain, resolution)
    return Where(_in_time(space_points, times), None, None, space_points, space_cells, times, f"mesh {name}")


def _on_shape(problem: Problem | None, domain: Domain, resolution: int | Sequence[int] | None) -> Where:
    """Nodes and cells of a shape (a space-time one: of its spatial factor, at every time slice)."""
    from kanpde.io.triangulate import shape_mesh, spacetime_cells

    space = _space(domain)
    shape = space if space is not None else domain
    counts = point_counts(domain.dim, resolution)[: shape.dim]
    spacing = float(np.min((shape.upper - shape.lower) / (np.asarray(counts) - 1)))
    made = shape_mesh(shape, spacing)
    cells = made.cells or None
    on = f"{made.how}: {len(made.points)} nodes" + (f", {sum(len(c) for _, c in cells)} cells" if cells else "")
    if space is None:
        return Where(made.points, None, cells, made.points, cells, None, on)
    times = _times(problem, domain, resolution)
    swept = spacetime_cells(made.points, cells, times.size) if cells else None
    return Where(
        _in_time(made.points, times), None, swept, made.points, cells, times, f"{on}; {times.size} time slices"
    )


def _in_time(space_points: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(ns * nt, ds + 1): every space node at every time, time fastest."""
    return np.concatenate(
        [np.repeat(space_points, times.size, axis=0), np.tile(times, space_points.shape[0])[:, None]], axis=1
    )


# --- checks ---------------------------------------------------------------------------------------------------
def check_points(
    domain: Domain,
    suffix: str,
    *,
    problem: Problem | None = None,
    resolution: int | Sequence[int] | None = None,
    mesh: str | os.PathLike[str] | meshio.Mesh | None = None,
) -> None:
    """Every check on where an export of ``domain`` as ``suffix`` evaluates, before anything is evaluated
    (no mesh is generated): the resolution, the user's mesh, and whether the format holds the layout."""
    from kanpde.io.writers import check_layout

    axes, timed = domain.axes, time_dependent(domain.axes)
    if mesh is not None and resolution is not None and not timed:
        raise ConfigError("export(resolution=...) sets a grid and mesh= replaces the grid; pass one of them")
    if mesh is not None:
        check_layout(suffix, axes, None, on_mesh=True)
        with warnings.catch_warnings():  # sampling warns about nodes outside the domain, once
            warnings.simplefilter("ignore")
            read_mesh(mesh, domain.dim - 1 if timed else domain.dim, axes, domain)
    elif isinstance(domain, Box):
        check_layout(suffix, axes, box_grid(problem, domain, resolution), on_mesh=False)
    elif suffix == ".vti":
        check_layout(suffix, axes, _masked_grid(domain, resolution)[0], on_mesh=False)
    else:
        point_counts(domain.dim, resolution)
        space = _space(domain)
        # a shape in time has space-time cells for a line or a triangle only (check_layout: "on a mesh")
        check_layout(suffix, axes, None, on_mesh=space is not None and space.dim > 2)


# --- grids and meshes -----------------------------------------------------------------------------------
def grid_cells(shape: Sequence[int]) -> tuple[str, np.ndarray] | None:
    """Cells of a node grid (last axis fastest): lines (1-D), quads (2-D) or hexahedra (3-D), counter-clockwise.

    Returns (meshio cell type, (m, 2 ** dim) int32 connectivity), or None beyond three dimensions.
    """
    shape = tuple(int(s) for s in shape)
    if not 1 <= len(shape) <= 3:
        return None
    index = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    corners = {
        1: [(0,), (1,)],
        2: [(0, 0), (1, 0), (1, 1), (0, 1)],
        3: [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)],
    }[len(shape)]
    conn = [index[tuple(slice(o, o + s - 1) for o, s in zip(c, shape))].ravel() for c in corners]
    kind = {1: "line", 2: "quad", 3: "hexahedron"}[len(shape)]
    return kind, np.stack(conn, axis=1).astype(np.int32 if index.size < 2**31 else np.int64)


def _blocks(block: tuple[str, np.ndarray] | None) -> list[tuple[str, np.ndarray]] | None:
    return None if block is None else [block]


def read_mesh(
    mesh: str | os.PathLike[str] | meshio.Mesh, dim: int, axes: Sequence[str], domain: Domain
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]], str]:
    """The nodes (n, dim) and top-dimensional cell blocks of a mesh, checked against the problem's space
    dimension; a warning counts the nodes outside ``domain``."""
    import meshio

    name = "mesh"
    if not isinstance(mesh, meshio.Mesh):
        name = Path(mesh).name
        if not Path(mesh).is_file():
            raise ConfigError(
                f"mesh file {str(mesh)!r} does not exist; pass a file meshio reads (.msh, .vtu, .xdmf, ...)"
            )
        try:
            mesh = meshio.read(mesh)
        except Exception as err:  # meshio raises ReadError, KeyError, ValueError... on unreadable files
            raise ConfigError(
                f"mesh file {name!r} could not be read by meshio ({type(err).__name__}: {err}); pass a .msh, .vtu, .xdmf or another format meshio reads"
            ) from None
    pts = np.asarray(mesh.points, dtype=np.float64)
    blocks = [(c.type, np.asarray(c.data)) for c in mesh.cells if len(c.data)]
    dims = {c: _cell_dim(c) for c, _ in blocks}
    if dims:
        mesh_dim = max(dims.values())
    else:  # a point cloud: its dimension is the number of coordinates that vary
        mesh_dim = int(np.sum(np.ptp(pts, axis=0) > 0)) if len(pts) else 0
    what = (
        f"its cells are {', '.join(sorted({c for c, d in dims.items() if d == mesh_dim}))}" if dims else "a point cloud"
    )
    if mesh_dim != dim or pts.ndim != 2 or pts.shape[1] < dim:
        raise ShapeError(
            f"mesh {name!r} is {mesh_dim}-D ({what}) but the problem has {dim} space dimension(s) ({', '.join(axes)}); pass a {dim}-D mesh"
        )
    extra = pts[:, dim:]
    if extra.size and np.abs(extra).max() > 1e-12 * max(1.0, float(np.abs(pts).max())):
        raise ShapeError(
            f"mesh {name!r} has non-zero coordinates past the first {dim} (max |value| {np.abs(extra).max():.3g}); a {dim}-D mesh must lie in the plane of {', '.join(axes)}"
        )
    pts = np.ascontiguousarray(pts[:, :dim])
    _warn_outside(pts, domain, name)
    merged: dict[str, list[np.ndarray]] = {}
    for c, data in blocks:
        if dims[c] == mesh_dim:
            merged.setdefault(c, []).append(data)
    cells = [(c, np.concatenate(d).astype(np.int32 if len(pts) < 2**31 else np.int64)) for c, d in merged.items()]
    return pts, cells, name


def _warn_outside(pts: np.ndarray, domain: Domain, name: str) -> None:
    """Warn when nodes (n, ds) lie outside the domain (at its first time, for a domain in time)."""
    ds = pts.shape[1]
    full = np.concatenate([pts, np.broadcast_to(domain.lower[ds:], (len(pts), domain.dim - ds))], axis=1)
    outside = int(np.sum(~domain.contains(full, tol=1e-9)))
    if outside:
        warnings.warn(
            f"{outside} of {len(pts)} nodes of mesh {name!r} lie outside the problem's domain {domain!r}; the surrogate is extrapolated there",
            stacklevel=4,
        )


def _cell_dim(cell_type: str) -> int:
    for prefix, d in _CELL_DIMS.items():
        if cell_type.startswith(prefix):
            return d
    raise ConfigError(
        f"mesh cell type {cell_type!r} is not supported for export; use a mesh of lines, triangles, quads, tetrahedra, hexahedra, wedges or pyramids"
    )
