"""Kolmogorov-Arnold Networks: a learnable B-spline function on every edge (Liu et al., arXiv 2404.19756).

Layer ``l`` maps ``x: (n, in)`` to ``y: (n, out)`` with ``y_o = sum_i w_oi silu(x_i) + sum_i s_oi(x_i)``,
where each edge spline ``s_oi(x) = sum_j c_oij B_j(x)`` has order ``k`` on a grid of ``G`` intervals.
The layout is the efficient one: the basis tensor (n, in, G + k) is flattened to (n, in (G + k)) and
multiplied by the coefficient matrix (out, in (G + k)) in one matmul; no (n, in, out) tensor is built.

Grids change in two ways, each returning a new KAN whose coefficients are refitted by rank-revealing
least squares (so the optimizer must be rebuilt):

* ``kan.refined(grid)``: more intervals, placed by subdividing the current knots. When every old knot is
  a new knot (``G -> m G``) the new spline space contains the old one and the function is reproduced to
  round-off on the grid range.
* ``kan.grid_updated(x)``: knots moved to where the data are (a mix of sample quantiles and a uniform grid
  over the sampled range), refitted on the samples.

An edge can also be fixed to a symbolic function ``c f(a x + b) + d`` or pruned to zero (a layer's
``FixedEdges``, :mod:`kanpde.nets.fixed`). Choosing them is interpretation, in :mod:`kanpde.interpret`:
``pruned(kan, threshold, x)`` removes unimportant edges and nodes, ``symbolized(kan, x)`` fixes spline
edges to their best-fitting symbols, and ``kan_formula(kan)`` composes a fully fixed KAN into sympy.

Inputs outside a layer's grid range are allowed: each edge spline continues linearly with its value and
slope at the nearer end of the grid, or C^2 with its curvature fading (``curvature_fade``; see
``kanpde.nets.bspline``), and the SiLU branch carries on, so the network stays finite and C^1 (C^2)
everywhere.

``forward_jet`` carries values and derivatives through each layer in one fused step with a hand-written
backward (``kanpde.nets.kan_jet``); ``fused=False`` composes the same jet from torch operations.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kanpde.checks import check_int
from kanpde.errors import ConfigError, ShapeError
from kanpde.nets import bspline, kan_jet
from kanpde.nets.fixed import FixedEdges
from kanpde.nets.symbol import SymbolLibrary
from kanpde.pde import jet

__all__ = ["KAN", "KANLayer"]


class KANLayer(nn.Module):
    """One KAN layer: ``in_dim x out_dim`` edges, each a SiLU term plus a B-spline of order ``k``.

    Parameters: ``coef`` (out, in, G + k) spline coefficients, ``base_weight`` (out, in).
    Buffer: ``knots`` (in, G + 2k + 1), saved with the weights.
    ``fixed``: None, or the layer's edges fixed to symbols or pruned (``kanpde.nets.fixed.FixedEdges``);
    their spline and SiLU terms are masked out.
    """

    fixed: FixedEdges | None

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        grid: int,
        k: int,
        *,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        init_noise: float = 0.1,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
        curvature_fade: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.grid, self.k = in_dim, out_dim, grid, k
        self.fade = curvature_fade
        uniform = torch.linspace(grid_range[0], grid_range[1], grid + 1, dtype=torch.float64)
        self.register_buffer("knots", bspline.extend_grid(uniform.expand(in_dim, -1), k).to(dtype).contiguous())
        self.uniform = True
        self.register_load_state_dict_post_hook(_detect_uniform)
        scale = 1.0 / math.sqrt(in_dim)
        base = (torch.rand(out_dim, in_dim, generator=generator, dtype=torch.float64) * 2 - 1) * scale
        coef = torch.randn(out_dim, in_dim, grid + k, generator=generator, dtype=torch.float64) * init_noise * scale
        self.base_weight = nn.Parameter(base.to(dtype))
        self.coef = nn.Parameter(coef.to(dtype))
        self.fixed = None

    @classmethod
    def build(
        cls,
        knots: Tensor,
        base_weight: Tensor,
        coef: Tensor,
        k: int,
        fixed: FixedEdges | None = None,
        curvature_fade: float = 0.0,
    ) -> KANLayer:
        """A layer from its tensors: knots (in, G + 2k + 1), base_weight (out, in), coef (out, in, G + k)."""
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        layer.out_dim, layer.in_dim = base_weight.shape
        layer.grid, layer.k, layer.fade = knots.shape[1] - 2 * k - 1, k, curvature_fade
        layer.register_buffer("knots", knots.contiguous())
        layer.uniform = is_uniform(knots)
        layer.register_load_state_dict_post_hook(_detect_uniform)
        layer.base_weight = nn.Parameter(base_weight.detach().clone().contiguous())
        layer.coef = nn.Parameter(coef.detach().clone().contiguous())
        layer.fixed = fixed
        return layer

    def weights(self) -> tuple[Tensor, Tensor]:
        """(base_weight, coef) with the fixed edges masked out."""
        if self.fixed is None:
            return self.base_weight, self.coef
        mask = self.fixed.spline_mask
        return self.base_weight * mask, self.coef * mask.unsqueeze(-1)

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, in) -> (n, out). A narrow layer (``_layout``) goes through its fused values-only jet, whose
        Taylor rows and hand-written backward are several times faster than gathering coefficient rows."""
        if self._layout() == "gather":
            return self.forward_jet(x.unsqueeze(0), _VALUES)[0]
        base, coef = self.weights()
        out = F.silu(x) @ base.T + self.combine(*self._basis(x), coef)
        return out if self.fixed is None else out + self.fixed(x)

    def _basis(self, x: Tensor) -> tuple[Tensor, Tensor]:
        first, (values,) = bspline.local_basis(x, self.knots, self.k, uniform=self.uniform, fade=self.fade)
        return first, values

    def spline(self, x: Tensor, layout: str | None = None) -> Tensor:
        """Sum over inputs of the edge splines, (n, in) -> (n, out), from the k + 1 active bases per point.

        layout ``"dense"`` scatters them into the (n, in (G + k)) basis matrix for one matmul;
        ``"gather"`` picks the k + 1 active coefficient rows per point instead (cheaper when
        ``(k + 1) out < G + k``: fine grids on narrow layers). Default: the cheaper one.
        """
        return self.combine(*self._basis(x), self.weights()[1], layout)

    def combine(self, first: Tensor, values: Tensor, coef: Tensor, layout: str | None = None) -> Tensor:
        """sum_i sum_r coef[:, i, first + r] * values[..., i, r]: (..., n, in, k + 1) -> (..., n, out).

        Leading dimensions of ``values`` (the channels of a jet) share the indices ``first`` (n, in);
        ``coef`` (out, in, G + k) is the layer's (masked) coefficients, ``weights()[1]``.
        """
        k = self.k
        idx = first.unsqueeze(-1) + torch.arange(k + 1, device=first.device)  # (n, in, k + 1)
        layout = layout or self._layout()
        if layout == "dense":
            full = values.new_zeros(*values.shape[:-1], self.grid + k).scatter(-1, idx.expand_as(values), values)
            return full.flatten(-2) @ coef.flatten(1).T
        rows = coef.permute(1, 2, 0)[torch.arange(self.in_dim, device=first.device).view(1, -1, 1), idx]
        return torch.einsum("...nim,nimo->...no", values, rows)

    def forward_jet(self, t: Tensor, spec: jet.JetSpec, *, fused: bool = True) -> Tensor:
        """The layer applied to a jet t: (C, n, in) -> (C, n, out) (see ``kanpde.pde.jet``).

        fused: one step with a hand-written backward (``kanpde.nets.kan_jet``); False composes it from
        torch operations and lets autograd differentiate them (the reference the fused step is tested on).
        """
        base_weight, coef = self.weights()
        if fused:
            layout = self._layout()
            composed = partial(self._composed_jet, spec=spec, layout=layout)
            taylor = self.taylor_basis() if layout == "gather" else None
            out = kan_jet.fused_layer_jet(
                t, spec, self.knots, self.k, self.uniform, coef, base_weight, composed, layout, self.fade, taylor
            )
        else:
            out = self._composed_jet(t, coef, base_weight, spec)
        return out if self.fixed is None else out + self.fixed.forward_jet(t, spec)

    def taylor_basis(self) -> Tensor:
        """``bspline.taylor_basis`` of the layer's knots, kept until the knots change (by version and storage)."""
        key = (self.knots.data_ptr(), self.knots._version, self.knots.dtype, self.knots.device)
        cached = getattr(self, "_taylor", None)
        if cached is None or cached[0] != key:
            cached = (key, bspline.taylor_basis(self.knots, self.k))
            self._taylor = cached
        return cached[1]

    def _composed_jet(
        self, t: Tensor, coef: Tensor, base_weight: Tensor, spec: jet.JetSpec, layout: str | None = None
    ) -> Tensor:
        """The spline and SiLU terms of the layer's jet from torch operations (autograd differentiates them)."""
        channels = t.unbind(0)
        x = channels[0]
        order = 2 if spec.second else 1 if spec.axes else 0
        first, derivs = bspline.local_basis(
            x, self.knots, self.k, uniform=self.uniform, derivatives=order, fade=self.fade
        )
        derivs = derivs + [None] * (3 - len(derivs))
        q = jet.quadratic(channels, spec)
        basis = jet.chain(*derivs, channels, spec, q)  # (C, n, in, k + 1)
        base = jet.chain(*jet.silu3(x), channels, spec, q)  # (C, n, in)
        return base @ base_weight.T + self.combine(first, basis, coef, layout)

    def _layout(self) -> str:
        """``"gather"`` where picking the k + 1 active coefficient rows is cheaper than the dense matmul.

        The fused jet (``kan_jet``) then reads each edge's Taylor row on its interval instead: measured on
        a step at 4096 points, 2.5-5x faster than the dense form for one output, about even at three
        outputs (G = 10) and at ten (G = 40), and slower beyond."""
        return "gather" if (self.k + 1) * self.out_dim < self.grid + self.k else "dense"

    def edge_splines(self, x: Tensor, coef: Tensor | None = None) -> Tensor:
        """The spline part of every spline edge at x: (n, in) -> (n, in, out) (``coef``: default ``weights()[1]``)."""
        b = bspline.dense_basis(x, self.knots, self.k, uniform=self.uniform, fade=self.fade)  # (n, in, G + k)
        return torch.einsum("nij,oij->nio", b, self.weights()[1] if coef is None else coef)

    def edge_values(self, x: Tensor) -> Tensor:
        """Every edge function phi_oi at x: (n, in) -> (n, in, out); ``forward`` is their sum over inputs."""
        base, coef = self.weights()
        out = self.edge_splines(x, coef) + F.silu(x).unsqueeze(-1) * base.T
        return out if self.fixed is None else out + self.fixed.edge_values(x)

    def with_fixed(
        self, updates: dict[tuple[int, int], tuple[str, Any]], library: SymbolLibrary | None = None
    ) -> KANLayer:
        """A copy with edges (o, i) fixed to ``(symbol name, (a, b, c, d))`` (name ``"0"``: pruned); the
        symbols come from ``library`` (default: the standard ones, ``kanpde.interpret.symbols.DEFAULT_LIBRARY``)."""
        fixed = (
            self.fixed
            if self.fixed is not None
            else FixedEdges.empty(self.out_dim, self.in_dim, self.coef.dtype).to(self.coef.device)
        )
        new_fixed = fixed.with_edges(updates, library)
        base, coef = (
            self.base_weight.detach() * new_fixed.spline_mask,
            self.coef.detach() * new_fixed.spline_mask.unsqueeze(-1),
        )
        return KANLayer.build(self.knots, base, coef, self.k, new_fixed, self.fade)

    def subset(self, outs: list[int], ins: list[int]) -> KANLayer:
        """The layer between the kept outputs ``outs`` and inputs ``ins`` (pruning)."""
        o, i = torch.tensor(outs, device=self.coef.device), torch.tensor(ins, device=self.coef.device)
        fixed = self.fixed.subset(outs, ins) if self.fixed is not None else None
        return KANLayer.build(
            self.knots[i], self.base_weight.detach()[o][:, i], self.coef.detach()[o][:, i], self.k, fixed, self.fade
        )

    def refit(self, knots: Tensor, x: Tensor) -> KANLayer:
        """A copy of this layer on new knots (in, G' + 2k + 1), fitted to this layer's splines at x: (n, in)."""
        with torch.no_grad():
            x64, knots64 = x.to(torch.float64), knots.to(torch.float64)
            old = self.edge_splines(x).to(torch.float64).transpose(0, 1)  # (in, n, out)
            a = bspline.dense_basis(x64, knots64, self.k, uniform=is_uniform(knots64)).transpose(
                0, 1
            )  # (in, n, G' + k)
            coef = bspline.lstsq(a, old).permute(2, 0, 1)  # (out, in, G' + k)
        fixed = copy.deepcopy(self.fixed)
        return KANLayer.build(
            knots.to(self.knots.dtype), self.base_weight.detach(), coef.to(self.coef.dtype), self.k, fixed, self.fade
        )

    def grid_range(self) -> Tensor:
        """(in, 2): the first and last grid knot of each input (the interval the grid covers)."""
        return torch.stack([self.knots[:, self.k], self.knots[:, -self.k - 1]], dim=1)


