"""A P1 finite-element reference on meshes: -div(a grad u) = f in the domain, u = g on named boundary parts.

Linear Lagrange elements on the triangles or tetrahedra of a ``MeshDomain``, assembled with scipy.sparse and
solved by a sparse direct solver. With gradients of the barycentric coordinates G_e (constant on a cell e),

    K = sum_e |e| abar_e G_e G_e^T,      F_i = sum_e |e| sum_q w_q f(x_q) lambda_i(x_q),

abar_e the mean of a over the cell's quadrature points, and a quadrature of order 2 (three points in a
triangle, four in a tetrahedron; Strang and Fix 1973, Keast 1986) for both. Parts not listed in ``dirichlet``
get the natural condition a du/dn = 0. The error is O(h^2) in L2 and O(h) in H1 for smooth solutions
(Brenner and Scott, "The Mathematical Theory of Finite Element Methods", ch. 0 and 4).

Why not scikit-fem: it would add a dependency for ~100 lines that are the same for triangles and tetrahedra,
and the mesh and point location are ``MeshDomain``'s already.

Example::

    sol = solve_p1(mesh_domain(Disk([0, 0], 1), 0.05), f=lambda x: 4 + 0 * x[:, 0], dirichlet={"circle": 0.0})
    sol(np.array([[0.0, 0.0]]))     # ~ 1 = u(0) for u = 1 - |x|^2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.mesh import MeshDomain

__all__ = ["FESolution", "solve_p1", "quadrature"]

Data = float | Callable[[object], object]

# (barycentric points (q, d + 1), weights (q,) summing to 1): exact for polynomials of degree 2
_ORDER2 = {
    2: (np.array([[2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]]), np.full(3, 1 / 3)),
    3: (
        np.full((4, 4), 0.1381966011250105) + np.eye(4) * (0.5854101966249685 - 0.1381966011250105),
        np.full(4, 1 / 4),
    ),
}


def _permutations(a: float, b: float) -> list[list[float]]:
    return [[a, b, b], [b, a, b], [b, b, a]]


_R15 = np.sqrt(15.0)
# for errors: exact for degree 5 in a triangle (Dunavant 1985, 7 points) and 3 in a tetrahedron (Keast 1986)
_ERROR_RULE = {
    2: (
        np.array(
            [[1 / 3] * 3]
            + _permutations((9 - 2 * _R15) / 21, (6 + _R15) / 21)
            + _permutations((9 + 2 * _R15) / 21, (6 - _R15) / 21)
        ),
        np.array([9 / 40] + [(155 + _R15) / 1200] * 3 + [(155 - _R15) / 1200] * 3),
    ),
    3: (
        np.array([[1 / 4] * 4] + [[1 / 2 if i == j else 1 / 6 for i in range(4)] for j in range(4)]),
        np.array([-4 / 5] + [9 / 20] * 4),
    ),
}


def quadrature(domain: MeshDomain, *, exact_degree: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rule on every cell, exact for polynomials of degree 2 (``exact_degree=2``) or of degree 5 in 2-D and
    3 in 3-D (``exact_degree=3``): points (m, q, d), weights (m, q) (cell volume included) and the
    barycentric coordinates of the points (q, d + 1)."""
    if exact_degree not in (2, 3):
        raise ConfigError(f"quadrature exact_degree must be 2 or 3; got {exact_degree!r}")
    bary, w = (_ORDER2 if exact_degree == 2 else _ERROR_RULE)[domain.dim]
    x = np.einsum("qj,mjk->mqk", bary, domain.points[domain.cells])
    return x, domain.volumes[:, None] * w[None], bary


