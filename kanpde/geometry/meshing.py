"""Mesh a shape with gmsh: ``mesh_domain(Box(...) - Disk(...), 0.05)`` -> a ``MeshDomain`` with the shape's parts.

The shape is rebuilt from its ``describe()`` in gmsh's OpenCASCADE kernel (boxes, disks and balls, polygons,
and CSG union, intersection and difference of them, in 2-D and 3-D), meshed with triangles or tetrahedra of
about ``size``, and each boundary curve (2-D) or surface (3-D) of the result gets the names of the shape's
boundary piece it lies on: its facets' centroids are tested against every piece's distance function, and the
names most of its facets agree on win. The names become gmsh physical groups of dimension d - 1 (the cells
are the group ``domain``), so a file written with ``path=`` reads back with ``MeshDomain.read``.

gmsh is an optional dependency (``pip install gmsh``, or the ``mesh`` extra: ``pip install kanpde[mesh]``);
without it ``mesh_domain`` raises a ``ConfigError`` naming the install, or with ``fallback=True`` meshes a 2-D
shape by Delaunay triangles (scipy) of boundary and lattice points: rougher, with the same part names.
Practical hint: a mesh is what the finite-element reference (``kanpde.validation.reference.fem``) needs; a
PINN samples a CSG shape directly and needs none.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from kanpde.errors import ConfigError
from kanpde.geometry.domain import Domain
from kanpde.geometry.mesh import MeshDomain
from kanpde.geometry.pieces import Segment

__all__ = ["mesh_domain"]

log = logging.getLogger("kanpde")

DOMAIN_GROUP = "domain"
_ELEMENT = {1: 1, 2: 2, 3: 4}  # gmsh element type of the linear simplex of each dimension


def mesh_domain(domain: Domain, size: float, *, path: str | Path | None = None, fallback: bool = False) -> MeshDomain:
    """A triangle (2-D) or tetrahedron (3-D) mesh of ``domain`` with elements of about ``size``.

    Args:
        domain: a ``Box``, ``Disk``/``Ball``, ``Polygon`` or a CSG combination of them.
        size: the target element size (a length > 0).
        path: also write the mesh there (the format by suffix; ``.msh`` keeps the part names as physical
            groups).
        fallback: without gmsh, mesh a 2-D shape by Delaunay triangles instead of raising (see the module doc).

    Returns a ``MeshDomain`` whose boundary parts carry the shape's part names.
    """
    if not isinstance(domain, Domain) or domain.spacetime or domain.dim not in (2, 3):
        raise ConfigError(
            f"mesh_domain meshes a 2-D or 3-D spatial shape (Box, Disk, Polygon, CSG); got {domain!r}. For a "
            "space-time domain, mesh the spatial shape"
        )
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) or size <= 0:
        raise ConfigError(f"mesh_domain size must be a length > 0; got {size!r}")
    if size > domain.diameter:
        raise ConfigError(
            f"mesh_domain size {size} is larger than the shape itself (diameter {domain.diameter:.3g}); pass a "
            "fraction of it, e.g. size=diameter/20"
        )
    try:
        import gmsh
    except ImportError:
        if fallback and domain.dim == 2:
            return _without_gmsh(domain, float(size), path)
        raise ConfigError(
            f"mesh_domain needs gmsh to mesh {domain!r}: pip install gmsh (or pip install 'kanpde[mesh]')"
            + ("" if fallback or domain.dim != 2 else "; or pass fallback=True for a Delaunay mesh of a 2-D shape")
        ) from None
    with _session(gmsh) as gmsh:
        try:
            _build(gmsh, domain.describe(), domain.dim)
            gmsh.model.occ.synchronize()
            gmsh.option.setNumber("Mesh.MeshSizeMax", float(size))
            gmsh.model.mesh.generate(domain.dim)
            points, tag_index = _nodes(gmsh, domain.dim)
            cells = _elements(gmsh, domain.dim, -1, tag_index)
            parts = _name_boundary(gmsh, domain, tag_index, points, float(size))
            if path is not None:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                gmsh.write(str(path))
        except ConfigError:
            raise
        except Exception as err:  # gmsh reports every failure as a bare Exception
            raise ConfigError(
                f"gmsh could not mesh {domain!r} with size {size} ({err}); check the shape (parts that touch in a "
                "point or a line are hard for OpenCASCADE), the size, and that path has a suffix gmsh writes (.msh)"
            ) from None
    source = repr(str(path)) if path is not None else f"gmsh mesh of {domain!r}"
    return MeshDomain(points, cells, parts, axes=domain.axes, source=source)


@contextmanager
def _session(gmsh: object) -> Iterator[object]:
    """gmsh, initialized (and finalized after) unless it already was, quiet, in a fresh model."""
    own = not gmsh.isInitialized()
    if own:
        gmsh.initialize(readConfigFiles=False, interruptible=False)
    options = {
        "General.Terminal": 0,
        "Mesh.MeshSizeFromPoints": 0,
        "Mesh.MeshSizeFromCurvature": 0,
        "Mesh.MeshSizeMin": 0,
    }
    saved = {k: gmsh.option.getNumber(k) for k in (*options, "Mesh.MeshSizeMax")}
    gmsh.model.add("kanpde")
    try:
        for key, value in options.items():
            gmsh.option.setNumber(key, value)
        yield gmsh
    finally:
        gmsh.model.remove()
        for key, value in saved.items():
            gmsh.option.setNumber(key, value)
        if own:
            gmsh.finalize()


def _build(gmsh: object, desc: dict, dim: int) -> list[tuple[int, int]]:
    """The OpenCASCADE entities (dim, tag) of a shape description."""
    occ = gmsh.model.occ
    kind = desc.get("kind")
    if kind == "box":
        lo, hi = np.asarray(desc["lower"], float), np.asarray(desc["upper"], float)
        if dim == 2:
            return [(2, occ.addRectangle(lo[0], lo[1], 0.0, *(hi - lo)))]
        return [(3, occ.addBox(*lo, *(hi - lo)))]
    if kind == "disk":
        c, r = [float(v) for v in desc["center"]], float(desc["radius"])
        return [(2, occ.addDisk(c[0], c[1], 0.0, r, r))] if dim == 2 else [(3, occ.addSphere(*c, r))]
    if kind == "polygon":
        corners = [occ.addPoint(float(x), float(y), 0.0) for x, y in desc["vertices"]]
        lines = [occ.addLine(corners[i], corners[(i + 1) % len(corners)]) for i in range(len(corners))]
        return [(2, occ.addPlaneSurface([occ.addCurveLoop(lines)]))]
    if kind == "csg":
        a, b = _build(gmsh, desc["a"], dim), _build(gmsh, desc["b"], dim)
        op = {"union": occ.fuse, "intersection": occ.intersect, "difference": occ.cut}[desc["op"]]
        out, _ = op(a, b)
        if not out:
            raise ConfigError(f"mesh_domain: the CSG {desc['op']} in gmsh is empty; check that the shapes overlap")
        return out
    raise ConfigError(
        f"mesh_domain builds box, disk/ball, polygon and csg shapes; got kind {kind!r}. Mesh other shapes in gmsh "
        "and read the file with MeshDomain.read"
    )


def _nodes(gmsh: object, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, dim) node coordinates, and the gmsh node tag -> row lookup."""
    tags, coords, _ = gmsh.model.mesh.getNodes()
    tags = np.asarray(tags, dtype=np.int64)
    lookup = np.full(int(tags.max()) + 1, -1, dtype=np.int64)
    lookup[tags] = np.arange(len(tags))
    return np.asarray(coords, dtype=np.float64).reshape(-1, 3)[:, :dim], lookup


