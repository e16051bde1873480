"""The training loop: runs a schedule of phases on a surrogate within a budget and says why it stopped.

A ``Trainer`` pairs a ``TrainingConfig`` (what the run is asked to do; frozen) with a ``TrainingState``
(what changes as it trains; see ``kanpde.solvers.training_state``). ``run`` goes through the schedule in
named steps: ``_run_phase`` hands each phase to its runner (``kanpde.solvers.optimize`` for ``Adam`` and
``LBFGS``, ``kanpde.solvers.restructure`` for the phases that change the model or the points), ``_outcome``
turns the way the schedule ended into a ``Status``. The history is written by ``TrainingState.record``.
"""

from __future__ import annotations

import json
import logging

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
        last_optimizer = self._last_optimizer(schedule)  # the last Adam or LBFGS phase that ran
        for i in range(state.phase_index, n):
            phase = schedule[i]
            spent = state.budget_spent()
            if spent is not None:
                ended = Status(spent.kind, f"{spent.message} before phase {i + 1} of {n} ({phase.label})")
                return self._outcome(ended, last_optimizer, n)
            state.phase_index = i
            state.running = self._report(phase)
            report = state.running
            report.status = self._run_phase(phase, report)
            report.end_step, report.end_t = state.step, state.clock.elapsed()
            state.phases.append(report)
            state.running = None
            state.phase_index = i + 1
            state.record_event({"event": "phase_end", "phase": phase.label, "status": report.status})
            logger.info("phase %d/%d %s: %s", i + 1, n, phase.label, report.status)
            if isinstance(phase, (Adam, LBFGS)):
                last_optimizer = (i, report)
            state.checkpoint(force=True)
        ended = state.budget_spent() or Status(StatusKind.COMPLETE, f"schedule complete ({n} phases)")
        return self._outcome(ended, last_optimizer, n)

    def _report(self, phase: Phase) -> PhaseReport:
        """A new report for ``phase``, or the one a resumed run was in the middle of."""
        state = self.state
        if state.pending is not None:
            return PhaseReport.from_dict(json.loads(state.pending["report"]))
        return PhaseReport(phase.label, state.step, state.clock.elapsed(), state.model.grid)

    def _last_optimizer(self, schedule: tuple[Phase, ...]) -> tuple[int, PhaseReport] | None:
        """The last finished Adam or LBFGS phase (a resumed run has some), as ``(index, report)``."""
        done = [(i, r) for i, r in enumerate(self.state.phases) if isinstance(schedule[i], (Adam, LBFGS))]
        return done[-1] if done else None

    def _run_phase(self, phase: Phase, report: PhaseReport) -> str:
        """Run one phase with its runner; returns why it stopped, in words."""
        for kind, runner in _RUNNERS:
            if isinstance(phase, kind):
                return runner(self.state, phase, report)
        names = ", ".join(kind.__name__ for kind, _ in _RUNNERS)
        raise DefinitionError(f"schedule entries must be {names}; got {phase!r}. Check it with check_schedule")

    @staticmethod
    def _outcome(ended: Status, last_optimizer: tuple[int, PhaseReport] | None, n: int) -> Status:
        """How the run ended: ``ended`` (the schedule completed, or the budget ran out), unless the last
        optimizer phase that ran stopped on a non-finite loss: then training stopped there."""
        if last_optimizer is None or not last_optimizer[1].non_finite:
            return ended
        i, report = last_optimizer
        return Status(StatusKind.NON_FINITE, f"{report.status} (phase {i + 1} of {n}, {report.phase}); {ended.message}")
