"""Reference solutions for validation: a registry of builders, an HDF5 cache, interpolation onto points.

``reference(problem_or_name, points)`` returns the values a surrogate is measured against:

1. the problem's exact solution when it has one (``poisson_sin``, ``poisson_kan``, ``darcy_smooth``);
2. otherwise a registered reference (each built-in problem registers its own: ``darcy_piecewise``: finite
   volumes on 1024^2 cells; ``allen_cahn``: Fourier/ETDRK4 with 4096 modes), built once, cached in an HDF5 file keyed by problem
   name, parameters and resolution, and interpolated onto the points;
3. otherwise a ``ConfigError`` that says how to register one.

The cache file is ``$KANPDE_CACHE/references.h5`` when ``KANPDE_CACHE`` is set, else
``$XDG_CACHE_HOME/kanpde/references.h5`` (``~/.cache/kanpde/references.h5``); ``cache=`` overrides it
(a path, or ``False`` for no cache). A write goes to a temporary file that then replaces the cache, so
an interrupted run never leaves a half-written file; two processes writing at once may lose one entry,
which is then rebuilt the next time.

Register a reference for a problem of your own::

    def build(resolution, *, device=None, **params):
        sol = darcy_fv(my_coefficient, 1.0, n=resolution, device=device)
        return Reference.from_grid(sol.grid, sol.values, method=sol.method, wall_s=sol.wall_s)

    register_reference("my_darcy", build, resolution=1024, min_resolution=16)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import is_int
from kanpde.errors import ConfigError
from kanpde.geometry.box import Grid
from kanpde.pde.problem import Problem
from kanpde.validation.reference.interpolate import interpolate_grid, interpolate_periodic

__all__ = [
    "Reference",
    "ReferenceSpec",
    "register_reference",
    "registered_references",
    "load_reference",
    "reference",
    "cache_path",
    "CACHE_ENV",
]

logger = logging.getLogger("kanpde")

CACHE_ENV = "KANPDE_CACHE"
KINDS = ("grid", "periodic", "mesh")


@dataclass(frozen=True, eq=False)
class Reference:
    """A reference solution stored as arrays, evaluated at points by interpolation.

    kind: ``"grid"``: ``values`` at the nodes of a tensor grid ``axes`` covering the domain (walls
        included), interpolated multilinearly, one field or several (a trailing component axis);
        ``"periodic"``: ``axes = (x, t)`` with x the n nodes of a periodic grid and t the stored time
        levels, interpolated by the Fourier series in x (exact for a spectral solution) and by cubic
        Lagrange polynomials in t (exact on the levels);
        ``"mesh"``: ``axes = (points, cells)``, a simplicial mesh ((n, d) nodes, (m, d + 1) node numbers)
        with ``values`` (n,) at the nodes, interpolated linearly in each cell (a P1 finite-element field).
    axes: one 1-D coordinate array per axis, space first, time last (``"mesh"``: points and cells).
    values: (len(axes[0]), ..., len(axes[-1])) float64; ``"grid"`` also (len(axes[0]), ..., len(axes[-1]), c)
        for c components (u, v, p of a flow, in the order of the problem's outputs); ``"mesh"``: (n,).
    method, wall_s: how the reference was computed and how long it took.
    name, params, resolution: what it is a reference of (set by the registry).
    initial: for ``"periodic"``: the exact u(x, t0), used at t == t0 instead of the Fourier interpolant
        (a kinked initial condition would ring); not stored in the cache.
    """

    kind: str
    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    method: str = ""
    wall_s: float = 0.0
    name: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    resolution: int | None = None
    initial: Callable[[Tensor], Tensor] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Reference.kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if self.kind == "mesh":
            self._check_mesh()
            return
        axes = tuple(np.asarray(a, dtype=np.float64).reshape(-1) for a in self.axes)
        values = np.asarray(self.values, dtype=np.float64)
        nodes = tuple(a.size for a in axes)
        stacked = self.kind == "grid" and values.ndim == len(nodes) + 1 and values.shape[-1] >= 1
        if values.shape[: len(nodes)] != nodes or not (values.ndim == len(nodes) or stacked):
            also = f" or {(*nodes, 'c')} (c components)" if self.kind == "grid" else ""
            raise ConfigError(
                f"Reference.values must have shape {nodes}{also} (one entry per grid node); got {values.shape}"
            )
        if self.kind == "periodic" and len(axes) != 2:
            raise ConfigError(f"a periodic Reference needs axes (x, t); got {len(axes)} axes")
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "values", values)

    def _check_mesh(self) -> None:
        if len(self.axes) != 2:
            raise ConfigError(f"a mesh Reference needs axes (points, cells); got {len(self.axes)} arrays")
        points = np.asarray(self.axes[0], dtype=np.float64)
        cells = np.asarray(self.axes[1], dtype=np.int64)
        values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        if points.ndim != 2 or cells.ndim != 2 or cells.shape[1] != points.shape[1] + 1 or values.size != len(points):
            raise ConfigError(
                f"a mesh Reference needs points (n, d), cells (m, d + 1) and values (n,); got {points.shape}, "
                f"{cells.shape} and {np.shape(self.values)}"
            )
        object.__setattr__(self, "axes", (points, cells))
        object.__setattr__(self, "values", values)

    @classmethod
    def from_mesh(cls, points: np.ndarray, cells: np.ndarray, values: Tensor | np.ndarray, **kw: Any) -> Reference:
        """A ``"mesh"`` reference: a P1 field with ``values`` (n,) at the nodes ``points`` (n, d) of ``cells``."""
        return cls("mesh", (points, cells), _numpy(values).reshape(-1), **kw)

    @classmethod
    def from_grid(cls, grid: Grid, values: Tensor | np.ndarray, **kw: Any) -> Reference:
        """A ``"grid"`` reference from a :class:`~kanpde.Grid` and its values: (grid.shape) or (grid.size,)
        for one field, (*grid.shape, c) or (grid.size, c) for c components."""
        array = _numpy(values)
        if array.ndim in (2, grid.dim + 1) and array.size == grid.size * array.shape[-1] and array.size != grid.size:
            return cls("grid", grid.axes, array.reshape(*grid.shape, array.shape[-1]), **kw)
        if array.size != grid.size:
            raise ConfigError(
                f"Reference.from_grid: values must have shape {grid.shape} or {(*grid.shape, 'c')} for a grid of "
                f"{grid.size} nodes; got {array.shape}"
            )
        return cls("grid", grid.axes, array.reshape(grid.shape), **kw)

    @property
    def components(self) -> int:
        """The number of columns a call returns: c for a grid with a component axis, else 1."""
        return int(self.values.shape[-1]) if self.values.ndim > len(self.axes) else 1

    @classmethod
    def from_periodic(cls, x: np.ndarray, t: np.ndarray, values: Tensor | np.ndarray, **kw: Any) -> Reference:
        """A ``"periodic"`` reference from the n nodes x of a periodic grid, the time levels t and the
        (n, len(t)) values (e.g. of ``allen_cahn_spectral``)."""
        return cls("periodic", (x, t), _numpy(values), **kw)

    def __call__(self, points: Tensor | np.ndarray) -> Tensor:
        """The reference at points: (n, d) (space first, time last) as an (n, c) float64 tensor.

        c is :attr:`components`: 1 for a single field, else the length of the values' component axis.

        Returned on the device of ``points`` when it is a tensor. Points outside the domain (outside
        the time range for a periodic reference) raise a ``ConfigError``.
        """
        x = _numpy(points)
        if x.ndim != 2 or x.shape[1] != len(self.axes):
            raise ConfigError(
                f"reference points must have shape (n, {len(self.axes)}); got {x.shape} "
                f"(one row per point, coordinates {'x, t' if self.kind == 'periodic' else 'per axis'})"
            )
        if self.kind == "grid":
            out = interpolate_grid(self.axes, self.values, x)
        elif self.kind == "mesh":
            out = self._p1(x)
        else:
            out = interpolate_periodic(self.axes[0], self.axes[1], self.values, x, initial=self.initial)
        device = points.device if isinstance(points, Tensor) else "cpu"
        return torch.as_tensor(out, dtype=torch.float64).reshape(-1, self.components).to(device)

    def _p1(self, x: np.ndarray) -> np.ndarray:
        """The P1 field at points x: (n, d) (outside the mesh: the nearest cell's value, see ``FESolution``)."""
        from kanpde.validation.reference.fem import FESolution

        field = self.__dict__.get("_field")
        if field is None:
            from kanpde.geometry.mesh import MeshDomain

            field = FESolution(MeshDomain(self.axes[0], self.axes[1], source=f"reference {self.name}"), self.values)
            object.__setattr__(self, "_field", field)
        return field(x)


@dataclass(frozen=True)
class ReferenceSpec:
    """A registered reference builder.

    build: ``build(resolution, *, device=None, **params) -> Reference``.
    resolution: the default resolution (cells or modes per axis); ``min_resolution`` the smallest allowed.
    params: the parameters the reference depends on, with their defaults (the keys a caller may set).
    initial: the exact initial condition of a time-dependent problem (see ``Reference.initial``).
    version: bump it when the builder changes, so cached results of the old one are not reused.
    """

    name: str
    build: Callable[..., Reference]
    resolution: int
    min_resolution: int = 2
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    initial: Callable[[Tensor], Tensor] | None = None
    summary: str = ""
    version: int = 1


_REGISTRY: dict[str, ReferenceSpec] = {}


def register_reference(
    name: str,
    build: Callable[..., Reference],
    *,
    resolution: int,
    min_resolution: int = 2,
    params: Mapping[str, Any] | None = None,
    initial: Callable[[Tensor], Tensor] | None = None,
    summary: str = "",
    version: int = 1,
) -> ReferenceSpec:
    """Register ``build`` as the reference of the problem instance ``name`` (replacing an earlier one)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"register_reference: name must be an identifier such as 'darcy_piecewise'; got {name!r}")
    if not callable(build):
        raise ConfigError(f"register_reference({name!r}): build must be a function (resolution, **params) -> Reference")
    if (
        not (is_int(resolution) and resolution >= 1)
        or not (is_int(min_resolution) and min_resolution >= 1)
        or resolution < min_resolution
    ):
        raise ConfigError(
            f"register_reference({name!r}): resolution must be an int >= min_resolution >= 1; "
            f"got resolution={resolution!r}, min_resolution={min_resolution!r}"
        )
    spec = ReferenceSpec(
        name,
        build,
        int(resolution),
        int(min_resolution),
        MappingProxyType(dict(params or {})),
        initial,
        summary,
        int(version),
    )
    _REGISTRY[name] = spec
    return spec


def registered_references() -> dict[str, str]:
    """The names with a registered reference, with their summaries."""
    return {name: _REGISTRY[name].summary for name in sorted(_REGISTRY)}


def cache_path(cache: str | os.PathLike | None = None) -> Path:
    """The cache file: ``cache`` if given, else ``$KANPDE_CACHE/references.h5``, else the user cache folder."""
    if cache is not None:
        return Path(cache).expanduser()
    folder = os.environ.get(CACHE_ENV)
    if folder:
        return Path(folder).expanduser() / "references.h5"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "kanpde" / "references.h5"


def load_reference(
    name: str,
    *,
    resolution: int | None = None,
    params: Mapping[str, Any] | None = None,
    cache: str | os.PathLike | bool | None = None,
    device: str | torch.device | None = None,
) -> Reference:
    """The registered reference ``name``: read from the cache, or built and cached.

    resolution: cells or modes per axis (default: the registered one); params: values for the
    registered parameters; cache: a file path, ``None`` for the default file, ``False`` for none;
    device: where to build it (default CUDA when available).
    """
    spec = _spec(name)
    res = spec.resolution if resolution is None else resolution
    if not (is_int(res) and res >= 1) or res < spec.min_resolution:
        raise ConfigError(
            f"reference {name!r}: resolution must be an int >= {spec.min_resolution}; got resolution={resolution!r} "
            f"(the default, {spec.resolution}, is what validation uses)"
        )
    unknown = sorted(set(params or {}) - set(spec.params))
    if unknown:
        allowed = ", ".join(spec.params) or "none"
        raise ConfigError(f"reference {name!r}: unknown parameters {unknown}; it takes: {allowed}")
    full = {**spec.params, **(params or {})}
    key = _key(spec, full, int(res))
    path = None if cache is False else cache_path(None if cache is True else cache)
    ref = _read(path, name, key) if path is not None else None
    if ref is None:
        start = time.perf_counter()
        ref = spec.build(int(res), device=device, **full)
        logger.info(
            "built reference %s (resolution %d) in %.1f s: %s", name, res, time.perf_counter() - start, ref.method
        )
        ref = replace(ref, name=name, params=full, resolution=int(res))
        if path is not None:
            _write(path, name, key, ref)
    return replace(ref, initial=spec.initial)


def reference(
    problem_or_name: Problem | str,
    points: Tensor | np.ndarray,
    *,
    resolution: int | None = None,
    params: Mapping[str, Any] | None = None,
    cache: str | os.PathLike | bool | None = None,
    device: str | torch.device | None = None,
) -> Tensor:
    """The reference values of a problem at points: (n, d), as an (n, c) float64 tensor (c = 1 for one field).

    The exact solution when the problem has one, else its registered reference (see the module
    docstring). With a problem object, the reference's parameters come from ``problem.params``
    (those the reference depends on); ``params=`` sets them by name.
    """
    problem, name = _resolve(problem_or_name)
    if problem is not None and problem.exact is not None:
        x = torch.as_tensor(points, dtype=torch.float64)
        return problem.exact_values(x).to(torch.float64)
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(
            f"no reference for problem {name!r}: it has no exact solution and no registered reference "
            f"(registered: {known}). Define exact(self, x) on the problem, or register a builder with "
            f"kanpde.validation.register_reference({name!r}, build, resolution=...) where "
            "build(resolution, *, device=None, **params) returns a kanpde.validation.Reference"
        )
    spec = _REGISTRY[name]
    chosen = dict(params or {})
    if problem is not None and not chosen:
        chosen = {k: v for k, v in dict(problem.params).items() if k in spec.params}
    ref = load_reference(name, resolution=resolution, params=chosen, cache=cache, device=device)
    return ref(points)


# --- registry internals --------------------------------------------------------------------------------
def _resolve(problem_or_name: Problem | str) -> tuple[Problem | None, str]:
    """The problem (built from its instance name when it has one) and the name references are keyed by."""
    if isinstance(problem_or_name, Problem):
        return problem_or_name, problem_or_name.name or type(problem_or_name).__name__
    if not isinstance(problem_or_name, str):
        raise ConfigError(f"reference() needs a kanpde.Problem or a problem name; got {problem_or_name!r}")
    from kanpde.pde.registry import instance, instances  # the built-in problems register when kanpde is imported

    name = problem_or_name
    if name in instances():
        return instance(name), name
    if name in _REGISTRY:
        return None, name
    known = ", ".join(sorted(set(instances()) | set(_REGISTRY)))
    raise ConfigError(f"unknown problem {name!r}; known problems: {known} (see `kanpde list`)")


def _spec(name: str) -> ReferenceSpec:
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(
            f"no registered reference {name!r}; registered: {known}. "
            f"Register one with kanpde.validation.register_reference({name!r}, build, resolution=...)"
        )
    return _REGISTRY[name]


def _key(spec: ReferenceSpec, params: Mapping[str, Any], resolution: int) -> tuple[str, str]:
    """(hash, description) of what a cached entry depends on."""
    text = json.dumps(
        {"params": dict(params), "resolution": resolution, "version": spec.version}, sort_keys=True, default=repr
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16], text


def _numpy(x: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


# --- HDF5 cache ----------------------------------------------------------------------------------------
def _read(path: Path, name: str, key: tuple[str, str]) -> Reference | None:
    if not path.exists():
        return None
    import h5py

    try:
        with h5py.File(path, "r") as f:
            group = f.get(f"{name}/{key[0]}")
            if group is None or group.attrs.get("key") != key[1]:
                return None
            axes = tuple(np.asarray(group[f"axis{i}"]) for i in range(int(group.attrs["ndim"])))
            return Reference(
                str(group.attrs["kind"]),
                axes,
                np.asarray(group["values"]),
                method=str(group.attrs["method"]),
                wall_s=float(group.attrs["wall_s"]),
                name=name,
                params=json.loads(group.attrs["params"]),
                resolution=int(group.attrs["resolution"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        logger.warning("reference cache %s unreadable (%s); rebuilding %s", path, exc, name)
        return None


def _write(path: Path, name: str, key: tuple[str, str], ref: Reference) -> None:
    """Add one entry: copy the old file and the new entry to a temporary file, then rename it over."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as out:
            _copy_old(path, out, skip=f"{name}/{key[0]}")
            group = out.require_group(name).create_group(key[0])
            for i, axis in enumerate(ref.axes):
                group.create_dataset(f"axis{i}", data=axis)
            group.create_dataset("values", data=ref.values)
            group.attrs.update(
                {
                    "key": key[1],
                    "kind": ref.kind,
                    "ndim": len(ref.axes),
                    "method": ref.method,
                    "wall_s": ref.wall_s,
                    "params": json.dumps(dict(ref.params), default=repr),
                    "resolution": int(ref.resolution or 0),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                }
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache may be shared through KANPDE_CACHE
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _copy_old(path: Path, out: Any, *, skip: str) -> None:
    if not path.exists():
        return
    import h5py

    try:
        with h5py.File(path, "r") as old:
            for name, group in old.items():
                target = out.require_group(name)
                for key in group:
                    if f"{name}/{key}" != skip:
                        old.copy(group[key], target, name=key)
    except OSError as exc:
        logger.warning("reference cache %s unreadable (%s); starting a new file", path, exc)