class KAN(nn.Module):
    """A Kolmogorov-Arnold Network with ``width = [in, hidden..., out]`` nodes.

    Args:
        width: node counts per layer, e.g. ``[2, 10, 1]``; the first must match the problem's
            dimension and the last its number of components.
        grid: number of grid intervals G of every edge spline (refine it later with ``refined``).
        k: spline order (3 = cubic).
        grid_range: the interval the initial grids cover. ``solve()`` maps the problem's box onto
            [-1, 1] before the first layer, so the default fits every problem.
        init_noise: scale of the random initial spline coefficients (relative to 1/sqrt(in)).
        seed: seed of the initial weights (a KAN with the same arguments is the same network).
        dtype: parameter dtype; ``solve()`` moves the network to the dtype and device it trains in.
        curvature_fade: how an edge continues past its grid (``kanpde.nets.bspline``): 0 (default)
            linearly, with the value and slope at the nearer end (C^1); > 0 C^2, the curvature at the end
            fading over this fraction of the grid's span (``bspline.FADE`` = 1/32 is one measured choice).
            C^2 keeps second derivatives continuous where an activation leaves a grid, but on
            ``allen_cahn`` it trained to a larger error in 600 s (1.3e-2 against 6.0e-3), so it is off;
            ``solve()``'s L-BFGS turns it on (``set_curvature_fade``) when its line search parks on the
            jump that linear continuation makes at a grid's end.

    Practical hint: start coarse (G = 5) and let ``solve()`` refine to 10, 20, ...; a fine grid from
    the start trains slower and generalises worse between collocation points.
    """

    kind = "kan"

    def __init__(
        self,
        width: Sequence[int],
        grid: int = 5,
        k: int = 3,
        *,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        init_noise: float = 0.1,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        curvature_fade: float = 0.0,
    ) -> None:
        super().__init__()
        self.width = check_width(width, "KAN")
        self.k = check_int(k, "KAN.k", 1)
        self.grid = check_int(grid, "KAN.grid", 1)
        lo, hi = _check_range(grid_range)
        if not (isinstance(init_noise, (int, float)) and math.isfinite(init_noise) and init_noise >= 0):
            raise ConfigError(f"KAN.init_noise must be a finite number >= 0; got {init_noise!r}")
        self.grid_range_init, self.init_noise, self.seed = (lo, hi), float(init_noise), seed
        self.curvature_fade = _check_fade(curvature_fade)
        gen = torch.Generator().manual_seed(check_int(seed, "KAN.seed", 0))
        self.layers = nn.ModuleList(
            KANLayer(
                a,
                b,
                self.grid,
                self.k,
                grid_range=(lo, hi),
                init_noise=init_noise,
                generator=gen,
                dtype=dtype,
                curvature_fade=self.curvature_fade,
            )
            for a, b in zip(self.width[:-1], self.width[1:])
        )

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, width[0]) -> (n, width[-1])."""
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_jet(self, t: Tensor, spec: jet.JetSpec, *, fused: bool = True) -> Tensor:
        """Value and derivatives in one pass: jet (C, n, width[0]) -> (C, n, width[-1]).

        fused: each layer in one step with a hand-written backward (default); False: composed from
        torch operations, differentiated by autograd (the reference; slower).
        """
        for layer in self.layers:
            t = layer.forward_jet(t, spec, fused=fused)
        return t

    def describe(self) -> dict[str, Any]:
        """JSON-ready description from which ``KAN.from_description`` rebuilds the architecture."""
        desc = {
            "kind": self.kind,
            "width": list(self.width),
            "grid": self.grid,
            "k": self.k,
            "grid_range": list(self.grid_range_init),
            "init_noise": self.init_noise,
            "seed": self.seed,
        }
        if self.curvature_fade:
            desc["curvature_fade"] = self.curvature_fade
        if any(layer.fixed is not None for layer in self.layers):
            desc["fixed"] = [None if layer.fixed is None else layer.fixed.describe() for layer in self.layers]
        return desc

    @classmethod
    def from_description(cls, desc: dict[str, Any]) -> KAN:
        kan = cls(
            desc["width"],
            grid=desc["grid"],
            k=desc["k"],
            grid_range=tuple(desc["grid_range"]),
            init_noise=desc.get("init_noise", 0.1),
            seed=desc.get("seed", 0),
            curvature_fade=desc.get("curvature_fade", 0.0),
        )
        for layer, fixed in zip(kan.layers, desc.get("fixed") or []):
            if fixed is not None:
                layer.fixed = FixedEdges.from_description(fixed, layer.coef.dtype)
        return kan

    def set_curvature_fade(self, fade: float) -> None:
        """Change in place how every edge continues past its grid (``curvature_fade``; the weights stay).

        Only the values past the grid ends change: on the grids the network is the same function. The
        solver's L-BFGS uses it when its line search parks on a jump of the loss at a grid's end.
        """
        self.curvature_fade = _check_fade(fade)
        for layer in self.layers:
            layer.fade = self.curvature_fade

    @property
    def symbolic(self) -> bool:
        """Every edge is fixed to a symbol or pruned, so ``formula`` applies."""
        return all(layer.fixed is not None and layer.fixed.complete for layer in self.layers)

    def copy(self) -> KAN:
        """An independent copy (same weights, grids and fixed edges)."""
        return copy.deepcopy(self)

    def layer_inputs(self, x: Tensor) -> list[Tensor]:
        """The input of every layer for network inputs x: (n, width[0])."""
        inputs = []
        with torch.no_grad():
            for layer in self.layers:
                inputs.append(x)
                x = layer(x)
        return inputs

    def refined(
        self, grid: int, *, points_per_interval: int = 8, cover: Tensor | None = None, margin: float = 0.1
    ) -> KAN:
        """A new KAN with ``grid`` intervals per edge, fitted to this one by least squares.

        The new knots subdivide the current ones (piecewise-linearly in knot index), so a non-uniform
        grid stays non-uniform. The fit uses ``points_per_interval`` equally spaced points per new
        interval over each input's grid range; with ``grid`` a multiple of the current G it is exact
        to round-off there. Use ``max_difference`` to measure the fit on your points.

        cover: network inputs (n, width[0]) whose activations the new grids should cover. A layer input
        that leaves its grid there (by more than round-off) gets a uniform grid over the old range
        widened to its activations plus ``margin`` times their spread on the side they leave it, fitted
        to the old edge (its linear continuation included) over that range; such a layer's fit is
        no longer exact. Inputs that stay inside keep nested knots. Layers are refined in order, each
        seeing the activations of the refined layers before it.
        """
        grid = check_int(grid, "KAN.refined(grid)", 1)
        if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin >= 0):
            raise ConfigError(f"KAN.refined margin must be a finite number >= 0; got {margin!r}")
        new = self._shell(grid)
        h = None if cover is None else cover.detach()
        for i, layer in enumerate(self.layers):
            g = layer.grid
            old_grid = layer.knots[:, layer.k : layer.k + g + 1].to(torch.float64)  # (in, g + 1)
            pos = torch.linspace(0, g, grid + 1, dtype=torch.float64, device=old_grid.device)
            lo_idx = pos.floor().long().clamp(max=g - 1)
            frac = pos - lo_idx
            new_grid = old_grid[:, lo_idx] * (1 - frac) + old_grid[:, lo_idx + 1] * frac
            if h is not None:
                new_grid = _covering(new_grid, h.to(torch.float64), margin)
            m = points_per_interval * grid + 1
            s = torch.linspace(0, 1, m, dtype=torch.float64, device=old_grid.device)
            x = new_grid[:, :1] + s * (new_grid[:, -1:] - new_grid[:, :1])  # (in, m)
            new.layers[i] = layer.refit(bspline.extend_grid(new_grid, layer.k), x.T.to(layer.knots.dtype))
            if h is not None:
                with torch.no_grad():
                    h = new.layers[i](h)
        return new

    def grid_updated(self, x: Tensor, *, eps: float = 0.02) -> KAN:
        """A new KAN whose grids follow the samples x: (n, width[0]), refitted on them.

        Each layer's new knots are ``eps * uniform + (1 - eps) * quantiles`` of that layer's inputs
        (eps > 0 keeps knots distinct); the spline is refitted by least squares on the samples, so it
        keeps its values on the sampled range. Layers are updated in order, each on the inputs the
        already updated layers produce.
        """
        if not (isinstance(eps, (int, float)) and 0 < eps <= 1):
            raise ConfigError(f"grid_updated eps must be in (0, 1]; got {eps!r}")
        if x.ndim != 2 or x.shape[1] != self.width[0] or x.shape[0] < 2:
            raise ShapeError(f"grid_updated needs samples of shape (n >= 2, {self.width[0]}); got {tuple(x.shape)}")
        new = self._shell(self.grid)
        h = x.detach()
        for i, layer in enumerate(self.layers):
            grid = _sample_grid(h.to(torch.float64), layer.grid, eps)
            new.layers[i] = layer.refit(bspline.extend_grid(grid, layer.k), h)
            with torch.no_grad():
                h = new.layers[i](h)
        return new

    def _shell(self, grid: int) -> KAN:
        """A copy of this network's configuration (layers are replaced by the caller)."""
        return self.with_layers(list(self.layers), grid)

    def with_layers(self, layers: Sequence[KANLayer], grid: int | None = None) -> KAN:
        """A KAN with this one's settings around ``layers`` (their widths define the new width)."""
        new = KAN.__new__(KAN)
        nn.Module.__init__(new)
        new.width = [layers[0].in_dim] + [layer.out_dim for layer in layers]
        new.k, new.grid = self.k, self.grid if grid is None else grid
        new.grid_range_init, new.init_noise, new.seed = self.grid_range_init, self.init_noise, self.seed
        new.curvature_fade = self.curvature_fade
        new.layers = nn.ModuleList(layers)
        return new