@dataclass(frozen=True)
class FESolution:
    """A P1 field on a mesh: ``values`` (n_nodes,) at ``domain.points``. ``sol(x)`` interpolates at points x
    (n, d) (numpy or torch) and returns (n,) numpy; points outside the mesh take the value of the cell with
    the nearest centroid at the nearest point of that cell (``MeshDomain.locate(nearest=True)``)."""

    domain: MeshDomain
    values: np.ndarray

    def __call__(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
        cell, bary = self.domain.locate(x, nearest=True)
        return np.einsum("nj,nj->n", bary, self.values[self.domain.cells[cell]])

    def l2_error(self, exact: Callable[[object], object]) -> float:
        """The L2 norm of (u_h - exact) over the mesh, by a rule of degree 5 (2-D) or 3 (3-D) on every cell
        (an order-2 rule would make an error of the order of the error itself)."""
        x, w, bary = quadrature(self.domain, exact_degree=3)
        uh = np.einsum("qj,mj->mq", bary, self.values[self.domain.cells])
        ex = evaluate(exact, x.reshape(-1, self.domain.dim), "exact").reshape(uh.shape)
        return float(np.sqrt(np.sum(w * (uh - ex) ** 2)))


def solve_p1(
    domain: MeshDomain,
    f: Data,
    *,
    a: Data = 1.0,
    dirichlet: Mapping[str, Data] | None = None,
) -> FESolution:
    """Solve -div(a grad u) = f on ``domain`` with u = g on the parts in ``dirichlet`` (module doc).

    Args:
        domain: the mesh.
        f: the source, a number or a function of points (n, d) -> (n,) (numpy or torch; it is called with a
            float64 torch tensor).
        a: the coefficient, a number or such a function; it must be > 0 at every quadrature point.
        dirichlet: part name -> g (a number or a function of points); default ``{"boundary": 0.0}``. At
            least one part: without one the solution is not unique.
    """
    if not isinstance(domain, MeshDomain):
        raise ConfigError(f"solve_p1 needs a MeshDomain (mesh_domain(shape, size) or MeshDomain.read); got {domain!r}")
    dirichlet = {"boundary": 0.0} if dirichlet is None else dict(dirichlet)
    if not dirichlet:
        raise ConfigError(
            "solve_p1 needs a Dirichlet condition on at least one part (with a du/dn = 0 everywhere u is only "
            "defined up to a constant); pass dirichlet={'boundary': 0.0}"
        )
    x, w, bary = quadrature(domain)
    m, q, d = x.shape
    flat = x.reshape(-1, d)
    coef = evaluate(a, flat, "a").reshape(m, q)
    if not np.all(np.isfinite(coef)) or coef.min() <= 0:
        raise ConfigError(f"solve_p1: the coefficient a must be finite and > 0; its smallest value is {coef.min():.3g}")
    source = evaluate(f, flat, "f").reshape(m, q)
    stiffness = _stiffness(domain, (w * coef).sum(axis=1))
    load = np.bincount(
        domain.cells.reshape(-1), np.einsum("mq,qj->mj", w * source, bary).reshape(-1), len(domain.points)
    )
    fixed, g = _dirichlet(domain, dirichlet)
    return FESolution(domain, _solve(stiffness, load, fixed, g))


def evaluate(fn: Data, x: np.ndarray, name: str) -> np.ndarray:
    """(n,) float64 values of a number or a function of points (called with a float64 torch tensor; a
    function that only takes numpy arrays is called with x itself)."""
    if isinstance(fn, (int, float, np.integer, np.floating)) and not isinstance(fn, bool):
        return np.full(len(x), float(fn))
    if not callable(fn):
        raise ConfigError(f"solve_p1: {name} must be a number or a function of points (n, d) -> (n,); got {fn!r}")
    try:
        out = fn(torch.from_numpy(np.ascontiguousarray(x)))
    except TypeError:
        out = fn(x)
    out = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out, dtype=np.float64)
    if out.ndim == 0:
        return np.full(len(x), float(out))
    if out.size != len(x):
        raise ShapeError(f"solve_p1: {name}(x) for x of shape {x.shape} must give (n,) or (n, 1); got {out.shape}")
    return out.reshape(-1).astype(np.float64)


def _stiffness(domain: MeshDomain, weight: np.ndarray):  # -> scipy.sparse.csr_matrix
    """sum_e weight_e G_e G_e^T, G_e (d + 1, d) the barycentric gradients of cell e; weight_e = int_e a."""
    from scipy.sparse import coo_matrix

    corners = domain.points[domain.cells]
    inv = np.linalg.inv(np.swapaxes(corners[:, 1:] - corners[:, :1], 1, 2))  # rows: grad lambda_1..d
    grads = np.concatenate([-inv.sum(axis=1, keepdims=True), inv], axis=1)
    local = weight[:, None, None] * np.einsum("mik,mjk->mij", grads, grads)
    k = domain.dim + 1
    rows = np.repeat(domain.cells, k, axis=1).reshape(-1)
    cols = np.tile(domain.cells, (1, k)).reshape(-1)
    n = len(domain.points)
    return coo_matrix((local.reshape(-1), (rows, cols)), shape=(n, n)).tocsr()


def _dirichlet(domain: MeshDomain, data: Mapping[str, Data]) -> tuple[np.ndarray, np.ndarray]:
    """Fixed node numbers and their values (a node on two parts takes the later part's value)."""
    values = np.full(len(domain.points), np.nan)
    for part, g in data.items():
        nodes = domain.part_nodes(part)
        values[nodes] = evaluate(g, domain.points[nodes], f"dirichlet[{part!r}]")
    fixed = np.flatnonzero(~np.isnan(values))
    return fixed, values[fixed]


def _solve(stiffness, load: np.ndarray, fixed: np.ndarray, g: np.ndarray) -> np.ndarray:
    from scipy.sparse.linalg import spsolve

    n = len(load)
    free = np.setdiff1d(np.arange(n), fixed)
    u = np.zeros(n)
    u[fixed] = g
    rhs = load[free] - stiffness[free][:, fixed] @ g
    u[free] = spsolve(stiffness[free][:, free].tocsc(), rhs)
    return u
