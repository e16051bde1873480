"""The training loop: runs a schedule of phases on a surrogate within a budget and says why it stopped.

A ``Trainer`` pairs a ``TrainingConfig`` (what the run is asked to do; frozen) with a ``TrainingState``
(what changes as it trains; see ``kanpde.solvers.training_state``). ``run`` goes through the schedule in
named steps: ``_run_phase`` hands each phase to its runner (``kanpde.solvers.optimize`` for ``Adam`` and
``LBFGS``, ``kanpde.solvers.restructure`` for the phases that change the model or the points), ``_outcome``
turns the way the schedule ended into a ``Status``. The history is written by ``TrainingState.record``.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import replace

import torch

from kanpde.errors import DefinitionError
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.loss import Collocation
from kanpde.pinn.surrogate import Surrogate
from kanpde.solvers import optimize, restructure
from kanpde.solvers.phases import LBFGS, Adam, Phase, Prune, Refine, Resample, Symbolize, UpdateGrid
from kanpde.solvers.progress import Progress
from kanpde.solvers.training_state import Budget, Clock, PhaseReport, TrainingConfig, TrainingState

__all__ = ["Trainer", "TrainingConfig", "TrainingState", "Budget", "Clock", "PhaseReport"]

logger = logging.getLogger("kanpde")

COLLAPSE = 0.5
"""A phase with a sparsity penalty that ends with the loss of the fit above this fraction of where it began
has collapsed the network (``Trainer._sparse_checked``)."""

_RUNNERS = (
    (Adam, optimize.run_adam),
    (LBFGS, optimize.run_lbfgs),
    (Refine, restructure.refine),
    (UpdateGrid, restructure.update_grid),
    (Resample, restructure.resample),
    (Prune, restructure.prune),
    (Symbolize, restructure.symbolize),
)


class Trainer:
    """Trains ``model`` on ``config.problem``'s loss at the points ``colloc``, under ``config``.

    The derivative plan is found here, before any training (``TrainingState.start``); ``run`` trains and
    returns the ``Status``; afterwards ``state`` holds the trained model, the history and the counters.
    """

    def __init__(self, config: TrainingConfig, model: Surrogate, colloc: Collocation) -> None:
        self.config = config
        self.state = TrainingState.start(config, model, colloc)

    def run(self, schedule: tuple[Phase, ...]) -> Status:
        """Run the phases in order until they are done or the budget is spent; returns why it stopped."""
        state, budget = self.state, self.config.budget
        if any(isinstance(p, Adam) for p in schedule):
            _load_optimizer_modules()
        if not state.resumed:
            state.clock = Clock()
        state.progress = Progress(
            budget.seconds if budget.seconds is not None else float(budget.steps or 0),
            "s" if budget.seconds is not None else "steps",
            enabled=self.config.progress,
        )
        try:
            state.prepare_model()
            if not state.resumed:  # a resumed run has its snapshot back
                state.take_snapshot()
            status = self._run_schedule(schedule)
            state.record(force_eval=True)
            state.checkpoint(force=True)
        finally:
            state.progress.close()
            state.progress = None
        return status

    def _run_schedule(self, schedule: tuple[Phase, ...]) -> Status:
        state, n = self.state, len(schedule)
        for i in range(state.phase_index, n):
            phase = schedule[i]
            if state.budget_spent() is not None:
                break
            state.phase_index = i
            state.running = self._report(phase)
            report = state.running
            report.status = self._run_phase(phase, report)
            report.end_step, report.end_t = state.step, state.clock.elapsed()
            state.phases.append(report)
            state.running = None
            state.phase_index = i + 1
            if isinstance(phase, (Adam, LBFGS)):
                state.record(phase=phase.label, force_eval=True)  # the error where the phase ended
            state.record_event({"event": "phase_end", "phase": phase.label, "status": report.status})
            logger.info("phase %d/%d %s: %s", i + 1, n, phase.label, report.status)
            state.checkpoint(force=True)
        return self._outcome(schedule)

    def _report(self, phase: Phase) -> PhaseReport:
        """A new report for ``phase``, or the one a resumed run was in the middle of."""
        state = self.state
        if state.pending is not None:
            return PhaseReport.from_dict(json.loads(state.pending["report"]))
        return PhaseReport(phase.label, state.step, state.clock.elapsed(), state.model.grid)

    def _run_phase(self, phase: Phase, report: PhaseReport) -> str:
        """Run one phase with its runner; returns why it stopped, in words. An optimizer phase with a
        sparsity penalty is checked (``_sparse_checked``)."""
        for kind, runner in _RUNNERS:
            if isinstance(phase, kind):
                if isinstance(phase, (Adam, LBFGS)) and phase.sparsity is not None and self.state.pending is None:
                    return self._sparse_checked(phase, report, runner)
                return runner(self.state, phase, report)
        names = ", ".join(kind.__name__ for kind, _ in _RUNNERS)
        raise DefinitionError(f"schedule entries must be {names}; got {phase!r}. Check it with check_schedule")

    def _sparse_checked(self, phase: Adam | LBFGS, report: PhaseReport, runner) -> str:
        """The self-check of a phase with a sparsity penalty: a penalty too strong for the problem drives
        the network to nothing before it fits anything. When the phase ends without having brought the
        loss of the fit (the penalty left out) below ``COLLAPSE`` times where it began, the network is
        rolled back to where the phase started and the phase runs again with a tenth of the weight, then,
        if that collapses too, without the penalty. The words say what happened."""
        state = self.state
        start_loss, start_model = state.plain_loss(), copy.deepcopy(state.model)
        words = []
        weight = phase.sparsity.weight
        for attempt in (
            phase,
            replace(phase, sparsity=replace(phase.sparsity, weight=weight / 10)),
            replace(phase, sparsity=None),
        ):
            status = runner(state, attempt, report)
            loss = state.plain_loss()
            if loss <= COLLAPSE * start_loss or report.non_finite or attempt.sparsity is None or state.time_spent():
                break
            what = f"weight {attempt.sparsity.weight:g}"
            words.append(
                f"the sparsity penalty ({what}) collapsed the fit (loss {start_loss:.3e} -> {loss:.3e}); rolled back"
            )
            state.model = copy.deepcopy(start_model)
            state.prepare_model()
            state.take_snapshot()
            state.record_event({"event": "rolled_back", "phase": phase.label, "loss": loss, "start_loss": start_loss})
        if words:
            report.details["rolled_back"] = words
            used = "no penalty" if attempt.sparsity is None else f"weight {attempt.sparsity.weight:g}"
            return "; ".join(words) + f"; ran again with {used}: {status}"
        return status

    def _outcome(self, schedule: tuple[Phase, ...]) -> Status:
        """How the run ended, in words that also say why its last optimizer phase stopped when that was
        early (``Status.stop_reason`` holds that phase's own words): the budget ran out during a phase or
        before one, or the schedule completed; unless the last optimizer phase that ran stopped on a
        non-finite loss: then training stopped there, and the words say so first."""
        state, n = self.state, len(schedule)
        ran = state.phases  # the phases that ran, in schedule order (a resumed run has its earlier ones)
        last = ran[-1] if ran else None
        budget = self.config.budget.ended(last.status) if last is not None else None  # it stopped the last phase
        spent = state.budget_spent() if len(ran) < n else None  # it ran out between phases
        if budget is not None:
            kind, words = budget.kind, f"{budget.message} during phase {len(ran)} of {n} ({_label(last)})"
        elif spent is not None:
            kind, words = spent.kind, f"{spent.message} before phase {len(ran) + 1} of {n} ({schedule[len(ran)].label})"
        else:
            kind, words = StatusKind.COMPLETE, f"schedule complete ({n} phases)"
        if kind is StatusKind.TIME_BUDGET:
            words += f" after {state.step} steps"
        optimizers = [i for i in range(len(ran)) if isinstance(schedule[i], (Adam, LBFGS))]
        if not optimizers:
            return Status(kind, words)
        i = optimizers[-1]
        phase, report = schedule[i], ran[i]
        if report.non_finite:
            words = f"{report.status} (phase {i + 1} of {n}, {report.phase}); {words}"
            return Status(StatusKind.NON_FINITE, words, report.status)
        if budget is None and report.status != optimize.completed(phase):  # it stopped early, for its own reason
            words += f"; the last optimizer phase ({i + 1} of {n}, {_label(report)}) stopped: {report.status}"
        return Status(kind, words, report.status)


def _label(report: PhaseReport) -> str:
    """A phase as the words of a status name it: ``lbfgs on grid 20`` (KAN) or ``adam``."""
    return report.phase if report.grid is None else f"{report.phase} on grid {report.grid}"


def _load_optimizer_modules() -> None:
    """Build a throwaway Adam so torch's lazy imports behind it (its compile machinery, seconds on a
    first use) happen before the clock starts, not inside the first phase's budget."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
