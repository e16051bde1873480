"""KAN edges fixed to symbolic functions, and a trained KAN turned into a formula.

Liu et al. (arXiv 2404.19756, sec. 2.5) read a trained KAN by replacing each learned edge function with
a simple one, ``phi(x) ~ c f(a x + b) + d``, fine-tuning the affine parameters, and composing the network
into one expression. Here an edge of a ``KANLayer`` is either a spline (its B-spline plus SiLU term, the
default), a symbol with trainable (a, b, c, d), or ``"0"`` (pruned). The fixed edges of a layer live in
its :class:`FixedEdges`; they are evaluated with the same one-pass derivative rule as splines, so a
partly symbolic network trains on the PDE loss like any other.

* ``symbolized(kan, x, ...)`` fits every spline edge of the chosen layers (``kanpde.symbols.fit_symbol``)
  on the layer inputs at points x and fixes the best symbol;
* ``kan_formula(kan, inputs)`` composes a fully fixed KAN into sympy expressions of ``inputs``;
* ``surrogate_formula`` adds the input map, periodic embedding and hard constraint of a ``Surrogate``;
* :class:`Formula` is what ``Solution.formula()`` returns: the expression with its own errors.

Practical hint: fix layers one at a time from the input side, with a short L-BFGS phase after each
(``Symbolize(layers=(0,))``, ``LBFGS``, ``Symbolize()``, ``LBFGS``): the later spline edges then absorb
what the first symbols got slightly wrong before they are fitted themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import sympy
import torch
from torch import Tensor, nn

from . import jet
from .errors import ConfigError, ShapeError
from .symbols import DEFAULT_LIBRARY, Symbol, SymbolFit, SymbolLibrary, fit_symbol

if TYPE_CHECKING:
    from .kan import KAN
    from .problem import Problem
    from .surrogate import Surrogate

__all__ = ["FixedEdges", "Formula", "symbolized", "kan_formula", "surrogate_formula", "read_formula"]

ZERO = "0"
_DENOMINATOR = 12  # constants are matched with p/q (or p/q pi) for q up to this; larger q matches noise
_SIMPLIFY_OPS = 60  # sympy.simplify is slow on long expressions; beyond this many operations it is skipped


class FixedEdges(nn.Module):
    """The fixed edges of one KAN layer: ``names[o][i]`` is None (a spline edge), ``"0"`` (pruned) or a
    symbol of ``library``; each symbol edge (o, i) adds ``c f(a x_i + b) + d`` to output o.

    Parameter ``params``: (m, 4) rows (a, b, c, d) of the m symbol edges in row-major (o, i) order.
    Buffer ``spline_mask``: (out, in), 1 on the spline edges and 0 on the fixed ones.
    """

    def __init__(self, names: Sequence[Sequence[str | None]], library: SymbolLibrary, params: Tensor | None = None, *, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.names = [list(row) for row in names]
        self.out_dim, self.in_dim = len(self.names), len(self.names[0]) if self.names else 0
        edges = [(o, i, n) for o, row in enumerate(self.names) for i, n in enumerate(row) if n not in (None, ZERO)]
        self.symbols = {n: library[n] for _, _, n in edges}
        if params is None:
            params = torch.tensor([[1.0, 0.0, 1.0, 0.0]] * len(edges), dtype=dtype).reshape(len(edges), 4)
        if params.shape != (len(edges), 4):
            raise ShapeError(f"FixedEdges needs (a, b, c, d) for each of its {len(edges)} symbol edges; got params of shape {tuple(params.shape)}")
        self.params = nn.Parameter(params.detach().clone().to(dtype))
        mask = torch.tensor([[1.0 if n is None else 0.0 for n in row] for row in self.names], dtype=dtype)
        self.register_buffer("spline_mask", mask)
        self.groups: list[Symbol] = []  # one per symbol used; its edges' rows, outputs and inputs are buffers
        for name, sym in self.symbols.items():
            rows = [r for r, (_, _, n) in enumerate(edges) if n == name]
            self.register_buffer(f"rows_{len(self.groups)}", torch.tensor(rows), persistent=False)
            self.register_buffer(f"outs_{len(self.groups)}", torch.tensor([edges[r][0] for r in rows]), persistent=False)
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
        name = self.names[o][i]
        if name is None:
            raise ConfigError(f"edge ({o}, {i}) is still a spline; fix it first (kan.symbolized(x))")
        if name == ZERO:
            return sympy.Integer(0)
        a, b, c, d = (sympy.Float(v, 15) for v in self.params[self.edges.index((o, i, name))].tolist())
        sym = self.symbols[name]
        return c * sym.sympy(a * arg + b if sym.inner else arg) + d

    @property
    def complete(self) -> bool:
        """Every edge is fixed."""
        return all(n is not None for row in self.names for n in row)

    def with_edges(self, updates: dict[tuple[int, int], tuple[str, Sequence[float]]], library: SymbolLibrary) -> "FixedEdges":
        """A copy with edges (o, i) set to (name, (a, b, c, d)) (name ``"0"``: pruned, params ignored)."""
        names = [row[:] for row in self.names]
        params = self._params_by_edge()
        for (o, i), (name, p) in updates.items():
            names[o][i] = name
            params[(o, i)] = list(p)
        lib = library.extended(*(s for n, s in self.symbols.items() if n not in library))
        return self._rebuilt(names, [[(o, i) for i in range(len(names[0]))] for o in range(len(names))], params, lib)

    def subset(self, outs: Sequence[int], ins: Sequence[int]) -> "FixedEdges":
        """The fixed edges between the kept outputs ``outs`` and inputs ``ins``."""
        names = [[self.names[o][i] for i in ins] for o in outs]
        lib = SymbolLibrary(tuple(self.symbols.values()))
        return self._rebuilt(names, [[(o, i) for i in ins] for o in outs], self._params_by_edge(), lib)

    def _params_by_edge(self) -> dict[tuple[int, int], list[float]]:
        return {(o, i): p for (o, i, _), p in zip(self.edges, self.params.detach().tolist())}

    def _rebuilt(self, names: list[list[str | None]], origin: list[list[tuple[int, int]]], params: dict[tuple[int, int], list[float]], library: SymbolLibrary) -> "FixedEdges":
        """New fixed edges ``names``; the parameters of new edge [o][i] are ``params[origin[o][i]]``."""
        rows = [params[origin[o][i]] for o, row in enumerate(names) for i, n in enumerate(row) if n not in (None, ZERO)]
        tensor = torch.tensor(rows, dtype=self.params.dtype).reshape(len(rows), 4)
        return FixedEdges(names, library, tensor, dtype=self.params.dtype).to(self.params.device)

    def describe(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "symbols": {n: {"expr": str(s.expr), "complexity": s.complexity, "inner": s.inner} for n, s in self.symbols.items()},
        }

    @classmethod
    def from_description(cls, desc: dict[str, Any], dtype: torch.dtype = torch.float64) -> "FixedEdges":
        lib = SymbolLibrary(tuple(Symbol(n, s["expr"], s["complexity"], inner=s["inner"]) for n, s in desc["symbols"].items()))
        return cls(desc["names"], lib, dtype=dtype)

    @classmethod
    def empty(cls, out_dim: int, in_dim: int, dtype: torch.dtype) -> "FixedEdges":
        return cls([[None] * in_dim for _ in range(out_dim)], DEFAULT_LIBRARY, dtype=dtype)


# --- fitting a whole network -------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeChoice:
    """The symbol chosen for edge (layer, o, i), with the runner-up fits for the record."""

    layer: int
    out: int
    inp: int
    fit: SymbolFit
    alternatives: tuple[SymbolFit, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "edge": [self.layer, self.out, self.inp], "symbol": self.fit.name, "r2": self.fit.r2,
            "params": [round(v, 12) for v in self.fit.params],
            "alternatives": [{"symbol": f.name, "r2": f.r2} for f in self.alternatives],
        }


def symbolized(
    kan: "KAN",
    x: Tensor,
    *,
    layers: Sequence[int] | None = None,
    library: SymbolLibrary = DEFAULT_LIBRARY,
    complexity_weight: float = 1.0,
    r2_floor: float = 1e-10,
) -> tuple["KAN", list[EdgeChoice]]:
    """A copy of ``kan`` whose spline edges in ``layers`` (default: all) are fixed to their best symbols.

    x: (n, width[0]) network inputs; each layer is fitted on the inputs the already fixed layers produce.
    Returns the new KAN and the choices made (edge, symbol, R^2, runner-ups).
    """
    todo = sorted(set(range(len(kan.layers)) if layers is None else layers))
    if any(not 0 <= l < len(kan.layers) for l in todo):
        raise ConfigError(f"layers to symbolize must be in [0, {len(kan.layers)}); got {list(layers or [])}")
    new = kan.copy()
    choices: list[EdgeChoice] = []
    h = x.detach()
    with torch.no_grad():
        for l, layer in enumerate(new.layers):
            if l in todo:
                values = layer.edge_values(h)  # (n, in, out)
                names = layer.fixed.names if layer.fixed is not None else [[None] * layer.in_dim for _ in range(layer.out_dim)]
                updates = {}
                for o in range(layer.out_dim):
                    for i in range(layer.in_dim):
                        if names[o][i] is not None:
                            continue
                        fits = fit_symbol(h[:, i], values[:, i, o], library, complexity_weight=complexity_weight, r2_floor=r2_floor)
                        updates[(o, i)] = (fits[0].name, fits[0].params)
                        choices.append(EdgeChoice(l, o, i, fits[0], tuple(fits[1:3])))
                new.layers[l] = layer.with_fixed(updates, library)
            h = new.layers[l](h)
    return new, choices


def kan_formula(kan: "KAN", inputs: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """The outputs of a fully fixed KAN as sympy expressions of ``inputs`` (one per input node)."""
    if len(inputs) != kan.width[0]:
        raise ShapeError(f"kan_formula needs {kan.width[0]} input expressions; got {len(inputs)}")
    nodes = list(inputs)
    for l, layer in enumerate(kan.layers):
        if layer.fixed is None or not layer.fixed.complete:
            raise ConfigError(f"layer {l} of the KAN still has spline edges; fix them first with kan.symbolized(x) (or the Symbolize phase)")
        nodes = [sympy.Add(*(layer.fixed.edge_sympy(o, i, nodes[i]) for i in range(layer.in_dim))) for o in range(layer.out_dim)]
    return nodes


def surrogate_formula(surrogate: "Surrogate", axes: Sequence[str]) -> tuple[list[sympy.Expr], tuple[sympy.Symbol, ...]]:
    """The surrogate's outputs as sympy expressions of its coordinates, named ``axes``: the input map onto
    [-1, 1]^d, the periodic embedding (cos pi t, sin pi t) and a hard Dirichlet constraint g + D(t) N with
    a constant g. Returns the expressions and the coordinate symbols."""
    from .kan import KAN

    if not isinstance(surrogate.net, KAN):
        raise ConfigError(f"only a KAN turns into a formula; this model is an {type(surrogate.net).__name__}")
    variables = tuple(sympy.Symbol(a, real=True) for a in axes)
    lower, upper = surrogate.lower.tolist(), surrogate.upper.tolist()
    t = [2 * (v - _exact(lo)) / (_exact(hi) - _exact(lo)) - 1 for v, lo, hi in zip(variables, lower, upper)]
    t = [sympy.expand(e) for e in t]
    features: list[sympy.Expr] = []
    for a, ta in enumerate(t):  # the layout of ``periodic_features``
        features += [sympy.cos(sympy.pi * ta), sympy.sin(sympy.pi * ta)] if a in surrogate.periodic else [ta]
    outs = kan_formula(surrogate.net, features)
    constraint = surrogate.constraint
    if constraint is not None:
        if callable(constraint.value):
            raise ConfigError(
                "this surrogate builds a function-valued boundary condition into its output, which has no formula; "
                "solve with constraints='soft' to read a formula"
            )
        dist = sympy.Integer(1)
        for axis, sign in constraint._factors():
            dist = dist * (1 + sign * t[axis])
        outs = [_exact(constraint.value) + dist * e for e in outs]
    return outs, variables


def _exact(v: float) -> sympy.Expr:
    """A float as an exact rational when it is a short decimal (box bounds such as 0, 1, 0.5), else a Float."""
    r = sympy.nsimplify(v, rational=True, tolerance=1e-15)
    return r if abs(float(r) - v) <= 1e-15 * max(1.0, abs(v)) and len(str(r)) < 12 else sympy.Float(v, 15)


# --- the result ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A closed-form approximation of a trained field.

    Attributes:
        exprs: one sympy expression per component (``expr`` is the first).
        variables: the coordinate symbols, in the problem's axis order.
        errors: ``{"rel_l2", "max_abs"}`` of the formula itself on the problem's evaluation grid
            (empty without a reference).
        edges: the symbol chosen for each edge, when the formula fitted them (empty if the network was
            already symbolic).

    ``sympy.sympify(formula)`` gives ``expr``; ``formula(x)`` evaluates it at points x: (n, d).
    """

    exprs: tuple[sympy.Expr, ...]
    variables: tuple[sympy.Symbol, ...]
    errors: dict[str, float]
    edges: tuple[EdgeChoice, ...] = ()
    problem: "Problem | None" = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, exprs: Sequence[sympy.Expr], variables: Sequence[sympy.Symbol], problem: "Problem | None" = None, edges: Sequence[EdgeChoice] = ()) -> "Formula":
        """A formula with its errors measured against ``problem``'s reference (none without a problem)."""
        bare = cls(tuple(exprs), tuple(variables), {}, tuple(edges), problem)
        return bare if problem is None else cls(bare.exprs, bare.variables, formula_errors(bare, problem), bare.edges, problem)

    def simplified(self, tolerance: float = 1e-6) -> "Formula":
        """A shorter equivalent within ``tolerance``: constants below it dropped (before and after expanding
        products and powers), and constants within it (relative) of a small fraction p/q or p/q * pi
        (q <= 12) replaced by that exact number; the expanded form is simplified by sympy when it is
        small, and the shorter of it and the unexpanded one is kept. Its errors are measured again.

        E.g. ``0.0139 (4.0066 sin(pi x) + 4.4798 sin(pi y))^2 - 0.0137 (...)^2`` -> ``sin(pi x) sin(pi y)``.
        """
        if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
            raise ConfigError(f"Formula.simplified tolerance must be a number in (0, 1); got {tolerance!r}")
        exprs = []
        for e in self.exprs:
            kept = _identify_constants(_chop(e, tolerance), tolerance)
            expanded = _chop(_identify_constants(_chop(sympy.expand(_chop(e, tolerance)), tolerance), tolerance), tolerance)
            if sympy.count_ops(expanded) <= _SIMPLIFY_OPS:
                expanded = sympy.simplify(expanded)
            exprs.append(min((kept, expanded), key=sympy.count_ops))
        return Formula.build(exprs, self.variables, self.problem, self.edges)

    @property
    def expr(self) -> sympy.Expr:
        return self.exprs[0]

    @property
    def rel_l2(self) -> float | None:
        return self.errors.get("rel_l2")

    def _sympy_(self) -> sympy.Expr:
        return self.expr

    def __str__(self) -> str:
        return str(self.rounded())

    def rounded(self, digits: int = 6) -> sympy.Expr:
        """``expr`` with every float rounded to ``digits`` significant digits (for reading)."""
        return self.expr.xreplace({f: sympy.Float(float(f"{float(f):.{digits}g}"), digits) for f in self.expr.atoms(sympy.Float)})

    def latex(self, digits: int = 6) -> str:
        return sympy.latex(self.rounded(digits))

    def __call__(self, x: np.ndarray | Tensor) -> np.ndarray:
        """The formula at points x: (n, d) -> (n, components)."""
        pts = np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != len(self.variables):
            raise ShapeError(f"Formula(x) needs points of shape (n, {len(self.variables)}); got {pts.shape}")
        fn = sympy.lambdify(self.variables, list(self.exprs), modules="numpy")
        cols = [np.broadcast_to(np.asarray(v, dtype=np.float64), (pts.shape[0],)) for v in fn(*pts.T)]
        return np.stack(cols, axis=1)