_VALUES = jet.JetSpec()  # a jet of values alone


def is_uniform(knots: Tensor, rtol: float = 1e-9) -> bool:
    """Whether every knot vector (rows of ``knots``) is equally spaced."""
    h = knots.diff(dim=1)
    return bool(((h - h.mean(dim=1, keepdim=True)).abs() <= rtol * h.abs().max()).all())


def _detect_uniform(module: nn.Module, incompatible_keys: object) -> None:
    module.uniform = is_uniform(module.knots)


def _check_fade(fade: object) -> float:
    """``KAN.curvature_fade`` as a float, or the error that names it."""
    if not (isinstance(fade, (int, float)) and math.isfinite(fade) and fade >= 0):
        raise ConfigError(f"KAN.curvature_fade must be a finite number >= 0 (0: linear continuation); got {fade!r}")
    return float(fade)


def _covering(grid: Tensor, h: Tensor, margin: float) -> Tensor:
    """Grid knots (in, G + 1), as they are where the activations h: (n, in) stay inside them; elsewhere
    uniform knots over the range widened to h plus ``margin`` times its spread on the side h leaves it."""
    lo, hi = grid[:, 0], grid[:, -1]
    a_lo, a_hi = h.min(dim=0).values, h.max(dim=0).values
    spread = (a_hi - a_lo).clamp_min(1e-12) * margin
    tol = 1e-9 * (hi - lo)
    new_lo = torch.where(a_lo < lo - tol, a_lo - spread, lo)
    new_hi = torch.where(a_hi > hi + tol, a_hi + spread, hi)
    moved = (new_lo != lo) | (new_hi != hi)
    if not bool(moved.any()):
        return grid
    s = torch.linspace(0, 1, grid.shape[1], dtype=grid.dtype, device=grid.device)
    uniform = new_lo.unsqueeze(1) + s * (new_hi - new_lo).unsqueeze(1)
    return torch.where(moved.unsqueeze(1), uniform, grid)


