"""Export a solution to HDF5, VTK (``.vtu``, ``.vti``) and XDMF for ParaView: ``kanpde.export(sol, path)``.

What is written is sampled here (:func:`sample`): the points (a grid, or the nodes of a user's mesh),
the fields at them and the metadata; :mod:`kanpde.io.writers` turns that into files. Fields of a
scalar problem:

* ``u``: the trained field, (N,);
* ``reference``: the exact solution (or a numerical reference) where one is known;
* ``error``: ``u - reference``, signed, pointwise;
* ``residual``: the PDE residual ``problem.residual(u, x)`` (needs the problem).

A system writes each component under its name (``u``, ``v``, ``p``), each declared vector
(``Problem.vectors``) as a VTK vector (``velocity``: 3 components, zero-padded in 2-D), and
``reference_<name>``, ``error_<name>`` for each of them where a reference is known; a residual of
several equations as ``residual_0``, ``residual_1``, ... (see :mod:`kanpde.io.fields`).

An inverse problem adds each identified coefficient field (``kanpde.UnknownField``) under its name
(``a``), with ``reference_a`` and ``error_a`` where the problem declares its truth (``exact=``); the
identified scalars (``kanpde.Unknown``) are in the metadata (``unknowns``, ``unknowns_exact``), which the
``.h5`` also has as attributes ``unknown_<name>`` and ``exact_<name>``.

A problem is time-dependent when its last axis is named ``"t"`` (space first, time last). Its exports
hold every point of space-time with time varying fastest (row ``s * nt + k`` is space node ``s`` at
time slice ``k``), so ``.h5``/``.vtu``/``.vti`` show a space-time field and ``.xdmf`` one step per time
slice, which ParaView plays as an animation.

Off a box (a disk, a polygon, a CSG shape, a ``MeshDomain``, or one of these in time) ``.vtu``, ``.xdmf``
and ``.h5`` are written on a mesh of the shape: a ``MeshDomain``'s own cells, else a gmsh mesh when gmsh
is installed, else a Delaunay triangulation (:mod:`kanpde.io.triangulate`), with cells about one grid
spacing wide (``resolution`` points per axis of the bounding box); a shape in time is meshed in space and
repeated at every time slice (wedges in a ``.vtu``, one step per slice in an ``.xdmf``). A ``.vti`` (image
data, a uniform grid) holds the node grid of the bounding box, each field NaN outside the domain, and a
field ``inside`` (1 in the closed domain, 0 outside) to threshold on in ParaView. A run loaded without its
problem (``kanpde.load(DIR)``) is exported on its shape rebuilt from the saved description.

Practical hint: ``--resolution 512`` is about 0.3 s of evaluation for a small KAN; a user mesh gives the
fields at its nodes (``kanpde.export(sol, "on_mesh.vtu", mesh="part.msh")``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from kanpde._version import __version__
from kanpde.errors import ConfigError
from kanpde.geometry.box import Box, Grid
from kanpde.io.fields import check_names, named_fields, unknown_arrays
from kanpde.io.files import jsonable
from kanpde.io.layouts import (
    bounding_grid,
    box_grid,
    check_points,
    export_domain,
    grid_cells,
    locate,
    read_mesh,
    time_dependent,
)
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
    "export_domain",
    "sample_formats",
    "grid_cells",
    "read_mesh",
    "FORMATS",
    "check_format",
]

FORMATS = (".h5", ".vtu", ".vti", ".xdmf")
CHUNK = 8192


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
            default: the problem's evaluation grid. Off a box: of its bounding box; the mesh of the shape
            has cells about one such grid spacing wide.
        mesh: a mesh file meshio reads (``.msh``, ``.vtu``, ...) or a ``meshio.Mesh``: export at its
            nodes instead of a grid (its dimension must be the problem's space dimension).

    Returns the files written. Each is written under a temporary name and renamed, so an interrupted
    export leaves no partial file and an existing file is replaced only by a complete one.
    """
    suffix = check_export(sol, path, resolution=resolution, mesh=mesh)
    return write(sample(sol, resolution=resolution, mesh=mesh, masked=suffix == ".vti"), path)


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
    suffix = check_format(path)
    check_names(sol.components, sol.vectors, unknown_fields(sol))
    check_points(export_domain(sol), suffix, problem=sol.problem, resolution=resolution, mesh=mesh)
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
    masked: bool = False,
) -> Sampled:
    """Evaluate the fields of ``sol`` on a grid, at a mesh's nodes, or on a mesh of its shape (see
    :func:`export` for the arguments).

    residual: also evaluate the PDE residual (skipped without a problem, noted in the metadata).
    masked: off a box, the node grid of the bounding box instead of a mesh of the shape, the fields NaN at
        the nodes outside the domain and a field ``inside`` (1.0 in, 0.0 out): what ``.vti`` files and
        plots show. No effect on a box or with ``mesh``.
    """
    check_names(sol.components, sol.vectors, unknown_fields(sol))
    domain = export_domain(sol)
    where = locate(sol.problem, domain, resolution=resolution, mesh=mesh, masked=masked)
    inside = where.inside
    fields, notes = field_values(sol, where.points if inside is None else where.points[inside], residual=residual)
    if inside is not None:
        fields = _masked(fields, inside)
    meta = metadata(sol, axes=domain.axes, on=where.on, fields=list(fields), notes=notes)
    return Sampled(
        where.points,
        fields,
        tuple(domain.axes),
        where.grid,
        where.cells,
        where.space_points,
        where.space_cells,
        where.times,
        meta,
    )


