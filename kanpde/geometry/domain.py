"""The domain interface every shape implements, and what it gives for free: sampling inside by rejection,
boundary sampling by measure with outward normals, named parts, distance functions and evaluation points.

A shape (``Box``, ``Disk``, ``Polygon``, a CSG result, a ``MeshDomain``) defines ``inside`` (which points
lie in its open interior) and ``pieces`` (its boundary: the primitive surfaces of
``kanpde.geometry.pieces``, each with the part names it answers to). Shapes combine by CSG:
``a | b`` (union), ``a & b`` (intersection), ``a - b`` (difference); a result keeps its operands' part
names, so ``Box(..., name="outer") - Disk(..., name="hole")`` has parts ``outer``, ``hole`` (and the box's
faces) and ``boundary``, the whole boundary. Parts with one name on several operands form one part.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.pieces import Chosen, Piece, r_equivalence
from kanpde.geometry.sampling import Seed, as_rng, check_method, split_count

__all__ = ["Domain", "BoundarySample", "PointSet", "Distance", "BOUNDARY", "default_axes", "register_combination"]

BOUNDARY = "boundary"


def default_axes(d: int) -> tuple[str, ...]:
    """``x, y, z`` up to three dimensions, ``x0, x1, ...`` beyond."""
    return ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{i}" for i in range(d))


@dataclass(frozen=True)
class BoundarySample:
    """Points on a boundary part with their outward unit normals.

    x: (n, d) points; normal: (n, d) outward unit normals (a corner point takes its face's normal).
    """

    x: np.ndarray
    normal: np.ndarray


@dataclass(frozen=True)
class PointSet:
    """Scattered points (an evaluation set on a non-box domain): ``points()`` -> (n, d), float64."""

    x: np.ndarray

    def points(self) -> np.ndarray:
        return self.x

    @property
    def size(self) -> int:
        return int(self.x.shape[0])

    @property
    def dim(self) -> int:
        return int(self.x.shape[1])


class Distance:
    """An approximate distance function to a set of boundary pieces: ``phi(x)``: (n, d) -> (n, 1), zero on
    the pieces, positive inside the domain, smooth elsewhere (the R-equivalence of the pieces' distances,
    see ``kanpde.geometry.pieces``), scaled so its largest value in the domain is about 1."""

    def __init__(self, chosen: Sequence[Chosen], scale: float = 1.0) -> None:
        self.chosen = tuple(chosen)
        self.scale = float(scale)

    def __call__(self, x: Tensor) -> Tensor:
        return self.scale * r_equivalence([c(x) for c in self.chosen])


class Domain(ABC):
    """A region of R^d with named boundary parts (see the module doc). Subclasses set ``axes``,
    ``lower``/``upper`` (a bounding box, float64 arrays) and ``name``, and define ``inside`` and ``pieces``."""

    axes: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    name: str | None = None

    # --- what a shape defines -----------------------------------------------------------------------
    @abstractmethod
    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        """(n,) boolean: which points x: (n, d) lie in the open interior, farther than about ``margin``
        (a length) from the boundary; a negative margin widens the domain (``contains``)."""

    @abstractmethod
    def pieces(self) -> tuple[Piece, ...]:
        """The boundary pieces, each with its part names and its sign (outward normals)."""

    def reentrant_corners(self) -> tuple[tuple[np.ndarray, tuple[int, ...]], ...]:
        """Corners where the domain's interior angle exceeds pi, as (point, indices of the pieces that meet
        there). Solutions of elliptic problems are singular there (like r^(pi / angle)); a distance
        function that vanishes on those pieces would force the network's part of the field to blow up, so
        Dirichlet parts that touch one stay loss terms. Known for polygons (and their space-time sweeps);
        other shapes report none."""
        return ()

    def keep(self, index: int, x: np.ndarray) -> np.ndarray:
        """(n,) boolean: which points x on piece ``index`` lie on this domain's boundary (a CSG result
        drops the parts of its operands' pieces that end up inside or outside; a plain shape keeps all)."""
        return np.ones(len(x), dtype=bool)

    @abstractmethod
    def describe(self) -> dict:
        """A JSON-ready description (``kanpde.geometry.from_description`` rebuilds the domain)."""

    # --- derived ------------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def spacetime(self) -> bool:
        """Whether the last axis is time (``t``) after at least one space axis."""
        return self.dim >= 2 and self.axes[-1] == "t"

    @property
    def diameter(self) -> float:
        return float(np.linalg.norm(self.upper - self.lower))

    def contains(self, x: np.ndarray, *, tol: float | None = None) -> np.ndarray:
        """(n,) boolean: which points of x: (n, d) lie in the closed domain (widened by ``tol``, by default
        1e-9 of its diameter, so boundary points count)."""
        x = _points(x, self.dim, "contains")
        return self.inside(x, margin=-(1e-9 * self.diameter if tol is None else tol))

    @property
    def parts(self) -> tuple[str, ...]:
        """The names conditions can be attached to: every piece's names, then ``boundary``."""
        names: dict[str, None] = {}
        for p in self.pieces():
            names.update(dict.fromkeys(sorted(p.names)))
        names.pop(BOUNDARY, None)
        return (*names, BOUNDARY)

    def part_pieces(self, part: str) -> tuple[int, ...]:
        """Indices of the pieces that make up a named part; a ``ConfigError`` lists the names if unknown."""
        pieces = self.pieces()
        if part == BOUNDARY:
            return tuple(range(len(pieces)))
        found = tuple(i for i, p in enumerate(pieces) if part in p.names)
        if not found:
            raise ConfigError(f"unknown boundary part {part!r}; this {self!r} has parts {', '.join(self.parts)}")
        return found

    def check_part(self, part: str) -> None:
        """Raise if the part is unknown or has no boundary left (a CSG operand's part inside another)."""
        if self.part_measure(part) <= 0:
            raise ConfigError(
                f"boundary part {part!r} of {self!r} lies entirely inside or outside the other CSG operands: "
                "it has no points on the result's boundary; attach the condition to a part that does"
            )

    def part_measure(self, part: str) -> float:
        """The (d-1)-dimensional measure (length, area) of a named boundary part, as far as it lies on
        this domain's boundary (estimated by sampling where CSG operands cut a piece)."""
        return sum(self._kept_measure(i) for i in self.part_pieces(part))

    def _kept_measure(self, index: int, n: int = 2048) -> float:
        """The measure of piece ``index`` that lies on this domain's boundary (by sampling)."""
        cache = self.__dict__.setdefault("_kept_cache", {})
        if index not in cache:
            piece = self.pieces()[index]
            x, _ = piece.sample(n, "sobol", np.random.default_rng(index))
            cache[index] = piece.measure * float(self.keep(index, x).mean())
        return cache[index]

    def volume(self, n: int = 1 << 16, *, method: str = "sobol") -> float:
        """The d-dimensional measure (area, volume), estimated from ``n`` points of the bounding box."""
        from kanpde.geometry.sampling import sample_box

        x = sample_box(self.lower, self.upper, n, method, np.random.default_rng(0))
        return float(np.prod(self.upper - self.lower)) * float(self.inside(x).mean())

    # --- sampling -----------------------------------------------------------------------------------
    def sample(self, n: int, *, method: str = "sobol", seed: Seed = 0) -> np.ndarray:
        """``n`` interior collocation points, shape (n, d), float64: the method's points in the bounding
        box that fall inside, drawn until there are ``n`` (a Sobol set keeps its low discrepancy: the
        accepted points are a prefix of one sequence). ``"grid"``: the cell centres inside of a uniform
        grid sized so about ``n`` fall inside."""
        from kanpde.geometry.sampling import rejection_sample

        return rejection_sample(self.inside, self.lower, self.upper, n, check_method(method), as_rng(seed))

    def sample_boundary(self, part: str, n: int, *, method: str = "sobol", seed: Seed = 0) -> BoundarySample:
        """About ``n`` points on a named part, split over its pieces in proportion to their measure on
        the boundary, with outward unit normals."""
        indices = self.part_pieces(part)
        check_method(method)
        rng = as_rng(seed)
        measures = np.array([self._kept_measure(i) for i in indices])
        if measures.sum() <= 0:
            self.check_part(part)
        keep = [i for i, m in zip(indices, measures) if m > 0]
        counts = split_count(max(int(n), len(keep)), measures[measures > 0])
        pieces = self.pieces()
        xs, normals = [], []
        for i, m in zip(keep, counts):
            x, normal = _sample_piece(self, i, pieces[i], int(m), method, rng)
            xs.append(x)
            normals.append(normal)
        return BoundarySample(np.concatenate(xs), np.concatenate(normals))

    def evaluation_points(self, n: int | None = None) -> PointSet:
        """Where errors are measured: the nodes of a uniform grid over the bounding box (``n`` per axis:
        101 in 1-D and 2-D, 33 in 3-D, 9 beyond) that lie in the closed domain."""
        from kanpde.geometry.sampling import grid_nodes

        n = n if n is not None else 101 if self.dim <= 2 else 33 if self.dim == 3 else 9
        x = grid_nodes(self.lower, self.upper, n)
        return PointSet(x[self.contains(x)])

    # --- distance functions -------------------------------------------------------------------------
    def distance(self, parts: Sequence[str] = (BOUNDARY,)) -> Distance | str:
        """The approximate distance function to the named parts, or a sentence saying why there is none
        (a piece whose carrier surface crosses the domain and has no trimmed form). Kept per set of parts:
        a shape is immutable, and a distance over many mesh facets is costly to set up."""
        cache = self.__dict__.setdefault("_distance_cache", {})
        key = tuple(sorted(set(parts)))
        if key not in cache:
            cache[key] = self._distance(key)
        return cache[key]

    def _distance(self, parts: Sequence[str]) -> Distance | str:
        indices = sorted({i for part in parts for i in self.part_pieces(part) if self._kept_measure(i) > 0})
        pieces = self.pieces()
        chosen = []
        for i in indices:
            piece = pieces[i]
            if self._carrier_stays_out(piece):
                chosen.append(Chosen(piece))
            elif piece.trimmed(torch.zeros(1, self.dim, dtype=torch.float64)) is not None:
                chosen.append(Chosen(piece, trimmed=True))
            else:
                names = ", ".join(sorted(piece.names))
                return (
                    f"the surface carrying part {names} of {self!r} passes through the domain's interior, so its "
                    "distance function would pin the solution there"
                )
        probe = torch.as_tensor(self.sample(1024, seed=11), dtype=torch.float64)
        with torch.no_grad():
            peak = float(Distance(chosen)(probe).max())
        return Distance(chosen, 1.0 / peak if peak > 0 else 1.0)

    def _carrier_stays_out(self, piece: Piece, n: int = 4096) -> bool:
        x = piece.carrier(n, self.lower, self.upper)
        return not bool(self.inside(x, margin=1e-6 * self.diameter).any())

    # --- CSG and products --------------------------------------------------------------------------
    def __or__(self, other: Domain) -> Domain:
        return _combine("union", self, other)

    def __and__(self, other: Domain) -> Domain:
        return _combine("intersection", self, other)

    def __sub__(self, other: Domain) -> Domain:
        return _combine("difference", self, other)

    def __mul__(self, other: Domain) -> Domain:
        return _combine("product", self, other)


