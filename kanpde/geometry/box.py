"""Domains: intervals and boxes of any dimension with named boundary parts, and evaluation grids.

A ``Box`` in ``d`` dimensions has ``2 d`` faces. Each face has a generic name, ``"{axis}_min"`` and
``"{axis}_max"`` (axis names default to ``x, y, z`` up to three dimensions, ``x0, x1, ...`` beyond),
and in one and two dimensions the familiar aliases ``left, right`` and ``bottom, top``. The part
``"boundary"`` is the union of all faces. On a space-time box (at least one space axis, then a last axis
named ``t``) the part ``"space_boundary"`` is every face but ``t_min`` and ``t_max``: the spatial walls, for
all times. Conditions are attached to these names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.domain import BoundarySample, Domain, default_axes
from kanpde.geometry.pieces import Piece, Plane
from kanpde.geometry.sampling import Seed, as_rng, check_method, sample_box, split_count

__all__ = ["Box", "Interval", "Face", "Grid", "BoundarySample"]

SPACE_BOUNDARY = "space_boundary"

_ALIASES = {
    1: {"left": ("x_min",), "right": ("x_max",)},
    2: {"left": ("x_min",), "right": ("x_max",), "bottom": ("y_min",), "top": ("y_max",)},
}


@dataclass(frozen=True)
class Face:
    """One face of a box: the points where coordinate ``axis`` equals its lower (side 0) or upper (side 1) bound."""

    axis: int
    side: int
    name: str


@dataclass(frozen=True)
class Grid:
    """A tensor-product grid: one 1-D array of coordinates per axis (``indexing="ij"`` order).

    ``points()`` lists the nodes as an (N, d) array with the last axis varying fastest, so a field on
    the grid reshapes to ``shape`` without copying.
    """

    axes: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        axes = tuple(np.asarray(a, dtype=np.float64) for a in self.axes)
        if not axes or any(a.ndim != 1 or a.size < 1 for a in axes):
            raise ShapeError(
                f"Grid.axes must be a non-empty sequence of non-empty 1-D arrays; got shapes {[np.shape(a) for a in self.axes]}"
            )
        object.__setattr__(self, "axes", axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.axes)

    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def points(self) -> np.ndarray:
        """(N, d) grid nodes, float64."""
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)


class Box(Domain):
    """An axis-aligned box ``[lower_0, upper_0] x ... x [lower_{d-1}, upper_{d-1}]``.

    Args:
        lower, upper: the corners, one number per dimension, with ``lower < upper`` on every axis.
        axes: optional names of the coordinates (default ``x, y, z`` or ``x0, x1, ...``); they name the
            faces (``"y_max"``) and label plots and exports.
        name: optional name of the part holding all its faces (useful in CSG: ``Box(..., name="outer") -
            Disk(..., name="hole")`` has parts ``outer`` and ``hole``).

    Example: ``Box([-1, -1], [1, 1])`` is the square of the Poisson problems; its parts are
    ``left, right, bottom, top`` (= ``x_min, x_max, y_min, y_max``) and ``boundary``.
    ``Box([0, 0, 0], [1, 1, 2], axes=("x", "y", "t"))`` has ``x_min`` ... ``t_max``, ``boundary`` (all six
    faces) and ``space_boundary`` (the four x and y faces: ``Dirichlet("space_boundary", 0.0)`` holds the
    walls at zero while ``Initial(g)`` sets ``t_min``).
    """

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        *,
        axes: Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        lo = _as_vector(lower, "Box.lower")
        hi = _as_vector(upper, "Box.upper")
        if lo.size != hi.size:
            raise ShapeError(
                f"Box.lower and Box.upper must have the same length; got {lo.size} and {hi.size} "
                f"(lower={lo.tolist()}, upper={hi.tolist()})"
            )
        if lo.size == 0:
            raise ShapeError("Box needs at least one dimension; got empty lower and upper")
        if not np.all(lo < hi):
            raise ConfigError(
                f"Box must have lower < upper on every axis; got lower={lo.tolist()}, upper={hi.tolist()} "
                "(swap the bounds of the axes where lower >= upper)"
            )
        d = lo.size
        if axes is None:
            axes = default_axes(d)
        axes = tuple(axes)
        if len(axes) != d or len(set(axes)) != d or not all(isinstance(a, str) and a for a in axes):
            raise ConfigError(f"Box.axes must be {d} distinct non-empty names; got {axes!r}")
        self.lower, self.upper, self.axes = lo, hi, axes
        self._faces = {
            f"{name}_{side_name}": Face(axis, side, f"{name}_{side_name}")
            for axis, name in enumerate(axes)
            for side, side_name in enumerate(("min", "max"))
        }
        aliases = _ALIASES.get(d, {}) if axes == ("x", "y", "z")[:d] else {}
        self._parts: dict[str, tuple[Face, ...]] = {n: (f,) for n, f in self._faces.items()}
        self._parts.update({alias: tuple(self._faces[n] for n in names) for alias, names in aliases.items()})
        if name is not None:
            if not isinstance(name, str) or not name or name in self._parts or name in ("boundary", SPACE_BOUNDARY):
                raise ConfigError(f"Box.name must be a new non-empty part name; got {name!r}")
            self._parts[name] = tuple(self._faces.values())
        self.name = name
        self._parts["boundary"] = tuple(self._faces.values())
        if self.spacetime:
            self._parts[SPACE_BOUNDARY] = tuple(f for f in self._faces.values() if f.axis < d - 1)
        self._pieces = tuple(
            Plane(
                frozenset(n for n, faces in self._parts.items() if face in faces and n != "boundary"),
                1.0,
                face.axis,
                float(hi[face.axis] if face.side else lo[face.axis]),
                -1.0 if face.side else 1.0,
                tuple(lo.tolist()),
                tuple(hi.tolist()),
            )
            for face in self._faces.values()
        )

    # --- geometry -------------------------------------------------------------------------------
    @property
    def spacetime(self) -> bool:
        """Whether this is a space-time box: at least one space axis, then a last axis named ``t``."""
        return self.dim >= 2 and self.axes[-1] == "t"

    @property
    def parts(self) -> tuple[str, ...]:
        """The names conditions can be attached to."""
        return tuple(self._parts)

    def part(self, name: str) -> tuple[Face, ...]:
        """The faces of a named part; a ``ConfigError`` lists the valid names if ``name`` is unknown."""
        try:
            return self._parts[name]
        except (KeyError, TypeError):
            why = ""
            if name == SPACE_BOUNDARY:
                why = (
                    f" ({SPACE_BOUNDARY!r} is the spatial boundary of a space-time box, whose last axis is named 't' "
                    f"after at least one space axis; this one's axes are {', '.join(self.axes)})"
                )
            raise ConfigError(
                f"unknown boundary part {name!r}{why}; this {self!r} has parts {', '.join(self.parts)}"
            ) from None

    def contains(self, x: np.ndarray, *, tol: float = 0.0) -> np.ndarray:
        """(n,) boolean: which points of x: (n, d) lie in the closed box (widened by ``tol``)."""
        x = np.asarray(x)
        return np.all((x >= self.lower - tol) & (x <= self.upper + tol), axis=1)

    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        x = np.asarray(x)
        return np.all((x > self.lower + margin) & (x < self.upper - margin), axis=1)

    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    def check_part(self, part: str) -> None:
        self.part(part)

    def part_pieces(self, part: str) -> tuple[int, ...]:
        faces = list(self._faces.values())
        return tuple(faces.index(f) for f in self.part(part))

    def evaluation_points(self, n: int | None = None) -> Grid:
        """The node grid on which errors are measured (``n`` per axis; 101 up to 2-D, 33 in 3-D, 9 beyond)."""
        return self.grid(n if n is not None else 101 if self.dim <= 2 else 33 if self.dim == 3 else 9)

    def __mul__(self, other: Domain) -> Domain:
        """A box times a time interval is a space-time box (``Box(...) * Interval(0, 1, axis="t")``)."""
        if isinstance(other, Box) and other.dim == 1 and other.axes == ("t",) and "t" not in self.axes:
            return Box(np.append(self.lower, other.lower), np.append(self.upper, other.upper), axes=(*self.axes, "t"))
        return super().__mul__(other)

    def __repr__(self) -> str:
        return f"Box(lower={self.lower.tolist()}, upper={self.upper.tolist()})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Box)
            and self.axes == other.axes
            and np.array_equal(self.lower, other.lower)
            and np.array_equal(self.upper, other.upper)
        )

    __hash__ = None  # type: ignore[assignment]

    def describe(self) -> dict:
        """A JSON-ready description (``kanpde.geometry.from_description`` rebuilds it)."""
        desc = {"kind": "box", "lower": self.lower.tolist(), "upper": self.upper.tolist(), "axes": list(self.axes)}
        if self.name is not None:
            desc["name"] = self.name
        return desc

    # --- sampling -------------------------------------------------------------------------------
    def sample(self, n: int, *, method: str = "sobol", seed: Seed = 0) -> np.ndarray:
        """``n`` interior collocation points, shape (n, d), float64.

        method: ``"sobol"`` (default), ``"lhs"``, ``"random"`` or ``"grid"`` (cell centres of a uniform
        grid with about ``n`` points); seed: an int or a ``numpy.random.Generator``.
        """
        return sample_box(self.lower, self.upper, n, check_method(method), as_rng(seed))

    def sample_boundary(self, part: str, n: int, *, method: str = "sobol", seed: Seed = 0) -> BoundarySample:
        """About ``n`` points on a named boundary part, split over its faces in proportion to their area.

        ``"grid"`` places equally spaced points on each face including its edges (so corners are
        sampled). In one dimension a face is a single point and is returned once.
        """
        faces = self.part(part)
        check_method(method)
        rng = as_rng(seed)
        if self.dim == 1:
            counts = np.ones(len(faces), dtype=int)
        else:
            areas = np.array([np.prod(np.delete(self.upper - self.lower, f.axis)) for f in faces])
            counts = split_count(max(int(n), len(faces)), areas)
        xs, normals = [], []
        for face, m in zip(faces, counts):
            lo, hi = np.delete(self.lower, face.axis), np.delete(self.upper, face.axis)
            if self.dim == 1:
                pts = np.zeros((1, 0))
            elif method == "grid":
                pts = _face_grid(lo, hi, int(m))
            else:
                pts = sample_box(lo, hi, int(m), method, rng)
            value = self.upper[face.axis] if face.side else self.lower[face.axis]
            x = np.insert(pts, face.axis, value, axis=1)
            normal = np.zeros_like(x)
            normal[:, face.axis] = 1.0 if face.side else -1.0
            xs.append(x)
            normals.append(normal)
        return BoundarySample(np.concatenate(xs), np.concatenate(normals))

    def grid(self, n: int | Sequence[int], *, cells: bool = False) -> Grid:
        """A uniform grid with ``n`` points per axis (an int, or one per axis).

        ``cells=False``: nodes including the boundary (``linspace``); ``cells=True``: cell centres of
        ``n`` cells per axis (strictly inside).
        """
        counts = [n] * self.dim if isinstance(n, (int, np.integer)) else list(n)
        if len(counts) != self.dim or any(
            not isinstance(c, (int, np.integer)) or c < (1 if cells else 2) for c in counts
        ):
            raise ConfigError(f"Box.grid(n) needs {self.dim} point counts >= {1 if cells else 2}; got n={n!r}")
        axes = []
        for lo, hi, c in zip(self.lower, self.upper, counts):
            axes.append(lo + (np.arange(c) + 0.5) * (hi - lo) / c if cells else np.linspace(lo, hi, c))
        return Grid(tuple(axes))


class Interval(Box):
    """The interval ``[a, b]``: a one-dimensional ``Box`` with parts ``left``, ``right`` and ``boundary``."""

    def __init__(self, a: float, b: float, *, axis: str = "x") -> None:
        super().__init__([a], [b], axes=(axis,))

    def __repr__(self) -> str:
        return f"Interval({self.lower[0]}, {self.upper[0]})"


def _as_vector(value: Sequence[float], field: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{field} must be a sequence of numbers; got {value!r}") from None
    if arr.ndim != 1:
        raise ShapeError(f"{field} must be a 1-D sequence of numbers (one per dimension); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{field} must be finite; got {arr.tolist()}")
    return arr


def _face_grid(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """About n equally spaced points on a face (a box of dimension d - 1), edges included."""
    k = lo.size
    m = max(2, round(n ** (1.0 / k)))
    axes = [np.linspace(a, b, m) for a, b in zip(lo, hi)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([a.ravel() for a in mesh], axis=1)
