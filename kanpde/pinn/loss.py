"""Collocation sets and the physics-informed loss.

The loss of a problem with residual r and conditions c_i on collocation sets X (interior) and B_i
(boundary parts) is

    L = w_r mean_{x in X} |r(u, x)|^2 + sum_i w_i mean_{x in B_i} |c_i(u, x)|^2,

with w_r = ``problem.residual_weight`` and w_i = ``condition.weight``, plus one term per set of
observations D_j (``problem.data``: points y_k, values v_k of the observed components S_j),

    w_j mean_k |u_S(y_k) - v_k|^2     (``data_terms``; ``weight="auto"``: ``kanpde.solvers.weighting.automatic_data_weights``).

That is the strong form (``Form.STRONG``). The energy form (``Form.ENERGY``, Deep Ritz: E, Yu 2018) replaces
the residual term by the integral of the problem's energy density e (``Problem.energy``) by quadrature,
with weights q_k at the interior points x_k (``Collocation.quadrature``), and each Neumann or Robin part
B_i by its boundary integral (``Problem.boundary_energy``, weights from the part's measure):

    L = sum_k q_k e(u, x_k) + sum_i sum_{x in B_i} q_x b_i(u, x)   (+ data terms),

which the solution minimises among fields that meet the Dirichlet conditions: these must be built into
the surrogate. The energy is not a square and is negative at its minimum in general.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import Tensor, nn

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.quadrature import domain_quadrature
from kanpde.geometry.sampling import Seed, as_rng
from kanpde.pde.conditions import Condition, Neumann, Robin
from kanpde.pde.field import NO_NAMES, Field, Layout, as_tensor, stack
from kanpde.pde.jet import JetSpec
from kanpde.pde.jetfield import JetField, discover_spec
from kanpde.pde.problem import Problem

__all__ = [
    "Form",
    "FORMS",
    "energy_terms",
    "Collocation",
    "BoundarySet",
    "Derivatives",
    "DERIVATIVE_MODES",
    "DerivativePlan",
    "plan_derivatives",
    "field_at",
    "loss_terms",
    "total_loss",
    "residual_values",
    "data_terms",
]


class Derivatives(enum.Enum):
    """How the loss terms get the derivatives of the surrogate (``solve(derivatives=...)``).

    * ``AUTO``: one forward pass that carries the derivatives a term needs, where that covers it; nested
      autograd elsewhere.
    * ``JET``: one pass for every term, or an error naming what it cannot carry.
    * ``AUTOGRAD``: nested autograd everywhere (the generic path; same numbers to round-off, slower).
    """

    AUTO = "auto"
    JET = "jet"
    AUTOGRAD = "autograd"

    @classmethod
    def parse(cls, value: Derivatives | str, field: str = "derivatives") -> Derivatives:
        """``value`` as a ``Derivatives``: a member, or its name as a string (``"auto"``, ``"jet"``,
        ``"autograd"``); anything else is a ``ConfigError`` naming ``field``, the value and the choices."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value in DERIVATIVE_MODES:
            return cls(value)
        raise ConfigError(f"{field} must be one of {', '.join(DERIVATIVE_MODES)}; got {value!r}")


DERIVATIVE_MODES: tuple[str, ...] = tuple(m.value for m in Derivatives)
"""The names ``Derivatives.parse`` accepts, in order."""


class Form(enum.Enum):
    """What the loss asks of the field (``solve(form=...)``): ``STRONG``, the mean square residual of the
    equation at points; ``ENERGY``, the integral of an energy it minimises (see the module docstring)."""

    STRONG = "strong"
    ENERGY = "energy"

    @classmethod
    def parse(cls, value: Form | str, field: str = "form") -> Form:
        """``value`` as a ``Form``: a member or its name; anything else is a ``ConfigError`` naming ``field``."""
        if isinstance(value, cls):
            return value
        if value == "weak":
            raise ConfigError(
                f"{field}='weak' (a variational residual against test functions) is not built yet; use 'energy' "
                "for an equation in divergence form, else 'strong'"
            )
        if isinstance(value, str) and value in FORMS:
            return cls(value)
        raise ConfigError(f"{field} must be one of {', '.join(FORMS)}; got {value!r}")


