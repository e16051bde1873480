"""The phases a training schedule is made of: ``Adam``, ``LBFGS``, ``Refine`` and ``UpdateGrid``.

A schedule is a list of phases run in order (``Resample`` draws fresh collocation points), e.g. the KAN recipe for Poisson problems::

    [LBFGS(steps=200), Refine(grid=10), LBFGS(steps=200), Refine(grid=20), LBFGS(steps=None)]

An optimizer phase ends when its own ``steps`` run out, when it stalls, when it reaches its ``share`` of
the budget (of the seconds of a time budget, of the steps of a step budget; either, where both are
given), or when the whole solve's budget is spent; each ending is reported in words. A phase with
``steps=None`` runs until the budget ends. ``Refine`` and ``UpdateGrid`` change a KAN's grid and are
followed by a fresh optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass

from kanpde.checks import is_int, is_real
from kanpde.errors import ConfigError
from kanpde.nets.symbol import SymbolLibrary

__all__ = [
    "Adam",
    "LBFGS",
    "Refine",
    "UpdateGrid",
    "Resample",
    "Prune",
    "Symbolize",
    "Sparsity",
    "Phase",
    "check_schedule",
]


def _check(cond: bool, field: str, value: object, expected: str) -> None:
    if not cond:
        raise ConfigError(f"{field} must be {expected}; got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Sparsity:
    """The KAN sparsity penalty of an optimizer phase (Liu et al., arXiv 2404.19756, sec. 2.5.1):
    ``weight * sum_l (|Phi_l|_1 + entropy * S(Phi_l))`` on the first ``points`` interior points (see
    ``kanpde.interpret.pruning``). Use it before a ``Prune`` phase, not in the phases that should reach full accuracy.
    """

    weight: float = 1e-3
    entropy: float = 2.0
    points: int = 1024

    def __post_init__(self) -> None:
        _check(is_real(self.weight) and self.weight > 0, "Sparsity.weight", self.weight, "a number > 0")
        _check(is_real(self.entropy) and self.entropy >= 0, "Sparsity.entropy", self.entropy, "a number >= 0")
        _check(is_int(self.points) and self.points >= 2, "Sparsity.points", self.points, "an int >= 2")


TRAINED = ("all", "solution", "unknowns")
"""What an optimizer phase trains (``train=``): every parameter, the network's (the unknowns held), or the
unknowns' (the network held). Holding one part while the other moves is how an inverse problem's
recipe trains a coefficient field on a solution fitted first (``kanpde.solvers.recipes.inverse_schedule``)."""


@dataclass(frozen=True, kw_only=True)
class _OptimizerPhase:
    steps: int | None = None
    share: float | None = None
    sparsity: Sparsity | None = None
    train: str = "all"

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(
            self.train in TRAINED,
            f"{name}.train",
            self.train,
            "'all' (default), 'solution' (the network only) or 'unknowns' (an inverse problem's unknowns only)",
        )
        _check(
            self.steps is None or (is_int(self.steps) and self.steps >= 1),
            f"{name}.steps",
            self.steps,
            "an int >= 1 or None (until the budget ends)",
        )
        _check(
            self.share is None or (is_real(self.share) and 0 < self.share <= 1),
            f"{name}.share",
            self.share,
            "a fraction of the budget in (0, 1] or None",
        )
        _check(
            self.sparsity is None or isinstance(self.sparsity, Sparsity),
            f"{name}.sparsity",
            self.sparsity,
            "a kanpde.solvers.Sparsity or None",
        )

    @property
    def label(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True, kw_only=True)
class Adam(_OptimizerPhase):
    """Adam (Kingma & Ba, arXiv 1412.6980) on mini-batches or the full collocation set.

    steps: iterations (None = until the budget ends); lr: learning rate; final_lr: if given, the rate
    decays exponentially from ``lr`` to ``final_lr`` over ``steps``; batch: interior points per step
    (every set is subsampled in the same proportion; None = full batch). Mini-batch Adam gets an MLP off
    the plateau where L-BFGS alone sits for minutes.
    """

    steps: int | None = 1000
    lr: float = 1e-3
    final_lr: float | None = None
    batch: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(is_real(self.lr) and self.lr > 0, "Adam.lr", self.lr, "a number > 0")
        _check(
            self.final_lr is None or (is_real(self.final_lr) and self.final_lr > 0),
            "Adam.final_lr",
            self.final_lr,
            "a number > 0 or None",
        )
        _check(
            self.final_lr is None or self.steps is not None,
            "Adam.final_lr",
            self.final_lr,
            "None when steps is None (a decay needs a length)",
        )
        _check(
            self.batch is None or (is_int(self.batch) and self.batch >= 1),
            "Adam.batch",
            self.batch,
            "an int >= 1 or None (full batch)",
        )


@dataclass(frozen=True, kw_only=True)
class LBFGS(_OptimizerPhase):
    """Full-batch L-BFGS with a strong-Wolfe line search (see ``kanpde.solvers.lbfgs``).

    steps: iterations (None = until the budget ends); history: curvature pairs kept; max_evals: loss
    evaluations per line search; stall_window, stall_tol: end the phase when the best loss improved by
    less than ``stall_tol`` (relative) over the last ``stall_window`` iterations (``stall_tol=0`` never
    stalls). Stalling is the cue to refine a KAN's grid.
    """

    steps: int | None = 500
    history: int = 50
    lr: float = 1.0
    max_evals: int = 25
    stall_window: int = 100
    stall_tol: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(is_int(self.history) and self.history >= 1, "LBFGS.history", self.history, "an int >= 1")
        _check(is_real(self.lr) and self.lr > 0, "LBFGS.lr", self.lr, "a number > 0")
        _check(is_int(self.max_evals) and self.max_evals >= 2, "LBFGS.max_evals", self.max_evals, "an int >= 2")
        _check(
            is_int(self.stall_window) and self.stall_window >= 1, "LBFGS.stall_window", self.stall_window, "an int >= 1"
        )
        _check(
            is_real(self.stall_tol) and 0 <= self.stall_tol < 1, "LBFGS.stall_tol", self.stall_tol, "a number in [0, 1)"
        )


@dataclass(frozen=True, kw_only=True)
class Refine:
    """Refine a KAN's grid to ``grid`` intervals (coefficients refitted; a fresh optimizer follows).

    cover: the new grids also widen to the layer inputs on the interior collocation points where those
    have left them (``KAN.refined(cover=...)``), so no activation sits past a grid's end, in the linear
    continuation, where a residual's second derivatives are zero. The fit is then exact only for the
    layers whose inputs stayed inside.
    """

    grid: int
    cover: bool = False

    def __post_init__(self) -> None:
        _check(is_int(self.grid) and self.grid >= 1, "Refine.grid", self.grid, "an int >= 1")
        _check(isinstance(self.cover, bool), "Refine.cover", self.cover, "True or False")

    label = "refine"


@dataclass(frozen=True, kw_only=True)
class UpdateGrid:
    """Move a KAN's knots to the quantiles of its layer inputs on the collocation points (mixed with
    a uniform grid by ``eps``), keeping the function on the sampled range."""

    eps: float = 0.02

    def __post_init__(self) -> None:
        _check(is_real(self.eps) and 0 < self.eps <= 1, "UpdateGrid.eps", self.eps, "a number in (0, 1]")

    label = "update_grid"


@dataclass(frozen=True, kw_only=True)
class Resample:
    """Draw a fresh set of collocation points (a new seed each time; counts default to the problem's).

    Fitting a fine KAN grid to one fixed set lets the spline interpolate the points and oscillate
    between them (the loss falls while the error stalls); fresh points at each refinement keep the
    loss an honest estimate of the residual. L-BFGS phases stay full-batch and deterministic in between.

    With ``adaptive=True`` the interior points follow the residual (RAD, Wu et al., "A comprehensive
    study of non-adaptive and residual-based adaptive sampling for physics-informed neural networks",
    CMAME 403, 2023): ``candidates`` times as many uniform random points are drawn, and the new set is
    picked from them without replacement with probability ``|r|^k / mean(|r|^k) + c``. ``c`` keeps
    some points everywhere (c -> infinity is uniform); k = 1, c = 1 is the paper's robust default.
    """

    n_interior: int | None = None
    n_boundary: int | None = None
    adaptive: bool = False
    k: float = 1.0
    c: float = 1.0
    candidates: int = 4

    def __post_init__(self) -> None:
        for name in ("n_interior", "n_boundary"):
            v = getattr(self, name)
            _check(
                v is None or (is_int(v) and v >= 1), f"Resample.{name}", v, "an int >= 1 or None (the problem's count)"
            )
        _check(isinstance(self.adaptive, bool), "Resample.adaptive", self.adaptive, "True or False")
        _check(is_real(self.k) and self.k >= 0, "Resample.k", self.k, "a number >= 0")
        _check(is_real(self.c) and self.c >= 0, "Resample.c", self.c, "a number >= 0")
        _check(is_int(self.candidates) and self.candidates >= 1, "Resample.candidates", self.candidates, "an int >= 1")

    label = "resample"


@dataclass(frozen=True, kw_only=True)
class Prune:
    """Remove the KAN edges and hidden nodes whose attribution score on the collocation points is below
    ``threshold`` (a share of the output's variation; see ``kanpde.interpret.pruning``). Pruned edges inside the
    network stay zero afterwards; a fresh optimizer follows."""

    threshold: float = 1e-2

    def __post_init__(self) -> None:
        _check(
            is_real(self.threshold) and 0 <= self.threshold < 1, "Prune.threshold", self.threshold, "a number in [0, 1)"
        )

    label = "prune"


@dataclass(frozen=True, kw_only=True)
class Symbolize:
    """Fix the spline edges of ``layers`` (None: all) to their best-fitting symbols of ``library`` (None:
    ``kanpde.interpret.symbols.DEFAULT_LIBRARY``; see ``kanpde.interpret.symbolized``); their affine
    parameters train in the phases that follow.

    ``search=True`` looks for a whole KAN of symbols instead (``kanpde.interpret.search``): structures
    proposed from the network's edges, at every hidden width up to its own, are fitted to its values;
    the ``top`` best of each width are retrained on the problem's loss for ``retrain_steps`` L-BFGS
    iterations. The search stops at the first (smallest) width where one falls far below the network's
    loss (``kanpde.solvers.restructure.EXACT``: an exact form), and the best candidate replaces the
    network when its loss is at most the network's. When none is, the network keeps its splines and the
    phase says so.
    """

    layers: tuple[int, ...] | None = None
    library: SymbolLibrary | None = None
    complexity_weight: float = 1.0
    r2_floor: float = 1e-10
    search: bool = False
    retrain_steps: int = 150
    top: int = 3

    def __post_init__(self) -> None:
        _check(isinstance(self.search, bool), "Symbolize.search", self.search, "True or False")
        _check(
            is_int(self.retrain_steps) and self.retrain_steps >= 1,
            "Symbolize.retrain_steps",
            self.retrain_steps,
            "an int >= 1",
        )
        _check(is_int(self.top) and self.top >= 1, "Symbolize.top", self.top, "an int >= 1")
        _check(
            not (self.search and self.layers is not None),
            "Symbolize.layers",
            self.layers,
            "None with search=True (a structure is searched for the whole network)",
        )
        _check(
            self.layers is None or (isinstance(self.layers, tuple) and all(is_int(l) and l >= 0 for l in self.layers)),
            "Symbolize.layers",
            self.layers,
            "a tuple of layer indices or None (all)",
        )
        _check(
            self.library is None or isinstance(self.library, SymbolLibrary),
            "Symbolize.library",
            self.library,
            "a kanpde.interpret.symbols.SymbolLibrary or None",
        )
        _check(
            is_real(self.complexity_weight) and self.complexity_weight >= 0,
            "Symbolize.complexity_weight",
            self.complexity_weight,
            "a number >= 0",
        )
        _check(
            is_real(self.r2_floor) and 0 < self.r2_floor < 1, "Symbolize.r2_floor", self.r2_floor, "a number in (0, 1)"
        )

    label = "symbolize"


Phase = Adam | LBFGS | Refine | UpdateGrid | Resample | Prune | Symbolize
_PHASES = (Adam, LBFGS, Refine, UpdateGrid, Resample, Prune, Symbolize)
_NAMES = "Adam, LBFGS, Refine, UpdateGrid, Resample, Prune or Symbolize"


def check_schedule(schedule: object, kind: str) -> tuple[Phase, ...]:
    """Validate a schedule for a network kind (``"kan"``/``"mlp"``); returns it as a tuple."""
    if isinstance(schedule, _PHASES) or not isinstance(schedule, (list, tuple)) or not schedule:
        raise ConfigError(f"schedule must be a non-empty list of phases ({_NAMES}); got {schedule!r}")
    for phase in schedule:
        if not isinstance(phase, _PHASES):
            raise ConfigError(f"schedule entries must be {_NAMES}; got {phase!r}")
        if kind != "kan" and (
            isinstance(phase, (Refine, UpdateGrid, Prune, Symbolize)) or getattr(phase, "sparsity", None) is not None
        ):
            what = (
                type(phase).__name__
                if isinstance(phase, (Refine, UpdateGrid, Prune, Symbolize))
                else f"{type(phase).__name__}(sparsity=...)"
            )
            raise ConfigError(
                f"{what} needs a KAN (it acts on spline edges); the model is an {kind.upper()}. Remove it from the schedule"
            )
    return tuple(schedule)
