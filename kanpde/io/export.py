"""Export a solution to HDF5, VTK (``.vtu``, ``.vti``) and XDMF for ParaView: ``kanpde.export(sol, path)``.

What is written is sampled here (:func:`sample`): the points (a grid, or the nodes of a user's mesh),
the fields at them and the metadata; :mod:`kanpde.io.writers` turns that into files. Fields:

* ``u``: the trained field, (N,) or (N, c) for c components;
* ``reference``: the exact solution (or, later, a finite-difference reference) where one is known;
* ``error``: ``u - reference``, signed, pointwise;
* ``residual``: the PDE residual ``problem.residual(u, x)`` (needs the problem).

A problem is time-dependent when its last axis is named ``"t"`` (space first, time last). Its exports
hold every point of space-time with time varying fastest (row ``s * nt + k`` is space node ``s`` at
time slice ``k``), so ``.h5``/``.vtu``/``.vti`` show a space-time field and ``.xdmf`` one step per time
slice, which ParaView plays as an animation.

Practical hint: ``--resolution 512`` is about 0.3 s of evaluation for a small KAN; a user mesh gives the
fields at its nodes (``kanpde.export(sol, "on_mesh.vtu", mesh="part.msh")``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from kanpde._version import __version__
from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.box import Box, Grid
from kanpde.io.files import jsonable
from kanpde.io.sampled import Sampled
from kanpde.io.solution import Solution
from kanpde.pde.jetfield import discover_spec
from kanpde.pde.problem import Problem
from kanpde.pinn.loss import check_residual, residual_values

if TYPE_CHECKING:
    import meshio

__all__ = [
    "export",
    "check_export",
    "sample",
    "write",
    "Sampled",
    "reference_values",
    "evaluation_grid",
    "FORMATS",
    "check_format",
]

FORMATS = (".h5", ".vtu", ".vti", ".xdmf")
CHUNK = 8192

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


def export(
    sol: Solution,
    path: str | os.PathLike[str],
    *,
    resolution: int | Sequence[int] | None = None,
    mesh: str | os.PathLike[str] | meshio.Mesh | None = None,
) -> list[Path]:
    """Write ``sol`` to ``path``; the suffix picks the format: ``.h5``, ``.vtu``, ``.vti`` or ``.xdmf``.

    Args:
        sol: a solution from ``kanpde.solve`` or ``kanpde.load``.
        path: the file to write (its folder is created if needed). ``.xdmf`` also writes ``path`` with
            suffix ``.h5`` beside it (the XDMF file holds no data, only where it is in the ``.h5``).
        resolution: points per axis of a uniform node grid over the domain (an int, or one per axis);
            default: the problem's evaluation grid.
        mesh: a mesh file meshio reads (``.msh``, ``.vtu``, ...) or a ``meshio.Mesh``: export at its
            nodes instead of a grid (its dimension must be the problem's space dimension).

    Returns the files written. Each is written under a temporary name and renamed, so an interrupted
    export leaves no partial file and an existing file is replaced only by a complete one.
    """
    check_export(sol, path, resolution=resolution, mesh=mesh)
    return write(sample(sol, resolution=resolution, mesh=mesh), path)


def write(data: Sampled, path: str | os.PathLike[str]) -> list[Path]:
    """Write fields already sampled (:func:`sample`) to ``path`` in the format of its suffix; returns the
    files written. Sample once and write several formats this way."""
    from kanpde.io import writers

    target = Path(path)
    suffix = check_format(target)
    writers.check(data, suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    return writers.WRITERS[suffix](target, data)


def check_export(
    sol: Solution,
    path: str | os.PathLike[str],
    *,
    resolution: int | Sequence[int] | None = None,
    mesh: str | os.PathLike[str] | meshio.Mesh | None = None,
) -> str:
    """Every check :func:`export` makes before it evaluates anything; returns the format suffix."""
    from kanpde.io.writers import check_layout

    suffix = check_format(path)
    box = _box(sol)
    if mesh is not None and resolution is not None and not _time_dependent(box.axes):
        raise ConfigError("export(resolution=...) sets a grid and mesh= replaces the grid; pass one of them")
    check_layout(suffix, box.axes, evaluation_grid(sol, resolution) if mesh is None else None, on_mesh=mesh is not None)
    if mesh is not None:
        with warnings.catch_warnings():  # sample() warns about nodes outside the domain, once
            warnings.simplefilter("ignore")
            read_mesh(mesh, box.dim - 1 if _time_dependent(box.axes) else box.dim, box.axes, box)
    return suffix


def check_format(path: str | os.PathLike[str]) -> str:
    """The format suffix of ``path`` (lower case), or a ConfigError naming the ones supported."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"export path {str(path)!r} has suffix {suffix or '(none)'!r}; use one of {', '.join(FORMATS)} (the suffix picks the format)"
        )
    return suffix


