"""A KAN layer's jet in one fused step, with a hand-written backward.

A KAN layer maps the jet of its input h (value, first derivatives ``h_a``, second-order sums ``h_S``) to
the jet of ``y_o = sum_i phi_oi(h_i)``, where every edge ``phi_oi = w_oi silu + sum_j c_oij B_j`` is a
function of one input. By the chain rule each channel is linear in the edge functions' derivatives:

    y = sum_i phi(h_i),  y_a = sum_i phi'(h_i) h_ia,  y_S = sum_i phi'(h_i) h_iS + phi''(h_i) q_iS,

with ``q_iS = sum_{(a, b) in S} h_ia h_ib``. Two forms of it, by the layer's shape:

- **Wide layers** (the dense layout): every spline channel is the same matmul of a sparse basis jet ``J``
  (C, n, in, G + k), whose only non-zero entries are the ``k + 1`` active B-splines, with the coefficient
  matrix (out, in (G + k)); the SiLU terms are the jet of silu(h) (C, n, in) times the base weights.
- **Narrow layers** (the gather layout, ``(k + 1) out < G + k``): between knots an edge spline is a
  polynomial, so each edge's value and derivatives ``phi_d`` (n, in, out) come from one row of Taylor
  coefficients per grid interval (``bspline.taylor_table``) by Horner's rule, and the channels from the
  chain rule above; no basis jet is formed.

Autograd through the composed version (``KANLayer.forward_jet(fused=False)``) records some thirty small
elementwise kernels per layer and replays them backward. Here the forward keeps what the backward needs
(the zero-filled dense basis jet too, up to ``_KEEP_BYTES`` a layer: above that the backward builds it
again, block by block) and the backward is written out; for the dense layout

    dW = G^T J,   dJ = G W (read at the active entries),
    dh_S = sum_r dJ_S P1,   dq_S = sum_r dJ_S P2,   dh_a = sum_r dJ_a P1 + sum_S dq_S dq_S/dh_a,
    dh = sum_r [dJ_0 P1 + sum_a dJ_a P2 h_a + sum_S dJ_S (P2 h_S + P3 q_S)],

where ``P1, P2, P3`` are the first three derivatives of the basis functions (B-splines, and SiLU for its
own jet) at h; for the narrow layout see ``_taylor_backward``.
When a derivative of the backward itself is needed (``create_graph=True``: a derivative taken of a field
by autograd, then trained), the backward differentiates the composed path instead, so every order stays
exact; tests check both against nested autograd.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from kanpde.nets import bspline
from kanpde.pde import jet

__all__ = ["fused_layer_jet"]

# bytes of the dense basis jet per block of points on the CPU (2 MB, a core's L2 here: best measured, both dtypes)
_BLOCK_BYTES = 2**21
# the forward keeps a layer's dense basis jet for the backward up to this size (64 MB; the backward builds a
# larger one again): 3-7 % off the float32 step of KAN [2, 32, 32, 1] at 4096 points (27 MB kept), 2 % in float64
_KEEP_BYTES = 2**26


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
    taylor: Tensor | None = None,
) -> Tensor:
    """The jet (C, n, out) of a KAN layer (coef (out, in, G + k), base_weight (out, in)) at the jet t: (C, n, in).

    composed: ``composed(t, coef, base_weight)`` computes the same jet with plain torch operations; the
    backward differentiates it when a graph of the backward is asked for. layout: ``"dense"`` (one
    matmul with the zero-filled basis jet) or ``"gather"`` (the active coefficient rows of each point:
    cheaper for narrow layers on fine grids), as in ``KANLayer.combine``. fade: how the bases continue
    past the grid (``bspline.local_basis``). taylor: ``bspline.taylor_basis(knots, k)``, which the gather
    layout uses (computed here when not given; ``KANLayer.taylor_basis`` keeps it per knot vector).
    """
    gather = layout == "gather"
    if gather and taylor is None:
        taylor = bspline.taylor_basis(knots, k)
    return _LayerJet.apply(t, coef, base_weight, knots, k, uniform, spec, composed, gather, fade, taylor)


def _pairs_of(spec: jet.JetSpec) -> list[list[tuple[int, int]]]:
    """For each second-order sum, its (i, j) pairs as channel indices of the jet."""
    return [[(spec.first_channel(i), spec.first_channel(j)) for i, j in pairs] for pairs in spec.second]


def _quadratic(t: Tensor, spec: jet.JetSpec) -> Tensor | None:
    """q_S = sum_{(a, b) in S} h_a h_b for each second-order sum, (S, n, in), from the jet t; None without sums."""
    return torch.stack(jet.quadratic(t.unbind(0), spec)) if spec.second else None


def _add_sum_terms(d_t: Tensor, dq: Tensor, pairs: list[list[tuple[int, int]]], t: Tensor) -> None:
    """Adds to d_t the first-derivative channels' share of the gradients dq (S, n, in) of the q_S."""
    for s, sum_pairs in enumerate(pairs):
        for i, j in sum_pairs:
            d_t[i] += dq[s] * t[j]
            d_t[j] += dq[s] * t[i]