FORMS: tuple[str, ...] = tuple(f.value for f in Form)
"""The names ``Form.parse`` accepts."""


@dataclass(frozen=True)
class BoundarySet:
    """Points for one declared condition: x (n, d), outward normals (n, d), and for the energy form the
    quadrature weights (n,) of the part (its measure over n each)."""

    condition: Condition
    x: Tensor
    normal: Tensor
    weights: Tensor | None = None

    def head(self, m: int) -> tuple[Tensor, Tensor]:
        """The first ``m`` points (rounded up to whole groups of the condition) and their normals."""
        m = -(-m // self.condition.group) * self.condition.group
        return self.x[:m], self.normal[:m]


@dataclass(frozen=True)
class Collocation:
    """The training points of one solve: interior (n, d) and one set per condition; for the energy form
    the interior quadrature weights (n,) and the rule that made them (``quadrature``)."""

    interior: Tensor
    boundary: tuple[BoundarySet, ...]
    weights: Tensor | None = None
    rule: str = ""

    @classmethod
    def sample(
        cls,
        problem: Problem,
        *,
        seed: Seed = 0,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        n_interior: int | None = None,
        n_boundary: int | None = None,
        conditions: Sequence[Condition] | None = None,
        fresh: bool = False,
    ) -> Collocation:
        """Sample the problem's collocation sets with its methods and counts (overridable).

        conditions: the conditions that get a boundary set (default: all of the problem's; those built
        into the surrogate as hard constraints need none). fresh: draw interior points from the domain
        even where the problem gives its own (``sampling`` an array): a ``Resample`` phase.
        """
        rng = as_rng(seed)
        n_int = problem.n_interior if n_interior is None else n_interior
        n_bnd = problem.n_boundary if n_boundary is None else n_boundary
        if isinstance(problem.sampling, str) or fresh:
            method = problem.sampling if isinstance(problem.sampling, str) else "sobol"
            interior = problem.domain.sample(n_int, method=method, seed=rng)
        else:  # the user's own points, as they are (``n_interior`` given here takes the first n)
            interior = np.asarray(problem.sampling, dtype=np.float64)[: n_interior or None]
        sets = _boundary_sets(problem, conditions, n_bnd, rng, dtype, device)
        return cls(_tensor(interior, dtype, device, True), sets)

    @classmethod
    def quadrature(
        cls,
        problem: Problem,
        *,
        seed: Seed = 0,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        n_interior: int | None = None,
        n_boundary: int | None = None,
        conditions: Sequence[Condition] | None = None,
        levels: int | None = None,
        fresh: bool = False,
    ) -> Collocation:
        """The points and weights of the energy form: a quadrature of the domain with about ``n_interior``
        points (``kanpde.geometry.quadrature.domain_quadrature``: Gauss cells on a box, those the problem's
        interfaces cut split ``levels`` times, by default as often as the dimension affords; quasi-Monte
        Carlo elsewhere), and for each condition its boundary points, each weighted by the part's measure
        over their number. fresh: a ``Resample`` phase's draw (a box's cell grid shifted by a random
        fraction of a cell; new Monte Carlo points)."""
        rng = as_rng(seed)
        split = [_numpy_level_set(phi) for phi in problem.interfaces]
        n = n_interior or problem.n_interior
        rule = domain_quadrature(problem.domain, n, split=split, levels=levels, seed=rng, shift=fresh)
        n_bnd = problem.n_boundary if n_boundary is None else n_boundary
        sets = _boundary_sets(problem, conditions, n_bnd, rng, dtype, device, weighted=True)
        weights = torch.as_tensor(rule.weights, dtype=dtype, device=device)
        return cls(_tensor(rule.points, dtype, device, True), sets, weights, rule.rule)

    def subset(self, fraction: float, generator: torch.Generator) -> Collocation:
        """A random mini-batch holding ``fraction`` of every set (at least one point each)."""

        def pick(n: int, group: int = 1) -> Tensor:
            groups = n // group
            m = max(1, int(round(fraction * groups)))
            first = torch.randperm(groups, generator=generator)[:m] * group
            return (first.unsqueeze(1) + torch.arange(group)).flatten().to(self.interior.device)

        rows = pick(self.interior.shape[0])
        interior = _leaf(self.interior[rows])
        interior.rows_of = (self.interior, rows)  # what a kept jet of the full set can be sliced by (``cached_jet``)
        sets = []
        for s in self.boundary:
            idx = pick(s.x.shape[0], s.condition.group)
            sets.append(BoundarySet(s.condition, _leaf(s.x[idx]), s.normal[idx], _rescaled(s.weights, idx)))
        return Collocation(interior, tuple(sets), _rescaled(self.weights, rows), self.rule)

    def head(self, m: int) -> Collocation:
        """The first ``m`` points of every set (whole groups of a condition), with their weights, as
        leaves of their own: for checks on a few points."""
        sets = []
        for s in self.boundary:
            xb, nb = s.head(m)
            w = None if s.weights is None else s.weights[: xb.shape[0]]
            sets.append(BoundarySet(s.condition, _leaf(xb), nb, w))
        weights = None if self.weights is None else self.weights[:m]
        return Collocation(_leaf(self.interior[:m]), tuple(sets), weights, self.rule)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The conditions that have a boundary set here, in order."""
        return tuple(s.condition for s in self.boundary)

    @property
    def sizes(self) -> dict[str, int]:
        out = {"interior": self.interior.shape[0]}
        out.update({s.condition.label: s.x.shape[0] for s in self.boundary})
        return out


def _boundary_sets(
    problem: Problem,
    conditions: Sequence[Condition] | None,
    n: int,
    rng: np.random.Generator,
    dtype: torch.dtype,
    device: torch.device | str,
    *,
    weighted: bool = False,
) -> tuple[BoundarySet, ...]:
    """About ``n`` points per condition (default: all of the problem's) with normals; ``weighted``: each
    weighted by the measure of a Neumann or Robin part over their number (the energy form's integrals)."""
    sets = []
    for cond in problem.conditions if conditions is None else conditions:
        b = cond.sample(problem.domain, n, problem.boundary_sampling, rng)
        weights = None
        if weighted:
            measure = problem.domain.part_measure(cond.on) if isinstance(cond, (Neumann, Robin)) else 0.0
            weights = torch.full((len(b.x),), measure / max(len(b.x), 1), dtype=dtype, device=device)
        x = _tensor(b.x, dtype, device, cond.needs_derivatives())
        sets.append(BoundarySet(cond, x, _tensor(b.normal, dtype, device), weights))
    return tuple(sets)


def _rescaled(weights: Tensor | None, rows: Tensor) -> Tensor | None:
    """Quadrature weights of a mini-batch: the picked rows, scaled so they sum to what all of them did."""
    return None if weights is None else weights[rows] * (weights.shape[0] / rows.shape[0])


def _numpy_level_set(phi: Callable[[Tensor], Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """A level set written for tensors, called on float64 numpy points (what the geometry layer uses)."""

    def values(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            y = phi(torch.as_tensor(x, dtype=torch.float64))
        y = as_tensor(y)
        if not isinstance(y, Tensor) or y.reshape(-1).shape[0] != x.shape[0]:
            raise ShapeError(
                f"an interface level set phi(x) must return ({x.shape[0]},) values for {x.shape[0]} points; "
                f"got {getattr(y, 'shape', type(y).__name__)}"
            )
        return y.reshape(-1).double().cpu().numpy()

    return values


def _tensor(a: np.ndarray, dtype: torch.dtype, device: torch.device | str, requires_grad: bool = False) -> Tensor:
    return torch.as_tensor(a, dtype=dtype, device=device).requires_grad_(requires_grad)


def _leaf(x: Tensor) -> Tensor:
    return x.detach().requires_grad_(x.requires_grad)


@dataclass(frozen=True)
class DerivativePlan:
    """How each loss term gets its derivatives: a ``JetSpec`` (one pass) or None (nested autograd).

    interior: for the PDE residual; boundary: one per boundary set, in order; notes: why autograd is
    used where it is.
    """

    interior: JetSpec | None = None
    boundary: tuple[JetSpec | None, ...] = ()
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.interior is None:
            return "autograd" + (f" ({self.notes[0]})" if self.notes else "")
        return f"one-pass ({self.interior.describe()})"


def plan_derivatives(
    problem: Problem,
    model: nn.Module,
    colloc: Collocation,
    mode: Derivatives | str = Derivatives.AUTO,
    form: Form = Form.STRONG,
) -> DerivativePlan:
    """Find the derivatives each term needs by running it once on a few points (see ``discover_spec``).

    mode: a ``Derivatives`` (or its name): ``AUTO`` (one pass where it covers a term, autograd elsewhere),
    ``JET`` (one pass or an error naming what it cannot carry) or ``AUTOGRAD``. form: which terms the
    loss has (the residual, or the energy density and boundary energies).
    """
    mode = Derivatives.parse(mode)
    if mode is Derivatives.AUTOGRAD or not hasattr(model, "forward_jet"):
        why = ("asked for",) if mode is Derivatives.AUTOGRAD else ()
        return DerivativePlan(None, tuple(None for _ in colloc.boundary), why)
    owner = type(problem).__name__
    notes: list[str] = []

    def found(spec: JetSpec | None, misses: list[str], term: str) -> JetSpec | None:
        if spec is None:
            if mode is Derivatives.JET:
                raise ConfigError(
                    f"derivatives='jet', but {term} needs {misses[0]}, which one pass does not carry; use derivatives='auto'"
                )
            notes.append(f"{term} needs {misses[0]}")
        return spec

    x = colloc.interior[:7]
    layout = problem.layout
    density = problem.energy if form is Form.ENERGY else problem.residual
    interior = found(
        *discover_spec(lambda u, x: check_residual(density(u, x), x.shape[0], owner), model, x, layout),
        f"{owner}.{density.__name__}",
    )
    boundary = []
    for s in colloc.boundary:
        xb, nb = s.head(7)
        term = partial(_boundary_term, s.condition, form, problem)
        boundary.append(
            found(*discover_spec(lambda u, x, t=term, nb=nb: t(u, x, nb), model, xb, layout), s.condition.label)
        )
    return DerivativePlan(interior, tuple(boundary), tuple(notes))


def field_at(model: nn.Module, x: Tensor, spec: JetSpec | None, layout: Layout = NO_NAMES) -> Field:
    """The surrogate at x as a field: carrying ``spec``'s derivatives, or for autograd when spec is None;
    ``layout`` names its components and axes (``Problem.layout``)."""
    if spec is None or spec.channels == 1:
        return Field(model(x), x, layout)
    return JetField(model.forward_jet(x, spec), spec, x, layout=layout)


def residual_values(problem: Problem, model: nn.Module, x: Tensor, spec: JetSpec | None = None) -> Tensor:
    """The PDE residual at interior points x: (n, d) as an (n, m) tensor; checks its shape."""
    u = field_at(model, x, spec, problem.layout)
    r = problem.residual(u, x)
    return check_residual(r, x.shape[0], type(problem).__name__)


def check_residual(r: Field | Tensor | tuple, n: int, owner: str) -> Tensor:
    """The residual as an (n, m) tensor: a tuple of equations is stacked (``ops.stack``); checks the shape."""
    if isinstance(r, (tuple, list)):
        r = stack(*r)
    r = as_tensor(r)
    if not isinstance(r, Tensor):
        raise ShapeError(f"{owner}.residual(u, x) must return a tensor or field; got {type(r).__name__}")
    if r.ndim == 1 and r.shape[0] == n:
        return r.reshape(n, 1)
    if r.ndim != 2 or r.shape[0] != n or (r.shape[1] == n and n > 1):
        raise ShapeError(
            f"{owner}.residual(u, x) must return shape ({n},) or ({n}, m) for {n} points; got {tuple(r.shape)}. "
            "Per-point terms such as f(x) should have shape (n,) or (n, 1)"
        )
    return r


ResidualReduce = Callable[[Tensor, Tensor], Tensor]


def loss_terms(
    problem: Problem,
    model: nn.Module,
    colloc: Collocation,
    plan: DerivativePlan | None = None,
    reduce: ResidualReduce | None = None,
    form: Form = Form.STRONG,
) -> dict[str, Tensor]:
    """Weighted mean-squared residual of the PDE (``"residual"``) and of each condition (its label);
    under ``Form.ENERGY`` the terms of ``energy_terms`` instead.

    reduce: ``reduce(r, x)`` turns the residuals r: (n, m) at the interior points x: (n, d) into the
    scalar residual term before its weight (default: the mean of r^2; a causal weighting replaces it).
    """
    if form is Form.ENERGY:
        return energy_terms(problem, model, colloc, plan)
    plan = plan or DerivativePlan(None, tuple(None for _ in colloc.boundary))
    r = residual_values(problem, model, colloc.interior, plan.interior)
    r, weight = weighted_equations(r, problem)
    term = r.pow(2).mean() if reduce is None else reduce(r, colloc.interior)
    terms = {"residual": weight * term}
    for s, spec in zip(colloc.boundary, plan.boundary):
        u = field_at(model, s.x, spec, problem.layout)
        label = s.condition.label
        while label in terms:
            label += "'"
        terms[label] = s.condition.weight * s.condition.residual(u, s.x, s.normal).pow(2).mean()
    terms.update(data_terms(problem, model, colloc.interior))
    return terms


def _boundary_term(condition: Condition, form: Form, problem: Problem, u: Field, x: Tensor, normal: Tensor) -> Tensor:
    """What the loss takes at a condition's points: its residual, or under the energy form the boundary
    energy density of a Neumann or Robin part."""
    if form is Form.ENERGY and isinstance(condition, (Neumann, Robin)):
        return as_tensor(problem.boundary_energy(condition, u, x))
    return condition.residual(u, x, normal)


def energy_terms(
    problem: Problem, model: nn.Module, colloc: Collocation, plan: DerivativePlan | None = None
) -> dict[str, Tensor]:
    """The energy form's terms: the quadrature of the energy density (``"energy"``), one boundary integral
    per Neumann or Robin part (``"energy:<label>"``), the mean square residual of any other condition,
    and the data terms. ``colloc`` must come from ``Collocation.quadrature`` (it carries the weights)."""
    if colloc.weights is None:
        raise ConfigError("the energy form integrates with quadrature weights; sample with Collocation.quadrature")
    plan = plan or DerivativePlan(None, tuple(None for _ in colloc.boundary))
    x = colloc.interior
    e = check_residual(
        problem.energy(field_at(model, x, plan.interior, problem.layout), x), x.shape[0], type(problem).__name__
    )
    terms = {"energy": colloc.weights @ e.sum(dim=1)}
    for s, spec in zip(colloc.boundary, plan.boundary):
        u = field_at(model, s.x, spec, problem.layout)
        b = _boundary_term(s.condition, Form.ENERGY, problem, u, s.x, s.normal)
        if isinstance(s.condition, (Neumann, Robin)):
            terms[f"energy:{s.condition.label}"] = s.weights @ b.reshape(b.shape[0], -1).sum(dim=1)
        else:
            terms[s.condition.label] = s.condition.weight * b.pow(2).mean()
    terms.update(data_terms(problem, model, x))
    return terms


def data_terms(problem: Problem, model: nn.Module, like: Tensor) -> dict[str, Tensor]:
    """One term per observation set (``problem.data``): its weight times the mean square misfit of the
    observed components, ``{"data:<name>": ...}``; ``like`` gives the dtype and device."""
    terms = {}
    for d in problem.data:
        x, values = d.tensors(like.dtype, like.device)
        misfit = model(x)[:, d.columns(problem.components)] - values
        terms[d.label] = d.factor * misfit.pow(2).mean()
    return terms


def weighted_equations(r: Tensor, problem: Problem) -> tuple[Tensor, float]:
    """The residual r: (n, m) with per-equation weights applied, and the weight left for the whole term.

    One weight multiplies ``mean(r^2)``; a sequence w of m weights scales column j by sqrt(w_j), so the
    term is ``mean_j w_j mean_n r_j^2`` (equal weights of 1 give the plain mean).
    """
    w = problem.residual_weight
    if isinstance(w, (int, float)):
        return r, float(w)
    if len(w) != r.shape[1]:
        raise ShapeError(
            f"{type(problem).__name__}.residual_weight gives {len(w)} weights but the residual has {r.shape[1]} "
            "equations (columns); give one weight per equation or a single number"
        )
    return r * torch.as_tensor(w, dtype=r.dtype, device=r.device).sqrt(), 1.0


def total_loss(terms: dict[str, Tensor]) -> Tensor:
    """Sum of the weighted terms."""
    return torch.stack(list(terms.values())).sum()
