"""A trained KAN turned into a formula.

Liu et al. (arXiv 2404.19756, sec. 2.5) read a trained KAN by replacing each learned edge function with
a simple one, ``phi(x) ~ c f(a x + b) + d``, fine-tuning the affine parameters, and composing the network
into one expression. The fixed edges are a layer kind of the network (:class:`kanpde.nets.fixed.FixedEdges`);
this module chooses them and reads the result:

* ``symbolized(kan, x, ...)`` fits every spline edge of the chosen layers (``kanpde.interpret.symbols.fit_symbol``)
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy
import torch
from torch import Tensor

from kanpde.errors import ConfigError, ShapeError
from kanpde.interpret.network import Model, kan_inputs
from kanpde.interpret.symbols import DEFAULT_LIBRARY, SymbolFit, SymbolLibrary, fit_symbol

if TYPE_CHECKING:
    from kanpde.nets.kan import KAN
    from kanpde.pde.problem import Problem
    from kanpde.pinn.surrogate import Surrogate

__all__ = ["Formula", "symbolized", "kan_formula", "surrogate_formula", "read_formula"]

_DENOMINATOR = 12  # constants are matched with p/q (or p/q pi) for q up to this; larger q matches noise
_SIMPLIFY_OPS = 60  # sympy.simplify is slow on long expressions; beyond this many operations it is skipped


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
            "edge": [self.layer, self.out, self.inp],
            "symbol": self.fit.name,
            "r2": self.fit.r2,
            "params": [round(v, 12) for v in self.fit.params],
            "alternatives": [{"symbol": f.name, "r2": f.r2} for f in self.alternatives],
        }


def symbolized(
    model: Model,
    x: Tensor,
    *,
    layers: Sequence[int] | None = None,
    library: SymbolLibrary | None = None,
    complexity_weight: float = 1.0,
    r2_floor: float = 1e-10,
) -> tuple[Model, list[EdgeChoice]]:
    """A copy of ``model`` (a KAN, or a ``Surrogate`` around one) whose spline edges in ``layers`` (default:
    all) are fixed to their best symbols.

    x: (n, width[0]) network inputs of a KAN, or (n, d) points of a surrogate's domain; each layer is
    fitted on the inputs the already fixed layers produce. Returns the new model and the choices made
    (edge, symbol, R^2, runner-ups).
    """
    kan, h, wrap = kan_inputs(model, x, "fix edges to symbols")
    library = library if library is not None else DEFAULT_LIBRARY
    todo = sorted(set(range(len(kan.layers)) if layers is None else layers))
    if any(not 0 <= l < len(kan.layers) for l in todo):
        raise ConfigError(f"layers to symbolize must be in [0, {len(kan.layers)}); got {list(layers or [])}")
    new = kan.copy()
    choices: list[EdgeChoice] = []
    with torch.no_grad():
        for l, layer in enumerate(new.layers):
            if l in todo:
                values = layer.edge_values(h)  # (n, in, out)
                names = (
                    layer.fixed.names
                    if layer.fixed is not None
                    else [[None] * layer.in_dim for _ in range(layer.out_dim)]
                )
                updates = {}
                for o in range(layer.out_dim):
                    for i in range(layer.in_dim):
                        if names[o][i] is not None:
                            continue
                        fits = fit_symbol(
                            h[:, i], values[:, i, o], library, complexity_weight=complexity_weight, r2_floor=r2_floor
                        )
                        updates[(o, i)] = (fits[0].name, fits[0].params)
                        choices.append(EdgeChoice(l, o, i, fits[0], tuple(fits[1:3])))
                new.layers[l] = layer.with_fixed(updates, library)
            h = new.layers[l](h)
    return wrap(new), choices


def kan_formula(kan: KAN, inputs: Sequence[sympy.Expr] | None = None) -> list[sympy.Expr]:
    """The outputs of a fully fixed KAN as sympy expressions of ``inputs`` (one per input node; default
    x_1, x_2, ...)."""
    if inputs is None:
        inputs = sympy.symbols(f"x_1:{kan.width[0] + 1}", real=True)
    if len(inputs) != kan.width[0]:
        raise ShapeError(f"kan_formula needs {kan.width[0]} input expressions; got {len(inputs)}")
    nodes = list(inputs)
    for l, layer in enumerate(kan.layers):
        if layer.fixed is None or not layer.fixed.complete:
            raise ConfigError(
                f"layer {l} of the KAN still has spline edges; fix them first with kanpde.interpret.symbolized(kan, x) (or the Symbolize phase)"
            )
        nodes = [
            sympy.Add(*(layer.fixed.edge_sympy(o, i, nodes[i]) for i in range(layer.in_dim)))
            for o in range(layer.out_dim)
        ]
    return nodes


def surrogate_formula(surrogate: Surrogate, axes: Sequence[str]) -> tuple[list[sympy.Expr], tuple[sympy.Symbol, ...]]:
    """The surrogate's outputs as sympy expressions of its coordinates, named ``axes``: the input map onto
    [-1, 1]^d, the periodic embedding (cos pi t, sin pi t) and a hard Dirichlet constraint g + D(t) N with
    a constant g. Returns the expressions and the coordinate symbols."""
    from kanpde.nets.kan import KAN

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
        if not constraint.has_formula:
            raise ConfigError(
                "this surrogate builds a function-valued (or blended) boundary condition, or a distance function, "
                "into its output, which has no formula; "
                "solve with constraints='soft' to read a formula"
            )
        dist = sympy.Integer(1)
        for axis, sign in constraint.factors():
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
    problem: Problem | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        exprs: Sequence[sympy.Expr],
        variables: Sequence[sympy.Symbol],
        problem: Problem | None = None,
        edges: Sequence[EdgeChoice] = (),
    ) -> Formula:
        """A formula with its errors measured against ``problem``'s reference (none without a problem)."""
        bare = cls(tuple(exprs), tuple(variables), {}, tuple(edges), problem)
        return (
            bare
            if problem is None
            else cls(bare.exprs, bare.variables, formula_errors(bare, problem), bare.edges, problem)
        )

    def simplified(self, tolerance: float = 1e-6) -> Formula:
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
            expanded = _chop(
                _identify_constants(_chop(sympy.expand(_chop(e, tolerance)), tolerance), tolerance), tolerance
            )
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
        return self.expr.xreplace(
            {f: sympy.Float(float(f"{float(f):.{digits}g}"), digits) for f in self.expr.atoms(sympy.Float)}
        )

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


def formula_errors(formula: Formula, problem: Problem) -> dict[str, float]:
    """The formula's ``rel_l2`` and ``max_abs`` against the problem's reference on its evaluation grid."""
    from kanpde.metrics import errors as error_metrics

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
