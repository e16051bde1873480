"""Recommended training recipes, chosen from what a problem is, and the default network.

``solve()`` asks here for what the caller leaves out: the network, the schedule of phases and whether
Dirichlet conditions are built into the surrogate (hard) or penalised (soft). A problem does not know its
optimizer; the recipes live here, found by measurement (see the README's results), and are chosen from the
problem's features (its conditions and whether it has a time axis), never from its class, so a user's copy
of a built-in problem gets the same recipe. ``register_recipe`` adds a recipe for a problem class of
one's own; registered classes are looked up first, along the class hierarchy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from kanpde.errors import ConfigError
from kanpde.nets.kan import KAN
from kanpde.nets.mlp import MLP
from kanpde.nets.symbol import SymbolLibrary
from kanpde.pde.problem import Problem
from kanpde.pinn.hard_constraints import Constraints, split_conditions
from kanpde.pinn.loss import Form, residual_values
from kanpde.pinn.surrogate import NETWORKS
from kanpde.solvers.phases import LBFGS, Adam, Phase, Prune, Refine, Resample, Sparsity, Symbolize, check_schedule
from kanpde.solvers.weighting import Balance, Causal

__all__ = [
    "Recipe",
    "register_recipe",
    "default_recipe",
    "problem_features",
    "Features",
    "steady_recipe",
    "evolution_recipe",
    "energy_recipe",
    "default_model",
    "make_network",
    "network_inputs",
    "DEFAULT_HIDDEN",
    "register_schedule",
    "default_schedule",
    "symbolic_recipe",
]


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """What ``solve()`` uses when the caller does not say: ``schedule`` (phases), ``constraints``
    (``Constraints.HARD``: conditions built into the surrogate where they can be, else soft;
    ``Constraints.SOFT``; given as a member or its name, kept as a member) and ``causal`` (a causal
    weighting of space-time residuals, or None), ``balance`` (gradient-norm balancing of the condition
    terms, or None), ``form`` (the loss's form, ``Form.STRONG`` or ``Form.ENERGY``; a member or its name)
    and ``name`` (what the report calls it)."""

    schedule: tuple[Phase, ...]
    constraints: Constraints = Constraints.SOFT
    causal: Causal | None = None
    balance: Balance | None = None
    form: Form = Form.STRONG
    name: str = "custom"

    def __post_init__(self) -> None:
        check_schedule(self.schedule, "kan")
        object.__setattr__(self, "constraints", Constraints.parse(self.constraints, "Recipe.constraints"))
        object.__setattr__(self, "form", Form.parse(self.form, "Recipe.form"))


RecipeFactory = Callable[[Problem, nn.Module], Recipe]

DEFAULT_HIDDEN: dict[str, tuple[int, ...]] = {"kan": (10,), "mlp": (100, 100, 100)}
"""Hidden layer widths of the default networks; inputs and outputs come from the problem."""


def default_model(
    problem: Problem,
    kind: str = "kan",
    *,
    hidden: Sequence[int] | None = None,
    grid: int | None = None,
    k: int | None = None,
    seed: int = 0,
    constraints: Constraints | str | None = None,
    form: Form | str | None = None,
) -> nn.Module:
    """The network ``solve()``, the command line, validation suites and benchmarks use for ``problem``.

    kind: ``"kan"`` (default: ``KAN([inputs, 10, out], grid=5, k=3)``) or ``"mlp"`` (``MLP([inputs, 100, 100,
    100, out])``); hidden: other hidden layer widths; grid, k: a KAN's grid intervals and spline order;
    constraints, form: as for ``solve`` (they decide whether periodic axes are embedded and whether the
    interfaces are inputs, which adds inputs).
    The width is ``[network_inputs(problem, kind, constraints, form), *hidden, problem.out_dim]``.
    """
    inputs = network_inputs(problem, kind, constraints, form)
    return make_network(
        kind,
        [inputs, *(DEFAULT_HIDDEN[kind] if hidden is None else hidden), problem.out_dim],
        grid=grid,
        k=k,
        seed=seed,
    )


def make_network(
    kind: str, width: Sequence[int], *, grid: int | None = None, k: int | None = None, seed: int = 0
) -> nn.Module:
    """A ``kind`` network (``"kan"``: grid 5 and k 3 unless given; ``"mlp"``) of the given width."""
    if kind not in NETWORKS:
        raise ConfigError(f"network kind must be one of {', '.join(NETWORKS)}; got {kind!r}")
    if kind == "kan":
        return KAN(list(width), grid=5 if grid is None else grid, k=3 if k is None else k, seed=seed)
    for name, value in (("grid", grid), ("k", k)):
        if value is not None:
            raise ConfigError(f"{name} applies to a KAN only; got {name}={value!r} for an MLP")
    return MLP(list(width), seed=seed)


def network_inputs(
    problem: Problem, kind: str, constraints: Constraints | str | None = None, form: Form | str | None = None
) -> int:
    """How many inputs a ``kind`` network (``"kan"``/``"mlp"``) needs for ``problem``: its dimension, plus
    one per periodic axis that the constraints (a ``Constraints`` or its name; default: the recipe's)
    embed as cos and sin, plus one per declared interface under the energy form (``form``, a ``Form`` or
    its name; default: the recipe's), whose |phi| the network takes (``kanpde.pinn.surrogate``)."""
    if kind not in NETWORKS:
        raise ConfigError(f"network kind must be one of {', '.join(NETWORKS)}; got {kind!r}")
    recipe = None
    if constraints is None or form is None:
        recipe = default_recipe(problem, NETWORKS[kind]([problem.dim, 1, problem.out_dim]))
    if constraints is None:
        mode = recipe.constraints
    else:
        mode = Constraints.parse(constraints, "constraints", also="None (the recipe's)")
    form = recipe.form if form is None else Form.parse(form)
    hard, _ = split_conditions(problem, mode, strict=False)
    return problem.dim + len(hard.periodic) + (len(problem.interfaces) if form is Form.ENERGY else 0)


_REGISTRY: dict[tuple[type, str], RecipeFactory] = {}


def register_recipe(problem_cls: type, kind: str, factory: RecipeFactory) -> None:
    """Register ``factory(problem, net) -> Recipe`` for problems of ``problem_cls`` (a user's own class:
    the built-in problems register none, so a copy of one gets the same recipe) and a network kind."""
    _REGISTRY[(problem_cls, kind)] = factory


def default_recipe(problem: Problem, net: nn.Module, form: Form | None = None) -> Recipe:
    """The recommended recipe for this problem and network: one a user registered for its class (most
    specific first), else the one for its features (``problem_features``): ``steady_recipe`` or
    ``evolution_recipe``. form: the form the caller asked for (None: the recipe chooses); a steady
    problem under the energy form gets ``energy_recipe``."""
    for cls in type(problem).__mro__:
        factory = _REGISTRY.get((cls, net.kind))
        if factory is not None:
            return factory(problem, net)
    features = problem_features(problem)
    if features.evolution:
        return evolution_recipe(problem, net)
    if form is Form.ENERGY or (form is None and features.jump):
        return energy_recipe(problem, net)
    return steady_recipe(problem, net)


@dataclass(frozen=True)
class Features:
    """What the recipes tell problems apart by (``problem_features``).

    space_dim: the number of space axes; evolution: whether the last axis is time (named ``t``);
    periodic: the periodic axes; conditions: the labels of the declared conditions; built_in: what the
    hard constraints build into the surrogate (``"soft"`` when nothing); soft: the labels of the
    conditions that stay loss terms even then (Neumann, Robin, and any that cannot be built in); jump:
    the problem has an energy (``divergence`` or ``energy``) and a coefficient that jumps: it declares an
    ``interface``, or its ``DivergenceForm`` coefficients are seen to jump (``DivergenceForm.jumps``): the
    energy recipe's case.
    """

    space_dim: int
    evolution: bool
    periodic: tuple[str, ...]
    conditions: tuple[str, ...]
    built_in: str
    soft: tuple[str, ...]
    linear: bool
    jump: bool = False

    @property
    def kind(self) -> str:
        """``"evolution"`` (first order in time from an initial condition) or ``"steady"``."""
        return "evolution" if self.evolution else "steady"

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "space_dim": self.space_dim,
            "periodic": list(self.periodic),
            "conditions": list(self.conditions),
            "built_in": self.built_in,
            "soft": list(self.soft),
            "linear": self.linear,
            "jump": self.jump,
        }


def problem_features(problem: Problem) -> Features:
    """What kind of problem this is, from its declaration alone (never its class)."""
    axes = problem.domain.axes
    evolution = axes[-1] == "t"
    hard, soft = split_conditions(problem, Constraints.HARD, strict=False, discontinuous="soft")
    return Features(
        space_dim=problem.dim - evolution,
        evolution=evolution,
        periodic=tuple(axes[a] for a in hard.periodic),
        conditions=tuple(c.label for c in problem.conditions),
        built_in=hard.describe(axes),
        soft=tuple(c.label for c in soft),
        linear=is_linear(problem),
        jump=problem.has_energy
        and (bool(problem.interfaces) or (problem.divergence is not None and problem.divergence.jumps(problem.domain))),
    )


class _Waves(nn.Module):
    """A smooth test field sum_j c_j sin(a_j . x + b_j) per component, for probing a residual."""

    def __init__(self, dim: int, out: int, seed: int, scale: float = 1.0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.a = torch.randn(dim, 4 * out, generator=gen, dtype=torch.float64)
        self.b = torch.rand(4 * out, generator=gen, dtype=torch.float64) * 6.28
        self.out, self.scale = out, scale

    def forward(self, x: Tensor) -> Tensor:
        waves = torch.sin(x @ self.a + self.b).reshape(x.shape[0], self.out, 4)
        return self.scale * waves.sum(-1)


class _Sum(nn.Module):
    def __init__(self, *parts: nn.Module) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)

    def forward(self, x: Tensor) -> Tensor:
        return sum(p(x) for p in self.parts)


def is_linear(problem: Problem, n: int = 32) -> bool:
    """Whether ``problem.residual`` is affine in u: r(u1 + u2) - r(u1) - r(u2) + r(0) vanishes (to
    round-off, in float64) for two smooth test fields on ``n`` points of the domain. A residual that
    fails to evaluate on them counts as nonlinear (``solve``'s preflight reports the failure)."""
    x = torch.as_tensor(problem.domain.sample(n, method="sobol", seed=7), dtype=torch.float64)
    u1, u2 = _Waves(problem.dim, problem.out_dim, 1), _Waves(problem.dim, problem.out_dim, 2, scale=0.5)
    zero = _Waves(problem.dim, problem.out_dim, 3, scale=0.0)
    try:
        r = [
            residual_values(problem, model, x.clone().requires_grad_(True)).detach()
            for model in (_Sum(u1, u2), u1, u2, zero)
        ]
    except Exception:  # reported by preflight with its points
        return False
    gap = r[0] - r[1] - r[2] + r[3]
    return bool(torch.isfinite(gap).all() and gap.abs().max() <= 1e-8 * (1 + max(float(v.abs().max()) for v in r)))


def register_schedule(
    problem_cls: type,
    kind: str,
    factory: Callable[[Problem, nn.Module], list[Phase]],
    *,
    constraints: Constraints | str = Constraints.SOFT,
    causal: Causal | None = None,
) -> None:
    """Register a schedule factory (a recipe with the given ``constraints`` and ``causal`` weighting)."""
    register_recipe(problem_cls, kind, _schedule_recipe(factory, constraints, causal))


def _schedule_recipe(
    factory: Callable[[Problem, nn.Module], list[Phase]],
    constraints: Constraints | str = Constraints.SOFT,
    causal: Causal | None = None,
) -> RecipeFactory:
    return lambda problem, net: Recipe(schedule=tuple(factory(problem, net)), constraints=constraints, causal=causal)


def default_schedule(problem: Problem, net: nn.Module) -> list[Phase]:
    """The recommended schedule for this problem and network."""
    return list(default_recipe(problem, net).schedule)


def kan_refinement(
    grids: tuple[int, ...],
    steps_per_grid: int = 300,
    *,
    share: float | tuple[float, ...] | None = None,
    history: int = 50,
) -> Callable[[Problem, nn.Module], list[Phase]]:
    """L-BFGS on each grid for up to ``steps_per_grid`` iterations (and, under a time budget, up to
    ``share`` of it, or until it stalls), refining through ``grids``; the last grid trains until the
    budget ends. The share makes one recipe fit a 60 s and a 600 s budget alike: one for every grid, or
    a tuple with one per grid before the last (the starting grid's first; a network that starts on a
    finer grid skips the leading ones). Grids finer than ``max_grid(problem)`` are left out."""
    shares = share if isinstance(share, tuple) else (share,) * len(grids)
    if len(shares) != len(grids):
        raise ConfigError(
            f"kan_refinement share must be a number or one per grid before the last ({len(grids)}); got {share!r}"
        )

    def factory(problem: Problem, net: nn.Module) -> list[Phase]:
        finer = [g for g in grids if g > net.grid and g <= max_grid(problem)]
        phase_shares = shares[len(grids) - len(finer) :]
        schedule: list[Phase] = [
            LBFGS(steps=steps_per_grid, share=phase_shares[0] if phase_shares else None, history=history)
        ]
        for g, s in zip(finer, phase_shares[1:] + (None,)):
            schedule += [Refine(grid=g), LBFGS(steps=steps_per_grid, share=s, history=history)]
        schedule[-1] = LBFGS(steps=None, history=history, stall_tol=0.0)
        return schedule

    return factory


POINTS_PER_INTERVAL = 100
"""The fewest interior points per grid interval a recipe refines a KAN to: finer grids than the points
support fit between them (a heat problem on 400 points ended 0.56 from G = 40 against 0.03 on G = 5)."""


def max_grid(problem: Problem) -> int:
    """The finest grid a recipe refines a KAN to for ``problem`` (its interior points / ``POINTS_PER_INTERVAL``)."""
    points = problem.n_interior if isinstance(problem.sampling, str) else len(problem.sampling)
    return points // POINTS_PER_INTERVAL


def mlp_adam_lbfgs(problem: Problem, net: nn.Module) -> list[Phase]:
    """Mini-batch Adam to leave the initial plateau, then full-batch L-BFGS until the budget ends."""
    batch = min(1000, problem.n_interior)
    return [Adam(steps=1000, lr=2e-3, batch=batch), LBFGS(steps=None, stall_tol=0.0)]


def space_time_kan(problem: Problem, net: nn.Module) -> list[Phase]:
    """Adam to get the causal sweep going (up to 500 steps and a tenth of the budget), then L-BFGS
    refining through G = 10, 20 and 40 with short shares of the budget on the coarse grids (5 %, 10 %,
    20 %), where Allen-Cahn stalls, and the rest on G = 40."""
    return [
        Adam(steps=500, lr=1e-2, final_lr=1e-3, share=0.1),
        *kan_refinement((10, 20, 40), steps_per_grid=2000, share=(0.05, 0.1, 0.2))(problem, net),
    ]


def symbolic_recipe(
    problem: Problem, net: nn.Module, *, library: SymbolLibrary | None = None, complexity_weight: float = 1.0
) -> Recipe:
    """The recipe of ``kanpde solve --symbolic``: a KAN read as a formula (Liu et al., arXiv 2404.19756,
    sec. 2.5 and 3.4). ``library``: the symbols edges may take (None: ``kanpde.interpret.symbols.DEFAULT_LIBRARY``);
    ``complexity_weight``: the cost of one unit of a symbol's complexity against a tenfold better fit.

    L-BFGS with the sparsity penalty (rolled back and rerun weaker if it flattens the network), pruning at
    a 5 % share of the output's variation (not made if it would move the function by more than 30 %),
    L-BFGS to recover, a refinement to G = 10 and L-BFGS, then a search for a whole KAN of symbols
    (``Symbolize(search=True)``, ``kanpde.interpret.search``) retrained on the problem's loss; the last
    phase tunes what was found (or the splines, when nothing was as good as the network) until the budget
    ends. Conditions are penalised (soft): a hard constraint multiplies the network by a distance
    function, so its edges would have to learn the solution divided by it, which has no simple form.
    Measured (README, Results): ``poisson_sin`` at [2, 2, 1], ``poisson_kan`` and exp(sin(pi x) + y^2)
    give their exact formulas to round-off.
    """
    if net.kind != "kan":
        raise ConfigError(
            f"the symbolic recipe needs a KAN (a formula is read from its edges); got an {net.kind.upper()}"
        )
    schedule: list[Phase] = [
        LBFGS(steps=300, share=0.25, sparsity=Sparsity(weight=1e-2)),
        Prune(threshold=0.05),
        LBFGS(steps=300, share=0.15),
        Refine(grid=10),
        LBFGS(steps=300, share=0.15),
        Symbolize(search=True, library=library, complexity_weight=complexity_weight),
        LBFGS(steps=None, stall_tol=0.0),
    ]
    return Recipe(schedule=tuple(schedule), constraints=Constraints.SOFT, name="symbolic")


def steady_recipe(problem: Problem, net: nn.Module) -> Recipe:
    """The recipe for a problem without a time axis: every Dirichlet condition built in (hard; the
    rest penalised), then, for a KAN, L-BFGS on G = 5 and 10 for up to a quarter of a time budget each
    (2000 iterations under a step budget) and on G = 20 until the budget ends; an MLP gets
    ``mlp_adam_lbfgs``.

    Measured on poisson_kan with a KAN [2, 10, 1] (README, Results): hard Dirichlet conditions reached
    2.3e-4 at 60 s where the penalty reached 2.7e-3 on the same schedule; a quarter of a time budget on
    each of G = 5 and 10, then G = 20, beat fixed step counts and finer final grids (40, 80). The MLP
    [2, 100, 100, 100, 1] at 60 s: 1.1e-2 hard against 8.1e-2 soft with the same phases; 300 Adam steps
    (1.6e-2) or L-BFGS alone (8.7e-2) were worse. Darcy and the gallery (``kanpde validate gallery``) the same.
    """
    if net.kind == "kan":
        schedule = kan_refinement((10, 20), steps_per_grid=2000, share=0.25)(problem, net)
    else:
        schedule = mlp_adam_lbfgs(problem, net)
    return Recipe(schedule=tuple(schedule), constraints=Constraints.HARD, name="steady")


ENERGY_STEPS_PER_DRAW = 300
"""L-BFGS iterations of the energy recipe on one quadrature rule before it draws a shifted one. On
``darcy_piecewise`` a KAN kept on one rule for 1000-2500 iterations learned to lower the discrete energy
below the true minimum (-0.061 against -0.0507) and its error grew from 2e-3 to 0.1-0.23."""
ENERGY_DRAWS = 60
"""How many shifted rules the energy recipe draws before its last L-BFGS phase runs to the end (60 x 300
iterations outlast a 600 s budget on two cores three times over)."""


def energy_recipe(problem: Problem, net: nn.Module) -> Recipe:
    """The recipe of the energy form (``Form.ENERGY``), chosen by default for a steady problem with an
    energy (``divergence`` declared, or ``energy`` defined) and a declared interface, where a coefficient
    jumps: Dirichlet conditions built in (the energy form needs them so), then for a KAN Adam for up to
    200 steps and 15 % of a time budget (an MLP: mini-batch Adam as in ``mlp_adam_lbfgs``), and L-BFGS on
    a quadrature rule shifted by a random fraction of a cell every ``ENERGY_STEPS_PER_DRAW`` iterations
    (``Resample``), so the network cannot learn to lower the discrete energy between fixed points.

    Measured on ``darcy_piecewise`` (README, Results), a KAN [3, 10, 1] taking |phi| as its third input.
    """
    fresh: list[Phase] = []
    for _ in range(ENERGY_DRAWS):
        fresh += [Resample(), LBFGS(steps=ENERGY_STEPS_PER_DRAW, stall_tol=0.0)]
    fresh += [Resample(), LBFGS(steps=None, stall_tol=0.0)]
    if net.kind == "kan":
        start: list[Phase] = [Adam(steps=200, lr=1e-2, share=0.15)]
    else:
        start = mlp_adam_lbfgs(problem, net)[:-1]
    schedule = [*start, LBFGS(steps=ENERGY_STEPS_PER_DRAW, stall_tol=0.0), *fresh]
    return Recipe(schedule=tuple(schedule), constraints=Constraints.HARD, form=Form.ENERGY, name="energy")


def evolution_recipe(problem: Problem, net: nn.Module) -> Recipe:
    """The recipe for an evolution (last axis ``t``) from an initial condition: the initial condition,
    Dirichlet walls and periodic axes built in, causal weights over 32 time chunks; a KAN gets
    ``space_time_kan``, an MLP ``mlp_adam_lbfgs``.

    Measured with a KAN [3, 10, 1] on ``allen_cahn`` (README, Results), one thread: shares 0.25 / 0.25 on
    G = 5 / 10, then G = 20, gave 4.1e-3 in 600 s with 6448 steps but 2.1e-2 with half the steps; at 300 s
    (~4000 steps) G = 40 last with shares 0.05 / 0.1 / 0.2 reached 5.7e-3, shares 0.1 / 0.15 / 0.3 1.0e-2,
    and G = 20 last 1.4e-2.
    """
    factory = space_time_kan if net.kind == "kan" else mlp_adam_lbfgs
    schedule = tuple(factory(problem, net))
    causal = None if problem_features(problem).linear else Causal(chunks=32, tol=1.0)
    return Recipe(schedule=schedule, constraints=Constraints.HARD, causal=causal, name="evolution")