def sample(
    sol: Solution,
    *,
    resolution: int | Sequence[int] | None = None,
    mesh: str | os.PathLike[str] | meshio.Mesh | None = None,
    residual: bool = True,
) -> Sampled:
    """Evaluate the fields of ``sol`` on a grid or at a mesh's nodes (see :func:`export` for the arguments).

    residual: also evaluate the PDE residual (skipped without a problem, noted in the metadata).
    """
    box = _box(sol)
    axes = box.axes
    timed = _time_dependent(axes)
    ds = box.dim - 1 if timed else box.dim
    if mesh is None:
        grid = _grid(sol, box, resolution)
        points = grid.points()
        space_shape = grid.shape[:-1] if timed else grid.shape
        times = grid.axes[-1] if timed else None
        space_points = (
            np.stack([m.ravel() for m in np.meshgrid(*grid.axes[:ds], indexing="ij")], axis=1) if timed else points
        )
        cells = _blocks(grid_cells(grid.shape))
        space_cells = _blocks(grid_cells(space_shape))
        on = f"grid {'x'.join(map(str, grid.shape))}"
    else:
        space_points, space_cells, name = read_mesh(mesh, ds, axes[:ds], box)
        grid, on = None, f"mesh {name}"
        if timed:
            times = _times(sol, box, resolution)
            points = np.concatenate(
                [np.repeat(space_points, times.size, axis=0), np.tile(times, space_points.shape[0])[:, None]], axis=1
            )
            cells = None
        else:
            times, points, cells = None, space_points, space_cells
    fields, notes = field_values(sol, points, residual=residual)
    meta = metadata(sol, axes=axes, on=on, fields=list(fields), notes=notes)
    return Sampled(points, fields, axes, grid, cells, space_points, space_cells, times, meta)


def field_values(
    sol: Solution, points: np.ndarray, *, residual: bool = True
) -> tuple[dict[str, np.ndarray], list[str]]:
    """``u``, ``reference``, ``error`` and ``residual`` at points (N, d), each (N, c) float64; and notes on what is missing."""
    p = next(sol.model.parameters())
    x = torch.as_tensor(points, dtype=p.dtype, device=p.device)
    u = sol(x)
    fields = {"u": u}
    notes = []
    ref = reference_values(sol.problem, x)
    if ref is not None:
        fields["reference"] = ref
        fields["error"] = u - ref
    elif sol.problem is not None:
        notes.append("no exact solution or reference: no reference or error fields")
    if sol.problem is None:
        notes.append(
            "no problem attached (kanpde.load(DIR, problem=...) adds it): solution only, no reference or residual"
        )
    elif residual:
        fields["residual"] = residual_field(sol.problem, sol.model, x)
    return {k: v.detach().cpu().to(torch.float64).numpy() for k, v in fields.items()}, notes


def reference_values(problem: Problem | None, x: Tensor) -> Tensor | None:
    """The reference solution at x: (N, d) as (N, out), or None: ``problem.reference_values`` (the exact
    solution, or the numerical reference a problem without one provides)."""
    if problem is None:
        return None
    with torch.no_grad():
        ref = problem.reference_values(x)
    return None if ref is None else torch.as_tensor(ref, dtype=x.dtype, device=x.device).reshape(x.shape[0], -1)


def residual_field(problem: Problem, model: torch.nn.Module, x: Tensor, chunk: int = CHUNK) -> Tensor:
    """The PDE residual at x: (N, d) as (N, m), in chunks; one pass where it covers the residual, else autograd.

    Autograd stays on either way: a hard condition with a function value differentiates it on x.
    """
    owner = type(problem).__name__
    spec = None
    if hasattr(model, "forward_jet") and x.shape[0]:
        spec, _ = discover_spec(lambda u, y: check_residual(problem.residual(u, y), y.shape[0], owner), model, x[:7])
    out = []
    with torch.enable_grad():
        for c in torch.split(x, chunk):
            out.append(residual_values(problem, model, c.detach().requires_grad_(True), spec).detach())
    return torch.cat(out)


