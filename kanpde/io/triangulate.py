"""Meshes of shapes for export: the cells a ``.vtu``/``.xdmf``/``.h5`` export of a non-box domain is drawn on.

:func:`shape_mesh` picks, in order: a ``MeshDomain``'s own nodes and cells; ``mesh_domain(shape, size,
fallback=True)`` (``kanpde.geometry.meshing``: gmsh when it is installed, else its Delaunay mesh of a 2-D
shape); else :func:`triangulate`, which covers what ``mesh_domain`` does not (1-D shapes, 3-D shapes
without gmsh, a user's own ``Domain`` subclass that gmsh cannot rebuild from ``describe()``): it needs only
the ``Domain`` interface (``inside``, ``pieces``, ``sample_boundary``).

:func:`triangulate` (1-3 D): the nodes of a uniform grid of spacing ``h`` over the bounding box that lie
farther than ``h / 4`` inside, plus points on the boundary about ``h`` apart and the corners of straight
pieces (polygon vertices, box corners); of the Delaunay simplices of these points
(``scipy.spatial.Delaunay``; sorted points joined in 1-D) those are kept whose centroid lies in the domain
and whose edge midpoints lie within ``h / 5`` of it (a chord across a hole's boundary bows out by about
``h^2 / (8 r)``). So every node is in the closed domain, and a cell reaches outside only where an edge
cuts a curved boundary, as in any linear mesh. Corners where CSG operands meet are not added: there the
mesh rounds the corner off by about ``h``.

Practical hint: install gmsh (``pip install gmsh``) for well-shaped cells that follow the boundary; the
fallback is meant for a look in ParaView.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import combinations, product

import numpy as np

from kanpde.errors import ConfigError
from kanpde.geometry.domain import Domain
from kanpde.geometry.pieces import Piece, Plane, Segment

__all__ = ["ShapeMesh", "shape_mesh", "triangulate", "SIMPLEX", "spacetime_cells"]

log = logging.getLogger(__name__)

SIMPLEX = {1: "line", 2: "triangle", 3: "tetra"}
"""meshio cell type of the linear simplex of each dimension."""


@dataclass(frozen=True)
class ShapeMesh:
    """Nodes and cells of a shape: points (n, d) float64, cells ``[(meshio type, (m, k) int)]`` (empty
    beyond 3-D: the nodes alone), and how they were made (for the export's metadata)."""

    points: np.ndarray
    cells: list[tuple[str, np.ndarray]]
    how: str


def shape_mesh(domain: Domain, spacing: float) -> ShapeMesh:
    """The mesh an export of ``domain`` (a spatial shape, not a box) is written on; cells about ``spacing`` wide.

    A ``MeshDomain`` gives its own nodes and cells unchanged; other 2-D/3-D shapes ``mesh_domain``'s mesh
    (gmsh, or without it a 2-D Delaunay mesh) when it can make one, else :func:`triangulate`; beyond three
    dimensions, the grid nodes inside, without cells.
    """
    from kanpde.geometry.mesh import MeshDomain

    if isinstance(domain, MeshDomain):
        return ShapeMesh(domain.points, [(SIMPLEX[domain.dim], domain.cells)], f"the cells of {domain!r}")
    if domain.dim > 3:
        nodes = _grid_nodes(domain, spacing)
        return ShapeMesh(nodes[domain.contains(nodes)], [], f"grid nodes {spacing:.3g} apart inside {domain!r}")
    why = "mesh_domain meshes 2-D and 3-D shapes only"
    if domain.dim in (2, 3):
        from kanpde.geometry.meshing import mesh_domain

        try:
            meshed = mesh_domain(domain, min(spacing, domain.diameter), fallback=True)
        except ConfigError as err:  # 3-D without gmsh, or a shape gmsh cannot build
            why = str(err)
        else:
            return ShapeMesh(
                meshed.points, [(SIMPLEX[domain.dim], meshed.cells)], f"{meshed.source}, size {spacing:.3g}"
            )
    log.info("export of %r: Delaunay triangulation (%s)", domain, why)
    points, cells = triangulate(domain, spacing)
    return ShapeMesh(points, [(SIMPLEX[domain.dim], cells)], f"Delaunay triangulation, spacing {spacing:.3g} ({why})")


def triangulate(domain: Domain, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """A simplicial mesh of a 1-3 D shape from its ``Domain`` interface alone (see the module doc).

    Args:
        domain: any spatial shape (``Disk``, ``Polygon``, a CSG result, a user's ``Domain``).
        spacing: the node spacing h (a length > 0).

    Returns points (n, d) in the closed domain and cells (m, d + 1) int64, positively oriented
    (counter-clockwise triangles, tetrahedra with det[p1 - p0, p2 - p0, p3 - p0] > 0).
    """
    if not np.isfinite(spacing) or spacing <= 0:
        raise ConfigError(f"triangulate spacing must be a length > 0; got {spacing!r}")
    if not 1 <= domain.dim <= 3:
        raise ConfigError(f"triangulate meshes 1-D to 3-D shapes; {domain!r} is {domain.dim}-D. Export to .h5")
    points = _nodes(domain, spacing)
    cells = _lines(points) if domain.dim == 1 else _delaunay(points)
    cells = _keep_inside(domain, points, cells, spacing)
    if len(cells) == 0:
        raise ConfigError(f"triangulating {domain!r} with spacing {spacing:.3g} left no cells; pass a finer resolution")
    return _compact(points, _oriented(points, cells))


def _nodes(domain: Domain, h: float) -> np.ndarray:
    """Grid nodes well inside, boundary points about h apart, and the corners of straight pieces."""
    grid = _grid_nodes(domain, h)
    inner = grid[domain.inside(grid, margin=0.25 * h)]
    pieces = domain.pieces()
    measure = sum(p.measure for p in pieces)
    count = int(np.ceil(measure / h ** (domain.dim - 1))) + len(pieces) if domain.dim > 1 else 2
    edge = domain.sample_boundary("boundary", count, method="grid").x
    corners = np.concatenate([_corners(p, domain.dim) for p in pieces])
    corners = corners[domain.contains(corners)] if len(corners) else corners
    points = np.concatenate([inner, edge, corners])
    return _unique(points, domain.diameter)


def _unique(points: np.ndarray, diameter: float) -> np.ndarray:
    """Points with near-duplicates (closer than 1e-9 of the diameter) dropped, first one kept."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(points).query_pairs(1e-9 * diameter, output_type="ndarray")
    drop = np.zeros(len(points), dtype=bool)
    drop[pairs.max(axis=1) if len(pairs) else []] = True
    return points[~drop]


def _grid_nodes(domain: Domain, h: float) -> np.ndarray:
    counts = np.maximum(2, np.ceil((domain.upper - domain.lower) / h).astype(int) + 1)
    axes = [np.linspace(a, b, n) for a, b, n in zip(domain.lower, domain.upper, counts)]
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)


def _corners(piece: Piece, d: int) -> np.ndarray:
    """(k, d) end points of a straight piece: a polygon edge's vertices, a box face's corners; none otherwise."""
    if isinstance(piece, Segment):
        return np.array([piece.a, piece.b], dtype=np.float64)
    if isinstance(piece, Plane) and len(piece.lower) == d:
        others = [(piece.lower[i], piece.upper[i]) for i in range(d) if i != piece.axis]
        return np.array([np.insert(c, piece.axis, piece.value) for c in product(*others)], dtype=np.float64)
    return np.zeros((0, d))


def _lines(points: np.ndarray) -> np.ndarray:
    order = np.argsort(points[:, 0], kind="stable")
    return np.stack([order[:-1], order[1:]], axis=1)


def _delaunay(points: np.ndarray) -> np.ndarray:
    from scipy.spatial import Delaunay

    return np.asarray(Delaunay(points).simplices, dtype=np.int64)


def _keep_inside(domain: Domain, points: np.ndarray, cells: np.ndarray, h: float) -> np.ndarray:
    """Cells whose centroid lies in the closed domain, whose edge midpoints lie within h / 5 of it (a
    chord of a hole's boundary bows out by about h^2 / (8 r)), and whose volume is not ~0."""
    corners = points[cells]  # (m, k, d)
    ok = domain.contains(corners.mean(axis=1))
    for i, j in combinations(range(cells.shape[1]), 2):
        ok &= domain.contains((corners[:, i] + corners[:, j]) / 2, tol=0.2 * h)
    return cells[ok & (np.abs(_volumes(points, cells)) > 1e-9 * h ** points.shape[1])]


def _volumes(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Signed volumes (times d!) of simplices: det[p1 - p0, ..., pd - p0]."""
    corners = points[cells]
    edges = corners[:, 1:] - corners[:, :1]  # (m, d, d)
    return np.linalg.det(edges) if edges.shape[1] == edges.shape[2] else np.zeros(len(cells))


def _oriented(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Cells with their last two nodes swapped where the signed volume is negative (1-D: left to right)."""
    cells = cells.copy()
    flip = _volumes(points, cells) < 0
    cells[flip, -2:] = cells[flip, -2:][:, ::-1]
    return cells


def _compact(points: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the nodes no cell uses; renumber."""
    used = np.unique(cells)
    index = np.full(len(points), -1, dtype=np.int64)
    index[used] = np.arange(len(used))
    return points[used], index[cells]


def spacetime_cells(
    points: np.ndarray, cells: list[tuple[str, np.ndarray]], nt: int
) -> list[tuple[str, np.ndarray]] | None:
    """Cells of the space nodes points (ns, ds) times nt time slices (node ``s * nt + k``): a line gives a
    quad, a triangle a wedge (meshio/gmsh order: the counter-clockwise triangle at slice k, then at k + 1);
    None for anything else (a tetrahedron in time has four dimensions)."""
    out = []
    steps = np.arange(nt - 1, dtype=np.int64)
    for kind, conn in cells:
        if kind not in ("line", "triangle") or nt < 2 or points.shape[1] != conn.shape[1] - 1:
            return None
        conn = _oriented(points, conn.astype(np.int64))
        now = conn[:, None, :] * nt + steps[None, :, None]  # (m, nt - 1, k)
        later = now + 1
        if kind == "line":
            block = np.stack([now[..., 0], now[..., 1], later[..., 1], later[..., 0]], axis=-1)
            out.append(("quad", block.reshape(-1, 4)))
        else:
            out.append(("wedge", np.concatenate([now, later], axis=-1).reshape(-1, 6)))
    return out