def _silu_derivatives(x: Tensor, count: int) -> list[Tensor]:
    """silu and its first ``count - 1`` derivatives at x (count <= 4)."""
    s = torch.sigmoid(x)
    ds = s * (1 - s)
    m = 1 - 2 * s
    out = [x * s, s + x * ds, ds * (2 + x * m), ds * (m * (3 + x * m) - 2 * x * ds)]
    return out[:count]


class _LayerJet(torch.autograd.Function):
    """Basis jets are laid out (C, n, R, in), the R = k + 1 active bases of a point before its inputs, so
    that sums over the bases run over whole contiguous slabs."""

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
        taylor: Tensor | None,
    ) -> Tensor:
        c, n, d_in = t.shape
        out_dim, _, nb = coef.shape  # nb = G + k
        n_axes, n_sums = len(spec.axes), len(spec.second)
        need_dt = ctx.needs_input_grad[0]
        order = (2 if n_sums else 1 if n_axes else 0) + (1 if need_dt else 0)
        x = t[0]
        ctx.spec, ctx.composed, ctx.gather = spec, composed, gather
        if gather:  # a narrow layer: each edge's derivatives from its Taylor row (``_taylor_forward``)
            return _taylor_forward(ctx, t, coef, base_weight, knots, taylor, uniform, fade, order + 1)
        # p[o]: (n, k + 1, in), the o-th derivatives of the k + 1 active B-splines of each input
        first, p = bspline.local_basis(x, knots, k, uniform=uniform, derivatives=order, dim=-2, fade=fade)
        silu = _silu_derivatives(x, order + 1)
        pairs = _pairs_of(spec)
        q = _quadratic(t, spec)  # (S, n, in)
        j = p[0].new_empty(c, n, k + 1, d_in)  # the basis jet
        j[0] = p[0]
        if n_axes:
            torch.mul(p[1], t[1 : 1 + n_axes].unsqueeze(-2), out=j[1 : 1 + n_axes])
        if n_sums:
            torch.mul(p[1], t[1 + n_axes :].unsqueeze(-2), out=j[1 + n_axes :])
            j[1 + n_axes :].addcmul_(p[2], q.unsqueeze(-2))
        silu_jet = t.new_empty(c, n, d_in)  # the jet of silu(h), which the base weights combine
        silu_jet[0] = silu[0]
        if c > 1:
            torch.mul(silu[1], t[1:], out=silu_jet[1:])
        if n_sums:
            silu_jet[1 + n_axes :].addcmul_(silu[2], q)
        # (n, (k + 1) in): where each active basis sits in a row of the G + k coefficients of every input
        column = torch.arange((k + 1) * d_in, device=t.device).view(k + 1, d_in)  # basis r of input i: r in + i
        pos = torch.add(column, first.unsqueeze(1), alpha=d_in).reshape(n, -1)
        w = coef.transpose(1, 2).reshape(out_dim, -1)  # (out, (G + k) in)
        jf = j.reshape(c, n, -1)  # (C, n, (k + 1) in)
        out = silu_jet @ base_weight.T  # plus the dense basis jet (C, n, (G + k) in) times the coefficients
        keep = any(ctx.needs_input_grad[:3]) and c * n * w.shape[1] * jf.element_size() <= _KEEP_BYTES
        kept = []
        for block, dense in _dense_blocks(jf, pos, w.shape[1], fresh=keep):
            out[:, block] += dense @ w.T
            kept.append(dense)
        ctx.shape, ctx.pairs, ctx.kept = (c, n, d_in, nb, out_dim), pairs, len(kept) if keep else 0
        saved = [jf, w, t, coef, base_weight, pos, silu_jet, *(kept if keep else [])]
        if need_dt:
            saved += p[1:] + [v.unsqueeze(1) for v in silu[1:]] + ([q] if n_sums else [])
        ctx.save_for_backward(*saved)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.gather:
            t, coef, base_weight, *rest = ctx.saved_tensors
        else:
            jf, w, t, coef, base_weight, pos, silu_jet, *rest = ctx.saved_tensors
            kept, rest = rest[: ctx.kept], rest[ctx.kept :]
        if torch.is_grad_enabled():  # a graph of this backward is wanted: differentiate the composed path
            return _composed_backward(ctx, grad, t, coef, base_weight)
        if ctx.gather:
            return (*_taylor_backward(ctx, grad, t, coef, base_weight, rest), *[None] * 8)
        c, n, d_in, nb, out_dim = ctx.shape
        need_w = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        width = nb * d_in
        dw = w.new_zeros(out_dim, width) if need_w else None
        dj = torch.empty_like(jf) if ctx.needs_input_grad[0] else None
        gw = w.new_empty(c * _block_points(jf, width) * width) if dj is not None else None  # G W of each block
        blocks = _dense_blocks(jf, pos, width) if not kept else _kept_blocks(kept)
        for block, dense in blocks:  # the dense basis jet (C, m, width) of each block; w: the coefficients
            g = grad[:, block]  # (C, m, out)
            if need_w:
                dw += g.reshape(-1, out_dim).T @ dense.reshape(-1, width)
            if dj is not None:
                rows = block.stop - block.start
                gw_block = torch.matmul(g, w, out=gw[: c * rows * width].view(c, rows, width))
                torch.gather(gw_block, 2, pos[block].expand(c, -1, -1), out=dj[:, block])
        d_coef = dw.reshape(out_dim, nb, d_in).transpose(1, 2) if need_w else None
        d_base = grad.reshape(-1, out_dim).T @ silu_jet.reshape(-1, d_in) if need_w else None
        d_t = None
        if dj is not None:  # rest: the bases' derivatives P_1.., then silu's (n, 1, in), then q
            q = rest.pop() if ctx.spec.second else None
            half = len(rest) // 2
            parts = [(dj.view(c, n, -1, d_in), rest[:half]), ((grad @ base_weight).unsqueeze(2), rest[half:])]
            d_t = _input_backward(ctx, parts, t, q)
        return d_t, d_coef, d_base, *[None] * 8


