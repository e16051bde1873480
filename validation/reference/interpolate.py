"""Interpolation of stored references onto evaluation points.

* :func:`interpolate_grid`: multilinear on a tensor grid (second order, like the FV/FD solutions it
  serves; never overshoots at a kink of the solution), of one field or of several stacked on a trailing
  component axis.
* :func:`interpolate_periodic`: the trigonometric interpolant in x (exact for a Fourier pseudo-spectral
  solution, so it adds nothing to the reference's error) and cubic Lagrange in t through the four
  nearest stored levels (exact at the levels).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError

__all__ = ["interpolate_grid", "interpolate_periodic", "lagrange_weights"]

_TOL = 1e-12


def interpolate_grid(axes: tuple[np.ndarray, ...], values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Multilinear interpolation of ``values`` at points: (n, d).

    values: (len(axes[0]), ..., len(axes[d - 1])) for one field, returning (n,); or with a trailing
    component axis (len(axes[0]), ..., len(axes[d - 1]), c), returning (n, c), each component
    interpolated on its own. Points must lie in the closed box spanned by the axes (within a
    relative 1e-12).
    """
    from scipy.interpolate import RegularGridInterpolator

    lo = np.array([a[0] for a in axes])
    hi = np.array([a[-1] for a in axes])
    tol = _TOL * np.maximum(1.0, np.abs(hi - lo))
    outside = np.any((points < lo - tol) | (points > hi + tol), axis=1)
    if np.any(outside):
        bad = points[np.argmax(outside)]
        raise ConfigError(
            f"reference points must lie in the box lower={lo.tolist()}, upper={hi.tolist()}; "
            f"got {int(outside.sum())} outside, e.g. {bad.tolist()}"
        )
    clipped = np.clip(points, lo, hi)
    return RegularGridInterpolator(axes, values, method="linear")(clipped)


def interpolate_periodic(
    x_nodes: np.ndarray,
    t_levels: np.ndarray,
    values: np.ndarray,
    points: np.ndarray,
    *,
    initial: Callable[[Tensor], Tensor] | None = None,
) -> np.ndarray:
    """Evaluate a periodic-in-x, levelled-in-t field at points: (n, 2) (columns x, t); returns (n,).

    x_nodes: (N,) uniform periodic nodes (N even); t_levels: (m,) increasing; values: (N, m).
    ``initial(x)``, if given, is used at points with t == t_levels[0].
    """
    n_x = x_nodes.size
    period = (x_nodes[1] - x_nodes[0]) * n_x
    x, t = points[:, 0], points[:, 1]
    t_lo, t_hi = t_levels[0], t_levels[-1]
    tol = _TOL * max(1.0, t_hi - t_lo)
    if np.any((t < t_lo - tol) | (t > t_hi + tol)):
        raise ConfigError(f"reference times must lie in [{t_lo:g}, {t_hi:g}]; got t from {t.min():g} to {t.max():g}")
    coeff = np.fft.rfft(values, axis=0) / n_x  # (K, m), K = N/2 + 1
    weight = np.full(coeff.shape[0], 2.0)
    weight[0] = 1.0
    if n_x % 2 == 0:
        weight[-1] = 1.0  # the Nyquist mode appears once (as a cosine)
    coeff *= weight[:, None]
    wavenumber = 2 * np.pi / period * np.arange(coeff.shape[0])
    t_unique, t_index = np.unique(t, return_inverse=True)
    coeff_t = coeff @ lagrange_weights(t_levels, t_unique).T  # (K, n_t)
    x_unique, x_index = np.unique(x, return_inverse=True)
    out = np.empty(points.shape[0])
    if x_unique.size * t_unique.size <= 4 * points.shape[0] + 2**20:
        basis = np.exp(1j * np.outer(x_unique - x_nodes[0], wavenumber))  # (n_x, K)
        table = np.real(basis @ coeff_t)  # (n_x, n_t)
        out[:] = table[x_index, t_index]
    else:  # scattered points: one basis row per point, in chunks
        for s in range(0, points.shape[0], 2048):
            chunk = slice(s, s + 2048)
            basis = np.exp(1j * np.outer(x[chunk] - x_nodes[0], wavenumber))
            out[chunk] = np.real(np.sum(basis * coeff_t[:, t_index[chunk]].T, axis=1))
    if initial is not None:
        at_start = np.abs(t - t_lo) <= tol
        if np.any(at_start):
            with torch.no_grad():
                exact = initial(torch.as_tensor(x[at_start], dtype=torch.float64))
            out[at_start] = exact.detach().cpu().numpy().reshape(-1)
    return out


def lagrange_weights(levels: np.ndarray, t: np.ndarray, *, points: int = 4) -> np.ndarray:
    """(len(t), len(levels)) weights of Lagrange interpolation through the ``points`` nearest levels.

    Exact at a level (the weight row is one-hot there); uses fewer levels when fewer exist.
    """
    m = levels.size
    p = min(points, m)
    w = np.zeros((t.size, m))
    right = np.clip(np.searchsorted(levels, t), 0, m)
    first = np.clip(right - p // 2, 0, m - p)
    for row, (tt, f) in enumerate(zip(t, first)):
        nodes = levels[f : f + p]
        hit = np.flatnonzero(np.abs(nodes - tt) <= _TOL * max(1.0, abs(tt)))
        if hit.size:
            w[row, f + hit[0]] = 1.0
            continue
        for i in range(p):
            others = np.delete(nodes, i)
            w[row, f + i] = np.prod((tt - others) / (nodes[i] - others))
    return w
