"""B-spline bases on knot vectors, and the rank-revealing least-squares fit of spline coefficients.

A KAN edge function of order k on a grid of G intervals ``[a, b]`` is ``s(x) = sum_j c_j B_j(x)`` with
``G + k`` basis functions ``B_j`` on a knot vector of ``G + 2k + 1`` knots: the grid's ``G + 1`` knots
plus ``k`` more on each side (de Boor, *A Practical Guide to Splines*, 1978). On ``[a, b]`` the bases are
non-negative and sum to one. Outside ``[a, b]`` an edge continues by default linearly, with the value and
slope it has at the nearer end (C^1): never silently zero, and a refinement whose knots contain the old
ones reproduces it exactly on the whole line. With ``fade > 0`` it continues C^2 instead: the curvature
at the end carries on, fading as ``exp(-d / L)`` with the distance d past it (L = fade (b - a); a fixed
fraction of the span, so refinement stays exact), and the edge grows only linearly far away. C^2 keeps a
residual's second derivatives from jumping where an activation crosses a grid end (where an L-BFGS line
search can stall); on ``allen_cahn`` it removed those stalls but trained to a larger error (see ``FADE``).

Only ``k + 1`` bases are non-zero at a point. ``local_basis`` evaluates just those (in closed form on a
uniform cubic grid, by de Boor's triangular scheme otherwise), with their x-derivatives, using the
derivative rule ``B'_{i,k} = k B_{i,k-1} / (t_{i+k} - t_i) - k B_{i+1,k-1} / (t_{i+k+1} - t_{i+1})``.
``basis`` is the textbook Cox-de Boor recursion over all bases, kept as a reference.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "basis",
    "local_basis",
    "dense_basis",
    "taylor_basis",
    "taylor_table",
    "continuation",
    "extend_grid",
    "lstsq",
    "FADE",
]

FADE = 1 / 32
"""A fading length for the C^2 continuation (``fade``), as a fraction of the grid's span. Measured on
``allen_cahn`` (KAN [3, 10, 1], seed 0, quiet 2-core machine): after 1100 fixed steps 0.110 with 1/32,
0.127 linear, 0.178 with the whole span (a fading length of one interval made refinement inexact: fit
error 0.12); in 600 s with the default recipe 1.3e-2 with 1/32 and 5.4e-2 with the whole span, both to
the end of the budget, against 6.0e-3 linear, whose last L-BFGS phase stopped at 492 s ("line search
found no decrease"). So the default stays linear, and ``solve()``'s L-BFGS switches a network to this
fade when its line search fails on such a jump (``KAN.set_curvature_fade``)."""


def basis(x: Tensor, knots: Tensor, k: int) -> Tensor:
    """All B-splines of order ``k`` at x by the Cox-de Boor recursion (reference; no extrapolation).

    x: (n, m) points, one column per channel; knots: (m, G + 2k + 1) non-decreasing.
    Returns (n, m, G + k); each column is zero outside ``[knots[0], knots[-1])``.
    """
    t = knots.unsqueeze(0)  # (1, m, K)
    xe = x.unsqueeze(-1)  # (n, m, 1)
    b = ((xe >= t[..., :-1]) & (xe < t[..., 1:])).to(x.dtype)
    for p in range(1, k + 1):
        left = (xe - t[..., : -(p + 1)]) / (t[..., p:-1] - t[..., : -(p + 1)])
        right = (t[..., p + 1 :] - xe) / (t[..., p + 1 :] - t[..., 1:-p])
        b = left * b[..., :-1] + right * b[..., 1:]
    return b


def local_basis(
    x: Tensor, knots: Tensor, k: int, *, uniform: bool, derivatives: int = 0, dim: int = -1, fade: float = 0.0
) -> tuple[Tensor, list[Tensor]]:
    """The ``k + 1`` bases that can be non-zero at each point, with their x-derivatives.

    Args:
        x: (n, m) points; knots: (m, G + 2k + 1); uniform: the knots are equally spaced (a cubic grid
            then uses the closed form); derivatives: how many x-derivatives to return (0 to 3);
            dim: where the axis of the k + 1 bases goes, -1 (n, m, k + 1) or -2 (n, k + 1, m);
            fade: how the bases continue past the grid range (see the module docstring): 0 linearly, with
            the value and slope at the nearer end (C^1); > 0 C^2, the curvature fading over ``fade`` times
            the grid's span.

    Returns:
        ``(first, [B, dB/dx, d2B/dx2, d3B/dx3][: derivatives + 1])``: ``first`` (n, m) long is the index
        of the first of the ``k + 1`` bases (so basis ``first + r`` has value ``B[..., r]``); each tensor
        is (n, m, k + 1), continued past the grid range as ``fade`` says (``_continued``).
    """
    grid = knots.shape[1] - 2 * k - 1
    a, b = knots[:, k], knots[:, k + grid]
    if uniform and k == 3:
        h = (b - a) / grid
        s = (x - a) / h
        q = s.detach().floor().clamp(0, grid - 1)
        u = (s - q).clamp(0, 1)
        delta = s - q - u  # signed distance past the grid range, in units of h (0 inside)
        outside = bool((delta != 0).any())  # else the continuation is exactly nothing (and so is its gradient)
        scale, length = 1 / h, torch.full_like(h, grid * fade) if fade > 0 else None
        q = q.long()
        if not outside:  # per unit of x straight away
            return q, _cubic(u, derivatives + 1, dim, scale)
        derivs = _cubic(u, max(3, derivatives + 1), dim)
    else:
        inner = knots[:, k : k + grid + 1].contiguous()
        q = (torch.searchsorted(inner, x.detach().T.contiguous(), right=True).T - 1).clamp(0, grid - 1)
        xc = torch.minimum(torch.maximum(x, a), b)
        delta, scale, length = x - xc, None, (b - a) * fade if fade > 0 else None
        outside = bool((delta != 0).any())
        derivs = [
            v.movedim(-1, dim) for v in _deboor(xc, knots, q + k, k, max(2, derivatives) if outside else derivatives)
        ]
    if not outside:
        return q, _per_x(derivs[: derivatives + 1], scale, dim)
    return q, _continued(derivs, delta, length, scale, derivatives, dim)


def _continued(
    derivs: list[Tensor], delta: Tensor, length: Tensor | None, scale: Tensor | None, derivatives: int, dim: int = -1
) -> list[Tensor]:
    """Bases and x-derivatives continued past the grid range from their values at the clamped points.

    derivs: the bases and their derivatives (value, first, second, and third when asked for) at the
    clamped points; delta (n, m): the signed distance past the grid range (0 inside); length (m,): the
    fading length of the C^2 continuation, or None for the linear one (``continuation``). scale (m,):
    1 / (interval width) when derivs, delta and length are in units of the local coordinate (the closed
    form); None when they are in units of x. dim: the axis of the bases in ``derivs``.
    """
    d = delta.unsqueeze(dim)
    ell = None if length is None else length.unsqueeze(-1) if dim == -1 else length
    rows = continuation(d, ell, derivatives + 1)
    return _per_x([sum(c * derivs[f] for f, c in row) for row in rows], scale, dim)


def continuation(delta: Tensor, length: Tensor | None, count: int) -> list[list[tuple[int, Tensor | float]]]:
    """How the first ``count`` derivatives of a spline continue past its grid, as a linear map.

    Row e lists pairs (f, c): past the grid the e-th derivative is ``sum c D_f`` over the row, with
    ``D_f`` the f-th derivative at the clamped point (the nearer end), delta the signed distance past it
    (0 inside; broadcastable) and length the fading length L, or None for the linear continuation (the
    value and slope at the end, no curvature past it: C^1). With L, past an end the second derivative
    is ``D_2 exp(-|d| / L)``, so by integrating twice the first derivative is
    ``D_1 + sign(d) D_2 L (1 - exp(-|d| / L))`` and the value ``D_0 + D_1 d + D_2 L (|d| - L (1 - exp(-|d| / L)))``:
    C^2 at the end, linear far away. The map is linear in the D_f, so it continues bases and whole
    splines alike, and its transpose carries gradients back.
    """
    inside = (delta == 0).to(delta.dtype)
    if length is None:
        rows: list[list[tuple[int, Tensor | float]]] = [
            [(0, 1.0), (1, delta)],
            [(1, 1.0)],
            [(2, inside)],
            [(3, inside)],
        ]
        return rows[:count]
    a = delta.abs()
    decay = torch.expm1(-a / length)  # exp(-|d| / L) - 1, which is 0 inside
    sign = torch.sign(delta)
    rows = [
        [(0, 1.0), (1, delta), (2, length * (a + length * decay))],
        [(1, 1.0), (2, -sign * length * decay)],
        [(2, 1 + decay)],
        [(3, inside), (2, -sign * (1 + decay) / length)],
    ]
    return rows[:count]


def _per_x(derivs: list[Tensor], scale: Tensor | None, dim: int) -> list[Tensor]:
    """Derivatives per unit of the local coordinate turned into derivatives per unit of x (the p-th times
    ``scale**p``, scale (m,)); unchanged when scale is None."""
    if scale is None:
        return derivs
    s = scale.unsqueeze(-1) if dim == -1 else scale
    return [v * s**p if p else v for p, v in enumerate(derivs)]


def dense_basis(x: Tensor, knots: Tensor, k: int, *, uniform: bool, fade: float = 0.0) -> Tensor:
    """All ``G + k`` bases at x: (n, m) -> (n, m, G + k), zeros except the ``k + 1`` local ones."""
    first, (values,) = local_basis(x, knots, k, uniform=uniform, fade=fade)
    idx = first.unsqueeze(-1) + torch.arange(k + 1, device=x.device)
    return values.new_zeros(*x.shape, knots.shape[1] - k - 1).scatter(2, idx, values)


def taylor_basis(knots: Tensor, k: int) -> Tensor:
    """The Taylor coefficients ``B^(d)(t_q) / d!`` of the k + 1 bases of every grid interval q at its left knot.

    knots: (m, G + 2k + 1). Returns (k + 1, G, m, k + 1), indexed [d, q, input, r] for basis q + r. A spline
    of order k is a polynomial of degree k between knots, so on interval q of input i
    ``sum_j c_j B_j(x) = sum_d T_d (x - t_q)^d`` with ``T_d = sum_r basis[d, q, i, r] c_(q + r)``
    (``taylor_table``): a point then needs one row of T instead of its k + 1 bases.
    """
    m, grid = knots.shape[0], knots.shape[1] - 2 * k - 1
    left = knots[:, k : k + grid].T.contiguous()  # (G, m)
    span = (torch.arange(grid, device=knots.device) + k).view(-1, 1).expand(grid, m)
    factorial = torch.tensor([math.factorial(d) for d in range(k + 1)], dtype=knots.dtype, device=knots.device)
    return torch.stack(_deboor(left, knots, span, k, k)) / factorial.view(-1, 1, 1, 1)


def taylor_table(basis: Tensor, coef: Tensor) -> Tensor:
    """The Taylor rows of splines: basis from ``taylor_basis`` (k + 1, G, m, k + 1), coef (out, m, G + k) ->
    (m, G, k + 1, out), on interval q of input i ``s_o(x) = sum_d T[i, q, d, o] (x - t_q)^d``. Differentiable in coef."""
    return torch.einsum("dqir,oiqr->iqdo", basis, coef.unfold(-1, basis.shape[-1], 1))


def _cubic_tables() -> list[list[list[float]]]:
    """The uniform cubic B-splines on one interval and their derivatives as polynomials in the local
    coordinate u: ``d^p B_r / du^p = sum_e tables[p][e][r] u^e`` for the k + 1 = 4 bases r non-zero there."""
    tables = [
        [
            [1 / 6, 4 / 6, 1 / 6, 0.0],
            [-3 / 6, 0.0, 3 / 6, 0.0],
            [3 / 6, -1.0, 3 / 6, 0.0],
            [-1 / 6, 3 / 6, -3 / 6, 1 / 6],
        ]
    ]
    for _ in range(3):
        prev = tables[-1]
        tables.append([[(e + 1) * v for v in prev[e + 1]] for e in range(3)] + [[0.0] * 4])
    return tables


_CUBIC = _cubic_tables()


def _cubic(u: Tensor, count: int, dim: int = -1, scale: Tensor | None = None) -> list[Tensor]:
    """Uniform cubic B-splines on one interval at local coordinate u in [0, 1], and their derivatives.

    Returns ``count`` tensors (n, m, 4) (dim -1) or (n, 4, m) (dim -2): the values, first, second and
    third derivatives (as many as asked for), per unit of u, or per unit of x when scale (m,), the
    inverse interval width, is given (the p-th derivative times ``scale**p``, folded into the
    coefficients). Each is Horner's rule on u laid out as the output, with one coefficient per basis and
    input: a few long multiply-adds written into one buffer, in the layout asked for.
    """
    n, m = u.shape
    tables = u.new_tensor(_CUBIC[:count])  # (p, e, r)
    if dim == -2:  # coefficients and u laid out (r, m), the output's layout
        tables = tables.unsqueeze(-1).expand(-1, 4, 4, m)
        ur = u.repeat(1, 4)
    else:  # (m, r)
        tables = tables.unsqueeze(2).expand(-1, 4, m, 4)
        ur = u.unsqueeze(-1).expand(n, m, 4).reshape(n, 4 * m)
    if scale is not None and count > 1:
        powers = scale ** torch.arange(count, dtype=u.dtype, device=u.device).unsqueeze(-1)  # (p, m)
        tables = tables * (powers.view(count, 1, 1, m) if dim == -2 else powers.view(count, 1, m, 1))
    tables = tables.reshape(count, 4, 4 * m)
    shape = (n, 4, m) if dim == -2 else (n, m, 4)
    # in place into one buffer, unless a graph is being recorded through u (the composed path)
    out = None if torch.is_grad_enabled() and ur.requires_grad else u.new_empty(count, n, 4 * m)
    derivs = []
    for p, c in enumerate(tables):  # c: (e, 4 m), the p-th derivative's coefficients
        slot = None if out is None else out[p]
        if p == 3:
            acc = c[0].expand(n, -1) if slot is None else slot.copy_(c[0].expand(n, -1))
        else:
            acc = torch.addcmul(c[2 - p], c[3 - p], ur, out=slot)
            for e in range(1 - p, -1, -1):
                acc = torch.addcmul(c[e], acc, ur, out=slot)
        derivs.append(acc.reshape(shape))
    return derivs


def _deboor(x: Tensor, knots: Tensor, span: Tensor, k: int, derivatives: int) -> list[Tensor]:
    """Non-zero bases of order k on knot interval ``span`` (t_span <= x < t_span+1) and their derivatives.

    x: (n, m); knots: (m, K); span: (n, m) long. Returns ``derivatives + 1`` tensors (n, m, k + 1).
    """
    m = x.shape[1]
    offsets = torch.arange(-k + 1, k + 1, device=x.device)  # t_{span-k+1} .. t_{span+k}
    local = knots[torch.arange(m, device=x.device).unsqueeze(-1), span.unsqueeze(-1) + offsets]  # (n, m, 2k)

    def t(j: int) -> Tensor:  # t_{span + j}
        return local[..., k - 1 + j]

    # table[p]: the p + 1 non-zero bases of order p, B_{span-p} .. B_{span}
    table = [torch.ones_like(x).unsqueeze(-1)]
    for p in range(1, k + 1):
        prev = table[-1]
        cols = []
        for r in range(p + 1):  # basis B_{span-p+r}
            val = torch.zeros_like(x)
            if r >= 1:  # from B_{span-p+r, p-1} = prev[r-1], knots t_{span-p+r} .. t_{span+r}
                val = val + (x - t(r - p)) / (t(r) - t(r - p)) * prev[..., r - 1]
            if r <= p - 1:  # from B_{span-p+r+1, p-1} = prev[r], knots t_{span-p+r+1} .. t_{span+r+1}
                val = val + (t(r + 1) - x) / (t(r + 1) - t(r - p + 1)) * prev[..., r]
            cols.append(val)
        table.append(torch.stack(cols, -1))

    def derivative(p: int, d: int) -> Tensor:
        if d == 0:
            return table[p]
        lower = derivative(p - 1, d - 1)
        cols = []
        for r in range(p + 1):
            val = torch.zeros_like(x)
            if r >= 1:
                val = val + lower[..., r - 1] / (t(r) - t(r - p))
            if r <= p - 1:
                val = val - lower[..., r] / (t(r + 1) - t(r - p + 1))
            cols.append(p * val)
        return torch.stack(cols, -1)

    return [derivative(k, d) for d in range(min(derivatives, k) + 1)] + [torch.zeros_like(table[k])] * max(
        0, derivatives - k
    )


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
    (``torch.linalg.lstsq`` on CUDA has no rank-revealing driver). Tall systems are first reduced by a
    QR factorisation, which keeps the singular values and is ~40x faster than the SVD of the tall matrix.
    """
    if rcond is None:
        rcond = torch.finfo(a.dtype).eps * max(a.shape[-2:])
    if a.shape[-2] > a.shape[-1]:  # tall: reduce to the small triangle first (same singular values)
        q, r = torch.linalg.qr(a)
        a, b = r, q.mT @ b
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    cutoff = rcond * s[..., :1]
    s_inv = torch.where(s > cutoff, 1.0 / s, torch.zeros_like(s))
    return vh.mT @ (s_inv.unsqueeze(-1) * (u.mT @ b))