def sample_formats(
    sol: Solution,
    suffixes: Sequence[str],
    *,
    resolution: int | Sequence[int] | None = None,
    mesh: str | os.PathLike[str] | meshio.Mesh | None = None,
) -> dict[str, Sampled]:
    """Fields for each format suffix, sampled once per layout (off a box ``.vti`` takes the masked grid
    and the other formats the mesh of the shape; on a box all share one sample)."""
    masked = mesh is None and not isinstance(export_domain(sol), Box)
    found: dict[bool, Sampled] = {}
    out = {}
    for suffix in suffixes:
        key = masked and suffix == ".vti"
        if key not in found:
            found[key] = sample(sol, resolution=resolution, mesh=mesh, masked=key)
        out[suffix] = found[key]
    return out


def _masked(fields: dict[str, np.ndarray], inside: np.ndarray) -> dict[str, np.ndarray]:
    """Fields at the points inside (n_in, c) spread over all N points, NaN outside; plus ``inside``."""
    out = {}
    for name, values in fields.items():
        full = np.full((inside.size, values.shape[1]), np.nan)
        full[inside] = values
        out[name] = full
    out["inside"] = inside.astype(np.float64)[:, None]
    return out


def field_values(
    sol: Solution, points: np.ndarray, *, residual: bool = True
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The exported arrays at points (N, d), each (N, c) float64 (:func:`kanpde.io.fields.named_fields`:
    ``u``, ``reference``, ``error``, ``residual`` for a scalar problem; per component and vector for a
    system; then the identified unknown fields, :func:`unknown_values`), and notes on what is missing."""
    p = next(sol.model.parameters())
    x = torch.as_tensor(points, dtype=p.dtype, device=p.device)
    u = sol(x)
    notes = []
    ref = reference_values(sol.problem, x)
    if ref is None and sol.problem is not None:
        notes.append("no exact solution or reference: no reference or error fields")
    res = None
    if sol.problem is None:
        notes.append(
            "no problem attached (kanpde.load(DIR, problem=...) adds it): solution only, no reference or residual"
        )
    elif residual:
        res = residual_field(sol.problem, sol.model, x)
    centered = sol.problem.centered_columns if sol.problem is not None else ()
    fields, more = named_fields(u, ref, res, sol.components, sol.vectors, centered)
    return fields | unknown_values(sol, x), notes + more


def unknown_fields(sol: Solution) -> tuple[str, ...]:
    """The names of the coefficient fields ``sol`` identified (an inverse problem's ``kanpde.UnknownField``)."""
    found = sol.model.unknowns
    return () if found is None else tuple(found.fields)


def unknown_values(sol: Solution, x: Tensor) -> dict[str, np.ndarray]:
    """Each identified field at x: (N, d) as (N, 1) under its name, and where the problem knows the true
    field (``UnknownField(..., exact=)``) ``reference_<name>`` and ``error_<name>`` (identified - true)."""
    truths = {} if sol.problem is None else {u.name: u.exact for u in sol.problem.unknowns}
    out: dict[str, np.ndarray] = {}
    for arrays in unknown_arrays(unknown_fields(sol)):
        values = sol.unknowns[arrays.component](x).detach().cpu().double().numpy().reshape(-1, 1)
        out[arrays.value] = values
        exact = truths.get(arrays.component)
        if exact is not None:
            with torch.no_grad():
                truth = torch.as_tensor(exact(x)).detach().cpu().double().numpy().reshape(-1, 1)
            out[arrays.reference], out[arrays.error] = truth, values - truth
    return out


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
        spec, _ = discover_spec(
            lambda u, y: check_residual(problem.residual(u, y), y.shape[0], owner), model, x[:7], problem.layout
        )
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
            "components": list(sol.components),
            "vectors": {k: list(v) for k, v in sol.vectors.items()},
            **identified(sol),
            "time_dependent": time_dependent(axes),
            "on": on,
            "fields": fields,
            "notes": notes,
        }
    )


def identified(sol: Solution) -> dict[str, Any]:
    """An inverse problem's metadata: ``unknowns`` (each scalar's value, ``"field"`` for a field, as in
    report.json) and ``unknowns_exact`` (the true scalars the problem declares); empty without unknowns."""
    found = sol.unknowns
    if not found:
        return {}
    values = {name: v if isinstance(v, float) else "field" for name, v in found.items()}
    declared = () if sol.problem is None else sol.problem.unknowns
    exact = {u.name: float(u.exact) for u in declared if u.kind == "scalar" and u.exact is not None and u.name in found}
    return {"unknowns": values, "unknowns_exact": exact}


# --- points --------------------------------------------------------------------------------------------
def evaluation_grid(sol: Solution, resolution: int | Sequence[int] | None = None) -> Grid:
    """The grid an export uses: ``resolution`` points per axis over the domain, or the problem's evaluation
    grid; off a box, the node grid of its bounding box (the problem's evaluation points lie in it)."""
    domain = export_domain(sol)
    return box_grid(sol.problem, domain, resolution) if isinstance(domain, Box) else bounding_grid(domain, resolution)
