"""Which parts of a trained KAN matter: attribution scores, pruning, and the sparsity penalty.

**Attribution** (after Liu et al., "KAN 2.0", arXiv 2408.10205, sec. 4): with E[o, i] = std_n phi_oi(h_i)
the activity of edge (o, i) of a layer on the samples, each output node has score 1 and scores flow
back in proportion to activity,

    B_l[o, i] = A_{l+1}[o] E_l[o, i] / sum_j E_l[o, j],      A_l[i] = sum_o B_l[o, i],

so a layer's node scores sum to the number of outputs and an edge's score is the share of the output's
variation that passes through it. A dead edge (phi = 0, or constant) scores 0.

**Pruning** keeps the hidden nodes with A > threshold and, between kept nodes, the edges with
B > threshold (every kept node keeps at least its strongest incoming edge). A removed edge's mean value
over the samples is added to a kept edge into the same node (to every spline coefficient: B-splines sum
to one), so each node keeps its mean for the same inputs (and a one-layer network its mean output);
removed edges inside the network become ``"0"`` edges that stay zero in later training.

**Sparsity** (Liu et al., arXiv 2404.19756, sec. 2.5.1): ``sum_l (|Phi_l|_1 + mu S(Phi_l))`` with
``|phi|_1`` the mean absolute edge value on the samples, ``|Phi|_1`` its sum over a layer and S the
entropy of the normalised ``|phi|_1``; added to the loss with a small weight it drives a KAN towards few
active edges, which pruning then removes.

Practical hint: train with ``Sparsity`` in the first phases only; the penalty biases the solution, so
turn it off (and prune) before the phases that should reach full accuracy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from kanpde.errors import ConfigError, ShapeError
from kanpde.interpret.network import Model, kan_inputs

if TYPE_CHECKING:
    from kanpde.nets.kan import KAN

__all__ = ["edge_scores", "pruned", "sparsity_penalty"]


def _layer_values(kan: KAN, x: Tensor) -> list[tuple[Tensor, Tensor]]:
    """(layer inputs h (n, in), edge values (n, in, out)) of every layer at network inputs x."""
    if x.ndim != 2 or x.shape[1] != kan.width[0] or x.shape[0] < 2:
        raise ShapeError(f"KAN scores need network inputs of shape (n >= 2, {kan.width[0]}); got {tuple(x.shape)}")
    out, h = [], x
    for layer in kan.layers:
        values = layer.edge_values(h)
        out.append((h, values))
        h = values.sum(dim=1)
    return out


def edge_scores(model: Model, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Edge scores B_l (out, in) and node scores A_l (in,) of every layer (plus A of the outputs, all ones).

    model: a KAN with x: (n, width[0]) its inputs, or a ``Surrogate`` around one with x: (n, d) points.
    """
    kan, h, _ = kan_inputs(model, x, "score edges")
    with torch.no_grad():
        return _scores(_layer_values(kan, h))


def _scores(values: list[tuple[Tensor, Tensor]]) -> tuple[list[Tensor], list[Tensor]]:
    """``edge_scores`` from the (gradient-free) layer values of ``_layer_values``."""
    last = values[-1][1]
    node = torch.ones(last.shape[-1], dtype=last.dtype, device=last.device)
    edges: list[Tensor] = [torch.empty(0)] * len(values)
    nodes: list[Tensor] = [torch.empty(0)] * len(values) + [node]
    for l in range(len(values) - 1, -1, -1):
        activity = values[l][1].std(dim=0).T  # (out, in)
        share = activity / activity.sum(dim=1, keepdim=True).clamp_min(1e-300)
        edges[l] = share * node.unsqueeze(1)
        node = edges[l].sum(dim=0)
        nodes[l] = node
    return edges, nodes


def pruned(model: Model, threshold: float, x: Tensor) -> Model:
    """``model`` (a KAN, or a ``Surrogate`` around one) without the hidden nodes and edges whose score on
    the inputs x is at most ``threshold``; each removed edge's mean is added to a kept edge into the same
    node. x: (n, width[0]) network inputs of a KAN, or (n, d) points of a surrogate's domain."""
    kan, x, wrap = kan_inputs(model, x, "be pruned")
    if not (isinstance(threshold, (int, float)) and 0 <= threshold < 1):
        raise ConfigError(
            f"pruning threshold must be a number in [0, 1) (a share of the output's variation); got {threshold!r}"
        )
    with torch.no_grad():
        values = _layer_values(kan, x.detach())
    edges, nodes = _scores(values)
    depth = len(kan.layers)
    keep = [list(range(kan.width[0]))]
    keep += [
        [i for i in range(kan.width[l]) if float(nodes[l][i]) > threshold] or [int(nodes[l].argmax())]
        for l in range(1, depth)
    ]
    keep.append(list(range(kan.width[-1])))
    with torch.no_grad():
        layers = []
        for l, layer in enumerate(kan.layers):
            outs, ins = keep[l + 1], keep[l]
            means = values[l][1].mean(dim=0).T  # (out, in): mean value of each edge
            new = layer.subset(outs, ins)
            score = edges[l][outs][:, ins]
            fixed_names = new.fixed.names if new.fixed is not None else [[None] * len(ins) for _ in outs]
            updates: dict[tuple[int, int], tuple[str, tuple[float, ...]]] = {}
            shifts: dict[tuple[int, int], float] = {}
            for o_new, o in enumerate(outs):
                live = [i_new for i_new in range(len(ins)) if fixed_names[o_new][i_new] != "0"]
                kept = [i_new for i_new in live if float(score[o_new, i_new]) > threshold]
                if live and not kept:
                    kept = [max(live, key=lambda j: float(score[o_new, j]))]
                dropped = sum(float(means[o, i]) for i in range(layer.in_dim) if i not in ins)
                dropped += sum(float(means[o, ins[j]]) for j in live if j not in kept)
                for j in live:
                    if j not in kept:
                        updates[(o_new, j)] = ("0", (0.0, 0.0, 0.0, 0.0))
                if kept and dropped:
                    shifts[(o_new, max(kept, key=lambda j: float(score[o_new, j])))] = dropped
            if updates:
                new = new.with_fixed(updates)
            _add_constants(new, shifts)
            layers.append(new)
    return wrap(kan.with_layers(layers))


def _add_constants(layer, shifts: dict[tuple[int, int], float]) -> None:
    """Add a constant to edge (o, i) of ``layer`` in place: to its spline coefficients, or to d of a symbol."""
    for (o, i), value in shifts.items():
        fixed = layer.fixed
        name = fixed.names[o][i] if fixed is not None else None
        if name is None:
            layer.coef.data[o, i] += value
        else:
            row = fixed.edges.index((o, i, name))
            fixed.params.data[row, 3] += value


def sparsity_penalty(kan: KAN, x: Tensor, *, entropy: float = 2.0) -> Tensor:
    """``sum_l (|Phi_l|_1 + entropy * S(Phi_l))`` on network inputs x: (n, width[0]) (differentiable)."""
    total = x.new_zeros(())
    for _, values in _layer_values(kan, x):
        l1 = values.abs().mean(dim=0)  # (in, out)
        norm = l1.sum()
        p = l1 / norm.clamp_min(1e-12)
        total = total + norm - entropy * (p * torch.log(p.clamp_min(1e-12))).sum()
    return total
