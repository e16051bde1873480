"""KAN edges fixed to symbols or pruned: a layer kind beside the spline edges of a ``KANLayer``.

An edge of a KAN layer is a spline (its B-spline plus SiLU term, the default), a symbol ``c f(a x + b) + d``
with trainable (a, b, c, d) (Liu et al., arXiv 2404.19756, sec. 2.5), or ``"0"`` (pruned). The fixed edges
of a layer live in its :class:`FixedEdges`; they are evaluated with the same one-pass derivative rule as
splines, so a partly symbolic network trains on the PDE loss like any other. Choosing the symbols is
interpretation (:mod:`kanpde.interpret`); this module only evaluates them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from kanpde.errors import ConfigError, ShapeError
from kanpde.nets.symbol import Symbol, SymbolLibrary, default_library
from kanpde.pde import jet

if TYPE_CHECKING:
    import sympy

__all__ = ["FixedEdges", "ZERO"]

ZERO = "0"
"""The name of a pruned edge."""


class FixedEdges(nn.Module):
    """The fixed edges of one KAN layer: ``names[o][i]`` is None (a spline edge), ``"0"`` (pruned) or a
    symbol of ``library``; each symbol edge (o, i) adds ``c f(a x_i + b) + d`` to output o.

    Parameter ``params``: (m, 4) rows (a, b, c, d) of the m symbol edges in row-major (o, i) order.
    Buffer ``spline_mask``: (out, in), 1 on the spline edges and 0 on the fixed ones.
    """

    def __init__(
        self,
        names: Sequence[Sequence[str | None]],
        library: SymbolLibrary,
        params: Tensor | None = None,
        *,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.names = [list(row) for row in names]
        self.out_dim, self.in_dim = len(self.names), len(self.names[0]) if self.names else 0
        edges = [(o, i, n) for o, row in enumerate(self.names) for i, n in enumerate(row) if n not in (None, ZERO)]
        self.symbols = {n: library[n] for _, _, n in edges}
        if params is None:
            params = torch.tensor([[1.0, 0.0, 1.0, 0.0]] * len(edges), dtype=dtype).reshape(len(edges), 4)
        if params.shape != (len(edges), 4):
            raise ShapeError(
                f"FixedEdges needs (a, b, c, d) for each of its {len(edges)} symbol edges; got params of shape {tuple(params.shape)}"
            )
        self.params = nn.Parameter(params.detach().clone().to(dtype))
        mask = torch.tensor([[1.0 if n is None else 0.0 for n in row] for row in self.names], dtype=dtype)
        self.register_buffer("spline_mask", mask)
        self.groups: list[Symbol] = []  # one per symbol used; its edges' rows, outputs and inputs are buffers
        for name, sym in self.symbols.items():
            rows = [r for r, (_, _, n) in enumerate(edges) if n == name]
            self.register_buffer(f"rows_{len(self.groups)}", torch.tensor(rows), persistent=False)
            self.register_buffer(
                f"outs_{len(self.groups)}", torch.tensor([edges[r][0] for r in rows]), persistent=False
            )
            self.register_buffer(f"ins_{len(self.groups)}", torch.tensor([edges[r][1] for r in rows]), persistent=False)
            self.groups.append(sym)
        self.edges = edges

    def _group(self, g: int) -> tuple[Symbol, Tensor, Tensor, Tensor]:
        sym = self.groups[g]
        rows = getattr(self, f"rows_{g}")
        return sym, self.params[rows], getattr(self, f"outs_{g}"), getattr(self, f"ins_{g}")

    def _values(self, x: Tensor) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """Per symbol used: (outputs, inputs, values (n, m)) of its m edges at x: (n, in)."""
        for g in range(len(self.groups)):
            sym, p, outs, ins = self._group(g)
            z = x[:, ins] * p[:, 0] + p[:, 1] if sym.inner else x[:, ins]
            yield outs, ins, sym(z) * p[:, 2] + p[:, 3]

    def forward(self, x: Tensor) -> Tensor:
        """Sum of the symbol edges into each output: x (n, in) -> (n, out)."""
        out = x.new_zeros(x.shape[0], self.out_dim)
        for outs, _, v in self._values(x):
            out = out.index_add(1, outs, v)
        return out

    def forward_jet(self, t: Tensor, spec: jet.JetSpec) -> Tensor:
        """The same on a jet: (C, n, in) -> (C, n, out)."""
        out = t.new_zeros(*t.shape[:-1], self.out_dim)
        for g in range(len(self.groups)):
            sym, p, outs, ins = self._group(g)
            z = t[..., ins]
            if sym.inner:
                z = jet.affine(z, p[:, 0], p[:, 1])
            v = jet.affine(jet.elementwise(z, spec, sym.torch3), p[:, 2], p[:, 3])
            out = out.index_add(-1, outs, v)
        return out

    def edge_values(self, x: Tensor) -> Tensor:
        """Each symbol edge's value, zero elsewhere: x (n, in) -> (n, in, out)."""
        out = x.new_zeros(x.shape[0], self.in_dim, self.out_dim)
        rows = torch.arange(x.shape[0], device=x.device)[:, None]
        for outs, ins, v in self._values(x):
            out = out.index_put((rows, ins, outs), v)
        return out

    def edge_sympy(self, o: int, i: int, arg: sympy.Expr) -> sympy.Expr:
        """Edge (o, i) as a sympy expression of its input ``arg`` (needs a fixed edge)."""
        import sympy

        name = self.names[o][i]
        if name is None:
            raise ConfigError(f"edge ({o}, {i}) is still a spline; fix it first (kanpde.interpret.symbolized(kan, x))")
        if name == ZERO:
            return sympy.Integer(0)
        a, b, c, d = (sympy.Float(v, 15) for v in self.params[self.edges.index((o, i, name))].tolist())
        sym = self.symbols[name]
        return c * sym.sympy(a * arg + b if sym.inner else arg) + d

    @property
    def complete(self) -> bool:
        """Every edge is fixed."""
        return all(n is not None for row in self.names for n in row)

    def with_edges(
        self, updates: dict[tuple[int, int], tuple[str, Sequence[float]]], library: SymbolLibrary | None = None
    ) -> FixedEdges:
        """A copy with edges (o, i) set to (name, (a, b, c, d)) (name ``"0"``: pruned, params ignored); the
        names are looked up in ``library`` (default: ``default_library()``) and in the symbols these edges
        already use."""
        library = library if library is not None else default_library()
        names = [row[:] for row in self.names]
        params = self._params_by_edge()
        for (o, i), (name, p) in updates.items():
            names[o][i] = name
            params[(o, i)] = list(p)
        lib = library.extended(*(s for n, s in self.symbols.items() if n not in library))
        return self._rebuilt(names, [[(o, i) for i in range(len(names[0]))] for o in range(len(names))], params, lib)

    def subset(self, outs: Sequence[int], ins: Sequence[int]) -> FixedEdges:
        """The fixed edges between the kept outputs ``outs`` and inputs ``ins``."""
        names = [[self.names[o][i] for i in ins] for o in outs]
        lib = SymbolLibrary(tuple(self.symbols.values()))
        return self._rebuilt(names, [[(o, i) for i in ins] for o in outs], self._params_by_edge(), lib)

    def _params_by_edge(self) -> dict[tuple[int, int], list[float]]:
        return {(o, i): p for (o, i, _), p in zip(self.edges, self.params.detach().tolist())}

    def _rebuilt(
        self,
        names: list[list[str | None]],
        origin: list[list[tuple[int, int]]],
        params: dict[tuple[int, int], list[float]],
        library: SymbolLibrary,
    ) -> FixedEdges:
        """New fixed edges ``names``; the parameters of new edge [o][i] are ``params[origin[o][i]]``."""
        rows = [params[origin[o][i]] for o, row in enumerate(names) for i, n in enumerate(row) if n not in (None, ZERO)]
        tensor = torch.tensor(rows, dtype=self.params.dtype).reshape(len(rows), 4)
        return FixedEdges(names, library, tensor, dtype=self.params.dtype).to(self.params.device)

    def describe(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "symbols": {
                n: {"expr": str(s.expr), "complexity": s.complexity, "inner": s.inner} for n, s in self.symbols.items()
            },
        }

    @classmethod
    def from_description(cls, desc: dict[str, Any], dtype: torch.dtype = torch.float64) -> FixedEdges:
        lib = SymbolLibrary(
            tuple(Symbol(n, s["expr"], s["complexity"], inner=s["inner"]) for n, s in desc["symbols"].items())
        )
        return cls(desc["names"], lib, dtype=dtype)

    @classmethod
    def empty(cls, out_dim: int, in_dim: int, dtype: torch.dtype) -> FixedEdges:
        return cls([[None] * in_dim for _ in range(out_dim)], SymbolLibrary(()), dtype=dtype)
