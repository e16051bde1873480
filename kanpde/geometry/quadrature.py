"""Quadrature rules on domains: what an energy (Deep Ritz) loss integrates with.

An integral ``int_Omega e(x) dx`` becomes ``sum_k w_k e(x_k)``. Two rules, chosen by ``domain_quadrature``:

* On a box, Gauss-Legendre of ``order`` points per axis on each cell of a tensor grid: exact for
  polynomials of degree ``2 order - 1`` per cell, and for a smooth integrand the error falls as
  ``h^(2 order)``. A coefficient that jumps across a known interface (the zero set of a level-set
  function) makes the integrand discontinuous there, which costs a Gauss rule its order; cells that the
  interface cuts are therefore bisected along every axis, ``levels`` times, so the error of the cut
  cells falls with the finest cell size rather than the grid's.
* On any other domain, quasi-Monte Carlo: ``n`` Sobol points inside, each weighted by the domain's
  volume over ``n`` (error about ``1/n``; a ``Resample`` phase draws new ones).

* On a mesh (``MeshDomain``), the symmetric degree-2 rule on each of its own simplices: 3 points per
  triangle, 4 per tetrahedron (exact for quadratics), so the rule follows the mesh's refinement. Cells an
  interface cuts are not split on a mesh (mesh the interface instead: its cells then do not straddle it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kanpde.errors import ConfigError
from kanpde.geometry.box import Box
from kanpde.geometry.domain import Domain
from kanpde.geometry.mesh import MeshDomain
from kanpde.geometry.sampling import Seed, as_rng

__all__ = [
    "Quadrature",
    "gauss_legendre",
    "box_quadrature",
    "simplex_quadrature",
    "monte_carlo",
    "domain_quadrature",
    "cut_cells",
]

#: barycentric coordinates of the symmetric degree-2 rules (equal weights): triangle, tetrahedron
_SIMPLEX_RULES = {
    2: np.array([[2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]]),
    3: np.array(
        [
            [0.5854101966249685, 0.1381966011250105, 0.1381966011250105, 0.1381966011250105],
            [0.1381966011250105, 0.5854101966249685, 0.1381966011250105, 0.1381966011250105],
            [0.1381966011250105, 0.1381966011250105, 0.5854101966249685, 0.1381966011250105],
            [0.1381966011250105, 0.1381966011250105, 0.1381966011250105, 0.5854101966249685],
        ]
    ),
}

SPLIT_LEVELS = {1: 24, 2: 3, 3: 2}
"""How often ``domain_quadrature`` splits the cells an interface cuts, by dimension: each level doubles the
cut cells' number in 2-D and quadruples it in 3-D (a curve and a surface), but in 1-D an interface cuts one
cell per point, so there the cut cell can shrink to round-off for nothing."""

LevelSet = Callable[[np.ndarray], np.ndarray]
"""phi(x): (n, d) float64 array -> (n,) values whose sign says the side of an interface (zero on it)."""


@dataclass(frozen=True)
class Quadrature:
    """Points x_k: (n, d) and weights w_k: (n,) with ``sum_k w_k g(x_k)`` approximating ``int g``.

    rule: what made it (for reports), e.g. ``"gauss 2 on 64^2 cells, interface cells split 3x"``.
    """

    points: np.ndarray
    weights: np.ndarray
    rule: str = ""

    def __post_init__(self) -> None:
        if self.points.ndim != 2 or self.weights.shape != (self.points.shape[0],):
            raise ConfigError(
                f"Quadrature needs points (n, d) and weights (n,); got {self.points.shape} and {self.weights.shape}"
            )

    @property
    def size(self) -> int:
        return self.points.shape[0]

    def integrate(self, values: np.ndarray) -> float:
        """``sum_k w_k values_k`` for values: (n,) at the points."""
        return float(self.weights @ values)


@lru_cache(maxsize=16)
def gauss_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``order``-point Gauss-Legendre rule on [0, 1]: nodes and weights (summing to 1)."""
    if not isinstance(order, int) or order < 1:
        raise ConfigError(f"a Gauss-Legendre order must be an int >= 1; got {order!r}")
    nodes, weights = np.polynomial.legendre.leggauss(order)
    return (nodes + 1) / 2, weights / 2