def _chop(expr: sympy.Expr, tolerance: float) -> sympy.Expr:
    return expr.xreplace({f: sympy.Integer(0) for f in expr.atoms(sympy.Float) if abs(f) < tolerance})


def _identify_constants(expr: sympy.Expr, tolerance: float) -> sympy.Expr:
    """Replace each float within ``tolerance`` (relative) of p/q or p/q * pi, q <= 12, by that number."""
    swap = {}
    for f in expr.atoms(sympy.Float):
        for unit in (sympy.Integer(1), sympy.pi):
            r = float(f) / float(unit)
            frac = Fraction(r).limit_denominator(_DENOMINATOR)
            if abs(float(frac) - r) <= tolerance * abs(r):
                swap[f] = sympy.Rational(frac.numerator, frac.denominator) * unit
                break
    return expr.xreplace(swap)


def formula_errors(formula: Formula, problem: "Problem") -> dict[str, float]:
    """The formula's ``rel_l2`` and ``max_abs`` against the problem's reference on its evaluation grid."""
    from .metrics import errors as error_metrics

    x = torch.as_tensor(problem.evaluation_grid().points(), dtype=torch.float64)
    ref = problem.reference_values(x)
    if ref is None:
        return {}
    return error_metrics(torch.as_tensor(formula(x)), ref.to(torch.float64))


def read_formula(sol: Any, tolerance: float = 1e-6) -> tuple[Formula, Formula, dict[str, float]]:
    """``sol.formula()`` and its ``simplified(tolerance)`` form, with the seconds each took
    (``{"formula_s", "simplify_s"}``): what ``solve --symbolic`` reports and the benchmark times."""
    t0 = time.perf_counter()
    formula = sol.formula()
    t1 = time.perf_counter()
    short = formula.simplified(tolerance)
    return formula, short, {"formula_s": round(t1 - t0, 4), "simplify_s": round(time.perf_counter() - t1, 4)}
