"""A boundary piece made of mesh facets (segments in 2-D, triangles in 3-D), and sampling in simplices.

``Facets`` is the ``Piece`` (``kanpde.geometry.pieces``) of a ``MeshDomain``: one per set of facets that share
their part names. Points on it are placed facet by facet in proportion to length or area, uniformly inside
each facet, with the facet's outward unit normal.

Its distance function is the R-equivalence phi = 1 / sum_i 1/phi_i over the facets (the rule of
``kanpde.geometry.pieces.r_equivalence``), with per-facet functions chosen so the sum is the boundary integral
of the Lp-distance field with p = d (Belyaev, Fayolle and Pasko, "Signed Lp-distance fields", Computer-Aided
Design 45, 2013):

    1/phi(x) = (1/c_d) sum_i  int_{facet i} dS(y) / |x - y|^d,      c_2 = pi, c_3 = 2 pi,

each term in closed form: theta_i / |f_i| in 2-D (theta_i the angle the segment subtends at x, f_i the distance
to its line) and Omega_i / |f_i| in 3-D (Omega_i the solid angle of the triangle, Van Oosterom and Strackee,
IEEE Trans. Biomed. Eng. 30, 1983). So phi is zero on every facet and positive off them, real-analytic away
from the facets, and normalized to first order there (|grad phi| = 1 on a facet's interior: its own term is
c_d / distance). Unlike a sum of trimmed-segment functions (Sukumar and Srivastava, CMAME 389, 2022), it does
not depend on how the boundary is cut into facets: the facets of a straight edge add up to that edge's term
exactly, and refining a curved boundary converges (at a disk's or ball's centre phi -> radius / 2).

Practical hint: its cost (and autograd memory) grows as points x facets; for hard constraints keep the
boundary mesh of the constrained parts coarse where the boundary is flat (its value does not change).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ShapeError
from kanpde.geometry.pieces import Piece
from kanpde.geometry.sampling import unit_samples

__all__ = ["Facets", "spread", "pick", "simplex_weights", "facet_distance"]

_CHUNK = 1 << 20  # point-facet pairs evaluated at once


@dataclass(frozen=True, eq=False)
class Facets(Piece):
    """Boundary facets: ``vertices`` (k, d, d), facet i's corners, ordered so its outward normal is the
    right normal of a -> b (2-D) or (b - a) x (c - a) (3-D), as ``MeshDomain`` orders them."""

    vertices: np.ndarray = field(default_factory=lambda: np.zeros((1, 2, 2)), repr=False)

    # equal only to itself (the base class would compare names and sign alone)
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __post_init__(self) -> None:
        v = np.array(self.vertices, dtype=np.float64)
        if v.ndim != 3 or v.shape[2] not in (2, 3) or v.shape[1] != v.shape[2] or len(v) == 0:
            raise ShapeError(f"Facets.vertices must have shape (k, d, d) with d = 2 or 3 and k >= 1; got {v.shape}")
        v.setflags(write=False)
        object.__setattr__(self, "vertices", v)

    @property
    def dim(self) -> int:
        return int(self.vertices.shape[2])

    @cached_property
    def _spans(self) -> np.ndarray:
        """(k, d): b - a (2-D) or the cross product (b - a) x (c - a) (3-D, twice the area, along the normal)."""
        v = self.vertices
        return v[:, 1] - v[:, 0] if self.dim == 2 else np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])

    @cached_property
    def sizes(self) -> np.ndarray:
        """(k,) facet lengths (2-D) or areas (3-D)."""
        norm = np.linalg.norm(self._spans, axis=1)
        return norm if self.dim == 2 else norm / 2

    @cached_property
    def normals(self) -> np.ndarray:
        """(k, d) outward unit normals (turned inward by ``sign = -1``: a hole's boundary in a CSG difference)."""
        s = self._spans
        n = np.stack([s[:, 1], -s[:, 0]], axis=1) if self.dim == 2 else s
        return self.sign * n / np.linalg.norm(n, axis=1, keepdims=True)

    @property
    def measure(self) -> float:
        return float(self.sizes.sum())

    def sample(self, n: int, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n points, facets chosen in proportion to their size by the first coordinate of the method's
        points (inverse CDF; its remainder in the chosen facet is reused as a position), uniform inside."""
        u = spread(n, self.dim - 1, method, rng)
        index, u[:, 0] = pick(u[:, 0], self.sizes)
        x = np.einsum("nj,njk->nk", simplex_weights(u), self.vertices[index])
        return x, self.normals[index]

    def plain(self, x: Tensor) -> Tensor:
        """(n, 1) the facets' Lp-distance (module doc); x: (n, d). Zero on the facets, positive off them.
        Computed in coordinates centred on the facets and scaled by their extent (the products of up to six
        lengths stay in range in float32), then scaled back."""
        centre, scale = self._frame
        v = torch.as_tensor((self.vertices - centre) / scale, dtype=x.dtype, device=x.device)
        x = (x - x.new_tensor(centre)) / scale
        total = x.new_zeros(x.shape[0])
        step = max(1, _CHUNK // max(1, x.shape[0]))
        terms = _segment_terms if self.dim == 2 else _triangle_terms
        for start in range(0, v.shape[0], step):
            total = total + terms(x, v[start : start + step]).sum(dim=1)
        return (scale * (math.pi if self.dim == 2 else 2 * math.pi) / total)[:, None]

    @cached_property
    def _frame(self) -> tuple[np.ndarray, float]:
        corners = self.vertices.reshape(-1, self.dim)
        return corners.mean(axis=0), float(np.ptp(corners, axis=0).max())

    def trimmed(self, x: Tensor) -> Tensor:
        """The same as ``plain``: it is zero on the facets only."""
        return self.plain(x)

    def carrier(self, n: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """Points on the facets themselves (the distance function vanishes nowhere else)."""
        return self.sample(n, "sobol", np.random.default_rng(0))[0]

    def describe(self) -> dict:
        return {"kind": "facets", "count": int(len(self.vertices)), "measure": self.measure}


def _segment_terms(x: Tensor, v: Tensor) -> Tensor:
    """(n, k) int_segment ds / |x - y|^2 = theta / |f| = L atan2(|u x w|, u . w) / |u x w|, u, w = a - x, b - x."""
    u = v[None, :, 0, :] - x[:, None, :]
    w = v[None, :, 1, :] - x[:, None, :]
    cross = u[..., 0] * w[..., 1] - u[..., 1] * w[..., 0]
    dot = (u * w).sum(dim=-1)
    length = torch.linalg.vector_norm(v[:, 1] - v[:, 0], dim=-1)
    return length * _atan_ratio(cross, dot)


def _triangle_terms(x: Tensor, v: Tensor) -> Tensor:
    """(n, k) int_triangle dA / |x - y|^3 = Omega / |f| = 4 A atan2(|N|, D) / |N| with R_j = v_j - x,
    N = R_1 . (R_2 x R_3), D = r_1 r_2 r_3 + (R_1 . R_2) r_3 + (R_1 . R_3) r_2 + (R_2 . R_3) r_1."""
    tiny = torch.finfo(x.dtype).tiny
    r = [v[None, :, j, :] - x[:, None, :] for j in range(3)]
    norm = [torch.sqrt((rj * rj).sum(dim=-1) + tiny) for rj in r]
    triple = (r[0] * torch.linalg.cross(r[1], r[2], dim=-1)).sum(dim=-1)
    dots = [(r[i] * r[j]).sum(dim=-1) for i, j in ((0, 1), (0, 2), (1, 2))]
    denom = norm[0] * norm[1] * norm[2] + dots[0] * norm[2] + dots[1] * norm[1] + dots[2] * norm[0]
    twice_area = torch.linalg.vector_norm(torch.linalg.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0], dim=-1), dim=-1)
    return 2 * twice_area * _atan_ratio(triple, denom)


def _atan_ratio(y: Tensor, x: Tensor) -> Tensor:
    """atan2(|y|, x) / |y|, an even, smooth function of y written so its value and derivatives stay finite:
    where x > |y| as atan(z) / (z x) with z = |y| / x (a series for small z), elsewhere directly (|y| > 0
    there except on a facet itself, where the result is large but finite)."""
    tiny = torch.finfo(x.dtype).tiny
    s = y * y
    a = (x > 0) & (s < x * x)
    xa = torch.where(a, x, torch.ones_like(x))
    z2 = torch.where(a, s, torch.zeros_like(s)) / (xa * xa)
    small = z2 < 1e-6
    zb = torch.sqrt(torch.where(small, torch.ones_like(z2), z2))
    zs = torch.where(small, z2, torch.zeros_like(z2))
    atanc = torch.where(small, 1 - zs / 3 + zs * zs / 5 - zs**3 / 7, torch.atan(zb) / zb)
    rb = torch.sqrt(torch.where(a, torch.ones_like(s), s) + tiny)
    xb = torch.where(a, torch.zeros_like(x), x)
    return torch.where(a, atanc / xa, torch.atan2(rb, xb) / rb)


# --- sampling in simplices ------------------------------------------------------------------------------------
def spread(n: int, m: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """(n, m) points in [0, 1]^m by ``method``. ``"grid"`` (a mesh has no tensor grid) gives a rank-1 lattice:
    ((i + 1/2) / n, frac(1/2 + i alpha)) with alpha from the generalized golden ratio (Roberts' R-sequence),
    deterministic and even, exactly n points."""
    if method != "grid":
        return unit_samples(n, m, method, rng)
    i = np.arange(n)[:, None]
    first = (i + 0.5) / n
    if m == 1:
        return first
    phi = 2.0
    for _ in range(64):  # the root of phi^(m) = phi + 1 (m - 1 further axes)
        phi = (1 + phi) ** (1 / m)
    alpha = phi ** -np.arange(1, m)
    return np.concatenate([first, (0.5 + i * alpha) % 1.0], axis=1)


def pick(u: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse CDF: which item each u in [0, 1) falls on (items in proportion to ``weights``), and where in
    that item's interval it falls, rescaled to [0, 1). Returns (index (n,), remainder (n,))."""
    cdf = np.cumsum(weights) / np.sum(weights)
    index = np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    low = np.where(index > 0, cdf[index - 1], 0.0)
    width = cdf[index] - low
    return index, np.clip((u - low) / np.where(width > 0, width, 1.0), 0.0, 1.0 - 1e-12)


def simplex_weights(u: np.ndarray) -> np.ndarray:
    """(n, m + 1) barycentric coordinates, uniform in the simplex for u uniform in [0, 1]^m: the gaps
    between the sorted coordinates (the order statistics of m uniforms; Devroye 1986, ch. V.2)."""
    s = np.sort(u, axis=1)
    n = len(u)
    return np.diff(np.concatenate([np.zeros((n, 1)), s, np.ones((n, 1))], axis=1), axis=1)


# --- exact Euclidean distance (numpy) ----------------------------------------------------------------------------
def facet_distance(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(n,) Euclidean distance from each point x[i] (n, d) to the facet v[i] (n, d, d): a segment or triangle."""
    if v.shape[2] == 2:
        return _segment_distance(x, v[:, 0], v[:, 1])
    a, b, c = v[:, 0], v[:, 1], v[:, 2]
    e1, e2 = b - a, c - a
    normal = np.cross(e1, e2)
    area2 = (normal * normal).sum(axis=1)
    p = x - a
    # barycentric coordinates of the projection of x onto the plane
    s = (np.cross(p, e2) * normal).sum(axis=1) / area2
    t = (np.cross(e1, p) * normal).sum(axis=1) / area2
    plane = np.abs((p * normal).sum(axis=1)) / np.sqrt(area2)
    edges = np.minimum(np.minimum(_segment_distance(x, a, b), _segment_distance(x, b, c)), _segment_distance(x, c, a))
    within = (s >= 0) & (t >= 0) & (s + t <= 1)
    return np.where(within, plane, edges)


def _segment_distance(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    s = np.clip(((x - a) * ab).sum(axis=1) / (ab * ab).sum(axis=1), 0.0, 1.0)
    return np.linalg.norm(x - a - s[:, None] * ab, axis=1)
