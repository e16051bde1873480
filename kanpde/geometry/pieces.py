"""Boundary pieces: the primitive surfaces a shape's boundary is made of, with sampling and distances.

A piece is one smooth patch of a boundary (a circle or sphere, a polygon edge, a face of a box). It knows
its measure (length, area), how to place points on itself with outward unit normals, and an approximate
distance function (ADF) phi: zero on the piece, positive on the side the domain lies, normalized to first
order (|grad phi| = 1 on the piece), written in torch so it can be differentiated (Sukumar and Srivastava,
"Exact imposition of boundary conditions with distance functions in physics-informed deep neural networks",
CMAME 389, 2022). A piece's ``plain`` distance is the signed distance to its whole carrier surface (the full
circle, the line or plane through an edge): smooth and cheap, but zero wherever the carrier goes. Where the
carrier cuts through the domain, the ``trimmed`` distance (zero on the piece itself only) is used instead;
for an edge of a polygon it is the trimmed-segment function of Sukumar and Srivastava (their eq. 10).

A piece also carries the part names it answers to (``names``) and its ``sign``: +1 if the domain lies on
the side its normal points away from (a disk's own circle), -1 once a CSG difference turns it into a hole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from kanpde.geometry.sampling import sample_box, unit_samples

__all__ = ["Piece", "Sphere", "Segment", "Plane", "r_equivalence"]


@dataclass(frozen=True)
class Piece:
    """Base of the boundary pieces. ``names``: the parts it belongs to; ``sign``: see the module doc."""

    names: frozenset[str]
    sign: float = 1.0

    # each subclass: measure, sample(n, method, rng) -> (x, outward normal), plain(x), trimmed(x) | None,
    # carrier(n) -> points on the whole carrier surface inside ``lower..upper`` (to test where it goes),
    # describe() -> dict
    def flipped(self) -> Piece:
        """The same piece as the boundary of a hole: normals and distances change sign."""
        return replace(self, sign=-self.sign)

    def renamed(self, extra: frozenset[str]) -> Piece:
        return replace(self, names=self.names | extra)

    @property
    def measure(self) -> float:
        raise NotImplementedError  # pragma: no cover - every subclass defines it


@dataclass(frozen=True)
class Sphere(Piece):
    """The circle (2-D) or sphere (d-D) ``|x - center| = radius``; the domain is inside for sign +1."""

    center: tuple[float, ...] = ()
    radius: float = 1.0

    @property
    def dim(self) -> int:
        return len(self.center)

    @property
    def measure(self) -> float:
        d = self.dim
        return 2 * math.pi ** (d / 2) / math.gamma(d / 2) * self.radius ** (d - 1)

    def sample(self, n: int, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        d = self.dim
        if d == 2:
            u = (np.arange(n) + 0.5) / n if method == "grid" else unit_samples(n, 1, method, rng)[:, 0]
            angle = 2 * math.pi * u
            direction = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        else:  # uniform on the sphere: normalized Gaussian images of (quasi-)uniform points
            from scipy.special import ndtri

            u = unit_samples(n, d, "random" if method == "grid" else method, rng)
            g = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
            direction = g / np.linalg.norm(g, axis=1, keepdims=True)
        x = np.asarray(self.center) + self.radius * direction
        return x, self.sign * direction

    def plain(self, x: Tensor) -> Tensor:
        c = x.new_tensor(self.center)
        return self.sign * (self.radius**2 - ((x - c) ** 2).sum(dim=1, keepdim=True)) / (2 * self.radius)

    def trimmed(self, x: Tensor) -> Tensor | None:
        return None

    def carrier(self, n: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        return self.sample(n, "sobol", np.random.default_rng(0))[0]

    def describe(self) -> dict:
        return {"kind": "sphere", "center": list(self.center), "radius": self.radius}


@dataclass(frozen=True)
class Segment(Piece):
    """The edge from ``a`` to ``b`` of a 2-D polygon whose interior lies to its left (counter-clockwise)."""

    a: tuple[float, float] = (0.0, 0.0)
    b: tuple[float, float] = (1.0, 0.0)

    @property
    def measure(self) -> float:
        return float(math.dist(self.a, self.b))

    @property
    def _normal(self) -> np.ndarray:
        (x1, y1), (x2, y2) = self.a, self.b
        return np.array([y2 - y1, x1 - x2]) / self.measure  # right of a -> b: outward for a CCW polygon

    def sample(self, n: int, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        s = (np.arange(n) + 0.5) / n if method == "grid" else unit_samples(n, 1, method, rng)[:, 0]
        a, b = np.asarray(self.a), np.asarray(self.b)
        x = a + s[:, None] * (b - a)
        return x, np.tile(self.sign * self._normal, (n, 1))

    def _line(self, x: Tensor) -> Tensor:
        """Signed distance to the carrier line, positive on the interior side (left of a -> b)."""
        (x1, y1), (x2, y2) = self.a, self.b
        return ((x2 - x1) * (x[:, 1:2] - y1) - (y2 - y1) * (x[:, 0:1] - x1)) / self.measure

    def plain(self, x: Tensor) -> Tensor:
        return self.sign * self._line(x)

    def trimmed(self, x: Tensor) -> Tensor:
        """sqrt(f^2 + ((sqrt(t^2 + f^4) - t) / 2)^2): f the line distance, t = (L^2/4 - |x - x_c|^2) / L
        the trimming function (positive within the disk on the segment as diameter)."""
        f = self._line(x)
        length = self.measure
        centre = x.new_tensor([(self.a[0] + self.b[0]) / 2, (self.a[1] + self.b[1]) / 2])
        t = (length**2 / 4 - ((x - centre) ** 2).sum(dim=1, keepdim=True)) / length
        varphi = torch.sqrt(t**2 + f**4)
        return torch.sqrt(f**2 + ((varphi - t) / 2) ** 2)

    def carrier(self, n: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        a, b = np.asarray(self.a), np.asarray(self.b)
        span = float(np.linalg.norm(upper - lower)) / self.measure + 1
        s = np.linspace(-span, 1 + span, n)
        return a + s[:, None] * (b - a)

    def describe(self) -> dict:
        return {"kind": "segment", "a": list(self.a), "b": list(self.b)}


@dataclass(frozen=True)
class Plane(Piece):
    """The face ``x[axis] = value`` of a box, the rectangle ``lower..upper`` on the other axes; the
    domain lies on the side ``inward`` (+1: x[axis] > value) for sign +1."""

    axis: int = 0
    value: float = 0.0
    inward: float = 1.0
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()

    @property
    def measure(self) -> float:
        sides = np.delete(np.subtract(self.upper, self.lower), self.axis)
        return float(np.prod(sides)) if sides.size else 1.0

    def sample(self, n: int, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.delete(np.asarray(self.lower), self.axis), np.delete(np.asarray(self.upper), self.axis)
        if method == "grid" and lo.size:
            m = max(1, round(n ** (1 / lo.size)))
            axes = [a + (np.arange(m) + 0.5) * (b - a) / m for a, b in zip(lo, hi)]
            pts = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
        else:
            pts = sample_box(lo, hi, n, "random" if method == "grid" else method, rng)
        x = np.insert(pts, self.axis, self.value, axis=1)
        normal = np.zeros_like(x)
        normal[:, self.axis] = -self.inward * self.sign
        return x, normal

    def plain(self, x: Tensor) -> Tensor:
        return self.sign * self.inward * (x[:, self.axis : self.axis + 1] - self.value)

    def trimmed(self, x: Tensor) -> Tensor | None:
        if len(self.lower) != 2:
            return None
        other = 1 - self.axis
        a, b = [0.0, 0.0], [0.0, 0.0]
        a[self.axis] = b[self.axis] = self.value
        # orient the edge so the box interior lies to its left
        lo, hi = self.lower[other], self.upper[other]
        forward = (self.inward > 0) == (self.axis == 1)
        a[other], b[other] = (lo, hi) if forward else (hi, lo)
        return Segment(self.names, self.sign, tuple(a), tuple(b)).trimmed(x)

    def carrier(self, n: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        lo, hi = np.delete(lower, self.axis), np.delete(upper, self.axis)
        pts = sample_box(lo, hi, n, "sobol", np.random.default_rng(0))
        return np.insert(pts, self.axis, self.value, axis=1)

    def describe(self) -> dict:
        return {"kind": "plane", "axis": self.axis, "value": self.value, "inward": self.inward}


def r_equivalence(distances: list[Tensor]) -> Tensor:
    """The distance to a union of pieces from theirs: phi = 1 / sum_i 1/phi_i (the R-equivalence of
    order 1), written as prod_i phi_i / sum_j prod_{i != j} phi_i so it is finite where one phi_i is 0.
    Zero on every piece, first-order normalized there, smooth elsewhere. ``distances``: (n, 1) each."""
    if len(distances) == 1:
        return distances[0]
    stacked = torch.cat(distances, dim=1)
    n, m = stacked.shape
    ones = stacked.new_ones(n, 1)
    before = torch.cumprod(torch.cat([ones, stacked[:, :-1]], dim=1), dim=1)
    after = torch.flip(torch.cumprod(torch.cat([ones, torch.flip(stacked[:, 1:], [1])], dim=1), dim=1), [1])
    others = before * after  # prod over i != j, column j
    total = others.sum(dim=1, keepdim=True)
    return before[:, -1:] * stacked[:, -1:] / (total + torch.finfo(stacked.dtype).tiny)


@dataclass(frozen=True)
class Chosen:
    """A piece with the distance to use for it (plain where its carrier stays outside the domain)."""

    piece: Piece
    trimmed: bool = field(default=False)

    def __call__(self, x: Tensor) -> Tensor:
        return self.piece.trimmed(x) if self.trimmed else self.piece.plain(x)
