"""The cells of a mesh: simplices from any cell type, orientation checks, boundary facets, and files read by meshio.

A ``MeshDomain`` works on simplices (triangles in 2-D, tetrahedra in 3-D). Quadrilaterals are split into two
triangles; hexahedra, wedges and pyramids into tetrahedra around an added centre node, each quadrilateral face
cut along the diagonal through its smallest node number, so two cells sharing a face cut it the same way and
the result is conforming (the rule of Dompierre, Labbe, Vallet and Camarero, "How to subdivide pyramids, prisms
and hexahedra into tetrahedra", IMR 1999). Higher-order cells (``triangle6``, ``tetra10``, ...) keep their
corner nodes. Boundary facets are the facets used by exactly one cell, oriented so their normal points out of
the cell that owns them.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from math import factorial
from pathlib import Path

import numpy as np

from kanpde.errors import ConfigError, ShapeError

__all__ = [
    "CELL_DIMS",
    "Topology",
    "base_type",
    "simplices",
    "facet_simplices",
    "split_quads",
    "topology",
    "MeshFile",
    "read_file",
]

CELL_DIMS = {"vertex": 0, "line": 1, "triangle": 2, "quad": 2, "tetra": 3, "hexahedron": 3, "wedge": 3, "pyramid": 3}
_CORNERS = {"vertex": 1, "line": 2, "triangle": 3, "quad": 4, "tetra": 4, "hexahedron": 8, "wedge": 6, "pyramid": 5}
# faces of the 3-D cells in meshio's (VTK's) node order; their orientation does not matter here
_FACES = {
    "hexahedron": ((0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)),
    "wedge": ((0, 2, 1), (3, 4, 5), (0, 1, 4, 3), (1, 2, 5, 4), (2, 0, 3, 5)),
    "pyramid": ((0, 3, 2, 1), (0, 1, 4), (1, 2, 4), (2, 3, 4), (3, 0, 4)),
}


def base_type(cell_type: str) -> str | None:
    """The linear cell type of a meshio type name (``"tetra10"`` -> ``"tetra"``), or None if unsupported."""
    match = re.fullmatch(r"([a-z]+?)\d*", cell_type)
    kind = match.group(1) if match else None
    return kind if kind in CELL_DIMS else None


def split_quads(quads: np.ndarray) -> np.ndarray:
    """(m, 4) quadrilaterals -> (2m, 3) triangles, each cut along the diagonal through its smallest node."""
    quads = np.asarray(quads, dtype=np.int64).reshape(-1, 4)
    first = np.argmin(quads, axis=1)
    rolled = np.take_along_axis(quads, (first[:, None] + np.arange(4)) % 4, axis=1)
    return np.concatenate([rolled[:, [0, 1, 2]], rolled[:, [0, 2, 3]]])


def _split_solids(kind: str, cells: np.ndarray, first_new: int) -> tuple[np.ndarray, np.ndarray]:
    """Tetrahedra of 3-D cells split around their centres; returns (tets (k, 4), centre index per cell)."""
    centres = first_new + np.arange(len(cells))
    tets = []
    for face in _FACES[kind]:
        nodes = cells[:, face]
        tris = split_quads(nodes) if len(face) == 4 else nodes
        owner = np.tile(centres, len(tris) // len(cells))
        tets.append(np.concatenate([tris, owner[:, None]], axis=1))
    return np.concatenate(tets), centres


def simplices(points: np.ndarray, blocks: Mapping[str, np.ndarray], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (with centre nodes appended for split 3-D cells) and the (m, dim + 1) simplices of the cell
    blocks of dimension ``dim`` (``{"triangle": (m, 3), "quad": (m, 4), ...}``; lower-dimensional blocks are
    ignored)."""
    pieces, extra = [], []
    n = len(points)
    for cell_type, data in blocks.items():
        kind = base_type(cell_type)
        if kind is None or CELL_DIMS[kind] != dim or len(data) == 0:
            continue
        cells = np.asarray(data, dtype=np.int64)[:, : _CORNERS[kind]]
        if kind in ("triangle", "tetra"):
            pieces.append(cells)
        elif kind == "quad":
            pieces.append(split_quads(cells))
        else:
            tets, _ = _split_solids(kind, cells, n + sum(len(e) for e in extra))
            extra.append(points[cells].mean(axis=1))
            pieces.append(tets)
    if not pieces:
        return points, np.zeros((0, dim + 1), dtype=np.int64)
    return (np.concatenate([points, *extra]) if extra else points), np.concatenate(pieces)


def facet_simplices(blocks: Mapping[str, np.ndarray] | np.ndarray, dim: int) -> np.ndarray:
    """(k, dim) simplicial facets from facet blocks of a ``dim``-D mesh (lines in 2-D; triangles and quads,
    split as the cells are, in 3-D); an array is taken as facets already (quads split in 3-D)."""
    if not isinstance(blocks, Mapping):
        arr = np.asarray(blocks, dtype=np.int64)
        if arr.ndim != 2 or arr.shape[1] not in ((dim,) if dim == 2 else (3, 4)):
            raise ShapeError(
                f"boundary facets of a {dim}-D mesh must be node numbers of shape (k, {dim})"
                + (" or (k, 4) quadrilaterals" if dim == 3 else "")
                + f"; got shape {arr.shape}"
            )
        return split_quads(arr) if arr.shape[1] == 4 else arr
    parts = []
    for cell_type, data in blocks.items():
        kind = base_type(cell_type)
        if kind is None or CELL_DIMS[kind] != dim - 1 or len(data) == 0:
            continue
        facets = np.asarray(data, dtype=np.int64)[:, : _CORNERS[kind]]
        parts.append(split_quads(facets) if kind == "quad" else facets)
    return np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.int64)