def _cell_rule(order: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The tensor Gauss rule on the unit cell [0, 1]^d: nodes (order^d, d) and weights (order^d,)."""
    nodes, weights = gauss_legendre(order)
    mesh = np.meshgrid(*([nodes] * d), indexing="ij")
    w = np.ones(1)
    for _ in range(d):
        w = np.multiply.outer(w, weights)
    return np.stack([m.ravel() for m in mesh], axis=-1), w.ravel()


def cut_cells(lower: np.ndarray, size: np.ndarray, level_sets: Sequence[LevelSet], probes: int = 5) -> np.ndarray:
    """Which cells (lower corners (m, d), edge lengths (m, d)) an interface crosses: a level set takes
    both signs on a ``probes``^d lattice of the cell (corners included) -> (m,) booleans."""
    m, d = lower.shape
    cut = np.zeros(m, dtype=bool)
    if not level_sets or m == 0:
        return cut
    s = np.linspace(0.0, 1.0, probes)
    lattice = np.stack([g.ravel() for g in np.meshgrid(*([s] * d), indexing="ij")], axis=-1)
    x = (lower[:, None, :] + size[:, None, :] * lattice[None]).reshape(-1, d)
    for phi in level_sets:
        v = np.asarray(phi(x), dtype=np.float64).reshape(m, -1)
        cut |= (v.min(axis=1) < 0) & (v.max(axis=1) > 0)
    return cut


def box_quadrature(
    lower: Sequence[float],
    upper: Sequence[float],
    cells: int | Sequence[int],
    order: int = 2,
    *,
    split: Sequence[LevelSet] = (),
    levels: int = 3,
    offset: Sequence[float] | None = None,
) -> Quadrature:
    """Gauss-Legendre with ``order`` points per axis on each of ``cells`` cells per axis of the box;
    cells an interface of ``split`` (level-set functions) cuts are bisected along every axis, ``levels``
    times (each cut cell becomes 2^d cells, of which the cut ones go on).

    offset: shifts the cell grid by these fractions of a cell per axis (in [0, 1)); the cells cut by the
    box's faces are clipped to it, so the rule stays exact cell by cell. A network trained on one fixed
    rule can learn to lower the discrete energy between its points; drawing a new offset now and then
    (``Resample`` under the energy form) takes that away.
    """
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    d = lo.size
    counts = np.broadcast_to(np.asarray(cells), (d,)).astype(int)
    if np.any(counts < 1):
        raise ConfigError(f"box_quadrature cells must be >= 1 per axis; got {cells!r}")
    if not isinstance(levels, int) or levels < 0:
        raise ConfigError(f"box_quadrature levels must be an int >= 0; got {levels!r}")
    size = (hi - lo) / counts
    if offset is None:
        edges = [lo[a] + np.arange(counts[a] + 1) * size[a] for a in range(d)]
    else:
        shift = np.broadcast_to(np.asarray(offset, dtype=np.float64), (d,))
        if np.any(shift < 0) or np.any(shift >= 1):
            raise ConfigError(f"box_quadrature offset must lie in [0, 1) per axis; got {offset!r}")
        edges = [
            np.unique(np.clip(lo[a] + (np.arange(-1, counts[a] + 1) + shift[a]) * size[a], lo[a], hi[a]))
            for a in range(d)
        ]
    lows = np.meshgrid(*(e[:-1] for e in edges), indexing="ij")
    widths = np.meshgrid(*(np.diff(e) for e in edges), indexing="ij")
    corner = np.stack([g.ravel() for g in lows], axis=-1)
    width = np.stack([g.ravel() for g in widths], axis=-1)
    nodes, weights = _cell_rule(order, d)
    children = np.stack([g.ravel() for g in np.meshgrid(*([np.arange(2)] * d), indexing="ij")], axis=-1)
    points, wts = [], []
    for level in range(levels + 1):
        cut = cut_cells(corner, width, split) if level < levels else np.zeros(len(corner), dtype=bool)
        keep_c, keep_w = corner[~cut], width[~cut]
        points.append((keep_c[:, None, :] + keep_w[:, None, :] * nodes[None]).reshape(-1, d))
        wts.append((np.prod(keep_w, axis=1)[:, None] * weights[None]).ravel())
        half = width[cut] / 2
        corner = (corner[cut][:, None, :] + half[:, None, :] * children[None]).reshape(-1, d)
        width = np.repeat(half, len(children), axis=0)
        if len(corner) == 0:
            break
    shape = "x".join(str(c) for c in counts) if len(set(counts)) > 1 else f"{counts[0]}^{d}"
    rule = f"gauss {order} on {shape} cells" + (f", interface cells split {levels}x" if split and levels else "")
    return Quadrature(np.concatenate(points), np.concatenate(wts), rule)


def simplex_quadrature(points: np.ndarray, cells: np.ndarray, volumes: np.ndarray) -> Quadrature:
    """The degree-2 rule on each simplex of a mesh: nodes (N, d), cells (m, d + 1) node numbers, volumes
    (m,) -> (d + 1) m points, each weighted by its cell's volume over d + 1."""
    d = points.shape[1]
    if d not in _SIMPLEX_RULES:
        raise ConfigError(f"simplex_quadrature covers triangles and tetrahedra; got {d}-D nodes")
    bary = _SIMPLEX_RULES[d]
    x = np.einsum("qj,mjk->mqk", bary, points[cells]).reshape(-1, d)
    w = np.repeat(volumes / len(bary), len(bary))
    return Quadrature(x, w, f"degree 2 on {len(cells)} mesh cells")


def monte_carlo(domain: Domain, n: int, *, method: str = "sobol", seed: Seed = 0) -> Quadrature:
    """``n`` points of the domain (its own sampler), each weighted by its volume over ``n``."""
    x = domain.sample(n, method=method, seed=seed)
    return Quadrature(x, np.full(len(x), domain.volume() / len(x)), f"{method} Monte Carlo, {len(x)} points")


def domain_quadrature(
    domain: Domain,
    n: int,
    *,
    order: int = 2,
    split: Sequence[LevelSet] = (),
    levels: int | None = None,
    method: str = "sobol",
    seed: Seed = 0,
    shift: bool = False,
) -> Quadrature:
    """A rule with about ``n`` points before interface splitting: Gauss cells on a box (``order``^d points
    per cell, as many cells per axis as ``n`` allows; cut cells split ``levels`` times, by default
    ``SPLIT_LEVELS`` for the dimension), the mesh's own cells on a ``MeshDomain`` (whatever ``n``), and
    quasi-Monte Carlo (``method``) elsewhere. shift: a box's cell grid
    is shifted by a random fraction of a cell drawn from ``seed`` (see ``box_quadrature``)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"the number of quadrature points must be an int >= 1; got {n!r}")
    if isinstance(domain, Box):
        d = domain.dim
        per_axis = max(1, int(round((n / order**d) ** (1 / d))))
        levels = SPLIT_LEVELS.get(d, 1) if levels is None else levels
        offset = as_rng(seed).random(d) if shift else None
        return box_quadrature(domain.lower, domain.upper, per_axis, order, split=split, levels=levels, offset=offset)
    if isinstance(domain, MeshDomain) and domain.dim in _SIMPLEX_RULES:
        return simplex_quadrature(domain.points, domain.cells, domain.volumes)
    return monte_carlo(domain, n, method=method, seed=seed)
