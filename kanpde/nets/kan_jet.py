"""A KAN layer's jet in one fused step, with a hand-written backward.

A KAN layer maps the jet of its input h (value, first derivatives ``h_a``, second-order sums ``h_S``) to
the jet of ``y_o = sum_i phi_oi(h_i)``, where every edge ``phi_oi = w_oi silu + sum_j c_oij B_j`` is a
function of one input. By the chain rule each channel is linear in the edge functions' derivatives:

    y = sum_i phi(h_i),  y_a = sum_i phi'(h_i) h_ia,  y_S = sum_i phi'(h_i) h_iS + phi''(h_i) q_iS,

with ``q_iS = sum_{(a, b) in S} h_ia h_ib``. Treating SiLU as one more basis function per input (its
weight ``w_oi`` beside the spline coefficients), every channel is the same matmul of a sparse basis jet
``J`` (C, n, in, G + k + 1), whose only non-zero entries are the ``k + 1`` active B-splines and the SiLU
slot, with the coefficient matrix (out, in (G + k + 1)).

Autograd through the composed version (``KANLayer.forward_jet_composed``) records some thirty small
elementwise kernels per layer and replays them backward. Here the forward keeps the dense basis jet and
the bases' derivatives up to third order, and the backward is written out:

    dW = G^T J,   dJ = G W (read at the active entries),
    dh_S = sum_r dJ_S P1,   dq_S = sum_r dJ_S P2,   dh_a = sum_r dJ_a P1 + sum_S dq_S dq_S/dh_a,
    dh = sum_r [dJ_0 P1 + sum_a dJ_a P2 h_a + sum_S dJ_S (P2 h_S + P3 q_S)],

where ``P1, P2, P3`` are the first three derivatives of the basis functions (B-splines and SiLU) at h.
When a derivative of the backward itself is needed (``create_graph=True``: a derivative taken of a field
by autograd, then trained), the backward differentiates the composed path instead, so every order stays
exact; tests check both against nested autograd.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from kanpde.nets import bspline
from kanpde.pde import jet

__all__ = ["fused_layer_jet"]

_BLOCK_ELEMENTS = 2**20  # elements of the dense basis jet per block of points on the CPU


def fused_layer_jet(
    t: Tensor,
    spec: jet.JetSpec,
    knots: Tensor,
    k: int,
    uniform: bool,
    coef: Tensor,
    base_weight: Tensor,
    composed: Any,
    layout: str = "dense",
    fade: float = 0.0,
) -> Tensor:
    """The jet (C, n, out) of a KAN layer (coef (out, in, G + k), base_weight (out, in)) at the jet t: (C, n, in).

    composed: ``composed(t, coef, base_weight)`` computes the same jet with plain torch operations; the
    backward differentiates it when a graph of the backward is asked for. layout: ``"dense"`` (one
    matmul with the zero-filled basis jet) or ``"gather"`` (the active coefficient rows of each point:
    cheaper for narrow layers on fine grids), as in ``KANLayer.combine``. fade: how the bases continue
    past the grid (``bspline.local_basis``).
    """
    return _LayerJet.apply(t, coef, base_weight, knots, k, uniform, spec, composed, layout == "gather", fade)


def _pairs_of(spec: jet.JetSpec) -> list[list[tuple[int, int]]]:
    """For each second-order sum, its (i, j) pairs as channel indices of the jet."""
    return [[(spec.first_channel(i), spec.first_channel(j)) for i, j in pairs] for pairs in spec.second]


def _silu_derivatives(x: Tensor, count: int) -> list[Tensor]:
    """silu and its first ``count - 1`` derivatives at x (count <= 4)."""
    s = torch.sigmoid(x)
    ds = s * (1 - s)
    m = 1 - 2 * s
    out = [x * s, s + x * ds, ds * (2 + x * m), ds * (m * (3 + x * m) - 2 * x * ds)]
    return out[:count]


class _LayerJet(torch.autograd.Function):
    """Tensors are laid out (C, n, R, in), the R = k + 2 basis slots of a point before its inputs, so that
    sums over the slots run over whole contiguous slabs."""

    @staticmethod
    def forward(
        ctx: Any,
        t: Tensor,
        coef: Tensor,
        base_weight: Tensor,
        knots: Tensor,
        k: int,
        uniform: bool,
        spec: jet.JetSpec,
        composed: Any,
        gather: bool,
        fade: float,
    ) -> Tensor:
        c, n, d_in = t.shape
        out_dim, _, nb = coef.shape  # nb = G + k
        n_axes, n_sums = len(spec.axes), len(spec.second)
        need_dt = ctx.needs_input_grad[0]
        order = (2 if n_sums else 1 if n_axes else 0) + (1 if need_dt else 0)
        x = t[0]
        first, basis = bspline.local_basis(x, knots, k, uniform=uniform, derivatives=order, dim=-2, fade=fade)
        silu = _silu_derivatives(x, order + 1)
        # p[o]: (n, k + 2, in), the o-th derivatives of the k + 1 active B-splines and of silu (last slot)
        p = [torch.cat([b, s.unsqueeze(-2)], -2) for b, s in zip(basis, silu)]
        pairs = _pairs_of(spec)
        q = torch.stack([sum(t[i] * t[j] for i, j in s) for s in pairs]) if n_sums else None  # (S, n, in)
        j = p[0].new_empty(c, n, k + 2, d_in)  # the basis jet
        j[0] = p[0]
        if n_axes:
            torch.mul(p[1], t[1 : 1 + n_axes].unsqueeze(-2), out=j[1 : 1 + n_axes])
        if n_sums:
            torch.addcmul(p[1] * t[1 + n_axes :].unsqueeze(-2), p[2], q.unsqueeze(-2), out=j[1 + n_axes :])
        idx = torch.cat(
            [first.unsqueeze(-2) + torch.arange(k + 1, device=t.device).view(-1, 1), first.new_full((n, 1, d_in), nb)],
            -2,
        )  # (n, k + 2, in): the active rows of each input's G + k + 1 coefficients
        pos = (idx * d_in + torch.arange(d_in, device=t.device)).reshape(n, -1)  # in a row of (G + k + 1) in
        w = torch.cat([coef, base_weight.unsqueeze(-1)], -1).transpose(1, 2).reshape(out_dim, -1)
        jf = j.reshape(c, n, -1)  # (C, n, (k + 2) in)
        if gather:  # the active coefficients of every point: (n, (k + 2) in, out)
            rows = w.T[pos.reshape(-1)].reshape(n, -1, out_dim)
            out = _contract(jf, rows)
            kept = [jf, rows]
        else:  # the dense basis jet (C, n, (G + k + 1) in) times the coefficients, a block of points at a time
            out = j.new_empty(c, n, out_dim)
            for block, dense in _dense_blocks(jf, pos, w.shape[1]):
                out[:, block] = dense @ w.T
            kept = [jf, w]
        ctx.spec, ctx.composed, ctx.shape, ctx.pairs = spec, composed, (c, n, d_in, nb, out_dim), pairs
        ctx.gather = gather
        saved = [*kept, t, coef, base_weight, pos]
        if need_dt:
            saved += p[1:] + ([q] if n_sums else [])
        ctx.save_for_backward(*saved)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        jf, b, t, coef, base_weight, pos, *rest = ctx.saved_tensors
        if torch.is_grad_enabled():  # a graph of this backward is wanted: differentiate the composed path
            return _composed_backward(ctx, grad, t, coef, base_weight)
        c, n, d_in, nb, out_dim = ctx.shape
        need_w = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        width = (nb + 1) * d_in
        dw = dj = None
        if ctx.gather:  # jf: the basis jet (C, n, (k + 2) in); b: the active rows (n, (k + 2) in, out)
            if need_w:
                rows_grad = torch.einsum("cnr,cno->nro", jf, grad) if out_dim > 1 else (jf * grad).sum(0)
                dw = coef.new_zeros(width, out_dim)
                dw.scatter_add_(0, pos.reshape(-1, 1).expand(-1, out_dim), rows_grad.reshape(-1, out_dim))
                dw = dw.T
            if ctx.needs_input_grad[0]:
                dj = torch.einsum("cno,nro->cnr", grad, b) if out_dim > 1 else grad * b.squeeze(-1)
        else:  # jf: the basis jet; b: the coefficients (out, (G + k + 1) in)
            dw = b.new_zeros(out_dim, width) if need_w else None
            dj = torch.empty_like(jf) if ctx.needs_input_grad[0] else None
            for block, dense in _dense_blocks(jf, pos, width):
                g = grad[:, block]  # (C, m, out)
                if need_w:
                    dw += g.reshape(-1, out_dim).T @ dense.reshape(-1, width)
                if dj is not None:
                    torch.gather(g @ b, 2, pos[block].expand(c, -1, -1), out=dj[:, block])
        if need_w:
            dw = dw.reshape(out_dim, nb + 1, d_in)
        d_coef, d_base = (dw[:, :nb].transpose(1, 2), dw[:, nb]) if need_w else (None, None)
        d_t = _input_backward(ctx, dj.view(c, n, -1, d_in), t, rest) if dj is not None else None
        return d_t, d_coef, d_base, None, None, None, None, None, None, None


def _contract(jf: Tensor, rows: Tensor) -> Tensor:
    """sum_r jf[c, n, r] rows[n, r, o]: (C, n, R) and (n, R, out) -> (C, n, out)."""
    if rows.shape[-1] == 1:
        return (jf * rows.squeeze(-1)).sum(-1, keepdim=True)
    return torch.einsum("cnr,nro->cno", jf, rows)


def _dense_blocks(jf: Tensor, pos: Tensor, width: int) -> Iterator[tuple[slice, Tensor]]:
    """The dense basis jet (C, m, width) of consecutive blocks of m points, width = (G + k + 1) in.

    jf: (C, n, (k + 2) in) the basis jet; pos: (n, (k + 2) in) its columns. On the CPU a block is sized
    to stay in cache (a few MB), which makes the scatter, the matmuls and the gather that follow several
    times faster than on one large tensor; on a GPU there is one block.
    """
    c, n, _ = jf.shape
    m = n if jf.device.type != "cpu" else max(16, _BLOCK_ELEMENTS // (c * width))
    buffer = jf.new_empty(c, min(m, n), width)
    for start in range(0, n, m):
        block = slice(start, min(start + m, n))
        dense = buffer[:, : block.stop - start]
        dense.zero_().scatter_(2, pos[block].expand(c, -1, -1), jf[:, block])
        yield block, dense


def _input_backward(ctx: Any, dj: Tensor, t: Tensor, rest: list[Tensor]) -> Tensor:
    """The gradient with respect to the input jet t: (C, n, in) from that of the basis jet, dj: (C, n, k + 2, in)."""
    c = t.shape[0]
    spec, pairs = ctx.spec, ctx.pairs
    n_axes, n_sums = len(spec.axes), len(spec.second)
    p1 = rest[0]
    p2 = rest[1] if len(rest) > 1 else None
    p3, q = (rest[2], rest[3]) if n_sums else (None, None)
    d_t = (dj * p1).sum(2)  # the direct terms: dJ_c P1 for every channel (channel 0: d/dh of P0)
    if c > 1:
        m2 = (dj[1:] * p2).sum(2)  # (C - 1, n, in): sum_r dJ_c P2
        d_t[0] += (m2 * t[1:]).sum(0)
    if n_sums:
        m3 = (dj[1 + n_axes :] * p3).sum(2)  # (S, n, in)
        d_t[0] += (m3 * q).sum(0)
        for s, sum_pairs in enumerate(pairs):
            dq = m2[n_axes + s]
            for i, j in sum_pairs:
                d_t[i] += dq * t[j]
                d_t[j] += dq * t[i]
    return d_t


def _composed_backward(ctx: Any, grad: Tensor, t: Tensor, coef: Tensor, base_weight: Tensor) -> tuple:
    """The backward by autograd through the composed forward (differentiable to any order)."""
    inputs = [t, coef, base_weight]
    wanted = [v for v, need in zip(inputs, ctx.needs_input_grad[:3]) if need]
    with torch.enable_grad():
        out = ctx.composed(t, coef, base_weight)
        got = iter(torch.autograd.grad(out, wanted, grad, create_graph=True, allow_unused=True))
    grads = [next(got) if need else None for need in ctx.needs_input_grad[:3]]
    return (*grads, None, None, None, None, None, None, None)
