"""A trained KAN turned into a formula.

Liu et al. (arXiv 2404.19756, sec. 2.5) read a trained KAN by replacing each learned edge function with
a simple one, ``phi(x) ~ c f(a x + b) + d``, fine-tuning the affine parameters, and composing the network
into one expression. The fixed edges are a layer kind of the network (:class:`kanpde.nets.fixed.FixedEdges`);
this module chooses them and reads the result:

* ``symbolized(kan, x, ...)`` fits every spline edge of the chosen layers (``kanpde.interpret.symbols.fit_symbol``)
  on the layer inputs at points x and fixes the best symbol;
* ``kan_formula(kan, inputs)`` composes a fully fixed KAN into sympy expressions of ``inputs``;
* ``surrogate_formula`` adds the input map, periodic embedding and hard constraint of a ``Surrogate``;
* :class:`Formula` is what ``Solution.formula()`` returns: the expression with its own errors (a system:
  one per component, ``{name: Formula}``); ``solution_formula`` reads it from a solution.

Practical hint: fix layers one at a time from the input side, with a short L-BFGS phase after each
(``Symbolize(layers=(0,))``, ``LBFGS``, ``Symbolize()``, ``LBFGS``): the later spline edges then absorb
what the first symbols got slightly wrong before they are fitted themselves.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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

__all__ = [
    "Formula",
    "formula_evidence",
    "symbolized",
    "kan_formula",
    "surrogate_formula",
    "solution_formula",
    "read_formula",
]

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


def surrogate_formula(
    surrogate: Surrogate, axes: Sequence[str], outputs: Sequence[int] | None = None, names: Sequence[str] = ()
) -> tuple[list[sympy.Expr], tuple[sympy.Symbol, ...]]:
    """The surrogate's outputs as sympy expressions of its coordinates, named ``axes``: the input map onto
    [-1, 1]^d, the periodic embedding (cos pi t, sin pi t) and a hard Dirichlet constraint g + D(t) N with
    a constant g (for a system, the constraint of each component, ``Componentwise``). ``outputs``: the
    output columns to return (default: all); ``names``: the components' names, for messages. Returns
    the expressions and the coordinate symbols."""
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
    picked = range(surrogate.out_dim) if outputs is None else outputs
    constraints = _constraints(surrogate.constraint, surrogate.out_dim)
    for j in picked:  # before composing the network: a constraint without a formula fails fast
        _check_constraint(constraints[j], names[j] if j < len(names) else f"u{j}", len(constraints) > 1)
    outs = kan_formula(surrogate.net, features)
    return [_constrained(outs[j], constraints[j], t) for j in picked], variables


def _constraints(constraint: Any, out_dim: int) -> list[Any]:
    """The output constraint of each component: a ``Componentwise``'s parts, or one constraint for all."""
    from kanpde.pinn.components import Componentwise

    if isinstance(constraint, Componentwise):
        return list(constraint.parts)
    return [constraint] * out_dim


def _check_constraint(constraint: Any, name: str, system: bool) -> None:
    """A ConfigError when the constrained output has no closed form (naming the component of a system)."""
    if constraint is None or constraint.has_formula:
        return
    which = f"component {name!r} of this surrogate has" if system else "this surrogate builds"
    fix = "solve with constraints='soft' to read a formula"
    if system:
        which += " a function-valued (or blended) boundary condition, or a distance function, built"
        fix += ", or ask for another component: sol.formula(component=...)"
    else:
        which += " a function-valued (or blended) boundary condition, or a distance function,"
    raise ConfigError(f"{which} into its output, which has no formula; {fix}")


