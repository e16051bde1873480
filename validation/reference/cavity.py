"""Lid-driven cavity reference: steady Navier-Stokes on the unit square by stream function and vorticity.

``u . grad u + grad p = (1/Re) Delta u``, ``div u = 0`` on [0, 1]^2, with ``u = 1, v = 0`` on the lid
y = 1 and ``u = v = 0`` on the other walls. With ``u = psi_y``, ``v = -psi_x`` and ``omega = v_x - u_y``:

    -Delta psi = omega,      psi_y omega_x - psi_x omega_y = (1/Re) Delta omega,      psi = 0 on the walls,

discretised with second-order central differences on the (n + 1)^2 nodes of a uniform grid, the wall
vorticity by Thom's formula ``omega_w = -2 psi_1 / h^2 - 2 U_w / h`` (psi_1: the node next to the wall,
U_w: the wall's tangential speed, 1 on the lid; A. Thom, Proc. R. Soc. A 141 (1933) 651-669). Thom's
formula is first order at the wall but the scheme is second order for psi and the velocities (W. E and
J.-G. Liu, "Vorticity boundary condition and related issues for finite difference schemes", J. Comput.
Phys. 124 (1996) 368-382). The steady equations are solved outright by
Newton's method with scipy's sparse LU (no pseudo-time): from zero the first step is the Stokes flow and
at Re = 100 about five more bring the residual to round-off, so the answer is the discrete steady state
itself, not an iterate stopped by a tolerance on its change.

The velocities are the central differences of psi and the wall data (so the central-difference
divergence vanishes to round-off at every interior node); the lid's end points (0, 1) and (1, 1) carry
u = 1. The pressure integrates the momentum equation, ``grad p = -(u . grad) u + (1/Re) (-omega_y,
omega_x)`` (central differences; on a wall only the viscous part, a derivative of the wall vorticity
along the wall), by the trapezoidal rule along grid lines: the centreline y = 1/2 from the centre, then
every column from y = 1/2. It is then made mean-free with trapezoidal weights (int p dA = 0 to second
order). The pressure Poisson equation with Neumann data from the wall vorticity was tried first and
rejected: near each top corner the lid's and the side wall's boundary fluxes (each ~1/h there) do not
cancel, which acts like a source of strength ~1/h at each corner, and p drifted like 1/h over the whole
box (p(0, 1/2) = -0.04, -0.10, -0.21, -0.44 at n = 32, 64, 128, 256). Integrating along lines keeps
the corners' influence local: away from them p converges at second order.

Accuracy, measured: the centreline extrema u_min(x = 1/2), v_max and v_min(y = 1/2) converge at second
order; at n = 256 they are within 2.3e-4 of the spectral values of Botella and Peyret (Computers & Fluids
27 (1998) 421-433: -0.2140424, 0.1795728, -0.2538030), and Richardson extrapolation from n = 128 and 256
lands within 1.3e-6 of them. The much-used table of Ghia, Ghia and Shin (J. Comput. Phys. 48 (1982)
387-411, 129^2 nodes) is itself up to 8.5e-3 off those values (v near its minimum), so a correct
solution differs from it by that much: at n = 128, up to 4.2e-3 in u and 8.4e-3 in v. The pressure is
unbounded at the two top corners (the lid's velocity jumps there), so nodal p near them grows like 1/h;
more than 0.1 away from them p converges at second order. n = 128 takes about 4 s on two cores, n = 256
about 30 s. Hint: compare a surrogate's pressure after removing its own mean with the same weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_int, check_positive, resolve_device
from kanpde.errors import ConfigError
from kanpde.geometry.box import Grid
from kanpde.validation.reference.cache import Reference

__all__ = ["CavitySolution", "cavity_fd", "cavity_reference", "CAVITY_RESOLUTION"]

CAVITY_RESOLUTION = 256  # intervals per axis of the registered reference (see cavity_reference)


@dataclass(frozen=True, eq=False)
class CavitySolution:
    """The steady cavity flow at the nodes of a uniform grid (walls included).

    grid: the (n + 1) x (n + 1) nodes, axes (x, y); arrays are indexed ``[i, j]`` = (x_i, y_j).
    u, v, p: (n + 1, n + 1) float64 tensors: velocity and pressure (mean-free with trapezoidal weights).
    psi, omega: (n + 1, n + 1) stream function and vorticity (omega at the four corners, which the
        scheme never uses, is the mean of its two wall neighbours).
    re: the Reynolds number; iterations: Newton steps taken; residual: the final max |F| of the
        discrete equations relative to that of the zero flow.
    method, wall_s: the discretisation and solver, and the seconds they took.
    """

    grid: Grid
    u: Tensor
    v: Tensor
    p: Tensor
    psi: Tensor
    omega: Tensor
    re: float
    iterations: int
    residual: float
    method: str
    wall_s: float


def cavity_fd(
    n: int = CAVITY_RESOLUTION,
    re: float = 100.0,
    *,
    device: str | torch.device | None = None,
    tol: float = 1e-11,
    max_iter: int = 30,
) -> CavitySolution:
    """Solve the steady lid-driven cavity on [0, 1]^2 at Reynolds number ``re`` on n x n cells.

    Args:
        n: intervals per axis (>= 8, even so that x = y = 1/2 is a node); the grid has (n + 1)^2 nodes.
            n = 128 takes about 4 s on two cores, n = 256 about 30 s.
        re: the Reynolds number (> 0). Central differences need the cell Reynolds number re / n below
            about 2 to stay free of wiggles; Newton from rest converges up to re = 400 at least (7
            steps at n = 128) but not at re = 1000, which would need continuation in re.
        device: where the returned tensors live (the solve itself runs on the CPU with scipy).
        tol: Newton stops when max |F| of the discrete equations falls below ``tol`` times its value
            for the fluid at rest.
        max_iter: Newton step limit (a ``ConfigError`` says when it is reached).
    """
    n = check_int(n, "cavity_fd.n", 8)
    if n % 2:
        raise ConfigError(f"cavity_fd.n must be even (so the centrelines x = y = 1/2 are nodes); got n={n}")
    re = check_positive(re, "cavity_fd.re")
    tol = check_positive(tol, "cavity_fd.tol")
    max_iter = check_int(max_iter, "cavity_fd.max_iter", 1)
    dev = resolve_device(device)
    start = time.perf_counter()
    ops = _Operators(n)
    state, iterations, residual = _newton(ops, re, tol, max_iter)
    psi, omega = ops.full(state)
    u, v = _velocities(ops, psi)
    p = _pressure(ops, u, v, omega, re)
    fields = [torch.from_numpy(a.reshape(n + 1, n + 1)).to(dev) for a in (u, v, p, psi, omega)]
    axis = np.linspace(0.0, 1.0, n + 1)
    method = f"psi-omega fd2 + Thom walls, newton/splu {iterations} steps, p by line integration (cpu), n={n}"
    return CavitySolution(Grid((axis, axis)), *fields, re, iterations, residual, method, time.perf_counter() - start)


def cavity_reference(resolution: int, *, device: str | torch.device | None = None, re: float = 100.0) -> Reference:
    """The cavity flow as a ``"grid"`` :class:`Reference` with components (u, v, p): called at points (m, 2)
    it returns (m, 3), interpolated bilinearly from the nodes.

    A builder for ``register_reference``: resolution is the number of intervals per axis (even, >= 8;
    the registered default should be ``CAVITY_RESOLUTION`` = 256, about 30 s on two cores); device is
    part of the builder signature only (the solve runs on the CPU and a Reference holds numpy arrays).
    """
    sol = cavity_fd(resolution, re, device="cpu")
    values = torch.stack([sol.u, sol.v, sol.p], dim=-1)
    return Reference.from_grid(sol.grid, values, method=sol.method, wall_s=sol.wall_s)


class _Operators:
    """Sparse difference operators on the (n + 1)^2 nodes, flattened ``[i, j] -> i (n + 1) + j``.

    ``dx, dy, lap``: central d/dx, d/dy and the five-point Laplacian, full grid -> the m = (n - 1)^2
    interior nodes. ``inject``: interior -> full (zero walls). ``thom``: interior psi -> wall omega,
    plus ``lid`` (full): the constant part -2 U / h on the lid.
    """

    def __init__(self, n: int) -> None:
        from scipy import sparse

        self.n, self.h = n, 1.0 / n
        h, k = self.h, n - 1
        eye = sparse.eye(k, n + 1, k=1, format="csr")  # interior <- full, in 1-D
        d1 = (sparse.eye(k, n + 1, k=2) - sparse.eye(k, n + 1)) / (2 * h)
        d2 = (sparse.eye(k, n + 1) - 2 * eye + sparse.eye(k, n + 1, k=2)) / h**2
        self.dx = sparse.kron(d1, eye, format="csr")
        self.dy = sparse.kron(eye, d1, format="csr")
        self.lap = (sparse.kron(d2, eye) + sparse.kron(eye, d2)).tocsr()
        self.inject = sparse.kron(eye, eye, format="csr").T.tocsr()
        self.thom, self.lid = _thom(n, h)

    def full(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """psi and omega on the full grid, flat ((n + 1)^2,), from the interior unknowns (2 m,)."""
        m = self.inject.shape[1]
        psi = self.inject @ state[:m]
        omega = self.inject @ state[m:] + self.thom @ state[:m] + self.lid
        _fill_corners(omega.reshape(self.n + 1, self.n + 1))  # a view: fills omega's corners
        return psi, omega


def _thom(n: int, h: float) -> tuple[Any, np.ndarray]:
    """Thom's wall vorticity: the map interior psi -> full omega (walls only) and the lid's constant."""
    from scipy import sparse

    size, k = n + 1, n - 1
    rows, cols = [], []
    for t in range(1, n):  # t runs along each wall; (wall node, its interior neighbour), interior index
        for wall, inner in (((t, 0), (t, 1)), ((t, n), (t, n - 1)), ((0, t), (1, t)), ((n, t), (n - 1, t))):
            rows.append(wall[0] * size + wall[1])
            cols.append((inner[0] - 1) * k + inner[1] - 1)
    thom = sparse.csr_matrix((np.full(len(rows), -2 / h**2), (rows, cols)), shape=(size * size, k * k))
    lid = np.zeros(size * size)
    lid[np.arange(1, n) * size + n] = -2.0 / h  # U = 1 on the lid
    return thom, lid


def _fill_corners(grid: np.ndarray) -> np.ndarray:
    """Set the four corners of a node array (n + 1, n + 1), in place, to the mean of their two wall
    neighbours (the scheme never reads omega there; p is singular at the top corners)."""
    for i, j, di, dj in ((0, 0, 1, 1), (0, -1, 1, -1), (-1, 0, -1, 1), (-1, -1, -1, -1)):
        grid[i, j] = 0.5 * (grid[i + di, j] + grid[i, j + dj])
    return grid


def _equations(ops: _Operators, state: np.ndarray, re: float) -> tuple[np.ndarray, Any]:
    """The residual F (2 m,) of  -Delta psi - omega  and  psi_y omega_x - psi_x omega_y - Delta omega / Re
    at the interior nodes, and its Jacobian (2 m, 2 m) with respect to (psi, omega) there."""
    from scipy import sparse

    m = ops.inject.shape[1]
    psi, omega = ops.full(state)
    px, py, wx, wy = ops.dx @ psi, ops.dy @ psi, ops.dx @ omega, ops.dy @ omega
    f_psi = -(ops.lap @ psi) - state[m:]
    f_omega = py * wx - px * wy - (ops.lap @ omega) / re

    def diag(a: np.ndarray) -> Any:
        return sparse.diags(a)

    d_psi = diag(wx) @ ops.dy @ ops.inject - diag(wy) @ ops.dx @ ops.inject
    d_psi += (diag(py) @ ops.dx - diag(px) @ ops.dy - ops.lap / re) @ ops.thom
    d_omega = (diag(py) @ ops.dx - diag(px) @ ops.dy - ops.lap / re) @ ops.inject
    jacobian = sparse.bmat([[-(ops.lap @ ops.inject), -sparse.eye(m)], [d_psi, d_omega]], format="csc")
    return np.concatenate([f_psi, f_omega]), jacobian


def _newton(ops: _Operators, re: float, tol: float, max_iter: int) -> tuple[np.ndarray, int, float]:
    """Newton's method from rest, halving a step that would raise max |F|; returns (state, steps, residual)."""
    from scipy.sparse.linalg import splu

    state = np.zeros(2 * ops.inject.shape[1])
    f, jac = _equations(ops, state, re)
    scale = float(np.abs(f).max())
    for it in range(1, max_iter + 1):
        step = splu(jac, permc_spec="COLAMD").solve(-f)
        norm = float(np.abs(f).max())
        for _ in range(8):
            trial_f, trial_jac = _equations(ops, state + step, re)
            if float(np.abs(trial_f).max()) < norm or norm <= 10 * tol * scale:
                break
            step *= 0.5
        state, f, jac = state + step, trial_f, trial_jac
        residual = float(np.abs(f).max()) / scale
        if residual <= tol:
            return state, it, residual
    raise ConfigError(
        f"cavity_fd: Newton from rest did not reach tol={tol:g} in max_iter={max_iter} steps (relative "
        f"residual {residual:.2e}); raise max_iter if it was still falling. It converges up to re = 400 at "
        f"least; re={re:g} would need continuation in re, which cavity_fd does not do"
    )


