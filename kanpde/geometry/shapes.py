"""Primitive shapes beside the box: disks and balls in any dimension, and polygons.

``Disk([0, 0], 1)`` is the unit disk; its boundary part is named ``name`` (default ``"circle"``, or
``"sphere"`` from three dimensions up). ``Polygon(vertices)`` is a simple polygon in the plane (an L-shape is
one); its edges are parts ``edge0``, ``edge1``, ... (edge i runs from vertex i to vertex i + 1) or the names
given in ``edges``, and its whole boundary is ``name`` (default ``"polygon"``). Vertices may come in either
orientation. Combine shapes with ``|``, ``&`` and ``-`` (``kanpde.geometry.csg``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.domain import Domain, default_axes
from kanpde.geometry.pieces import Piece, Segment, Sphere

__all__ = ["Disk", "Ball", "Polygon"]


class Disk(Domain):
    """The open ball ``|x - center| < radius`` in ``len(center)`` dimensions (a disk in 2-D).

    Args:
        center: one number per dimension (at least two).
        radius: > 0.
        name: the name of its boundary part (default ``"circle"`` in 2-D, ``"sphere"`` beyond).
        axes: coordinate names (default ``x, y, z``).
    """

    def __init__(
        self, center: Sequence[float], radius: float, *, name: str | None = None, axes: Sequence[str] | None = None
    ) -> None:
        c = _vector(center, f"{type(self).__name__}.center")
        if c.size < 2:
            raise ShapeError(
                f"{type(self).__name__}.center needs at least two coordinates; got {c.tolist()} (use Interval in 1-D)"
            )
        if not isinstance(radius, (int, float, np.floating, np.integer)) or not np.isfinite(radius) or radius <= 0:
            raise ConfigError(f"{type(self).__name__}.radius must be a finite number > 0; got {radius!r}")
        self.center, self.radius = c, float(radius)
        self.name = _part_name(name, "circle" if c.size == 2 else "sphere", type(self).__name__)
        self.axes = _axes(axes, c.size, type(self).__name__)
        self.lower, self.upper = c - radius, c + radius
        self._pieces = (Sphere(frozenset({self.name}), 1.0, tuple(c.tolist()), self.radius),)

    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        return np.linalg.norm(np.asarray(x) - self.center, axis=1) < self.radius - margin

    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    def describe(self) -> dict:
        return {
            "kind": "disk",
            "center": self.center.tolist(),
            "radius": self.radius,
            "name": self.name,
            "axes": list(self.axes),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(center={self.center.tolist()}, radius={self.radius})"


Ball = Disk
"""A ball in any dimension: the same shape as ``Disk`` (``Ball([0, 0, 0], 1)``)."""


class Polygon(Domain):
    """A simple polygon in the plane from its vertices (either orientation; not closed by repeating the first).

    Args:
        vertices: (m, 2) corner points, m >= 3, no edge crossing another.
        name: the part holding every edge (default ``"polygon"``).
        edges: optional names of the m edges (edge i runs from vertex i to vertex i + 1); default
            ``edge0 ... edge{m-1}``. Equal names make one part.
        axes: coordinate names (default ``x, y``).

    Example: ``Polygon([(0, 0), (1, 0), (1, 1), (-1, 1), (-1, -1), (0, -1)])`` is an L-shape with its
    re-entrant corner at the origin.
    """

    def __init__(
        self,
        vertices: Sequence[Sequence[float]],
        *,
        name: str | None = None,
        edges: Sequence[str] | None = None,
        axes: Sequence[str] | None = None,
    ) -> None:
        try:
            v = np.asarray(vertices, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"Polygon.vertices must be a list of (x, y) points; got {vertices!r}") from None
        if v.ndim != 2 or v.shape[1] != 2 or v.shape[0] < 3:
            raise ShapeError(f"Polygon.vertices must be at least 3 points (x, y), shape (m, 2); got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ConfigError(f"Polygon.vertices must be finite; got {v.tolist()}")
        _check_simple(v)
        area = _signed_area(v)
        if abs(area) <= 1e-14 * max(1.0, float(np.ptp(v, axis=0).max()) ** 2):
            raise ConfigError(
                f"Polygon.vertices enclose no area (all on one line or repeated); got {v.tolist()}: give at least "
                "three corners that are not collinear"
            )
        m = len(v)
        names = [f"edge{i}" for i in range(m)] if edges is None else list(edges)
        if len(names) != m or not all(isinstance(s, str) and s for s in names):
            raise ConfigError(f"Polygon.edges must be {m} non-empty names (one per edge); got {edges!r}")
        self.name = _part_name(name, "polygon", "Polygon")
        self.axes = _axes(axes, 2, "Polygon")
        self.vertices = v
        self.edge_names = tuple(names)
        ccw = v if area > 0 else v[::-1]
        ccw_names = names if area > 0 else [names[(m - 2 - i) % m] for i in range(m)]
        self._pieces = tuple(
            Segment(frozenset({ccw_names[i], self.name}), 1.0, tuple(ccw[i]), tuple(ccw[(i + 1) % m])) for i in range(m)
        )
        self._ccw = ccw
        self.lower, self.upper = v.min(axis=0), v.max(axis=0)

    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        a = self._ccw
        b = np.roll(a, -1, axis=0)
        # even-odd rule by horizontal rays, vectorized over edges
        xi, yi = x[:, :1], x[:, 1:2]
        crosses = ((a[:, 1] > yi) != (b[:, 1] > yi)) & (
            xi < (b[:, 0] - a[:, 0]) * (yi - a[:, 1]) / np.where(b[:, 1] == a[:, 1], 1.0, b[:, 1] - a[:, 1]) + a[:, 0]
        )
        odd = crosses.sum(axis=1) % 2 == 1
        if margin == 0:
            return odd
        gap = _distance_to_edges(x, a, b)
        return (odd & (gap > margin)) if margin > 0 else (odd | (gap <= -margin))

    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    def reentrant_corners(self) -> tuple[tuple[np.ndarray, tuple[int, ...]], ...]:
        a = self._ccw
        incoming, outgoing = a - np.roll(a, 1, axis=0), np.roll(a, -1, axis=0) - a
        turn = incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0]  # < 0: a right turn
        m = len(a)
        return tuple((a[i].copy(), ((i - 1) % m, i)) for i in range(m) if turn[i] < 0)

    def describe(self) -> dict:
        return {
            "kind": "polygon",
            "vertices": self.vertices.tolist(),
            "name": self.name,
            "edges": list(self.edge_names),
            "axes": list(self.axes),
        }

    def __repr__(self) -> str:
        return f"Polygon({len(self.vertices)} vertices)"


def _signed_area(v: np.ndarray) -> float:
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _check_simple(v: np.ndarray) -> None:
    """Raise if two non-adjacent edges cross (a bow-tie is not a polygon's interior)."""
    m = len(v)
    for i in range(m):
        p1, p2 = v[i], v[(i + 1) % m]
        for j in range(i + 2, m):
            if i == 0 and j == m - 1:
                continue
            q1, q2 = v[j], v[(j + 1) % m]
            if _segments_cross(p1, p2, q1, q2):
                raise ConfigError(
                    f"Polygon.vertices describe a self-intersecting outline: edge {i} ({p1.tolist()} -> "
                    f"{p2.tolist()}) crosses edge {j} ({q1.tolist()} -> {q2.tolist()}); list the corners in order "
                    "around the boundary"
                )


def _segments_cross(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> bool:
    def orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
        return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _distance_to_edges(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) Euclidean distance from each point to the nearest edge a_i -> b_i."""
    ab = b - a  # (m, 2)
    ap = x[:, None, :] - a[None]  # (n, m, 2)
    s = np.clip((ap * ab).sum(-1) / (ab * ab).sum(-1), 0.0, 1.0)
    nearest = a[None] + s[..., None] * ab[None]
    return np.linalg.norm(x[:, None, :] - nearest, axis=-1).min(axis=1)


def _vector(value: Sequence[float], field: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{field} must be a sequence of numbers; got {value!r}") from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise ConfigError(f"{field} must be a 1-D sequence of finite numbers; got {value!r}")
    return arr


def _part_name(name: str | None, default: str, kind: str) -> str:
    if name is None:
        return default
    if not isinstance(name, str) or not name or name == "boundary":
        raise ConfigError(f"{kind}.name must be a non-empty string other than 'boundary'; got {name!r}")
    return name


def _axes(axes: Sequence[str] | None, d: int, kind: str) -> tuple[str, ...]:
    axes = default_axes(d) if axes is None else tuple(axes)
    if len(axes) != d or len(set(axes)) != d or not all(isinstance(a, str) and a for a in axes):
        raise ConfigError(f"{kind}.axes must be {d} distinct non-empty names; got {axes!r}")
    return axes
