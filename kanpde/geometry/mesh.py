"""A domain given by a mesh: triangles in 2-D, tetrahedra in 3-D, with named boundary parts.

``MeshDomain.read("part.msh")`` reads any file meshio reads; gmsh physical groups of dimension d - 1 become
boundary parts with their names (unnamed groups are ``physical<tag>``), and ``boundary`` is the whole boundary,
facets in no group included. ``MeshDomain(points, cells, boundary_parts={"inlet": facets})`` builds one from
arrays. Quadrilaterals and hexahedra (wedges, pyramids) are split into simplices (``kanpde.geometry.cells``).

Interior points are drawn cell by cell, cells chosen in proportion to their volume, uniformly inside each
(no rejection); boundary points facet by facet, with outward unit normals from the cell that owns the facet.
Each set of boundary facets sharing part names is one ``Facets`` piece, whose distance function
(``kanpde.geometry.facets``) serves ``Domain.distance``. ``inside`` locates points in cells (a k-d tree over
cell centroids, then barycentric coordinates); its ``margin`` is exact: the Euclidean distance to the
boundary facets.

Example::

    domain = MeshDomain.read("bracket.msh")     # parts: the gmsh physical group names, and boundary
    x = domain.sample(4096)                      # (4096, 3) interior points
    b = domain.sample_boundary("inlet", 512)    # points and outward normals on the group "inlet"
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.cells import facet_simplices, read_file, simplices, topology
from kanpde.geometry.domain import BOUNDARY, Domain, PointSet, default_axes
from kanpde.geometry.facets import Facets, facet_distance, pick, simplex_weights, spread
from kanpde.geometry.pieces import Piece
from kanpde.geometry.sampling import Seed, as_rng, check_method

if TYPE_CHECKING:
    import meshio
    from scipy.spatial import cKDTree

__all__ = ["MeshDomain"]

_CELL_TYPE = {2: "triangle", 3: "tetra"}
_FACET_TYPE = {2: "line", 3: "triangle"}
_LOCATE_K = 8  # nearest cell centroids tried before the exhaustive search
_BATCH = 1 << 14  # points per batch in the exhaustive searches


class MeshDomain(Domain):
    """The region covered by a simplicial mesh (see the module doc).

    Args:
        points: (n, d) node coordinates, d = 2 or 3 (a third coordinate that is zero everywhere is dropped
            when the cells are 2-D).
        cells: (m, d + 1) node numbers of triangles/tetrahedra, or a mapping from meshio cell types to node
            numbers (``{"quad": (m, 4)}``, ``{"hexahedron": (m, 8)}``, ...), split into simplices.
        boundary_parts: part name -> (k, d) node numbers of its boundary facets (3-D: triangles, or (k, 4)
            quadrilaterals). Facets that are not on the boundary (an interface inside) are left out, with a warning.
        axes: coordinate names (default ``x, y, z``).
        source: how the mesh is named in messages (``read`` passes the file name).
    """

    def __init__(
        self,
        points: np.ndarray,
        cells: np.ndarray | Mapping[str, np.ndarray],
        boundary_parts: Mapping[str, np.ndarray | Mapping[str, np.ndarray]] | None = None,
        *,
        axes: Sequence[str] | None = None,
        source: str = "arrays",
    ) -> None:
        self.source = source
        pts, blocks, d = _inputs(points, cells, source)
        pts, simp = simplices(pts, blocks, d)
        if len(simp) == 0:
            raise ConfigError(
                f"mesh {source} has no {d}-D cells; pass {_CELL_TYPE[d]} cells (or quads/hexahedra) of shape (m, {d + 1})"
            )
        pts, simp, index = _compact(pts, simp)
        top = topology(pts, simp, source)
        self.points, self.cells, self.volumes, self.facets = pts, top.cells, top.volumes, top.facets
        self.axes = _check_axes(axes, d, source)
        self.name = None
        self.lower, self.upper = pts.min(axis=0), pts.max(axis=0)
        self.facet_parts = _parts(boundary_parts or {}, self.facets, index, d, source)
        self._pieces = _pieces(self.points, self.facets, self.facet_parts)

    # --- construction ---------------------------------------------------------------------------------------
    @classmethod
    def read(cls, path: str | Path, *, axes: Sequence[str] | None = None) -> MeshDomain:
        """The domain of a mesh file meshio reads (``.msh``, ``.vtu``, ``.xdmf``, ...); gmsh physical groups
        of dimension d - 1 (or meshio ``cell_sets`` of facets) become boundary parts by name."""
        f = read_file(path)
        if axes is not None and len(tuple(axes)) != f.dim:
            raise ConfigError(f"MeshDomain.read({str(path)!r}, axes={tuple(axes)!r}): the mesh is {f.dim}-D")
        return cls(f.points, f.blocks, f.groups, axes=axes, source=repr(str(path)))

    @classmethod
    def grid(
        cls,
        lower: Sequence[float],
        upper: Sequence[float],
        n: int | Sequence[int],
        *,
        axes: Sequence[str] | None = None,
    ) -> MeshDomain:
        """A structured mesh of the box ``lower..upper`` with ``n`` intervals per axis, each grid cell cut
        into d! simplices along its main diagonal (Kuhn's triangulation: conforming). Parts are the box's
        faces, named as ``Box`` names them (``x_min`` ... , and ``left, right, bottom, top`` in 2-D)."""
        lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        d = lo.size
        counts = np.broadcast_to(np.asarray(n), (d,))
        if d not in (2, 3) or hi.shape != lo.shape or np.any(hi <= lo):
            raise ConfigError(
                f"MeshDomain.grid needs 2 or 3 bounds with lower < upper; got {lo.tolist()}, {hi.tolist()}"
            )
        if not np.issubdtype(counts.dtype, np.integer) or counts.min() < 1:
            raise ConfigError(f"MeshDomain.grid needs n >= 1 intervals per axis (an int or one per axis); got {n!r}")
        points, cells = _kuhn(lo, hi, counts)
        names = _check_axes(axes, d, "grid")
        bare = cls(points, cells, axes=names, source="grid")
        aliases = {"x_min": "left", "x_max": "right", "y_min": "bottom", "y_max": "top"}
        parts = {}
        for a, axis in enumerate(names):
            for side, bound in (("min", lo[a]), ("max", hi[a])):
                on = np.all(bare.points[bare.facets][:, :, a] == bound, axis=1)
                parts[f"{axis}_{side}"] = bare.facets[on]
                if d == 2 and axes is None:
                    parts[aliases[f"{axis}_{side}"]] = bare.facets[on]
        return cls(bare.points, bare.cells, parts, axes=names, source=f"grid {'x'.join(map(str, counts))}")

    @classmethod
    def from_description(cls, desc: Mapping) -> MeshDomain:
        """Rebuild from ``describe()``."""
        return cls(
            np.asarray(desc["points"], dtype=np.float64),
            np.asarray(desc["cells"], dtype=np.int64),
            {k: np.asarray(v, dtype=np.int64) for k, v in desc.get("boundary_parts", {}).items()},
            axes=desc.get("axes"),
            source=desc.get("source", "a saved description"),
        )

    def describe(self) -> dict:
        """points, cells and boundary parts (facet node numbers) as lists: enough to rebuild the domain."""
        return {
            "kind": "mesh",
            "axes": list(self.axes),
            "source": self.source,
            "points": self.points.tolist(),
            "cells": self.cells.tolist(),
            "boundary_parts": {k: self.facets[v].tolist() for k, v in self.facet_parts.items()},
        }

    @property
    def mesh(self) -> meshio.Mesh:
        """A ``meshio.Mesh``: the cells, then one block of boundary facets per part (a facet in two parts is
        in both blocks), tagged as gmsh physical groups (cell data ``gmsh:physical``, the names in
        ``field_data``; the cells are the group ``domain``)."""
        import meshio

        names = list(self.facet_parts)
        cells = [(_CELL_TYPE[self.dim], self.cells)] + [
            (_FACET_TYPE[self.dim], self.facets[self.facet_parts[n]]) for n in names
        ]
        tags = [np.full(len(self.cells), 1)] + [np.full(len(self.facet_parts[n]), i + 2) for i, n in enumerate(names)]
        groups = {"domain": np.array([1, self.dim])} | {n: np.array([i + 2, self.dim - 1]) for i, n in enumerate(names)}
        data = {"gmsh:physical": tags, "gmsh:geometrical": [t.copy() for t in tags]}
        return meshio.Mesh(self.points, cells, cell_data=data, field_data=groups)

    def write(self, path: str | Path) -> Path:
        """Write the mesh with meshio, the format by suffix; ``.msh`` is gmsh 2.2 with the parts as named
        physical groups, so ``MeshDomain.read`` gives this domain back. Returns the path."""
        import meshio

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = "gmsh22" if path.suffix.lower() == ".msh" else None
        meshio.write(path, self.mesh, file_format=fmt, **({"binary": False} if fmt else {}))
        return path

    # --- Domain ---------------------------------------------------------------------------------------------
    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        """(n,) boolean: x in the open interior, farther than ``margin`` from the boundary facets (exact
        Euclidean distance); a negative margin widens the domain by that distance."""
        x = _as_points(x, self.dim, "MeshDomain.inside")
        cell, bary = self.locate(x)
        found = cell >= 0
        eps = 1e-12 * self.diameter
        reach = max(margin, eps)
        result = np.zeros(len(x), dtype=bool)
        # distance to the own cell's faces bounds the distance to the boundary from below
        clear = np.zeros(len(x), dtype=bool)
        clear[found] = np.min(bary[found] * self._heights[cell[found]], axis=1) > reach
        result[clear] = True
        check = found & ~clear
        if check.any():
            result[check] = self.boundary_distance(x[check], reach) > reach
        if margin < 0:
            result[found] = True
            out = ~found
            if out.any():
                result[out] = self.boundary_distance(x[out], -margin) <= -margin
        return result

    def volume(self, n: int = 0, *, method: str = "sobol") -> float:
        """The exact area or volume: the sum of the cell volumes (``n`` and ``method``, the base class's
        sampling estimate, are ignored)."""
        return float(self.volumes.sum())

    def sample(self, n: int, *, method: str = "sobol", seed: Seed = 0) -> np.ndarray:
        """``n`` interior points (n, d): cells chosen in proportion to their volume by the first coordinate
        of the method's points (inverse CDF; its remainder reused as a coordinate in the cell), placed
        uniformly in the cell (barycentric, order statistics). ``"grid"``: a rank-1 lattice mapped the same
        way (deterministic, even). No rejection."""
        check_method(method)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"the number of points must be an int >= 1; got {n!r}")
        u = spread(int(n), self.dim, method, as_rng(seed))
        index, u[:, 0] = pick(u[:, 0], self.volumes)
        return np.einsum("nj,njk->nk", simplex_weights(u), self.points[self.cells[index]])

    def evaluation_points(self, n: int | None = None) -> PointSet:
        """Where errors are measured on a mesh: its nodes and its cell centroids (``n`` is ignored)."""
        return PointSet(np.concatenate([self.points, self._centroids]))

    # --- mesh queries ---------------------------------------------------------------------------------------
    def locate(self, x: np.ndarray, *, nearest: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The cell holding each point and its barycentric coordinates there: (cell (n,), -1 outside the
        mesh; bary (n, d + 1)). A point on a face between cells gets one of them. ``nearest=True``: a point
        outside gets the cell with the nearest centroid and its barycentric coordinates clipped to that
        cell (negative ones set to 0, the rest rescaled to sum to 1): a value there is the cell's value at
        a point of its closure, not an extrapolation."""
        x = _as_points(x, self.dim, "MeshDomain.locate")
        cell, bary = self._locate(x)
        out = np.flatnonzero(cell < 0)
        if nearest and out.size:
            _, cell[out] = self._cell_tree.query(x[out], k=1)
            lam = np.clip(self._barycentric(x[out], cell[out]), 0.0, None)
            bary[out] = lam / lam.sum(axis=1, keepdims=True)
        return cell, bary

    def _locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cell = np.full(len(x), -1, dtype=np.int64)
        bary = np.zeros((len(x), self.dim + 1))
        tol = 1e-10
        box = np.all((x >= self.lower - 1e-9 * self.diameter) & (x <= self.upper + 1e-9 * self.diameter), axis=1)
        todo = np.flatnonzero(box)
        if todo.size:
            k = min(_LOCATE_K, len(self.cells))
            _, near = self._cell_tree.query(x[todo], k=k)
            near = near.reshape(len(todo), k)
            self._best(x, todo, near, cell, bary, tol)
        todo = np.flatnonzero(box & (cell < 0))
        for start in range(0, todo.size, _BATCH):
            rows = todo[start : start + _BATCH]
            pairs = self._cell_tree.query_ball_point(x[rows], self._cell_reach * (1 + 1e-9))
            owner = np.repeat(np.arange(len(rows)), [len(p) for p in pairs])
            cand = np.fromiter((c for p in pairs for c in p), dtype=np.int64, count=owner.size)
            self._best_pairs(x, rows, owner, cand, cell, bary, tol)
        return cell, bary

    def boundary_distance(self, x: np.ndarray, reach: float = np.inf) -> np.ndarray:
        """(n,) Euclidean distance from points x (n, d) to the boundary facets; ``inf`` where it exceeds
        ``reach``. Exact: the nearest facet centroid bounds the distance D from above, and every facet within
        D has its centroid within D + (the largest centroid-corner distance), so only those are examined."""
        x = _as_points(x, self.dim, "MeshDomain.boundary_distance")
        out = np.full(len(x), np.inf)
        corners = self.points[self.facets]
        for start in range(0, len(x), _BATCH):
            rows = np.arange(start, min(start + _BATCH, len(x)))
            nearest, _ = self._facet_tree.query(x[rows], k=1)
            pairs = self._facet_tree.query_ball_point(x[rows], np.minimum(nearest, reach) + self._facet_reach)
            owner = np.repeat(rows, [len(p) for p in pairs])
            cand = np.fromiter((c for p in pairs for c in p), dtype=np.int64, count=owner.size)
            if owner.size:
                np.minimum.at(out, owner, facet_distance(x[owner], corners[cand]))
        out[out > reach] = np.inf
        return out

    def part_nodes(self, part: str) -> np.ndarray:
        """Sorted node numbers on the facets of a boundary part (``boundary``: all of them)."""
        self.part_pieces(part)  # raises for an unknown part, listing the names
        facets = self.facets if part == BOUNDARY else self.facets[self.facet_parts[part]]
        return np.unique(facets)

    def __repr__(self) -> str:
        return f"MeshDomain({self.source}: {len(self.cells)} {_CELL_TYPE[self.dim]} cells, {len(self.points)} nodes)"

    # --- cached geometry ------------------------------------------------------------------------------------
    @cached_property
    def _centroids(self) -> np.ndarray:
        return self.points[self.cells].mean(axis=1)

    @cached_property
    def _cell_tree(self) -> cKDTree:
        from scipy.spatial import cKDTree

        return cKDTree(self._centroids)

    @cached_property
    def _cell_reach(self) -> float:
        """The largest distance from a cell's centroid to its corners: a cell holding x has its centroid within it."""
        return float(np.linalg.norm(self.points[self.cells] - self._centroids[:, None], axis=2).max())

    @cached_property
    def _facet_tree(self) -> cKDTree:
        from scipy.spatial import cKDTree

        return cKDTree(self.points[self.facets].mean(axis=1))

    @cached_property
    def _facet_reach(self) -> float:
        corners = self.points[self.facets]
        return float(np.linalg.norm(corners - corners.mean(axis=1, keepdims=True), axis=2).max())

    @cached_property
    def _inverse(self) -> np.ndarray:
        """(m, d, d) inverses of the edge matrices [x_1 - x_0, ..., x_d - x_0] (columns)."""
        corners = self.points[self.cells]
        return np.linalg.inv(np.swapaxes(corners[:, 1:] - corners[:, :1], 1, 2))

    @cached_property
    def _heights(self) -> np.ndarray:
        """(m, d + 1): each cell's height over the face opposite each corner (barycentric -> distance)."""
        grads = np.concatenate([-self._inverse.sum(axis=1, keepdims=True), self._inverse], axis=1)
        return 1.0 / np.linalg.norm(grads, axis=2)

    def _barycentric(self, x: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """(n, d + 1) barycentric coordinates of points x (n, d) in cells (n,)."""
        lam = np.einsum("nij,nj->ni", self._inverse[cells], x - self.points[self.cells[cells, 0]])
        return np.concatenate([1 - lam.sum(axis=1, keepdims=True), lam], axis=1)

    def _best(
        self, x: np.ndarray, rows: np.ndarray, near: np.ndarray, cell: np.ndarray, bary: np.ndarray, tol: float
    ) -> None:
        """``_best_pairs`` for the candidates near (len(rows), k): the k nearest cells of each point."""
        owner = np.repeat(np.arange(len(rows)), near.shape[1])
        self._best_pairs(x, rows, owner, near.reshape(-1), cell, bary, tol)

    def _best_pairs(
        self,
        x: np.ndarray,
        rows: np.ndarray,
        owner: np.ndarray,
        cand: np.ndarray,
        cell: np.ndarray,
        bary: np.ndarray,
        tol: float,
    ) -> None:
        """Among candidate (point, cell) pairs, keep for each point the cell where its smallest barycentric
        coordinate is largest, if that is >= -tol."""
        if owner.size == 0:
            return
        lam = self._barycentric(x[rows[owner]], cand)
        worst = lam.min(axis=1)
        order = np.lexsort((-worst, owner))
        first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        ok = worst[first] >= -tol
        hit = rows[owner[first[ok]]]
        cell[hit] = cand[first[ok]]
        bary[hit] = lam[first[ok]]


# --- helpers ---------------------------------------------------------------------------------------------------
def _inputs(
    points: np.ndarray, cells: np.ndarray | Mapping[str, np.ndarray], source: str
) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Points (n, d), cell blocks by type and the dimension d, checked."""
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"mesh {source}: points must be an (n, 2) or (n, 3) array of numbers") from None
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ShapeError(f"mesh {source}: points must have shape (n, 2) or (n, 3); got {pts.shape}")
    if isinstance(cells, Mapping):
        from kanpde.geometry.cells import CELL_DIMS, base_type

        blocks = {str(k): np.asarray(v) for k, v in cells.items()}
        dims = [CELL_DIMS[b] for k in blocks if (b := base_type(k)) is not None and len(blocks[k])]
        d = max(dims, default=0)
        if d < 2:
            raise ConfigError(
                f"mesh {source} has no 2-D or 3-D cells (got {', '.join(blocks) or 'none'}); pass triangles/quads "
                "or tetrahedra/hexahedra"
            )
    else:
        arr = np.asarray(cells)
        if arr.ndim != 2 or arr.shape[1] not in (3, 4) or not np.issubdtype(arr.dtype, np.integer):
            raise ShapeError(
                f"mesh {source}: cells must be integer node numbers of shape (m, 3) (triangles) or (m, 4) "
                f"(tetrahedra), or a mapping of meshio cell types; got shape {arr.shape}, dtype {arr.dtype}"
            )
        d = arr.shape[1] - 1
        blocks = {_CELL_TYPE[d]: arr}
    if d == 2 and pts.shape[1] == 3:
        if np.abs(pts[:, 2]).max() > 1e-12 * max(1.0, float(np.abs(pts).max())):
            raise ConfigError(
                f"mesh {source}: 2-D cells but points with a non-zero third coordinate (a surface in 3-D is not a "
                "domain); pass points in the plane"
            )
        pts = pts[:, :2]
    if pts.shape[1] != d:
        raise ShapeError(f"mesh {source}: {d}-D cells need points of shape (n, {d}); got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ConfigError(f"mesh {source}: the point coordinates must be finite; some are nan or inf")
    for kind, data in blocks.items():
        if data.size and (not np.issubdtype(data.dtype, np.integer) or data.min() < 0 or data.max() >= len(pts)):
            raise ConfigError(
                f"mesh {source}: {kind} cells must be node numbers 0..{len(pts) - 1} (there are {len(pts)} points); "
                f"got {data.dtype} values {data.min()}..{data.max()}"
            )
    return pts, blocks, d


def _compact(points: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge coincident nodes and drop unused ones; returns points, cells and the old -> new node map
    (-1 for dropped nodes)."""
    from scipy.spatial import cKDTree

    scale = float(np.ptp(points, axis=0).max()) or 1.0
    merge = np.arange(len(points))
    pairs = cKDTree(points).query_pairs(1e-12 * scale, output_type="ndarray")
    for i, j in sorted(map(tuple, np.sort(pairs, axis=1)), reverse=True):
        merge[j] = merge[i]
    while np.any(merge[merge] != merge):
        merge = merge[merge]
    cells = merge[cells]
    used = np.unique(cells)
    index = np.full(len(points), -1, dtype=np.int64)
    index[used] = np.arange(len(used))
    return points[used], index[cells], index[merge]


def _kuhn(lower: np.ndarray, upper: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and Kuhn simplices of a structured grid: per grid cell, one simplex per permutation of the axes."""
    from itertools import permutations

    d = lower.size
    axes = [np.linspace(lo, hi, c + 1) for lo, hi, c in zip(lower, upper, counts)]
    points = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    strides = np.cumprod([1, *(counts[::-1] + 1)[:-1]])[::-1]
    origin = np.stack([g.ravel() for g in np.meshgrid(*[np.arange(c) for c in counts], indexing="ij")], axis=1)
    base = origin @ strides
    cells = []
    for perm in permutations(range(d)):
        steps = np.cumsum([0, *(strides[list(perm)])])
        cells.append(base[:, None] + steps[None])
    return points, np.concatenate(cells)


def _check_axes(axes: Sequence[str] | None, d: int, source: str) -> tuple[str, ...]:
    axes = default_axes(d) if axes is None else tuple(axes)
    if len(axes) != d or len(set(axes)) != d or not all(isinstance(a, str) and a for a in axes):
        raise ConfigError(f"mesh {source}: axes must be {d} distinct non-empty names; got {axes!r}")
    return axes


def _parts(
    given: Mapping[str, np.ndarray | Mapping[str, np.ndarray]],
    facets: np.ndarray,
    index: np.ndarray,
    d: int,
    source: str,
) -> dict[str, np.ndarray]:
    """Part name -> indices into the boundary facets, matched by their node sets."""
    keys = {tuple(row): i for i, row in enumerate(np.sort(facets, axis=1).tolist())}
    parts: dict[str, np.ndarray] = {}
    for name, value in given.items():
        if not isinstance(name, str) or not name or name == BOUNDARY:
            raise ConfigError(
                f"mesh {source}: boundary part names must be non-empty strings other than 'boundary'; got {name!r}"
            )
        rows = facet_simplices(value, d)
        if rows.size and (rows.min() < 0 or rows.max() >= len(index)):
            raise ConfigError(
                f"mesh {source}: boundary part {name!r} refers to node numbers past the {len(index)} points"
            )
        mapped = np.sort(index[rows], axis=1) if rows.size else rows
        found = [keys.get(tuple(r), -1) for r in mapped.tolist()]
        hit = np.unique([i for i in found if i >= 0]).astype(np.int64)
        missed = len(found) - sum(i >= 0 for i in found)
        if missed:
            warnings.warn(
                f"mesh {source}: {missed} of {len(found)} facets of part {name!r} are not on the boundary (an "
                "interface inside the mesh?) and are left out of the part",
                stacklevel=4,
            )
        if hit.size:
            parts[name] = hit
    return parts


def _pieces(points: np.ndarray, facets: np.ndarray, parts: Mapping[str, np.ndarray]) -> tuple[Piece, ...]:
    """One ``Facets`` piece per set of facets with the same part names (facets in no part: one piece too)."""
    names: list[set[str]] = [set() for _ in range(len(facets))]
    for name, idx in parts.items():
        for i in idx:
            names[i].add(name)
    groups: dict[frozenset[str], list[int]] = {}
    for i, s in enumerate(names):
        groups.setdefault(frozenset(s), []).append(i)
    order = sorted(groups, key=lambda s: (len(s) == 0, sorted(s)))
    return tuple(Facets(key, 1.0, points[facets[groups[key]]]) for key in order)


def _as_points(x: np.ndarray, d: int, where: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise ShapeError(f"{where} needs points of shape (n, {d}); got {x.shape}")
    return x