def _taylor_forward(
    ctx: Any,
    t: Tensor,
    coef: Tensor,
    base_weight: Tensor,
    knots: Tensor,
    basis: Tensor,
    uniform: bool,
    fade: float,
    count: int,
) -> Tensor:
    """The jet (C, n, out) of a narrow layer from each edge's Taylor row on its grid interval.

    Between knots an edge spline is a polynomial, so one row of ``bspline.taylor_table`` (k + 1
    coefficients per output) gives its value and every derivative at a point by Horner's rule: no basis
    jet and no matmul with it. The edges' derivatives phi_d (n, in, out), continued past the grid and with
    the SiLU term added, then make the channels by the chain rule (module docstring). count: how many of
    phi_0, phi_1, ... the jet and the backward need.
    """
    c, n, d_in = t.shape
    k = basis.shape[0] - 1
    out_dim, grid = coef.shape[0], knots.shape[1] - 2 * k - 1
    n_axes, n_sums = len(ctx.spec.axes), len(ctx.spec.second)
    x = t[0]
    a, b = knots[:, k], knots[:, k + grid]
    if uniform:
        q = ((x - a) * (grid / (b - a))).floor_().clamp_(0, grid - 1).long()
    else:
        inner = knots[:, k : k + grid + 1].contiguous()
        q = (torch.searchsorted(inner, x.T.contiguous(), right=True).T - 1).clamp(0, grid - 1)
    row = (q + torch.arange(d_in, device=x.device) * grid).reshape(-1)  # (n in): the table row of each edge
    xc = torch.minimum(torch.maximum(x, a), b)
    s = (xc - knots[:, k : k + grid].reshape(-1)[row].view(n, d_in)).unsqueeze(-1)  # (n, in, 1) from the left knot
    delta = (x - xc).unsqueeze(-1)  # past the grid (0 inside)
    outside = bool((delta != 0).any())
    table = bspline.taylor_table(basis, coef).reshape(d_in * grid, -1)
    phi = _horner(table.index_select(0, row).view(n, d_in, k + 1, out_dim), s, max(count, 3) if outside else count)
    cont = None
    if outside:
        length = (b - a).unsqueeze(-1) * fade if fade > 0 else None
        cont = bspline.continuation(delta, length, count)
        phi = [sum(w * phi[f] for f, w in r) for r in cont]
    silu = _silu_derivatives(x, count)
    phi = [torch.addcmul(p, sd.unsqueeze(-1), base_weight.T) for p, sd in zip(phi, silu)]
    pairs = _pairs_of(ctx.spec)
    sums = _quadratic(t, ctx.spec)  # (S, n, in)
    out = t.new_empty(c, n, out_dim)
    out[0] = phi[0].sum(1)
    if c > 1:
        out[1:] = _over_inputs(t[1:], phi[1])
    if n_sums:
        out[1 + n_axes :] += _over_inputs(sums, phi[2])
    ctx.pairs, ctx.grid, ctx.k, ctx.cont = pairs, grid, k, cont
    ctx.save_for_backward(t, coef, base_weight, basis, row, s, *phi[1:], *silu, *([sums] if n_sums else []))
    return out


