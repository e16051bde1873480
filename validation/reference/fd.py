"""Finite-difference and finite-volume reference solvers on boxes: Poisson and Darcy.

Both work on torch tensors: on a GPU (``device="cuda"``, the default when one is present) everything
runs there; on the CPU the sine transforms are scipy's FFT-based DSTs. ``FDSolution.method`` says
which ran. Coefficients and data are functions of points x: (m, d) (torch, float64) returning (m,) or
(m, 1), like a problem's ``source`` and ``exact``.

* :func:`poisson_fd`: ``Delta u = f`` with ``u = g`` on the walls, second-order 2d+1 point differences on
  the nodes, solved directly with a sine transform (DST-I).
* :func:`darcy_fv`: ``-div(a grad u) = f`` with ``u = g`` on the walls, cell-centred finite volumes with
  harmonic-mean face coefficients (second order for smooth a, first order across a jump of a). Solved
  by conjugate gradients preconditioned with the constant-coefficient operator (DST-II): with face
  coefficients in [a_min, a_max] the preconditioned condition number is at most a_max / a_min whatever
  the grid, so a contrast of 10 takes about 30 iterations at any resolution. ``method="direct"``
  assembles the sparse matrix for scipy's LU instead (slower; kept as a check).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import is_int, resolve_device
from kanpde.errors import ConfigError
from kanpde.geometry.box import Box, Grid
from kanpde.validation.reference.sine import DirichletLaplacian

__all__ = ["FDSolution", "poisson_fd", "darcy_fv", "DARCY_METHODS"]

Data = float | Callable[[Tensor], Tensor]
DARCY_METHODS = ("auto", "pcg", "direct")


@dataclass(frozen=True, eq=False)
class FDSolution:
    """A grid solution covering the closed box.

    grid: the tensor-product grid of the values: for :func:`poisson_fd` the nodes (walls included);
        for :func:`darcy_fv` the cell centres with the walls added at both ends of each axis, so
        ``values[1:-1, 1:-1]`` are the cell unknowns and the outer layer holds the wall data g.
    values: (grid.shape) tensor on the device it was computed on, float64.
    method: which discretisation and solver ran, and on what (for example
        ``"fv5/pcg+dst-II/scipy (cpu), 38 iterations"``).
    wall_s: seconds from the first coefficient evaluation to the solution.
    """

    grid: Grid
    values: Tensor
    method: str
    wall_s: float

    @property
    def cells(self) -> Tensor:
        """The values without the outer (wall) layer: the interior nodes or the cell centres."""
        return self.values[tuple(slice(1, -1) for _ in range(self.values.ndim))]


def poisson_fd(
    f: Data,
    g: Data = 0.0,
    box: Box | None = None,
    n: int | Sequence[int] = 256,
    *,
    device: str | torch.device | None = None,
    backend: str = "auto",
) -> FDSolution:
    """Solve ``Delta u = f`` in ``box``, ``u = g`` on its walls, with second-order central differences.

    Args:
        f: the source f(x), x: (m, d) -> (m,) or (m, 1), or a number.
        g: the Dirichlet data on the walls (a function of x or a number).
        box: the domain, any dimension (default [-1, 1]^2).
        n: intervals per axis (an int, or one per axis, each >= 2); the grid has n + 1 nodes per axis.
        device: where to compute (default: CUDA when available, else the CPU).
        backend: ``"auto"`` (scipy's DST on the CPU, dense sine matrices on a GPU), ``"scipy"`` or ``"torch"``.

    The 2d+1 point operator is diagonalised by the type-I sine transform, so the solve is direct and
    costs O(N log N): 1024^2 takes a fraction of a second on a laptop CPU. Error O(h^2) for smooth u.
    """
    box = box if box is not None else Box([-1.0, -1.0], [1.0, 1.0])
    dev = resolve_device(device)
    counts = _counts(n, box, "poisson_fd", minimum=2)
    start = time.perf_counter()
    grid = Grid(tuple(np.linspace(lo, hi, c + 1) for lo, hi, c in zip(box.lower, box.upper, counts)))
    h = [(hi - lo) / c for lo, hi, c in zip(box.lower, box.upper, counts)]
    inner = tuple(slice(1, -1) for _ in counts)
    values = _boundary_values(g, grid, dev, "poisson_fd.g")
    values[inner] = 0.0
    f_inner = _on_grid(f, _subgrid(grid, inner), dev, "poisson_fd.f")
    rhs = _laplacian_nodes(values, h) - f_inner  # -Delta_h u_inner = -f + (wall neighbours) / h^2
    solver = DirichletLaplacian(f_inner.shape, h, staggered=False, device=dev, backend=backend)
    values[inner] = solver(rhs).to(dev)
    return FDSolution(grid, values, f"fd{2 * box.dim + 1}/{solver.name}", time.perf_counter() - start)


def darcy_fv(
    a: Data,
    f: Data,
    box: Box | None = None,
    n: int | Sequence[int] = 256,
    *,
    g: Data = 0.0,
    device: str | torch.device | None = None,
    method: str = "auto",
    backend: str = "auto",
    rtol: float = 1e-10,
    max_iter: int = 1000,
) -> FDSolution:
    """Solve ``-div(a grad u) = f`` in ``box``, ``u = g`` on its walls, with cell-centred finite volumes.

    Args:
        a: the coefficient a(x) > 0 (a function of x: (m, d) or a number), sampled at cell centres.
        f: the source (a function or a number), sampled at cell centres.
        box: the domain, any dimension (default (0, 1)^2).
        n: cells per axis (an int, or one per axis, each >= 2).
        g: the Dirichlet data on the walls.
        device: where to compute (default: CUDA when available, else the CPU).
        method: ``"pcg"`` (conjugate gradients, preconditioned by the constant-coefficient solver),
            ``"direct"`` (scipy sparse LU, CPU), or ``"auto"`` (= ``"pcg"``).
        backend: the sine-transform backend of the preconditioner (see :func:`poisson_fd`).
        rtol: PCG stops when sqrt(r.z) <= rtol sqrt(b.M^-1 b); the relative error in the energy norm
            is then below about sqrt(a_max / a_min) * rtol.
        max_iter: PCG iteration limit (a ``ConfigError`` says when it is reached).

    The flux through the face between cells P and Q is ``a_f (u_P - u_Q) / h`` with the harmonic mean
    ``a_f = 2 a_P a_Q / (a_P + a_Q)``; through a wall face it is ``2 a_P (u_P - g) / h`` (the wall is
    half a cell away). Hint: a jump of a that cuts through cells limits the order to one; at 1024^2
    cells the ``darcy_piecewise`` solution is good to about 5e-4 relative (L2).
    """
    if method not in DARCY_METHODS:
        raise ConfigError(f"darcy_fv.method must be one of {', '.join(DARCY_METHODS)}; got {method!r}")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ConfigError(f"darcy_fv.rtol must be a number in (0, 1); got {rtol!r}")
    box = box if box is not None else Box([0.0, 0.0], [1.0, 1.0])
    dev = resolve_device(device)
    counts = _counts(n, box, "darcy_fv", minimum=2)
    start = time.perf_counter()
    centres = [lo + (np.arange(c) + 0.5) * (hi - lo) / c for lo, hi, c in zip(box.lower, box.upper, counts)]
    grid = Grid(tuple(np.concatenate([[lo], x, [hi]]) for lo, hi, x in zip(box.lower, box.upper, centres)))
    h = [(hi - lo) / c for lo, hi, c in zip(box.lower, box.upper, counts)]
    inner = tuple(slice(1, -1) for _ in counts)
    cell_grid = _subgrid(grid, inner)
    coeff = _on_grid(a, cell_grid, dev, "darcy_fv.a")
    if not bool(torch.all(coeff > 0)):
        raise ConfigError(
            f"darcy_fv.a must be positive at every cell centre; got min a = {float(coeff.min()):.3g} "
            "(an elliptic problem needs a > 0; check the coefficient's formula and the box)"
        )
    values = _boundary_values(g, grid, dev, "darcy_fv.g")
    values[inner] = 0.0
    trans = _transmissibilities(coeff, h)
    rhs = _on_grid(f, cell_grid, dev, "darcy_fv.f") - _flux_divergence(values, trans, h)
    if method == "direct":
        if dev.type != "cpu":
            raise ConfigError(f"darcy_fv(method='direct') runs on the CPU; got device={dev} (use method='pcg')")
        values[inner] = _direct_solve(trans, h, rhs)
        name = "direct/scipy-spsolve-mmd (cpu)"
    else:
        pre = DirichletLaplacian(counts, h, staggered=True, device=dev, backend=backend)
        if pre.backend == "scipy":  # numpy: its single-threaded loops stay steady on a busy CPU
            u, iters = _pcg(_cell_operator([t.numpy() for t in trans], h), pre, rhs.numpy(), rtol, max_iter)
            values[inner] = torch.from_numpy(u)
        else:
            values[inner], iters = _pcg(_cell_operator(trans, h), pre, rhs, rtol, max_iter)
        name = f"pcg+{pre.name}, {iters} iterations"
    return FDSolution(grid, values, f"fv{2 * box.dim + 1}/{name}", time.perf_counter() - start)


# --- discretisation ------------------------------------------------------------------------------------
def _laplacian_nodes(values: Tensor, h: Sequence[float]) -> Tensor:
    """Delta_h of a node array at its interior nodes (second-order central differences)."""
    d = values.ndim
    inner = [slice(1, -1)] * d
    out = 0.0
    for axis, step in enumerate(h):
        lo, mid, hi = list(inner), list(inner), list(inner)
        lo[axis], hi[axis] = slice(0, -2), slice(2, None)
        out = out + (values[tuple(lo)] - 2 * values[tuple(mid)] + values[tuple(hi)]) / step**2
    return out


def _transmissibilities(coeff: Tensor, h: Sequence[float]) -> list[Tensor]:
    """Per axis, the face coefficients times 1/distance (in units of h): n + 1 faces, walls included.

    Interior faces: the harmonic mean of the two cells; wall faces: 2 a_P (the wall is h/2 away).
    """
    trans = []
    for axis in range(coeff.ndim):
        first = coeff.narrow(axis, 0, coeff.shape[axis] - 1)
        second = coeff.narrow(axis, 1, coeff.shape[axis] - 1)
        harmonic = 2 * first * second / (first + second)
        walls = (2 * coeff.narrow(axis, 0, 1), 2 * coeff.narrow(axis, coeff.shape[axis] - 1, 1))
        trans.append(torch.cat([walls[0], harmonic, walls[1]], dim=axis))
    return trans


def _flux_divergence(padded: Tensor, trans: list[Tensor], h: Sequence[float]) -> Tensor:
    """-div(a grad u)_h at the cells of ``padded`` (cells plus one wall layer on every side)."""
    d = padded.ndim
    out = 0.0
    for axis, step in enumerate(h):
        index = [slice(1, -1)] * d
        index[axis] = slice(None)
        flux = trans[axis] * torch.diff(padded[tuple(index)], dim=axis)
        out = out - torch.diff(flux, dim=axis) / step**2
    return out


def _cell_operator(trans: list[Any], h: Sequence[float]) -> Callable[[Any], Any]:
    """The FV operator on cell values with zero walls, from its diagonal and its face weights.

    Works on torch tensors and on numpy arrays alike (``trans`` decides which).
    """
    d = len(h)
    diag = 0.0
    off = []
    for axis, step in enumerate(h):
        n = trans[axis].shape[axis] - 1
        diag = diag + (trans[axis][_slab(axis, 0, n, d)] + trans[axis][_slab(axis, 1, n, d)]) / step**2
        off.append(trans[axis][_slab(axis, 1, n - 1, d)] / step**2)

    def apply(u: Any) -> Any:
        out = diag * u
        for axis, w in enumerate(off):
            n = u.shape[axis]
            lower, upper = _slab(axis, 0, n - 1, d), _slab(axis, 1, n - 1, d)
            view = out[lower]
            view -= w * u[upper]  # row P: -w_{P,P+1} u_{P+1}
            view = out[upper]
            view -= w * u[lower]  # row P+1: -w_{P,P+1} u_P
        return out

    return apply


def _slab(axis: int, start: int, length: int, ndim: int) -> tuple[slice, ...]:
    return tuple(slice(start, start + length) if i == axis else slice(None) for i in range(ndim))


def _pcg(
    apply: Callable[[Any], Any], precondition: DirichletLaplacian, b: Any, rtol: float, max_iter: int
) -> tuple[Any, int]:
    """Preconditioned conjugate gradients from x = 0 on torch tensors or numpy arrays; returns (x, iterations)."""
    x = b * 0.0
    r = b + 0.0
    z = precondition(r)
    p = z + 0.0
    rz = float((r * z).sum())
    target = rtol * math.sqrt(max(rz, 0.0))
    for it in range(1, max_iter + 1):
        ap = apply(p)
        alpha = rz / float((p * ap).sum())
        x += alpha * p
        r -= alpha * ap
        z = precondition(r)
        rz_new = float((r * z).sum())
        if math.sqrt(max(rz_new, 0.0)) <= target:
            return x, it
        p *= rz_new / rz
        p += z
        rz = rz_new
    raise ConfigError(
        f"darcy_fv: PCG did not reach rtol={rtol:g} in max_iter={max_iter} iterations "
        "(raise max_iter, or check that a is positive and bounded)"
    )


def _direct_solve(trans: list[Tensor], h: Sequence[float], rhs: Tensor) -> Tensor:
    """Assemble the FV matrix and solve with scipy's sparse LU (minimum-degree ordering on A^T + A)."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    shape = rhs.shape
    matrix = None
    for axis, step in enumerate(h):
        m = shape[axis]
        diff = sparse.diags([np.ones(m), -np.ones(m)], [0, -1], shape=(m + 1, m), format="csr")  # face <- cells
        ops = [sparse.identity(s, format="csr") for s in shape]
        ops[axis] = diff
        grad = ops[0]
        for op in ops[1:]:
            grad = sparse.kron(grad, op, format="csr")
        weights = sparse.diags(trans[axis].cpu().numpy().ravel() / step**2)
        term = grad.T @ weights @ grad
        matrix = term if matrix is None else matrix + term
    u = spsolve(matrix.tocsc(), rhs.cpu().numpy().ravel(), permc_spec="MMD_AT_PLUS_A")
    return torch.from_numpy(u.reshape(shape))


# --- helpers --------------------------------------------------------------------------------------------
def _counts(n: int | Sequence[int], box: Box, where: str, *, minimum: int) -> list[int]:
    if not isinstance(box, Box):
        raise ConfigError(f"{where}.box must be a kanpde.Box; got {box!r}")
    if is_int(n):
        counts = [int(n)] * box.dim
    elif isinstance(n, (list, tuple)) and all(is_int(c) for c in n):
        counts = [int(c) for c in n]
    else:
        counts = []
    if len(counts) != box.dim or min(counts, default=0) < minimum:
        raise ConfigError(
            f"{where}.n must be an int >= {minimum} or {box.dim} such ints (one per axis); got n={n!r} "
            f"(use a finer resolution, e.g. n=64)"
        )
    return counts


def _subgrid(grid: Grid, index: tuple[slice, ...]) -> Grid:
    return Grid(tuple(a[s] for a, s in zip(grid.axes, index)))


def _on_grid(func: Data, grid: Grid, device: torch.device, field: str) -> Tensor:
    """func at the grid's points as a (grid.shape) float64 tensor; checks what it returns."""
    if not callable(func):
        if isinstance(func, bool) or not isinstance(func, (int, float)) or not math.isfinite(func):
            raise ConfigError(f"{field} must be a finite number or a function of the points x: (m, d); got {func!r}")
        return torch.full(grid.shape, float(func), dtype=torch.float64, device=device)
    x = torch.as_tensor(grid.points(), dtype=torch.float64, device=device)
    with torch.no_grad():
        out = func(x)
    m = x.shape[0]
    if not isinstance(out, Tensor) or tuple(out.shape) not in ((m,), (m, 1)):
        got = tuple(out.shape) if isinstance(out, (Tensor, np.ndarray)) else type(out).__name__
        raise ConfigError(
            f"{field}(x) must return a torch tensor of shape ({m},) or ({m}, 1) for x of shape ({m}, {grid.dim}); "
            f"got {got} (return one value per point, e.g. torch.sin(x[:, 0]))"
        )
    out = out.to(device, torch.float64).reshape(grid.shape)
    if not bool(torch.all(torch.isfinite(out))):
        raise ConfigError(f"{field}(x) returned non-finite values on the grid; check its formula on the whole box")
    return out


def _boundary_values(g: Data, grid: Grid, device: torch.device, field: str) -> Tensor:
    """A (grid.shape) tensor holding g on the outer layer (the walls); the inside is to be overwritten."""
    if not callable(g):
        return _on_grid(g, grid, device, field)
    values = torch.zeros(grid.shape, dtype=torch.float64, device=device)
    for axis in range(grid.dim):
        for end in (0, -1):
            index = [slice(None)] * grid.dim
            index[axis] = slice(end, None) if end == -1 else slice(0, 1)
            face = Grid(tuple(a[s] for a, s in zip(grid.axes, index)))
            values[tuple(index)] = _on_grid(g, face, device, field)
    return values