def _constrained(expr: sympy.Expr, constraint: Any, t: Sequence[sympy.Expr]) -> sympy.Expr:
    """g + D(t) expr for a constant-valued hard Dirichlet constraint on box faces; expr without one."""
    if constraint is None:
        return expr
    dist = sympy.Integer(1)
    for axis, sign in constraint.factors():
        dist = dist * (1 + sign * t[axis])
    return _exact(constraint.value) + dist * expr


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
            (empty without a reference); for several named components also ``rel_l2_<name>`` and
            ``max_abs_<name>``.
        edges: the symbol chosen for each edge, when the formula fitted them (empty if the network was
            already symbolic).
        names: the components' names, one per expression (empty: not named).
        columns: the columns of the problem's reference that the expressions approximate (None: all, in
            order); a system's ``sol.formula(component="v")`` holds one.
        evidence: how far to trust it, without a reference (``formula_evidence``; empty when not
            measured): the problem's loss of the network and of the formula on the same points, the
            formula's distance from the network, the network's own errors where there is a reference, each
            edge's symbol with its fit, and ``matches`` with a ``verdict`` in words. A formula that does
            not match is the closest one found, not an answer (``matches`` is False).

    ``sympy.sympify(formula)`` gives ``expr``; ``formula(x)`` evaluates it at points x: (n, d).
    """

    exprs: tuple[sympy.Expr, ...]
    variables: tuple[sympy.Symbol, ...]
    errors: dict[str, float]
    edges: tuple[EdgeChoice, ...] = ()
    problem: Problem | None = field(default=None, repr=False, compare=False)
    names: tuple[str, ...] = ()
    columns: tuple[int, ...] | None = None
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def matches(self) -> bool | None:
        """Whether the formula fits the problem as well as the network it was read from (None: not measured)."""
        return self.evidence.get("matches")

    @property
    def exact(self) -> bool | None:
        """Whether it also solves the problem to round-off (None: not measured)."""
        return self.evidence.get("exact")

    @classmethod
    def build(
        cls,
        exprs: Sequence[sympy.Expr],
        variables: Sequence[sympy.Symbol],
        problem: Problem | None = None,
        edges: Sequence[EdgeChoice] = (),
        *,
        names: Sequence[str] = (),
        columns: Sequence[int] | None = None,
    ) -> Formula:
        """A formula with its errors measured against ``problem``'s reference (none without a problem):
        against its ``columns`` (default: all of it)."""
        columns = None if columns is None else tuple(columns)
        bare = cls(tuple(exprs), tuple(variables), {}, tuple(edges), problem, tuple(names), columns)
        return bare if problem is None else replace(bare, errors=formula_errors(bare, problem))

    def component(self, which: str | int) -> Formula:
        """The formula of one component (a name in ``names``, or an index), with its errors taken from
        this formula's per-component errors where they were measured."""
        if isinstance(which, str):
            if which not in self.names:
                known = ", ".join(map(repr, self.names)) or "none (the formula names no components)"
                raise ConfigError(f"Formula.component({which!r}): no component named {which!r}; the names are {known}")
            j = self.names.index(which)
        elif isinstance(which, int) and not isinstance(which, bool) and -len(self.exprs) <= which < len(self.exprs):
            j = which % len(self.exprs)
        else:
            raise ConfigError(
                f"Formula.component needs a component name or an index below {len(self.exprs)}; got {which!r}"
            )
        name = self.names[j] if self.names else None
        errors = dict(self.errors) if len(self.exprs) == 1 else {}
        for key in ("rel_l2", "max_abs"):
            if len(self.exprs) > 1 and name is not None and f"{key}_{name}" in self.errors:
                errors[key] = self.errors[f"{key}_{name}"]
        columns = (j if self.columns is None else self.columns[j],)
        names = (name,) if name is not None else ()
        one = Formula((self.exprs[j],), self.variables, errors, self.edges, self.problem, names, columns, self.evidence)
        if not errors and self.errors and self.problem is not None:  # not measured per component: measure it
            one = replace(one, errors=formula_errors(one, self.problem))
        return one

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
            exprs.append(min((kept, expanded, *_trig_forms(expanded)), key=sympy.count_ops))
        short = Formula.build(exprs, self.variables, self.problem, self.edges, names=self.names, columns=self.columns)
        return replace(short, evidence=self.evidence)

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


def _trig_forms(expr: sympy.Expr) -> list[sympy.Expr]:
    """``expr`` rewritten by the trigonometric identities that shorten KAN formulas: sums of cosines and
    sines of sums to products (``cos(a - b) - cos(a + b) = 2 sin(a) sin(b)``) and products to sums, with
    the angles expanded first; the forms that sympy could build, for the shortest to be kept."""
    if not expr.has(sympy.sin, sympy.cos) or sympy.count_ops(expr) > _SIMPLIFY_OPS:
        return []
    from sympy.simplify.fu import TR8, TR9, TR10i

    forms = []
    angles = sympy.expand_trig(expr)
    for rewrite in (TR8, TR9, lambda e: TR9(TR10i(e)), sympy.trigsimp):
        for start in (expr, angles):
            try:
                forms.append(sympy.factor_terms(rewrite(start)))
            except (TypeError, ValueError, AttributeError, RecursionError):
                continue
    return forms


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
    """The formula's ``rel_l2`` and ``max_abs`` against the problem's reference on its evaluation grid
    (its ``columns`` of it; components defined up to a constant compared mean-free), and per component
    for several named ones."""
    from kanpde.metrics import errors as error_metrics

    x = torch.as_tensor(problem.evaluation_grid().points(), dtype=torch.float64)
    ref = problem.reference_values(x)
    if ref is None:
        return {}
    ref = ref.to(torch.float64).reshape(x.shape[0], -1)
    columns = tuple(range(ref.shape[1])) if formula.columns is None else formula.columns
    centered = [i for i, j in enumerate(columns) if j in problem.centered_columns]
    names = formula.names if len(formula.names) == len(columns) else None
    return error_metrics(torch.as_tensor(formula(x)), ref[:, list(columns)], names, centered)


