"""The optimizer phases of a schedule: ``Adam`` and ``LBFGS`` on a ``TrainingState``.

Each is driven one iteration at a time by ``_iterate``: between iterations it checks the phase's own
limits (its ``steps``, its ``share`` of a time budget), the run's budget and the loss; a non-finite loss
rolls the model back to its last finite state and ends the phase. Each returns why its phase stopped, in
words (they become the phase's ``status`` in ``Solution.phases``).

Under a time budget an L-BFGS iteration also checks the time before each loss evaluation of its line
search (``_deadline``), so it overruns the budget by one evaluation at most, not by a whole iteration (up to
``LBFGS.max_evals`` of them). An Adam iteration is one evaluation and one update: the check between
iterations bounds its overrun alike. Under a step budget nothing reads the clock inside an iteration, so
runs stay bitwise reproducible.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.nets import bspline
from kanpde.nets.kan import KAN
from kanpde.solvers.checkpoint import tensors_to
from kanpde.solvers.lbfgs import LBFGSOptimizer
from kanpde.solvers.phases import LBFGS, Adam
from kanpde.solvers.training_state import PhaseReport, TrainingState

if TYPE_CHECKING:
    from kanpde.pinn.loss import Collocation

__all__ = ["run_adam", "run_lbfgs", "completed", "loss_closure"]

logger = logging.getLogger("kanpde")

Iteration = Callable[[], tuple[float, str | None] | None]
"""One optimizer iteration: returns the loss it saw and, when the optimizer cannot go on, why; None when
the time ran out before it changed anything (it is no step)."""


def run_adam(state: TrainingState, phase: Adam, report: PhaseReport) -> str:
    """Adam on the full collocation set or on mini-batches of ``phase.batch`` interior points."""
    params = _trained(state, phase)
    opt = torch.optim.Adam(params, lr=phase.lr)
    decay = (phase.final_lr / phase.lr) ** (1.0 / phase.steps) if phase.final_lr and phase.steps else 1.0
    fraction = None
    if phase.batch is not None and phase.batch < state.colloc.interior.shape[0]:
        fraction = phase.batch / state.colloc.interior.shape[0]

    def iteration() -> tuple[float, str | None]:
        colloc = state.colloc if fraction is None else state.colloc.subset(fraction, state.generator)
        opt.zero_grad(set_to_none=True)
        loss = state.loss(colloc, rebalance=True)
        value = float(loss.detach())
        if not math.isfinite(value):
            return value, None
        state.take_snapshot()
        state.backward(loss, params)
        opt.step()
        for group in opt.param_groups:
            group["lr"] *= decay
        return value, None

    if fraction is not None:
        report.details["batch"] = phase.batch
    return _optimize(
        state,
        phase,
        report,
        iteration,
        lambda: {"adam": opt.state_dict()},
        lambda saved: opt.load_state_dict(saved["adam"]),
    )


def run_lbfgs(state: TrainingState, phase: LBFGS, report: PhaseReport) -> str:
    """Full-batch L-BFGS; the phase also ends when the best loss stalls (``phase.stall_tol``)."""
    params = _trained(state, phase)
    opt = LBFGSOptimizer(params, history=phase.history, lr=phase.lr, max_evals=phase.max_evals)

    closure = loss_closure(state, params)

    best: list[float] = []
    held = getattr(state.reduce, "held", None)  # loss weights that follow the model (Causal), held per line search

    def iteration() -> tuple[float, str | None] | None:
        if held is not None and state.reduce.refresh():  # they drifted: new ones at the start point
            opt.objective_changed()
        result = opt.step(closure, deadline=_deadline(state, phase))
        if not result.counts:  # the time ran out first: the parameters are where they were
            return None
        if math.isfinite(result.loss):
            state.take_snapshot()
        stop = result.stop
        if opt.jumped and _continue_smoothly(state, report):
            opt.objective_changed()
            stop = None
        best.append(min(result.loss, best[-1]) if best else result.loss)
        return result.loss, stop or _stalled(phase, best)

    def save() -> dict[str, Any]:
        return {"lbfgs": opt.state_dict(), "best": list(best), "weights": state.reduce.state_dict() if held else None}

    def load(saved: dict[str, Any]) -> None:
        opt.load_state_dict(saved["lbfgs"])
        best[:] = saved["best"]
        if held is not None:  # the held loss weights, inside the hold that just began
            state.reduce.load_state_dict(saved["weights"])

    with held() if held is not None else nullcontext():
        status = _optimize(state, phase, report, iteration, save, load)
    report.details.update({"evals": opt.evals, "skipped_pairs": opt.skipped_pairs, "restarts": opt.restarts})
    if opt.skipped_pairs:
        logger.info("L-BFGS skipped %d curvature pairs with y.s <= 0 (not positive definite)", opt.skipped_pairs)
    return status


def _continue_smoothly(state: TrainingState, report: PhaseReport) -> bool:
    """Take the loss's jump away when a line search parked on it, where the network causes it.

    A KAN continues its splines past their grids linearly by default, so a residual's second derivatives
    drop to zero where an activation leaves a grid, and L-BFGS can park an activation on a grid's end
    (found on ``poisson_kan`` and ``allen_cahn``: one point, one hidden unit, exactly at the end; the
    phase then ended with minutes of its budget left). The network switches in place to the C^2
    continuation (``KAN.set_curvature_fade(bspline.FADE)``): the same function on the grids, and second
    derivatives that no longer jump there. Returns whether it switched (False for an MLP, or a KAN that
    already continues C^2: the jump is elsewhere and the phase stops). Recorded in the phase's details
    as ``curvature_fade: {"step", "fade"}``.
    """
    net = getattr(state.model, "net", state.model)
    if not isinstance(net, KAN) or net.curvature_fade > 0:
        return False
    net.set_curvature_fade(bspline.FADE)
    report.details["curvature_fade"] = {"step": state.step + 1, "fade": bspline.FADE}
    logger.info(
        "step %d: the loss jumps where an activation sits at a spline grid's end; the KAN now continues its"
        " splines C^2 (curvature_fade=%g) and L-BFGS goes on",
        state.step + 1,
        bspline.FADE,
    )
    return True


def loss_closure(state: TrainingState, params: list[Tensor], colloc: Collocation | None = None) -> Callable[[], Tensor]:
    """The L-BFGS closure: the gradients of ``params`` cleared, the loss at ``colloc`` (default: all the
    collocation points) evaluated and differentiated; returns the loss."""

    def closure() -> Tensor:
        for p in params:
            p.grad = None
        loss = state.loss(state.colloc if colloc is None else colloc)
        state.backward(loss, params)
        return loss

    return closure


def _trained(state: TrainingState, phase: Adam | LBFGS) -> list[Tensor]:
    """The parameters the phase trains (``phase.train``); an error when there are none."""
    params = state.trained(phase.train)
    if not params:
        raise ConfigError(
            f"{type(phase).__name__}(train={phase.train!r}): the model has nothing to train there"
            + (" (the problem declares no kanpde.Unknown or UnknownField)" if phase.train == "unknowns" else "")
        )
    return params


def _stalled(phase: LBFGS, best: list[float]) -> str | None:
    """Why the phase stalls: the best loss improved by less than ``stall_tol`` over ``stall_window`` iterations."""
    if phase.stall_tol <= 0 or len(best) <= phase.stall_window:
        return None
    old, new = best[-phase.stall_window - 1], best[-1]
    if old - new <= phase.stall_tol * abs(old):
        window, tol = phase.stall_window, phase.stall_tol
        return f"stalled: best loss improved by less than {tol:g} (relative) over {window} iterations"
    return None


def _optimize(
    state: TrainingState,
    phase: Adam | LBFGS,
    report: PhaseReport,
    iteration: Iteration,
    save: Callable[[], dict[str, Any]],
    load: Callable[[dict[str, Any]], None],
) -> str:
    """Call ``iteration`` until the phase's or the run's limits stop it; returns why it stopped.

    save, load: the optimizer's state for a checkpoint, and putting it back when the run resumes in the
    middle of this phase (``state.pending``)."""
    pending, state.pending = state.pending, None
    if pending is not None:
        load(tensors_to(pending["optimizer"], state.colloc.interior.device))
        start_step, start_t = pending["start_step"], pending["start_t"]
    else:
        start_step, start_t = state.step, state.clock.elapsed()
    state.phase_start, state.optimizer = (start_step, start_t), save
    spec = phase.sparsity  # its network inputs are fixed for the phase (no parameters in them): computed once
    if spec is not None:
        state.sparsity = (spec, state.model.features(state.colloc.interior[: spec.points].detach()))
    try:
        return _iterate(state, phase, report, iteration, start_t, start_step)
    finally:
        state.sparsity, state.optimizer, state.phase_start = None, None, None


def _iterate(
    state: TrainingState,
    phase: Adam | LBFGS,
    report: PhaseReport,
    iteration: Iteration,
    start_t: float,
    start_step: int,
) -> str:
    """The iterations of one optimizer phase, with the checks between them; returns why they ended."""
    while True:
        limit = _phase_limit(state, phase, start_t, start_step) or state.budget_spent()
        if limit:
            return str(limit)
        outcome = iteration()
        if outcome is None:  # cut short by the deadline before it changed anything: the checks above end it
            continue
        loss, stop = outcome
        if not math.isfinite(loss):
            state.restore_snapshot()
            report.non_finite = True
            back = state.snapshot_step
            return f"non-finite loss ({loss}) at step {state.step + 1}; rolled back to the state of step {back}"
        state.step += 1
        state.last_loss = loss
        state.record(phase=phase.label)
        if stop:
            return stop
        state.checkpoint()


def completed(phase: Adam | LBFGS) -> str:
    """The words of a phase that ran all its ``steps`` (the one ending that is no early stop)."""
    return f"completed {phase.steps} steps"


def _phase_limit(state: TrainingState, phase: Adam | LBFGS, start_t: float, start_step: int) -> str | None:
    if phase.steps is not None and state.step - start_step >= phase.steps:
        return completed(phase)
    if _share_used(state, phase, start_t):
        return f"used its share of the time budget ({phase.share:g} x {state.config.budget.seconds:g} s)"
    steps = state.config.budget.steps
    if phase.share is not None and steps is not None and state.step - start_step >= max(1, round(phase.share * steps)):
        return f"used its share of the step budget ({phase.share:g} x {steps} steps)"
    return None


def _share_used(state: TrainingState, phase: Adam | LBFGS, start_t: float) -> bool:
    seconds = state.config.budget.seconds
    return phase.share is not None and seconds is not None and state.clock.elapsed() - start_t >= phase.share * seconds


def _deadline(state: TrainingState, phase: Adam | LBFGS) -> Callable[[], bool] | None:
    """What an iteration of ``phase`` asks before each loss evaluation: has the run's time budget or the
    phase's share of it run out? The same tests as ``_iterate`` makes between iterations, so an iteration
    cut short is followed by the end of the phase. None under a step budget alone (no clock is read)."""
    if state.config.budget.seconds is None:
        return None
    start_t = state.phase_start[1] if state.phase_start is not None else state.clock.elapsed()

    def passed() -> bool:
        return state.time_spent() or _share_used(state, phase, start_t)

    return passed
