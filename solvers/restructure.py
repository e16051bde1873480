"""The phases of a schedule that change what is trained rather than train it: a KAN's grid (``Refine``,
``UpdateGrid``), its edges (``Prune``, ``Symbolize``) and the collocation points (``Resample``).

Each acts on a ``TrainingState`` and returns what it did, in words (the phase's ``status``). A changed
model replaces the old one through ``TrainingState.replace_model``, which records how far the change
moved the function on the collocation points; the optimizer phase that follows starts afresh.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.interpret.pruning import pruned
from kanpde.pinn.loss import Collocation, Form, residual_values
from kanpde.pinn.surrogate import Surrogate
from kanpde.solvers.phases import Prune, Refine, Resample, Symbolize, UpdateGrid
from kanpde.solvers.training_state import PhaseReport, TrainingState

__all__ = ["refine", "update_grid", "prune", "symbolize", "resample"]


def refine(state: TrainingState, phase: Refine, report: PhaseReport) -> str:
    """The KAN refined to ``phase.grid`` intervals (its coefficients refitted)."""
    what = f"grid {state.model.grid} -> {phase.grid}"
    return state.replace_model(lambda: state.model.refined(phase.grid), "refine", what, report)


def update_grid(state: TrainingState, phase: UpdateGrid, report: PhaseReport) -> str:
    """The KAN's knots moved to the quantiles of its layer inputs on the interior points."""
    what = f"grid {state.model.grid} moved to the samples"
    return state.replace_model(
        lambda: state.model.grid_updated(state.colloc.interior, eps=phase.eps), "update_grid", what, report
    )


def prune(state: TrainingState, phase: Prune, report: PhaseReport) -> str:
    """The KAN without the edges and nodes whose attribution score is below ``phase.threshold``."""
    before = list(state.model.net.width)
    model, x = state.model, state.colloc.interior
    status = state.replace_model(lambda: pruned(model, phase.threshold, x), "prune", "", report)
    after = state.model.net.width
    report.details["width"] = list(after)
    return f"pruned edges and nodes scoring below {phase.threshold:g}: width {before} -> {after}{status}"


def symbolize(state: TrainingState, phase: Symbolize, report: PhaseReport) -> str:
    """The KAN with the spline edges of ``phase.layers`` fixed to their best-fitting symbols."""
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