def solution_formula(
    sol: Any, *, points: int = 4096, seed: int = 0, components: Sequence[int] | None = None, **options: Any
) -> Formula:
    """The formula of a solution's trained KAN (what ``Solution.formula`` returns, for all its components
    together, or for the output ``components`` given), with its errors against the problem's reference.

    Spline edges are fitted with symbols on ``points`` uniform random points of the box (``options`` go
    to :func:`symbolized`) unless the KAN is already symbolic.
    """
    from kanpde.nets.kan import KAN

    model = sol.model
    if not isinstance(model.net, KAN):
        raise ConfigError(f"formula() needs a KAN; this solution's model is an {type(model.net).__name__}")
    names = tuple(sol.components)
    picked = tuple(range(model.out_dim)) if components is None else tuple(components)
    constraints = _constraints(model.constraint, model.out_dim)
    for j in picked:  # before any fitting
        _check_constraint(constraints[j], names[j], len(names) > 1)
    choices: list[EdgeChoice] = []
    if not model.net.symbolic:
        gen = torch.Generator().manual_seed(seed)
        lo, hi = model.lower, model.upper
        x = lo + (hi - lo) * torch.rand(points, lo.numel(), generator=gen, dtype=torch.float64).to(lo)
        model, choices = symbolized(model, x, **options)
    exprs, variables = surrogate_formula(model, sol.axes, picked, names)
    formula = Formula.build(exprs, variables, sol.problem, choices, names=[names[j] for j in picked], columns=picked)
    evidence = formula_evidence(sol.problem, sol.model, model, choices, network_errors=getattr(sol, "errors", {}))
    return replace(formula, evidence=evidence)


MATCH_FACTOR = 10.0
"""A formula matches the network it was read from when the problem's loss of the formula is at most this
many times the network's (on the same points): about 3x the residual, the spread of a good fit."""

EXACT_LOSS = 1e-20
"""A matching formula is exact when its loss is at most this fraction of the zero field's (the size of the
problem's data): float64 round-off gives ~1e-30, a formula 1e-6 off in relative L2 ~1e-12."""

EVIDENCE_POINTS = 2048