@dataclass(frozen=True)
class Topology:
    """What the cells say about the mesh: cells: (m, d+1) positively oriented simplices; volumes: (m,);
    facets: (f, d) boundary facets, ordered so the outward normal is the right normal of a -> b in 2-D and
    (b - a) x (c - a) in 3-D; owner: (f,) the cell of each boundary facet."""

    cells: np.ndarray
    volumes: np.ndarray
    facets: np.ndarray
    owner: np.ndarray


def topology(points: np.ndarray, cells: np.ndarray, source: str) -> Topology:
    """Orient the simplices, find the boundary facets, and reject degenerate, folded or non-manifold cells.

    source: how the mesh is named in error messages (a file name, or ``"arrays"``).
    """
    d = points.shape[1]
    if len(cells):  # drop repeated cells (msh 2.2 repeats an element once per physical group)
        _, first = _unique_rows(np.sort(cells, axis=1), len(points), return_index=True)
        cells = cells[np.sort(first)]
    corners = points[cells]  # (m, d+1, d)
    edges = corners[:, 1:] - corners[:, :1]
    signed = np.linalg.det(edges) / factorial(d)
    size = np.max(np.linalg.norm(corners[:, :, None] - corners[:, None], axis=-1), axis=(1, 2))
    flat = np.abs(signed) <= 1e-10 * size**d
    if flat.any():
        i = int(np.flatnonzero(flat)[0])
        raise ConfigError(
            f"mesh {source}: {int(flat.sum())} of {len(cells)} cells have zero volume (first: cell {i} with nodes "
            f"{cells[i].tolist()} at {np.round(corners[i], 6).tolist()}); remove degenerate cells (repeated or "
            "collinear/coplanar nodes) or remesh"
        )
    cells = cells.copy()
    negative = signed < 0
    cells[negative, :2] = cells[negative, 1::-1]
    volumes = np.abs(signed)
    # every facet of every cell: drop vertex i, keep the others in sorted order
    local = np.array([[j for j in range(d + 1) if j != i] for i in range(d + 1)])
    keys = np.sort(cells[:, local], axis=2).reshape(-1, d)  # (m*(d+1), d)
    opposite = cells.reshape(-1)  # the node each facet leaves out, in the same order
    owner_all = np.repeat(np.arange(len(cells)), d + 1)
    inverse, counts = _unique_rows(keys, len(points))
    shared = counts[inverse]
    if (shared > 2).any():
        k = int(np.flatnonzero(shared > 2)[0])
        raise ConfigError(
            f"mesh {source}: facet with nodes {keys[k].tolist()} is shared by {int(shared[k])} cells (a non-manifold "
            "or duplicated mesh); a domain mesh has each facet in one or two cells: remove overlapping cells"
        )
    side = np.sign(_side(points, keys, opposite))
    _check_folds(inverse, side, owner_all, shared, cells, source)
    boundary = shared == 1
    facets = keys[boundary]
    flip = side[boundary] < 0 if d == 2 else side[boundary] > 0
    facets[flip] = facets[flip][:, ::-1] if d == 2 else facets[flip][:, [0, 2, 1]]
    return Topology(cells, volumes, facets, owner_all[boundary])