def _elements(gmsh: object, dim: int, tag: int, lookup: np.ndarray) -> np.ndarray:
    """(k, dim + 1) linear simplices of dimension ``dim`` on entity ``tag`` (-1: all), as node rows."""
    types, _, nodes = gmsh.model.mesh.getElements(dim, tag)
    for t, conn in zip(types, nodes):
        if int(t) == _ELEMENT[dim]:
            return lookup[np.asarray(conn, dtype=np.int64).reshape(-1, dim + 1)]
    return np.zeros((0, dim + 1), dtype=np.int64)


def _name_boundary(
    gmsh: object, domain: Domain, lookup: np.ndarray, points: np.ndarray, size: float
) -> dict[str, np.ndarray]:
    """Physical groups named after the shape's parts on the boundary entities; returns part -> facets."""
    d = domain.dim
    cells = gmsh.model.getEntities(d)
    gmsh.model.addPhysicalGroup(d, [t for _, t in cells], name=DOMAIN_GROUP)
    boundary = gmsh.model.getBoundary(cells, combined=True, oriented=False, recursive=False)
    by_name: dict[str, list[int]] = {}
    facets: dict[int, np.ndarray] = {}
    for _, tag in boundary:
        facets[abs(tag)] = _elements(gmsh, d - 1, abs(tag), lookup)
        if len(facets[abs(tag)]) == 0:
            continue
        names = _entity_names(domain, points[facets[abs(tag)]].mean(axis=1), size)
        for name in names:
            by_name.setdefault(name, []).append(abs(tag))
    parts = {}
    for name, tags in sorted(by_name.items()):
        gmsh.model.addPhysicalGroup(d - 1, tags, name=name)
        parts[name] = np.concatenate([facets[t] for t in tags])
    return parts