def metadata(sol: Solution, *, axes: Sequence[str], on: str, fields: list[str], notes: list[str]) -> dict[str, Any]:
    """What an export says about itself: problem, parameters, surrogate, errors, status, kanpde version."""
    problem = sol.problem
    if problem is not None:
        name, params, desc = problem.name or type(problem).__name__, dict(problem.params), problem.describe()
    else:
        name, params, desc = (
            sol.info.get("problem"),
            sol.info.get("problem_params", {}),
            sol.info.get("problem_description"),
        )
    return jsonable(
        {
            "kanpde_version": __version__,
            "problem": name,
            "problem_params": params,
            "problem_description": desc,
            "surrogate": sol.model.describe(),
            "errors": dict(sol.errors),
            "status": sol.status.message,
            "reference": None
            if "reference" not in fields
            else "exact"
            if problem is not None and problem.exact is not None
            else "numerical",
            "axes": list(axes),
            "time_dependent": _time_dependent(axes),
            "on": on,
            "fields": fields,
            "notes": notes,
        }
    )


# --- points --------------------------------------------------------------------------------------------
def evaluation_grid(sol: Solution, resolution: int | Sequence[int] | None = None) -> Grid:
    """The grid an export uses: ``resolution`` points per axis over the domain, or the problem's evaluation grid."""
    return _grid(sol, _box(sol), resolution)


def _time_dependent(axes: Sequence[str]) -> bool:
    return len(axes) > 1 and axes[-1] == "t"


def _axes(sol: Solution) -> tuple[str, ...]:
    return _box(sol).axes


def _box(sol: Solution) -> Box:
    """The problem's domain; for a solution without one, the surrogate's input box with the saved axis names."""
    if sol.problem is not None:
        return sol.problem.domain
    saved = ((sol.info.get("problem_description") or {}).get("domain") or {}).get("axes")
    lower, upper = sol.model.lower.cpu().tolist(), sol.model.upper.cpu().tolist()
    return Box(lower, upper, axes=saved if saved and len(saved) == len(lower) else None)


def _grid(sol: Solution, box: Box, resolution: int | Sequence[int] | None) -> Grid:
    if resolution is not None:
        counts = [resolution] * box.dim if isinstance(resolution, (int, np.integer)) else list(resolution)
        if len(counts) != box.dim or any(
            isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 2 for c in counts
        ):
            raise ConfigError(
                f"export resolution must be an int >= 2 or {box.dim} of them (points per axis, boundary included); got {resolution!r}"
            )
        return box.grid(counts)
    if sol.problem is not None:
        return sol.problem.evaluation_grid()
    return box.grid(101 if box.dim <= 2 else 33 if box.dim == 3 else 9)  # Problem.evaluation_grid's default


def _times(sol: Solution, box: Box, resolution: int | Sequence[int] | None) -> np.ndarray:
    """(nt,) time slices for a mesh in time: ``resolution`` of them (its last entry), or the evaluation grid's."""
    if resolution is not None:
        n = resolution if isinstance(resolution, (int, np.integer)) else list(resolution)[-1]
        return _grid(sol, Box([box.lower[-1]], [box.upper[-1]], axes=("t",)), n).axes[0]
    return _grid(sol, box, None).axes[-1]


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
    mesh: str | os.PathLike[str] | meshio.Mesh, dim: int, axes: Sequence[str], box: Box
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]], str]:
    """The nodes (n, dim) and top-dimensional cell blocks of a mesh, checked against the problem's space dimension."""
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
    outside = int(
        np.sum(
            ~box.contains(
                np.concatenate([pts, np.broadcast_to(box.lower[dim:], (len(pts), box.dim - dim))], axis=1), tol=1e-9
            )
        )
    )
    if outside:
        warnings.warn(
            f"{outside} of {len(pts)} nodes of mesh {name!r} lie outside the problem's domain {box!r}; the surrogate is extrapolated there",
            stacklevel=3,
        )
    merged: dict[str, list[np.ndarray]] = {}
    for c, data in blocks:
        if dims[c] == mesh_dim:
            merged.setdefault(c, []).append(data)
    cells = [(c, np.concatenate(d).astype(np.int32 if len(pts) < 2**31 else np.int64)) for c, d in merged.items()]
    return pts, cells, name


def _cell_dim(cell_type: str) -> int:
    for prefix, d in _CELL_DIMS.items():
        if cell_type.startswith(prefix):
            return d
    raise ConfigError(
        f"mesh cell type {cell_type!r} is not supported for export; use a mesh of lines, triangles, quads, tetrahedra, hexahedra, wedges or pyramids"
    )