def _velocities(ops: _Operators, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u = psi_y, v = -psi_x at the interior nodes (central differences), the wall data on the walls."""
    n = ops.n
    u = np.zeros((n + 1, n + 1))
    v = np.zeros((n + 1, n + 1))
    u[1:-1, 1:-1] = (ops.dy @ psi).reshape(n - 1, n - 1)
    v[1:-1, 1:-1] = -(ops.dx @ psi).reshape(n - 1, n - 1)
    u[:, n] = 1.0  # the lid, its two end points included
    return u.ravel(), v.ravel()


def _pressure(ops: _Operators, u: np.ndarray, v: np.ndarray, omega: np.ndarray, re: float) -> np.ndarray:
    """p ((n + 1)^2,) by integrating grad p = g along grid lines, then removing its trapezoidal mean.

    Paths: the centreline y = 1/2 from x = 1/2 to both walls (g_x), then each interior column from
    y = 1/2 up and down (g_y), then each side wall from its neighbouring column (g_x); the trapezoidal
    rule on each grid interval. Corners: the mean of their two wall neighbours.
    """
    n, h = ops.n, ops.h
    gx, gy = _momentum_gradient(*(a.reshape(n + 1, n + 1) for a in (u, v, omega)), re, h)
    mid = n // 2
    p = np.zeros((n + 1, n + 1))
    p[:, mid] = _cumulative(gx[:, mid], h, mid)
    p[1:-1, :] = p[1:-1, mid : mid + 1] + np.stack([_cumulative(g, h, mid) for g in gy[1:-1, :]])
    p[0, 1:-1] = p[1, 1:-1] - 0.5 * h * (gx[0, 1:-1] + gx[1, 1:-1])
    p[-1, 1:-1] = p[-2, 1:-1] + 0.5 * h * (gx[-1, 1:-1] + gx[-2, 1:-1])
    _fill_corners(p)
    return (p - np.sum(_trapezoid(n) * p)).ravel()


def _momentum_gradient(
    u: np.ndarray, v: np.ndarray, omega: np.ndarray, re: float, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """grad p = -(u . grad) u + (1/Re) Delta u, with Delta u = (-omega_y, omega_x): two (n + 1, n + 1) arrays.

    Interior nodes: central differences. Walls: the convective part vanishes (the wall velocity is
    constant along it), and only the tangential component is filled (g_x on the side walls, g_y on
    the lid and the bottom), a central difference of the wall vorticity along the wall.
    """
    inner = (slice(1, -1), slice(1, -1))

    def d(f: np.ndarray, axis: int) -> np.ndarray:
        hi = [slice(1, -1), slice(1, -1)]
        lo = [slice(1, -1), slice(1, -1)]
        hi[axis], lo[axis] = slice(2, None), slice(None, -2)
        return (f[tuple(hi)] - f[tuple(lo)]) / (2 * h)

    gx, gy = np.zeros_like(u), np.zeros_like(u)
    gx[inner] = -(u[inner] * d(u, 0) + v[inner] * d(u, 1)) - d(omega, 1) / re
    gy[inner] = -(u[inner] * d(v, 0) + v[inner] * d(v, 1)) + d(omega, 0) / re
    for wall in (0, -1):
        gx[wall, 1:-1] = -(omega[wall, 2:] - omega[wall, :-2]) / (2 * h * re)  # x = 0, 1: -omega_y / Re
        gy[1:-1, wall] = (omega[2:, wall] - omega[:-2, wall]) / (2 * h * re)  # y = 0, 1: omega_x / Re
    return gx, gy


def _cumulative(g: np.ndarray, h: float, origin: int) -> np.ndarray:
    """The trapezoidal integral of samples g (k,) with spacing h, zero at index ``origin``."""
    total = np.concatenate([[0.0], np.cumsum(0.5 * h * (g[1:] + g[:-1]))])
    return total - total[origin]


def _trapezoid(n: int) -> np.ndarray:
    """(n + 1, n + 1) trapezoidal weights of the unit square's nodes (they sum to 1)."""
    w = np.full(n + 1, 1.0 / n)
    w[[0, -1]] *= 0.5
    return np.outer(w, w)