_COMBINATIONS: dict[str, Callable[[Domain, Domain], Domain]] = {}


def register_combination(op: str, build: Callable[[Domain, Domain], Domain]) -> None:
    """Say how ``a | b`` (``"union"``), ``a & b``, ``a - b`` and ``a * b`` (``"product"``) are built: the
    modules that define CSG and space-time shapes register themselves (``kanpde.geometry`` imports both)."""
    _COMBINATIONS[op] = build


def _combine(op: str, a: Domain, b: object) -> Domain:
    if not isinstance(b, Domain):
        raise ConfigError(f"shapes combine with shapes; got {a!r} {op} {b!r}")
    return _COMBINATIONS[op](a, b)


def _sample_piece(
    domain: Domain, index: int, piece: Piece, m: int, method: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """m points of a piece that lie on the domain's boundary (by rejection where a CSG trims it)."""
    fraction = domain._kept_measure(index) / piece.measure
    if fraction >= 1 - 1e-12:
        return piece.sample(m, method, rng)
    xs, normals, have = [], [], 0
    for _ in range(64):
        draw = int(math.ceil((m - have) / max(fraction, 1e-3) * 1.2)) + 8
        x, normal = piece.sample(draw, method, rng)
        ok = domain.keep(index, x)
        xs.append(x[ok])
        normals.append(normal[ok])
        have += int(ok.sum())
        if have >= m or method == "grid":
            break
    x, normal = np.concatenate(xs), np.concatenate(normals)
    return (x, normal) if method == "grid" else (x[:m], normal[:m])


def _points(x: np.ndarray, d: int, where: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise ShapeError(f"{where} needs points of shape (n, {d}); got {x.shape}")
    return x