def _horner(rows: Tensor, s: Tensor, count: int) -> list[Tensor]:
    """The first ``count`` derivatives of ``sum_d rows[:, :, d] s^d``: rows (n, in, k + 1, out), s (n, in, 1).

    The e-th derivative is ``sum_(d >= e) T_d d!/(d - e)! s^(d - e)``; Horner's rule on it divided by the
    falling factorials, ``b_d = T_d + (d + 1)/(d + 1 - e) b_(d + 1) s``, is one multiply-add per term
    (the ratio rides on the product) and one scaling by e! at the end.
    """
    k = rows.shape[2] - 1
    out = []
    for e in range(count):
        if e > k:
            out.append(torch.zeros_like(rows[:, :, 0]))
            continue
        acc = rows[:, :, k]
        for d in range(k - 1, e - 1, -1):
            acc = torch.addcmul(rows[:, :, d], acc, s, value=(d + 1) / (d + 1 - e))
        out.append(acc * math.factorial(e) if e > 1 else acc)
    return out


def _over_inputs(a: Tensor, phi: Tensor) -> Tensor:
    """sum_i a[c, n, i] phi[n, i, o]: (C, n, in) and (n, in, out) -> (C, n, out)."""
    if phi.shape[-1] == 1:
        return (a * phi.squeeze(-1)).sum(-1, keepdim=True)
    return torch.einsum("cni,nio->cno", a, phi)


def _outer_sum(g: Tensor, a: Tensor) -> Tensor:
    """sum_c g[c, n, o] a[c, n, i]: (C, n, out) and (C, n, in) -> (n, in, out)."""
    if g.shape[-1] == 1:
        return (g * a).sum(0).unsqueeze(-1)
    return torch.einsum("cno,cni->nio", g, a)


def _over_outputs(g: Tensor, phi: Tensor) -> Tensor:
    """sum_o g[c, n, o] phi[n, i, o]: (C, n, out) and (n, in, out) -> (C, n, in)."""
    if phi.shape[-1] == 1:
        return g * phi.squeeze(-1)
    return torch.einsum("cno,nio->cni", g, phi)