def _sample_grid(h: Tensor, grid: int, eps: float) -> Tensor:
    """(in, grid + 1) knots mixing quantiles of samples h: (n, in) with a uniform grid over their range."""
    xs = torch.sort(h, dim=0).values
    n = xs.shape[0]
    idx = torch.linspace(0, n - 1, grid + 1, device=h.device).round().long()
    adaptive = xs[idx].T  # (in, grid + 1)
    lo, hi = xs[0], xs[-1]
    flat = (hi - lo) < 1e-8 * (1 + lo.abs())
    lo = torch.where(flat, lo - 1, lo)
    hi = torch.where(flat, hi + 1, hi)
    adaptive = torch.where(flat.unsqueeze(1), torch.zeros_like(adaptive), adaptive)
    s = torch.linspace(0, 1, grid + 1, dtype=h.dtype, device=h.device)
    uniform = lo.unsqueeze(1) + s * (hi - lo).unsqueeze(1)
    eps_row = torch.where(flat.unsqueeze(1), torch.ones_like(uniform), torch.full_like(uniform, eps))
    return eps_row * uniform + (1 - eps_row) * adaptive


def check_width(width: Sequence[int], owner: str) -> list[int]:
    """Validate a ``[in, hidden..., out]`` width list."""
    try:
        w = list(width)
    except TypeError:
        raise ConfigError(f"{owner}.width must be a list of ints such as [2, 10, 1]; got {width!r}") from None
    if len(w) < 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in w):
        raise ConfigError(f"{owner}.width must list at least two ints >= 1 (inputs, ..., outputs); got {width!r}")
    return w


def _check_range(grid_range: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in grid_range)
    except (TypeError, ValueError):
        raise ConfigError(f"KAN.grid_range must be two numbers (lo, hi); got {grid_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError(f"KAN.grid_range must satisfy lo < hi, both finite; got {grid_range!r}")
    return lo, hi
