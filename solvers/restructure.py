"""The phases of a schedule that change what is trained rather than train it: a KAN's grid (``Refine``,
``UpdateGrid``), its edges (``Prune``, ``Symbolize``) and the collocation points (``Resample``).

Each acts on a ``TrainingState`` and returns what it did, in words (the phase's ``status``). A changed
model replaces the old one through ``TrainingState.replace_model``, which records how far the change
moved the function on the collocation points; the optimizer phase that follows starts afresh.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.interpret.pruning import pruned
from kanpde.pinn.loss import Collocation, Form, residual_values
from kanpde.pinn.surrogate import Surrogate
from kanpde.solvers.phases import LBFGS, Prune, Refine, Resample, Symbolize, UpdateGrid
from kanpde.solvers.training_state import PhaseReport, TrainingState

__all__ = ["refine", "update_grid", "prune", "symbolize", "searched", "resample"]

PRUNE_MOVE = 0.3
"""The largest relative change of the function on the collocation points a pruning may make (the phase
after it recovers smaller ones: 0.12 on ``exp_sin``, 0.012 on ``poisson_kan``); a pruning that moves it
further is not made (the edges it would remove still carry the solution)."""

EXACT = 1e-4
"""A structure whose retrained loss is below this fraction of the network's ends the search: an exact form
falls orders of magnitude below any spline fit, an approximate one stays near it."""

RETRAIN_POINTS = 2048
"""Interior points the candidates of a structure search are retrained on (all of them when fewer)."""


def refine(state: TrainingState, phase: Refine, report: PhaseReport) -> str:
    """The KAN refined to ``phase.grid`` intervals (its coefficients refitted)."""
    what = f"grid {state.model.grid} -> {phase.grid}"
    cover = state.colloc.interior if phase.cover else None
    return state.replace_model(lambda: state.model.refined(phase.grid, cover=cover), "refine", what, report)


def update_grid(state: TrainingState, phase: UpdateGrid, report: PhaseReport) -> str:
    """The KAN's knots moved to the quantiles of its layer inputs on the interior points."""
    what = f"grid {state.model.grid} moved to the samples"
    return state.replace_model(
        lambda: state.model.grid_updated(state.colloc.interior, eps=phase.eps), "update_grid", what, report
    )


def prune(state: TrainingState, phase: Prune, report: PhaseReport) -> str:
    """The KAN without the edges and nodes whose attribution score is below ``phase.threshold``."""
    before = list(state.model.net.width)
    with torch.no_grad():
        candidate = pruned(state.model, phase.threshold, state.colloc.interior)
    status = state.replace_model(lambda: candidate, "prune", "", report, limit=PRUNE_MOVE)
    if status is None:  # the self-check: a pruning that would ruin the fit is not made
        report.details["width"] = before
        return (
            f"pruning below {phase.threshold:g} (width {before} -> {list(candidate.net.width)}) would change the "
            f"function by {report.details['fit_error']:.2e} (relative) on the collocation points, more than "
            f"{PRUNE_MOVE:g}: not pruned, width kept"
        )
    after = state.model.net.width
    report.details["width"] = list(after)
    return f"pruned edges and nodes scoring below {phase.threshold:g}: width {before} -> {after}{status}"


def symbolize(state: TrainingState, phase: Symbolize, report: PhaseReport) -> str:
    """The KAN with the spline edges of ``phase.layers`` fixed to their best-fitting symbols; with
    ``phase.search``, a KAN of symbols searched for as a whole (``searched``)."""
    if phase.search:
        return searched(state, phase, report)
    options = {
        "layers": phase.layers,
        "library": phase.library,
        "complexity_weight": phase.complexity_weight,
        "r2_floor": phase.r2_floor,
    }
    choices: list[Any] = []

    def fixed() -> Surrogate:
        from kanpde.interpret.formulas import symbolized  # sympy, loaded when a schedule fixes symbols

        model, made = symbolized(state.model, state.colloc.interior, **options)
        choices.extend(made)
        return model

    status = state.replace_model(fixed, "symbolize", "", report)
    report.details["edges"] = [c.as_dict() for c in choices]
    names = ", ".join(f"{c.fit.name}" for c in choices)
    return f"fixed {len(choices)} edges to symbols ({names or 'none left'}){status}"