def formula_evidence(
    problem: Problem,
    network: Surrogate,
    formula_model: Surrogate,
    choices: Sequence[EdgeChoice] = (),
    *,
    network_errors: dict[str, float] | None = None,
    points: int = EVIDENCE_POINTS,
    seed: int = 0,
) -> dict[str, Any]:
    """What says whether a formula can be trusted, measured without the problem's reference: the loss of
    the problem (residual and conditions, unweighted by any balancing) of the trained ``network`` and of
    the ``formula_model`` (the KAN of symbols the formula composes) on the same ``points`` fresh
    collocation points, the formula's relative L2 distance from the network there, the network's own
    errors (``network_errors``, against a reference where there is one), and each edge's symbol with the
    R^2 of its fit (``choices``; an edge the network already held as a symbol fits exactly).

    ``matches`` is True when the formula's loss is at most ``MATCH_FACTOR`` times the network's, and
    ``exact`` when it also is at most ``EXACT_LOSS`` of the zero field's loss (``zero_loss``); the
    ``verdict`` says which, in words, or why it does not match."""
    from kanpde.pinn.loss import Collocation, Form, loss_terms, plan_derivatives, total_loss

    colloc = Collocation.sample(
        problem, seed=seed, dtype=torch.float64, n_interior=points, n_boundary=max(64, points // 8)
    )
    network, formula_model = _cpu64(network), _cpu64(formula_model)  # copied once, where they need to be
    losses = []
    for model in (network, formula_model, _zero_field(formula_model)):
        plan = plan_derivatives(problem, model, colloc, "auto", Form.STRONG)
        losses.append(float(total_loss(loss_terms(problem, model, colloc, plan)).detach()))
    net_loss, formula_loss, zero_loss = losses
    relative = formula_loss / zero_loss if zero_loss > 0 else math.inf
    with torch.no_grad():
        x = colloc.interior.detach()
        a, b = network(x), formula_model(x)
        deviation = float((b - a).norm() / a.norm().clamp_min(1e-300))
    matches = bool(formula_loss <= MATCH_FACTOR * net_loss + 1e-300) if math.isfinite(formula_loss) else False
    exact = matches and relative <= EXACT_LOSS
    edges = [c.as_dict() for c in choices] or _fixed_edges(formula_model)
    poor = [e for e in edges if e.get("r2") is not None and e["r2"] < 1 - 1e-6]
    if exact:
        verdict = (
            f"an exact formula: it solves the problem to round-off (loss {formula_loss:.3e}, {relative:.1e} of the "
            f"zero field's; network {net_loss:.3e})"
        )
    elif matches:
        verdict = (
            f"an approximate formula, as good as the network but not exact (loss {formula_loss:.3e}, network "
            f"{net_loss:.3e}; {relative:.1e} of the zero field's, above the {EXACT_LOSS:g} of an exact one)"
        )
    else:
        ratio = formula_loss / max(net_loss, 1e-300)
        verdict = f"no formula found: the closest formula's loss {formula_loss:.3e} is {ratio:.3g} x the network's {net_loss:.3e}"
        if poor:
            worst = sorted(poor, key=lambda e: e["r2"])[:3]
            verdict += "; edges the symbols fit poorly: " + ", ".join(
                f"{tuple(e['edge'])} {e['symbol']} (1 - R^2 = {1 - e['r2']:.1e})" for e in worst
            )
    return {
        "matches": matches,
        "exact": exact,
        "verdict": verdict,
        "network_loss": net_loss,
        "formula_loss": formula_loss,
        "zero_loss": zero_loss,
        "deviation": deviation,
        "network_errors": dict(network_errors or {}),
        "edges": edges,
        "points": points,
    }


def _zero_field(model: Surrogate) -> Surrogate:
    """``model`` with its KAN's last layer pruned to nothing: the zero field (with any hard constraint's
    own values), whose loss is the size of the problem's data."""
    kan = model.net
    last = kan.layers[-1]
    dead = {(o, i): ("0", (0.0, 0.0, 0.0, 0.0)) for o in range(last.out_dim) for i in range(last.in_dim)}
    return model.with_net(kan.with_layers([*kan.layers[:-1], last.with_fixed(dead)]))


def _cpu64(model: Surrogate) -> Surrogate:
    """The model in float64 on the CPU: itself, or a copy (``Module.to`` would change it in place)."""
    p = next(model.parameters())
    if p.dtype == torch.float64 and p.device.type == "cpu":
        return model
    return copy.deepcopy(model).to(device="cpu", dtype=torch.float64)


def _fixed_edges(model: Surrogate) -> list[dict[str, Any]]:
    """The symbol of every edge of a KAN of symbols, as ``EdgeChoice.as_dict`` writes them (R^2 = 1: the
    edge is the symbol)."""
    out = []
    for l, layer in enumerate(model.net.layers):
        if layer.fixed is None:
            continue
        for (o, i, name), p in zip(layer.fixed.edges, layer.fixed.params.detach().tolist()):
            out.append({"edge": [l, o, i], "symbol": name, "r2": 1.0, "params": [round(v, 12) for v in p]})
    return out


def read_formula(sol: Any, tolerance: float = 1e-6) -> tuple[Formula, Formula, dict[str, float]]:
    """The formula of the solution, all its components together (``sol.formula()`` for a scalar problem;
    ``formula.component(name)`` is one of a system's), and its ``simplified(tolerance)`` form, with the
    seconds each took (``{"formula_s", "simplify_s"}``): what ``solve --symbolic`` reports and the
    benchmark times."""
    t0 = time.perf_counter()
    formula = solution_formula(sol)
    t1 = time.perf_counter()
    short = formula.simplified(tolerance)
    return formula, short, {"formula_s": round(t1 - t0, 4), "simplify_s": round(time.perf_counter() - t1, 4)}
