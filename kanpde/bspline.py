"""B-spline bases on knot vectors, and the rank-revealing least-squares fit of spline coefficients.

A KAN edge function of order k on a grid of G intervals is ``sum_j c_j B_j(x)`` with ``G + k`` basis
functions ``B_j`` on a knot vector of ``G + 2k + 1`` knots: the grid's ``G + 1`` knots plus ``k`` more on
each side (de Boor, *A Practical Guide to Splines*, 1978). The bases are non-negative, sum to one on the
grid range, and vanish more than ``k`` intervals outside it.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["basis", "extend_grid", "lstsq"]


def basis(x: Tensor, knots: Tensor, k: int) -> Tensor:
    """All B-splines of order ``k`` at x, by the Cox-de Boor recursion.

    Args:
        x: (n, m) points, one column per input channel.
        knots: (m, G + 2k + 1) non-decreasing knot vector of each channel.
        k: spline order (3 = cubic).

    Returns:
        (n, m, G + k) basis values; each column is zero outside ``[knots[0], knots[-1])``.
    """
    t = knots.unsqueeze(0)  # (1, m, K)
    xe = x.unsqueeze(-1)  # (n, m, 1)
    b = ((xe >= t[..., :-1]) & (xe < t[..., 1:])).to(x.dtype)
    for p in range(1, k + 1):
        left = (xe - t[..., : -(p + 1)]) / (t[..., p:-1] - t[..., : -(p + 1)])
        right = (t[..., p + 1 :] - xe) / (t[..., p + 1 :] - t[..., 1:-p])
        b = left * b[..., :-1] + right * b[..., 1:]
    return b


def extend_grid(grid: Tensor, k: int) -> Tensor:
    """Knot vectors from grid knots (m, G + 1): ``k`` more knots on each side at the end interval spacing."""
    h_lo = grid[:, 1:2] - grid[:, :1]
    h_hi = grid[:, -1:] - grid[:, -2:-1]
    steps = torch.arange(1, k + 1, dtype=grid.dtype, device=grid.device)
    left = grid[:, :1] - h_lo * steps.flip(0)
    right = grid[:, -1:] + h_hi * steps
    return torch.cat([left, grid, right], dim=1)


def lstsq(a: Tensor, b: Tensor, rcond: float | None = None) -> Tensor:
    """Minimum-norm least-squares solution of ``a @ x = b`` through the SVD (rank-revealing).

    a: (..., p, q), b: (..., p, r) -> x: (..., q, r). Singular values below ``rcond * s_max`` are
    dropped (default ``rcond = eps * max(p, q)``, as in ``numpy.linalg.lstsq``), so basis functions
    with no samples in their support get zero coefficients instead of blowing up. Works on CPU and CUDA
    (``torch.linalg.lstsq`` on CUDA has no rank-revealing driver).
    """
    if rcond is None:
        rcond = torch.finfo(a.dtype).eps * max(a.shape[-2:])
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    cutoff = rcond * s[..., :1]
    s_inv = torch.where(s > cutoff, 1.0 / s, torch.zeros_like(s))
    return vh.mT @ (s_inv.unsqueeze(-1) * (u.mT @ b))


def local_basis(x: Tensor, knots: Tensor, k: int, *, uniform: bool) -> tuple[Tensor, Tensor]:
    """The ``k + 1`` B-splines that can be non-zero at each point, and where they sit.

    Args:
        x: (n, m) points; knots: (m, K) knot vectors (K = G + 2k + 1); uniform: the knots are equally
            spaced (then cubic bases come from their closed form).

    Returns:
        ``(first, values)``: first (n, m) long, the index of the first of the ``k + 1`` bases in a
        coefficient vector padded with ``k`` zeros on both sides (length G + 3k); values (n, m, k + 1).
        Points outside ``[knots[0], knots[-1])`` get zero values.
    """
    t0, t_end = knots[:, 0], knots[:, -1]
    n_int = knots.shape[1] - 1  # intervals of the extended knot vector
    inside = (x >= t0) & (x < t_end)
    if uniform:
        h = (t_end - t0) / n_int
        s = (x - t0) / h
        q = s.detach().floor().clamp(0, n_int - 1)
        u = s - q
        values = _uniform_values(u, k)
    else:
        q = (torch.searchsorted(knots.contiguous(), x.T.contiguous().detach(), right=True).T - 1).clamp(0, n_int - 1).to(x.dtype)
        values = _deboor_values(x, knots, q.long(), k)
    values = values * inside.unsqueeze(-1).to(values.dtype)
    return q.long(), values


def _uniform_values(u: Tensor, k: int) -> Tensor:
    """(n, m, k + 1) values of the uniform B-splines of order k that are non-zero at local coordinate u in [0, 1)."""
    if k == 3:
        u2, u3 = u * u, u * u * u
        return torch.stack(
            [(1 - u) ** 3 / 6, (3 * u3 - 6 * u2 + 4) / 6, (-3 * u3 + 3 * u2 + 3 * u + 1) / 6, u3 / 6], dim=-1
        )
    # Cox-de Boor on the integer knots -k..k+1 relative to the interval: b_r^p(u) for r = 0..p
    b = [torch.ones_like(u)]
    for p in range(1, k + 1):
        nxt = []
        for r in range(p + 1):
            # basis r of order p on local knots (r - p, ..., r + 1): combine lower-order neighbours
            left = (u + p - r) / p * b[r - 1] if r >= 1 else 0.0
            right = (r + 1 - u) / p * b[r] if r < p else 0.0
            nxt.append(left + right)
        b = nxt
    return torch.stack(b, dim=-1)


def _deboor_values(x: Tensor, knots: Tensor, q: Tensor, k: int) -> Tensor:
    """(n, m, k + 1) non-zero B-splines on interval q of a general knot vector (de Boor's triangular scheme)."""
    # knots padded by k on both sides at the end spacings so that t[q - k + 1 .. q + k] always exists
    pad_lo = knots[:, :1] - (knots[:, 1:2] - knots[:, :1]) * torch.arange(k, 0, -1, dtype=knots.dtype, device=knots.device)
    pad_hi = knots[:, -1:] + (knots[:, -1:] - knots[:, -2:-1]) * torch.arange(1, k + 1, dtype=knots.dtype, device=knots.device)
    t = torch.cat([pad_lo, knots, pad_hi], dim=1)  # index shift k
    idx = q + k  # position of t_q in t
    m = x.shape[1]
    rows = torch.arange(m, device=x.device)
    offsets = torch.arange(-k + 1, k + 1, device=x.device)
    local = t[rows.unsqueeze(-1), (idx.unsqueeze(-1) + offsets)]  # (n, m, 2k): t_{q-k+1} .. t_{q+k}
    xe = x
    n_vals = [torch.ones_like(x)]
    for j in range(1, k + 1):
        saved = torch.zeros_like(x)
        new = []
        for r in range(j):
            right = local[..., k - 1 + r + 1] - xe  # t_{q + r + 1} - x
            left = xe - local[..., k - 1 + r + 1 - j]  # x - t_{q + r + 1 - j}
            temp = n_vals[r] / (right + left)
            new.append(saved + right * temp)
            saved = left * temp
        new.append(saved)
        n_vals = new
    return torch.stack(n_vals, dim=-1)
