"""The training loop: runs a schedule of phases on a surrogate within a budget and records what happened.

Split into named steps: ``_run_phase`` dispatches, ``_optimize`` drives an optimizer phase one
iteration at a time (budget, stall and non-finite checks between iterations), ``_refine`` and
``_update_grid`` change a KAN's grid, ``_record`` appends to the history.

Budget: time counts the training loop (sampling a mini-batch, optimizer work, grid changes); the error
evaluations logged in the history are excluded (the clock is paused for them).
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from kanpde.pinn.loss import Collocation, DerivativePlan, ResidualReduce, loss_terms, residual_values, total_loss
from kanpde.metrics import rel_l2
from kanpde.pde.problem import Problem
from kanpde.interpret.pruning import pruned, sparsity_penalty
from kanpde.solvers.progress import Progress
from kanpde.pinn.surrogate import Surrogate

from kanpde.solvers.lbfgs import LBFGSOptimizer
from kanpde.solvers.phases import LBFGS, Adam, Phase, Prune, Refine, Resample, Sparsity, Symbolize, UpdateGrid
from kanpde.solvers.weighting import Balance

__all__ = ["Trainer", "Clock", "Budget"]

logger = logging.getLogger("kanpde")


class Clock:
    """Training time: wall time since start minus the time spent inside ``paused()``."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self._start - self._paused

    @contextmanager
    def paused(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - t0


@dataclass(frozen=True)
class Budget:
    """How long to train: ``seconds`` of training time and/or ``steps`` optimizer iterations."""

    seconds: float | None = None
    steps: int | None = None

    def describe(self) -> str:
        parts = ([f"{self.seconds:g} s"] if self.seconds is not None else []) + ([f"{self.steps} steps"] if self.steps is not None else [])
        return " / ".join(parts)


@dataclass
class PhaseReport:
    """One phase as it ran: its kind, where it started and ended, and why it stopped."""

    phase: str
    start_step: int
    start_t: float
    grid: int | None
    end_step: int = 0
    end_t: float = 0.0
    status: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "phase": self.phase,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "start_t": round(self.start_t, 4),
            "end_t": round(self.end_t, 4),
            "status": self.status,
        }
        if self.grid is not None:
            out["grid"] = self.grid
        out.update(self.details)
        return out