def _unique_rows(rows: np.ndarray, n: int, *, return_index: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rows of node numbers below n as one int64 each (when n ** width fits), then ``np.unique``: returns
    (inverse, counts), or (inverse, first index) with ``return_index``."""
    width = rows.shape[1]
    if float(n) ** width < 2.0**62:
        ids = np.zeros(len(rows), dtype=np.int64)
        for j in range(width):
            ids = ids * n + rows[:, j]
    else:  # pragma: no cover - meshes with over two million nodes in 3-D
        ids = rows
    _, index, inverse, counts = np.unique(ids, axis=0, return_index=True, return_inverse=True, return_counts=True)
    return inverse.reshape(-1), (index if return_index else counts)


def _side(points: np.ndarray, keys: np.ndarray, opposite: np.ndarray) -> np.ndarray:
    """det[k_1 - k_0, ..., p - k_0]: which side of the facet (sorted nodes ``keys``) the opposite node is on."""
    base = points[keys[:, 0]]
    rows = [points[keys[:, j]] - base for j in range(1, keys.shape[1])] + [points[opposite] - base]
    return np.linalg.det(np.stack(rows, axis=1))


def _check_folds(
    inverse: np.ndarray, side: np.ndarray, owner: np.ndarray, shared: np.ndarray, cells: np.ndarray, source: str
) -> None:
    """Two cells sharing a facet must lie on opposite sides of it; otherwise one is inverted (folded over)."""
    inner = np.flatnonzero(shared == 2)
    order = inner[np.argsort(inverse[inner], kind="stable")]
    first, second = order[0::2], order[1::2]
    bad = side[first] * side[second] >= 0
    if bad.any():
        i, j = int(owner[first[bad][0]]), int(owner[second[bad][0]])
        raise ConfigError(
            f"mesh {source}: cells {i} (nodes {cells[i].tolist()}) and {j} (nodes {cells[j].tolist()}) lie on the "
            f"same side of their shared facet ({int(bad.sum())} such facets): an inverted, folded cell; untangle "
            "the mesh (gmsh: Mesh.Optimize) or remesh"
        )


@dataclass(frozen=True)
class MeshFile:
    """What a mesh file holds for a domain: points (n, d); blocks: cell type -> node numbers;
    groups: named facet groups (part name -> facet node numbers of each block); dim: 2 or 3."""

    points: np.ndarray
    blocks: dict[str, np.ndarray]
    groups: dict[str, dict[str, np.ndarray]]
    dim: int


def read_file(path: str | Path) -> MeshFile:
    """Read a mesh file with meshio: its points, cells and named facet groups (gmsh physical groups of
    dimension d - 1, or any ``cell_sets`` that select facets)."""
    import meshio

    name = str(path)
    if not Path(path).is_file():
        raise ConfigError(f"mesh file {name!r} does not exist; pass a file meshio reads (.msh, .vtu, .xdmf, ...)")
    try:  # meshio prints the formats it tried (.msh: ansys, then gmsh) and exits when none fits
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            mesh = meshio.read(path)
    except (Exception, SystemExit) as err:  # ReadError, KeyError, ValueError, sys.exit(1)...
        raise ConfigError(
            f"mesh file {name!r} could not be read by meshio ({type(err).__name__}: {err}); pass a .msh, .vtu, "
            ".xdmf or another format meshio reads"
        ) from None
    kinds = [base_type(c.type) for c in mesh.cells if len(c.data)]
    dims = [CELL_DIMS[k] for k in kinds if k is not None]
    dim = max(dims, default=0)
    if dim < 2:
        found = ", ".join(sorted({c.type for c in mesh.cells if len(c.data)})) or "no cells"
        raise ConfigError(
            f"mesh file {name!r} has no 2-D or 3-D cells (it holds {found}); a domain needs triangles/quads (2-D) or "
            "tetrahedra/hexahedra (3-D): mesh the region itself, not only its boundary"
        )
    points = np.asarray(mesh.points, dtype=np.float64)
    if points.shape[1] > dim:
        extra = points[:, dim:]
        if np.abs(extra).max() > 1e-12 * max(1.0, float(np.abs(points).max())):
            raise ConfigError(
                f"mesh file {name!r} has {dim}-D cells whose nodes leave the plane of the first {dim} coordinates "
                f"(max |z| {np.abs(extra).max():.3g}); a surface mesh in 3-D is not a domain: pass a flat {dim}-D mesh"
            )
        points = points[:, :dim]
    blocks: dict[str, list[np.ndarray]] = {}
    for c in mesh.cells:
        blocks.setdefault(c.type, []).append(np.asarray(c.data))
    merged = {k: np.concatenate(v) for k, v in blocks.items()}
    return MeshFile(np.ascontiguousarray(points), merged, _groups(mesh, dim), dim)


def _groups(mesh: object, dim: int) -> dict[str, dict[str, np.ndarray]]:
    """Named facet groups: meshio's ``cell_sets`` first, else gmsh physical tags named by ``field_data``."""
    facet_blocks = [i for i, c in enumerate(mesh.cells) if (k := base_type(c.type)) and CELL_DIMS[k] == dim - 1]
    groups: dict[str, dict[str, list[np.ndarray]]] = {}

    def add(name: str, block: int, rows: np.ndarray) -> None:
        if len(rows):
            c = mesh.cells[block]
            groups.setdefault(name, {}).setdefault(c.type, []).append(np.asarray(c.data)[rows])

    for name, per_block in mesh.cell_sets.items():
        if name.startswith("gmsh:") or len(per_block) != len(mesh.cells):
            continue
        for b in facet_blocks:
            if per_block[b] is not None:
                add(name, b, np.asarray(per_block[b], dtype=np.int64))
    # gmsh physical tags: the groups cell_sets missed (msh 2.2 files, unnamed groups named physical<tag>)
    tags = mesh.cell_data.get("gmsh:physical")
    if tags is not None and len(tags) == len(mesh.cells):
        names = {(int(v[0]), int(v[1])): k for k, v in mesh.field_data.items() if len(v) >= 2}
        named = set(groups)
        for b in facet_blocks:
            block_tags = np.asarray(tags[b]).reshape(-1)
            for tag in np.unique(block_tags):
                name = names.get((int(tag), dim - 1), f"physical{int(tag)}")
                if name not in named:
                    add(name, b, np.flatnonzero(block_tags == tag))
    return {name: {k: np.concatenate(v) for k, v in by_type.items()} for name, by_type in groups.items()}