def _taylor_backward(
    ctx: Any, grad: Tensor, t: Tensor, coef: Tensor, base_weight: Tensor, saved: list[Tensor]
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """The gradients of ``_taylor_forward``'s jet with respect to t, coef and base_weight.

    With dphi_d the gradient of the edges' d-th derivatives (n, in, out): the SiLU weights get
    sum_n dphi_d silu^(d); the Taylor rows get, through the continuation's transpose and Horner's rule,
    sum_f dphi_f d!/(d - f)! s^(d - f), summed into the table per row and carried to the coefficients by
    autograd through the (small) table; and the input jet gets d t_0 = sum_d dphi_d phi_{d + 1},
    d t_c = grad_c phi_1 and d q_S = grad_S phi_2.
    """
    basis, row, s, *rest = saved
    c, n, d_in = t.shape
    out_dim, k, grid = coef.shape[0], ctx.k, ctx.grid
    n_axes, n_sums = len(ctx.spec.axes), len(ctx.spec.second)
    sums = rest.pop() if n_sums else None
    count = (len(rest) + 1) // 2
    phi, silu = [None, *rest[: count - 1]], rest[count - 1 :]
    dphi = [grad[0].unsqueeze(1)]  # (n, 1, out): y = sum_i phi_0
    if c > 1:
        dphi.append(_outer_sum(grad[1:], t[1:]))
    if n_sums:
        dphi.append(_outer_sum(grad[1 + n_axes :], sums))
    d_t = d_coef = d_base = None
    if ctx.needs_input_grad[2]:
        d_base = sum((dp * sd.unsqueeze(-1)).sum(0) for dp, sd in zip(dphi, silu)).T
    if ctx.needs_input_grad[1]:
        clamped = dphi
        if ctx.cont is not None:  # the continuation's transpose: the gradient at the clamped points
            clamped = [0] * (k + 2)
            for e, dp in enumerate(dphi):
                for f, w in ctx.cont[e]:
                    clamped[f] = clamped[f] + w * dp
        powers = [None, s]
        for _ in range(k - 1):
            powers.append(powers[-1] * s)
        terms = []
        for d in range(k + 1):
            term = 0
            for f, g in enumerate(clamped[: d + 1]):  # d/dT_d of phi_f = T_d d!/(d - f)! s^(d - f) + ...
                if isinstance(g, Tensor):
                    scale = math.perm(d, f)
                    term = term + (g * powers[d - f] * scale if d > f else g * scale if scale > 1 else g)
            terms.append(term.expand(n, d_in, out_dim) if isinstance(term, Tensor) else t.new_zeros(n, d_in, out_dim))
        # summed into the table rows, laid out ((k + 1) out, in G) so the scatter runs along whole rows
        terms = torch.stack(terms).permute(0, 3, 1, 2).reshape((k + 1) * out_dim, n * d_in)
        d_table = t.new_zeros((k + 1) * out_dim, d_in * grid)
        d_table.scatter_add_(1, row.unsqueeze(0).expand(terms.shape[0], -1), terms)
        with torch.enable_grad():
            c_ = coef.detach().requires_grad_(True)
            table = bspline.taylor_table(basis, c_)  # (in, G, k + 1, out)
            (d_coef,) = torch.autograd.grad(table, c_, d_table.view(k + 1, out_dim, d_in, grid).permute(2, 3, 0, 1))
    if ctx.needs_input_grad[0]:
        d_t = torch.empty_like(t)
        d_t[0] = sum((dp * ph).sum(-1) for dp, ph in zip(dphi, phi[1:]))
        if c > 1:
            d_t[1:] = _over_outputs(grad[1:], phi[1])
        if n_sums:
            _add_sum_terms(d_t, _over_outputs(grad[1 + n_axes :], phi[2]), ctx.pairs, t)
    return d_t, d_coef, d_base


def _block_points(jf: Tensor, width: int) -> int:
    """Points per block of ``_dense_blocks``: all of them on a GPU; on the CPU as many as keep the dense
    basis jet (C, m, width) of a block within ``_BLOCK_BYTES``."""
    c, n, _ = jf.shape
    return n if jf.device.type != "cpu" else min(n, max(16, _BLOCK_BYTES // (c * width * jf.element_size())))


def _dense_blocks(jf: Tensor, pos: Tensor, width: int, fresh: bool = False) -> Iterator[tuple[slice, Tensor]]:
    """The dense basis jet (C, m, width) of consecutive blocks of m points, width = (G + k) in.

    jf: (C, n, (k + 1) in) the basis jet; pos: (n, (k + 1) in) its columns. On the CPU a block is sized
    to stay in cache (a few MB), which makes the scatter, the matmuls and the gather that follow several
    times faster than on one large tensor; on a GPU there is one block. fresh: a new tensor for every
    block (to keep them); otherwise one buffer serves all the blocks in turn.
    """
    c, n, _ = jf.shape
    m = _block_points(jf, width)
    buffer = None if fresh else jf.new_empty(c, m, width)
    for start in range(0, n, m):
        block = slice(start, min(start + m, n))
        dense = jf.new_empty(c, block.stop - start, width) if buffer is None else buffer[:, : block.stop - start]
        dense.zero_().scatter_(2, pos[block].expand(c, -1, -1), jf[:, block])
        yield block, dense


def _kept_blocks(kept: list[Tensor]) -> Iterator[tuple[slice, Tensor]]:
    """The blocks of ``_dense_blocks`` that the forward kept, with the points each covers."""
    start = 0
    for dense in kept:
        yield slice(start, start + dense.shape[1]), dense
        start += dense.shape[1]


def _input_backward(ctx: Any, parts: list[tuple[Tensor, list[Tensor]]], t: Tensor, q: Tensor | None) -> Tensor:
    """The gradient with respect to the input jet t: (C, n, in) from those of the basis jets.

    parts: for each basis jet (the B-splines, SiLU), its gradient dJ (C, n, R, in) and the first
    derivatives P_1, P_2 (, P_3) (n, R, in) of its R basis functions.
    """
    c = t.shape[0]
    spec, pairs = ctx.spec, ctx.pairs
    n_axes, n_sums = len(spec.axes), len(spec.second)
    d_t = m2 = m3 = None
    for dj, derivs in parts:
        d_t = _sum_over_bases(dj, derivs[0], d_t)  # the direct terms: dJ_c P1 for every channel (channel 0: d/dh of P0)
        if c > 1:
            m2 = _sum_over_bases(dj[1:], derivs[1], m2)  # (C - 1, n, in): sum_r dJ_c P2
        if n_sums:
            m3 = _sum_over_bases(dj[1 + n_axes :], derivs[2], m3)  # (S, n, in)
    if c > 1:
        d_t[0] += (m2 * t[1:]).sum(0)
    if n_sums:
        d_t[0] += (m3 * q).sum(0)
        _add_sum_terms(d_t, m2[n_axes:], pairs, t)
    return d_t


def _sum_over_bases(dj: Tensor, p: Tensor, acc: Tensor | None) -> Tensor:
    """acc + sum_r dj[:, :, r] p[:, r]: dj (C, n, R, in), p (n, R, in) -> (C, n, in), one multiply-add per
    basis (no (C, n, R, in) product is formed)."""
    for r in range(dj.shape[2]):
        acc = dj[:, :, r] * p[:, r] if acc is None else acc.addcmul_(dj[:, :, r], p[:, r])
    return acc


def _composed_backward(ctx: Any, grad: Tensor, t: Tensor, coef: Tensor, base_weight: Tensor) -> tuple:
    """The backward by autograd through the composed forward (differentiable to any order)."""
    inputs = [t, coef, base_weight]
    wanted = [v for v, need in zip(inputs, ctx.needs_input_grad[:3]) if need]
    with torch.enable_grad():
        out = ctx.composed(t, coef, base_weight)
        got = iter(torch.autograd.grad(out, wanted, grad, create_graph=True, allow_unused=True))
    grads = [next(got) if need else None for need in ctx.needs_input_grad[:3]]
    return (*grads, *[None] * 8)