class Trainer:
    """Trains ``model`` on ``problem``'s loss at the points ``colloc`` within ``budget``.

    Args:
        eval_x, eval_ref: points (m, d) and reference values (m, c) for the rel_l2 logged in the
            history (None to log none).
        eval_every: seconds of training time between logged errors (phase ends are always logged).
        record_every: steps between history entries (phase ends and events are always recorded).
        generator: drives mini-batch sampling.
        reduce: how the residuals become the residual term (``loss_terms``); None: their mean square.
        balance: gradient-norm balancing of the condition terms during Adam phases (None: off).
    """

    def __init__(
        self,
        problem: Problem,
        model: Surrogate,
        colloc: Collocation,
        budget: Budget,
        *,
        generator: torch.Generator,
        plan: DerivativePlan | None = None,
        eval_x: Tensor | None = None,
        eval_ref: Tensor | None = None,
        eval_every: float = 5.0,
        record_every: int = 10,
        progress: Progress | None = None,
        compile: bool = False,
        seed: int = 0,
        n_boundary: int | None = None,
        reduce: ResidualReduce | None = None,
        balance: Balance | None = None,
    ) -> None:
        self.problem, self.model, self.colloc, self.budget = problem, model, colloc, budget
        self.generator = generator
        self.plan = plan
        self.eval_x, self.eval_ref = eval_x, eval_ref
        self.eval_every, self.record_every = eval_every, record_every
        self.progress = progress
        self.compile = compile
        self.compile_s = 0.0
        self.seed, self.n_boundary, self._draws = seed, n_boundary, 0
        self.reduce, self.balance = reduce, balance
        self.term_weights: dict[str, float] = {}
        self.clock = Clock()
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.phases: list[PhaseReport] = []
        self.status = ""
        self.last_loss = math.nan
        self._last_eval_t = -math.inf
        self._last_rel_l2: float | None = None
        self._snapshot: list[Tensor] = []
        self._sparsity: tuple[Sparsity, Tensor] | None = None  # the phase's penalty and the network inputs it is taken at
        self._snapshot_step = 0

    # --- the schedule -------------------------------------------------------------------------------
    def run(self, schedule: tuple[Phase, ...]) -> str:
        """Run the phases in order until they are done or the budget is spent; returns the status."""
        self.clock = Clock()
        self._prepare_model()
        self._take_snapshot()
        for i, phase in enumerate(schedule):
            spent = self._budget_spent()
            if spent:
                self.status = f"{spent} before phase {i + 1} of {len(schedule)} ({phase.label})"
                break
            report = PhaseReport(phase.label, self.step, self.clock.elapsed(), self.model.grid)
            report.status = self._run_phase(phase, report)
            report.end_step, report.end_t = self.step, self.clock.elapsed()
            self.phases.append(report)
            self._record_event({"event": "phase_end", "phase": phase.label, "status": report.status})
            logger.info("phase %d/%d %s: %s", i + 1, len(schedule), phase.label, report.status)
            self.status = report.status
        else:
            spent = self._budget_spent()
            self.status = spent or f"schedule complete ({len(schedule)} phases)"
        self._record(force_eval=True)
        return self.status

    def _run_phase(self, phase: Phase, report: PhaseReport) -> str:
        if isinstance(phase, Refine):
            return self._refine(phase, report)
        if isinstance(phase, UpdateGrid):
            return self._update_grid(phase, report)
        if isinstance(phase, Resample):
            return self._resample(phase, report)
        if isinstance(phase, Prune):
            return self._prune(phase, report)
        if isinstance(phase, Symbolize):
            return self._symbolize(phase, report)
        if isinstance(phase, Adam):
            return self._adam(phase, report)
        return self._lbfgs(phase, report)

    # --- optimizer phases -----------------------------------------------------------------------------
    def _closure_loss(self, colloc: Collocation, *, rebalance: bool = False) -> Tensor:
        """The loss at ``colloc``: the terms times the balance weights (updated first with ``rebalance``)."""
        terms = loss_terms(self.problem, self.model, colloc, self.plan, self.reduce)
        if self._sparsity is not None:
            spec, x = self._sparsity
            terms["sparsity"] = spec.weight * sparsity_penalty(self.model.net, x, entropy=spec.entropy)
        if rebalance and self.balance is not None and self.step % self.balance.every == 0:
            params = [p for p in self.model.parameters() if p.requires_grad]
            self.term_weights = self.balance.update(terms, params, self.term_weights)
        return total_loss({k: v * self.term_weights.get(k, 1.0) for k, v in terms.items()})

    def _backward(self, loss: Tensor) -> None:
        """Gradients of the loss for the parameters only (never for the collocation points)."""
        loss.backward(inputs=[p for p in self.model.parameters() if p.requires_grad])

    def _adam(self, phase: Adam, report: PhaseReport) -> str:
        opt = torch.optim.Adam(self.model.parameters(), lr=phase.lr)
        decay = (phase.final_lr / phase.lr) ** (1.0 / phase.steps) if phase.final_lr and phase.steps else 1.0
        fraction = None
        if phase.batch is not None and phase.batch < self.colloc.interior.shape[0]:
            fraction = phase.batch / self.colloc.interior.shape[0]

        def iteration() -> tuple[float, str | None]:
            colloc = self.colloc if fraction is None else self.colloc.subset(fraction, self.generator)
            opt.zero_grad(set_to_none=True)
            loss = self._closure_loss(colloc, rebalance=True)
            value = float(loss.detach())
            if not math.isfinite(value):
                return value, None
            self._take_snapshot()
            self._backward(loss)
            opt.step()
            for group in opt.param_groups:
                group["lr"] *= decay
            return value, None

        if fraction is not None:
            report.details["batch"] = phase.batch
        return self._optimize(phase, report, iteration)

    def _lbfgs(self, phase: LBFGS, report: PhaseReport) -> str:
        opt = LBFGSOptimizer(self.model.parameters(), history=phase.history, lr=phase.lr, max_evals=phase.max_evals)

        def closure() -> Tensor:
            for p in opt.params:
                p.grad = None
            loss = self._closure_loss(self.colloc)
            self._backward(loss)
            return loss

        best: list[float] = []
        held = getattr(self.reduce, "held", None)  # loss weights that follow the model (Causal), held per line search

        def iteration() -> tuple[float, str | None]:
            if held is not None and self.reduce.refresh():  # they drifted: new ones at the start point
                opt.objective_changed()
            result = opt.step(closure)
            if math.isfinite(result.loss):
                self._take_snapshot()
            best.append(min(result.loss, best[-1]) if best else result.loss)
            stop = result.stop
            if stop is None and phase.stall_tol > 0 and len(best) > phase.stall_window:
                old, new = best[-phase.stall_window - 1], best[-1]
                if old - new <= phase.stall_tol * abs(old):
                    stop = f"stalled: best loss improved by less than {phase.stall_tol:g} (relative) over {phase.stall_window} iterations"
            return result.loss, stop

        with held() if held is not None else nullcontext():
            status = self._optimize(phase, report, iteration)
        report.details.update({"evals": opt.evals, "skipped_pairs": opt.skipped_pairs, "restarts": opt.restarts})
        if opt.skipped_pairs:
            logger.info("L-BFGS skipped %d curvature pairs with y.s <= 0 (not positive definite)", opt.skipped_pairs)
        return status

    def _optimize(self, phase: Adam | LBFGS, report: PhaseReport, iteration: Callable[[], tuple[float, str | None]]) -> str:
        """Call ``iteration`` until the phase's or the solve's limits stop it; returns why it stopped."""
        start_t, start_step = self.clock.elapsed(), self.step
        spec = phase.sparsity  # its network inputs are fixed for the phase (no parameters in them): computed once
        self._sparsity = None if spec is None else (spec, self.model.features(self.colloc.interior[: spec.points].detach()))
        try:
            return self._iterate(phase, iteration, start_t, start_step)
        finally:
            self._sparsity = None

    def _iterate(self, phase: Adam | LBFGS, iteration: Callable[[], tuple[float, str | None]], start_t: float, start_step: int) -> str:
        while True:
            limit = self._phase_limit(phase, start_t, start_step) or self._budget_spent()
            if limit:
                return limit
            loss, stop = iteration()
            if not math.isfinite(loss):
                self._restore_snapshot()
                return f"non-finite loss ({loss}) at step {self.step + 1}; rolled back to the state of step {self._snapshot_step}"
            self.step += 1
            self.last_loss = loss
            self._record(phase=phase.label)
            if stop:
                return stop

    def _phase_limit(self, phase: Adam | LBFGS, start_t: float, start_step: int) -> str | None:
        if phase.steps is not None and self.step - start_step >= phase.steps:
            return f"completed {phase.steps} steps"
        if phase.share is not None and self.budget.seconds is not None:
            limit = phase.share * self.budget.seconds
            if self.clock.elapsed() - start_t >= limit:
                return f"used its share of the time budget ({phase.share:g} x {self.budget.seconds:g} s)"
        return None

    def _budget_spent(self) -> str | None:
        if self.budget.seconds is not None and self.clock.elapsed() >= self.budget.seconds:
            return f"time budget of {self.budget.seconds:g} s reached"
        if self.budget.steps is not None and self.step >= self.budget.steps:
            return f"step budget of {self.budget.steps} steps reached"
        return None

    # --- grid changes ------------------------------------------------------------------------------
    def _refine(self, phase: Refine, report: PhaseReport) -> str:
        old_grid = self.model.grid
        return self._replace_model(lambda: self.model.refined(phase.grid), "refine", f"grid {old_grid} -> {phase.grid}", report)

    def _update_grid(self, phase: UpdateGrid, report: PhaseReport) -> str:
        return self._replace_model(
            lambda: self.model.grid_updated(self.colloc.interior, eps=phase.eps), "update_grid", f"grid {self.model.grid} moved to the samples", report
        )

    def _prune(self, phase: Prune, report: PhaseReport) -> str:
        before = list(self.model.net.width)
        status = self._replace_model(lambda: pruned(self.model, phase.threshold, self.colloc.interior), "prune", "", report)
        report.details["width"] = list(self.model.net.width)
        return f"pruned edges and nodes scoring below {phase.threshold:g}: width {before} -> {self.model.net.width}{status}"

    def _symbolize(self, phase: Symbolize, report: PhaseReport) -> str:
        options = {"layers": phase.layers, "library": phase.library, "complexity_weight": phase.complexity_weight, "r2_floor": phase.r2_floor}
        choices: list[Any] = []

        def fixed() -> Surrogate:
            from kanpde.interpret.formulas import symbolized  # sympy, loaded when a schedule fixes symbols

            model, made = symbolized(self.model, self.colloc.interior, **options)
            choices.extend(made)
            return model

        status = self._replace_model(fixed, "symbolize", "", report)
        report.details["edges"] = [c.as_dict() for c in choices]
        names = ", ".join(f"{c.fit.name}" for c in choices)
        return f"fixed {len(choices)} edges to symbols ({names or 'none left'}){status}"

    def _resample(self, phase: Resample, report: PhaseReport) -> str:
        self._draws += 1
        x = self.colloc.interior
        n = phase.n_interior or x.shape[0]
        rng = np.random.default_rng([self.seed, self._draws])
        colloc = Collocation.sample(
            self.problem, seed=rng, dtype=x.dtype, device=x.device, n_interior=n,
            n_boundary=phase.n_boundary or self.n_boundary, conditions=self.colloc.conditions,
        )
        how = "fresh"
        if phase.adaptive:
            colloc = Collocation(self._residual_sample(phase, n, rng), colloc.boundary)
            how = "residual-weighted (RAD)"
        self.colloc = colloc
        report.details["collocation"] = self.colloc.sizes
        self._record_event({"event": "resample", "adaptive": phase.adaptive, "collocation": self.colloc.sizes})
        return f"drew {n} {how} interior points (draw {self._draws})"

    def _residual_sample(self, phase: Resample, n: int, rng: np.random.Generator) -> Tensor:
        """n interior points picked from ``phase.candidates * n`` uniform ones with p ~ |r|^k / mean + c."""
        x = self.colloc.interior
        cand = torch.as_tensor(self.problem.domain.sample(phase.candidates * n, method="random", seed=rng), dtype=x.dtype, device=x.device)
        spec = self.plan.interior if self.plan is not None else None
        r = torch.cat([
            residual_values(self.problem, self.model, c.detach().requires_grad_(True), spec).detach().norm(dim=1)
            for c in torch.split(cand, 8192)
        ])
        weight = r.pow(phase.k)
        p = weight / weight.mean().clamp_min(1e-300) + phase.c
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        idx = torch.multinomial(p.cpu(), n, replacement=False, generator=gen).to(x.device)
        return cand[idx].detach().requires_grad_(True)

    def _replace_model(self, build: Callable[[], Surrogate], event: str, what: str, report: PhaseReport) -> str:
        x = self.colloc.interior.detach()
        with torch.no_grad():
            before = self.model(x)
            new = build()
            after = new(x)
        fit_error = float((after - before).abs().max() / before.abs().max().clamp_min(1e-300))
        self.model = new
        self._prepare_model()
        self._take_snapshot()
        report.details["fit_error"] = fit_error
        self._record_event({"event": event, "grid": new.grid, "fit_error": fit_error})
        return f"{what}; relative {'fit ' if what else ''}error {fit_error:.2e} on the collocation points"

    def _prepare_model(self) -> None:
        """With ``compile``, compile the one-pass network evaluation of the current model and warm it up
        (forward and backward) so the compile time is spent, and counted, here."""
        if not self.compile or self.plan is None or self.plan.interior is None:
            return
        t0 = time.perf_counter()
        self.model.forward_jet = torch.compile(self.model.forward_jet, dynamic=False)  # type: ignore[method-assign]
        params = [p for p in self.model.parameters() if p.requires_grad]
        torch.autograd.grad(self._closure_loss(self.colloc), params)
        self.compile_s += time.perf_counter() - t0
        logger.info("compiled the one-pass network evaluation in %.1f s", time.perf_counter() - t0)

    # --- snapshots -------------------------------------------------------------------------------------
    def _take_snapshot(self) -> None:
        self._snapshot = [p.detach().clone() for p in self.model.parameters()]
        self._snapshot_step = self.step

    def _restore_snapshot(self) -> None:
        with torch.no_grad():
            for p, saved in zip(self.model.parameters(), self._snapshot):
                p.copy_(saved)

    # --- history ------------------------------------------------------------------------------------------
    def _record(self, phase: str | None = None, *, force_eval: bool = False) -> None:
        t = self.clock.elapsed()
        due_eval = self.eval_x is not None and (force_eval or t - self._last_eval_t >= self.eval_every)
        if not (force_eval or due_eval or self.step % self.record_every == 0):
            return
        entry: dict[str, Any] = {"step": self.step, "t": round(t, 4), "loss": self.last_loss, "phase": phase or (self.phases[-1].phase if self.phases else None)}
        if self.model.grid is not None:
            entry["grid"] = self.model.grid
        if self.term_weights:
            entry["term_weights"] = dict(self.term_weights)
        if hasattr(self.reduce, "last_min_weight"):
            entry["causal_min_weight"] = self.reduce.last_min_weight
        if due_eval:
            with self.clock.paused():
                entry["rel_l2"] = self._last_rel_l2 = self.evaluate_rel_l2()
            self._last_eval_t = t
        self.history.append(entry)
        if self.progress is not None:
            done = t if self.budget.seconds is not None else self.step
            self.progress.update(done, loss=self.last_loss, rel_l2=self._last_rel_l2, phase=entry["phase"], grid=self.model.grid)

    def _record_event(self, event: dict[str, Any]) -> None:
        self.history.append({"step": self.step, "t": round(self.clock.elapsed(), 4), **event})

    def evaluate_rel_l2(self) -> float:
        """Relative L2 error of the current model on the evaluation points."""
        assert self.eval_x is not None and self.eval_ref is not None
        with torch.no_grad():
            pred = torch.cat([self.model(chunk) for chunk in torch.split(self.eval_x, 16384)])
        return rel_l2(pred, self.eval_ref)