def searched(state: TrainingState, phase: Symbolize, report: PhaseReport) -> str:
    """The network replaced by the KAN of symbols found by ``kanpde.interpret.search.search_structures``
    when one reaches the network's own loss after retraining; else the network as it was."""
    from kanpde.interpret.search import search_structures  # sympy, loaded when a schedule fixes symbols

    net_loss = state.plain_loss()
    colloc = state.colloc
    if colloc.interior.shape[0] > RETRAIN_POINTS:
        colloc = colloc.subset(
            RETRAIN_POINTS / colloc.interior.shape[0], torch.Generator().manual_seed(state.config.seed)
        )
    retrained = {"iterations": 0}

    def judge(candidate: Any) -> tuple[float, Any]:
        net = candidate.kan.to(dtype=colloc.interior.dtype, device=colloc.interior.device)
        model = state.model.with_net(net)
        loss, iterations = _retrained(state, model, colloc, phase.retrain_steps)
        retrained["iterations"] += iterations
        return loss, model.net

    seconds = state.config.budget.seconds
    deadline = None
    if seconds is not None:  # the clock of the run, as a perf_counter value
        import time

        deadline = time.perf_counter() + max(0.0, seconds - state.clock.elapsed())
    found = search_structures(
        state.model,
        state.colloc.interior,
        phase.library,
        judge=judge,
        accept=net_loss,
        stop=EXACT * net_loss,
        top=phase.top,
        deadline=deadline,
        seed=state.config.seed,
    )
    report.details["search"] = {**found.as_dict(), "network_loss": net_loss, **retrained}
    state.record_event({"event": "structure_search", **report.details["search"]})
    tried = f"{found.fitted} structures fitted in {found.seconds:.1f} s, {len(found.judged)} retrained"
    if found.best is None:
        return f"no structure of symbols could be tried ({tried}); the splines are kept"
    best = found.best
    if not found.accepted:
        return (
            f"no structure of symbols reached the network's loss {net_loss:.3e} ({tried}; best {best.structure}, "
            f"loss {best.loss:.3e}); the splines are kept"
        )
    status = state.replace_model(
        lambda: state.model.with_net(best.kan), "symbolize", f"structure {best.structure}", report
    )
    return f"found a KAN of symbols with loss {best.loss:.3e} (network {net_loss:.3e}; {tried}): {status}"


def _retrained(state: TrainingState, model: Surrogate, colloc: Collocation, steps: int) -> tuple[float, int]:
    """``model`` trained in place with L-BFGS on the loss at ``colloc`` for up to ``steps`` iterations
    (or until the time budget ends); its loss on all the collocation points, and the iterations run."""
    from kanpde.solvers.lbfgs import LBFGSOptimizer
    from kanpde.solvers.optimize import loss_closure

    saved, state.model = state.model, model
    try:
        params = [p for p in model.parameters() if p.requires_grad]
        settings = LBFGS()
        opt = LBFGSOptimizer(params, history=settings.history, lr=settings.lr, max_evals=settings.max_evals)
        closure = loss_closure(state, params, colloc)

        done = 0
        while done < steps and not state.time_spent():
            result = opt.step(closure, deadline=state.time_spent)
            if not result.counts:
                break
            done += 1
            if result.stop or not math.isfinite(result.loss):
                break
        loss = state.plain_loss()
        return (loss if math.isfinite(loss) else math.inf), done
    finally:
        state.model = saved


def resample(state: TrainingState, phase: Resample, report: PhaseReport) -> str:
    """Fresh collocation points, uniform or residual-weighted (RAD); each draw has its own seed,
    ``[config.seed, draw]``, so a run is repeatable."""
    state.draws += 1
    config, x = state.config, state.colloc.interior
    energy = config.form is Form.ENERGY
    n = phase.n_interior or ((config.n_interior or config.problem.n_interior) if energy else x.shape[0])
    rng = np.random.default_rng([config.seed, state.draws])
    if energy and phase.adaptive:
        raise ConfigError(
            "Resample(adaptive=True) follows the residual; under form='energy' the points are a quadrature: "
            "use Resample() (a shifted rule)"
        )
    sample = Collocation.quadrature if energy else Collocation.sample
    colloc = sample(
        config.problem,
        seed=rng,
        dtype=x.dtype,
        device=x.device,
        n_interior=n,
        n_boundary=phase.n_boundary or config.n_boundary,
        conditions=state.colloc.conditions,
        fresh=True,
    )
    how = "fresh"
    if phase.adaptive:
        colloc = Collocation(_residual_sample(state, phase, n, rng), colloc.boundary)
        how = "residual-weighted (RAD)"
    state.colloc = colloc
    report.details["collocation"] = colloc.sizes
    state.record_event({"event": "resample", "adaptive": phase.adaptive, "collocation": colloc.sizes})
    return f"drew {n} {how} interior points (draw {state.draws})"


def _residual_sample(state: TrainingState, phase: Resample, n: int, rng: np.random.Generator) -> Tensor:
    """n interior points picked from ``phase.candidates * n`` uniform ones with p ~ |r|^k / mean + c."""
    x, problem = state.colloc.interior, state.config.problem
    points = problem.domain.sample(phase.candidates * n, method="random", seed=rng)
    cand = torch.as_tensor(points, dtype=x.dtype, device=x.device)
    r = torch.cat(
        [
            residual_values(problem, state.model, c.detach().requires_grad_(True), state.plan.interior)
            .detach()
            .norm(dim=1)
            for c in torch.split(cand, 8192)
        ]
    )
    weight = r.pow(phase.k)
    p = weight / weight.mean().clamp_min(1e-300) + phase.c
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    idx = torch.multinomial(p.cpu(), n, replacement=False, generator=gen).to(x.device)
    return cand[idx].detach().requires_grad_(True)