def _entity_names(domain: Domain, centroids: np.ndarray, size: float) -> frozenset[str]:
    """The part names most facet centroids of one boundary entity agree on (see the module doc)."""
    votes = Counter(_piece_names(domain, centroids, size))
    return votes.most_common(1)[0][0]


def _piece_names(domain: Domain, x: np.ndarray, size: float) -> list[frozenset[str]]:
    """For each facet centroid, the names of the boundary piece(s) nearest to it, among those that bound the
    domain there (CSG keeps only parts of its operands' pieces; if none does, among all pieces) and whose
    extent (the bounding box of its points, widened by a quarter of an element) holds it."""
    pieces = domain.pieces()
    tol = 1e-6 * domain.diameter
    xt = torch.as_tensor(x, dtype=torch.float64)
    near = np.full((len(x), len(pieces)), np.inf)
    kept = np.zeros((len(x), len(pieces)), dtype=bool)
    for i, piece in enumerate(pieces):
        with torch.no_grad():
            value = piece.trimmed(xt)
            value = piece.plain(xt) if value is None else value
        ends = piece.sample(1024, "sobol", np.random.default_rng(0))[0]
        reach = 0.25 * size
        within = np.all((x >= ends.min(axis=0) - reach) & (x <= ends.max(axis=0) + reach), axis=1)
        near[:, i] = np.where(within, np.abs(value.numpy()[:, 0]), np.inf)
        kept[:, i] = domain.keep(i, x)
    chosen = np.where(kept, near, np.inf)
    fallback = ~np.isfinite(chosen.min(axis=1))
    chosen[fallback] = near[fallback]
    best = chosen.min(axis=1, keepdims=True)
    match = chosen <= best + tol
    return [frozenset().union(*(pieces[i].names for i in np.flatnonzero(row))) for row in match]


# --- without gmsh (2-D) ----------------------------------------------------------------------------------------
def _without_gmsh(domain: Domain, size: float, path: str | Path | None) -> MeshDomain:
    """2-D: the Delaunay triangles (scipy) of points spaced about ``size`` on every boundary piece (with the
    ends of straight edges) and of a triangular lattice inside, at least size / 2 from the boundary, kept
    where their centroid lies inside; facets named from the pieces as with gmsh. A rougher mesh than gmsh's
    (corners where two curves meet are cut by up to an element), but one with the shape's parts."""
    log.info("mesh_domain(%r): gmsh is not installed; a Delaunay mesh of boundary and lattice points", domain)
    from scipy.spatial import Delaunay

    points = _fallback_points(domain, size)
    tri = Delaunay(points).simplices
    corners = points[tri]
    area = 0.5 * np.abs(np.linalg.det(corners[:, 1:] - corners[:, :1]))
    keep = domain.inside(corners.mean(axis=1)) & (area > 1e-8 * size**2)
    bare = MeshDomain(points, tri[keep], axes=domain.axes, source=f"Delaunay mesh of {domain!r}")
    names = _piece_names(domain, bare.points[bare.facets].mean(axis=1), size)
    parts = {n: bare.facets[[n in s for s in names]] for n in sorted(set().union(*names))}
    mesh = MeshDomain(bare.points, bare.cells, parts, axes=domain.axes, source=bare.source)
    if path is not None:
        mesh.write(path)
    return mesh


def _fallback_points(domain: Domain, size: float) -> np.ndarray:
    """Boundary points (kept parts of every piece, straight edges' ends) and lattice points inside."""
    rng = np.random.default_rng(0)
    edge = []
    for i, piece in enumerate(domain.pieces()):
        x, _ = piece.sample(max(4, math.ceil(piece.measure / size)), "grid", rng)
        edge.append(x[domain.keep(i, x)])
        if isinstance(piece, Segment):
            ends = np.array([piece.a, piece.b], dtype=np.float64)
            edge.append(ends[domain.contains(ends)])
    edge_points = np.concatenate(edge)
    rows = np.arange(domain.lower[1], domain.upper[1] + size, size * math.sqrt(3) / 2)
    cols = np.arange(domain.lower[0], domain.upper[0] + size, size)
    lattice = np.array([(x + (j % 2) * size / 2, y) for j, y in enumerate(rows) for x in cols])
    inner = lattice[domain.inside(lattice, margin=size / 2)]
    points = np.concatenate([edge_points, inner])
    from scipy.spatial import cKDTree

    close = cKDTree(points).query_pairs(0.25 * size, output_type="ndarray")
    drop = np.unique(close.max(axis=1)) if len(close) else np.zeros(0, dtype=np.int64)
    return np.delete(points, drop, axis=0)
