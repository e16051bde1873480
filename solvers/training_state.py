"""What a training run is given and what it changes: ``TrainingConfig`` (fixed for the run) and
``TrainingState`` (the model, the points, counters, the history), with the steps every phase shares.

Those shared steps are the loss at a set of points (``loss``), snapshots and the roll-back after a
non-finite loss (``take_snapshot``, ``restore_snapshot``), the budget check (``budget_spent``), the history
(``record``, ``record_event``) and the swap of a model for a changed one (``replace_model``). The phases
themselves run in ``kanpde.solvers.optimize`` and ``kanpde.solvers.restructure``; ``kanpde.solvers.training``
runs a schedule of them.

Budget: time counts the training loop (sampling a mini-batch, optimizer work, grid changes); the error
evaluations logged in the history are excluded (the clock is paused for them).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from kanpde.checks import is_int, is_real
from kanpde.errors import ConfigError, ShapeError
from kanpde.interpret.pruning import sparsity_penalty
from kanpde.io.status import Status, StatusKind
from kanpde.metrics import centered, rel_l2
from kanpde.pde.problem import Problem
from kanpde.pde.unknowns import bind
from kanpde.pinn.loss import (
    Collocation,
    DerivativePlan,
    Derivatives,
    Form,
    ResidualReduce,
    loss_terms,
    plan_derivatives,
    total_loss,
)
from kanpde.pinn.surrogate import Surrogate
from kanpde.solvers.checkpoint import Checkpointing
from kanpde.solvers.phases import Sparsity
from kanpde.solvers.progress import Progress
from kanpde.solvers.weighting import Balance, Causal, automatic_data_weights

__all__ = ["Budget", "TrainingConfig", "Clock", "PhaseReport", "TrainingState", "error_checkpoint"]

logger = logging.getLogger("kanpde")


def _check(cond: bool, field: str, value: object, expected: str) -> None:
    if not cond:
        raise ConfigError(f"{field} must be {expected}; got {value!r}")


ERRORS_PER_DECADE = 10


def error_checkpoint(step: int) -> bool:
    """Whether the history logs the error at ``step``: at the steps ``round(10 ** (k / 10))``, k = 0, 1, ...
    (1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 79, 100, 126, ...: ten per decade, so a
    run of 10,000 steps logs 38 errors besides those at phase ends). A rule on step numbers, never on
    time, so the same seed and step budget give the same history."""
    if step < 1:
        return False
    k = round(ERRORS_PER_DECADE * math.log10(step))
    return any(round(10 ** (j / ERRORS_PER_DECADE)) == step for j in (k - 1, k, k + 1))


@dataclass(frozen=True)
class Budget:
    """How long to train: ``seconds`` of training time and/or ``steps`` optimizer iterations (None: no
    limit of that kind; with neither, every phase of the schedule must end by itself)."""

    seconds: float | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        seconds, steps = self.seconds, self.steps
        _check(seconds is None or (is_real(seconds) and seconds > 0), "Budget.seconds", seconds, "a number > 0 or None")
        _check(steps is None or (is_int(steps) and steps >= 1), "Budget.steps", steps, "an int >= 1 or None")

    def describe(self) -> str:
        parts = [f"{self.seconds:g} s"] if self.seconds is not None else []
        return " / ".join(parts + ([f"{self.steps} steps"] if self.steps is not None else []))

    def spent(self, seconds: float, steps: int) -> Status | None:
        """The status that ends a run after ``seconds`` of training and ``steps`` iterations, or None."""
        time, step = self._ends()
        if time is not None and seconds >= self.seconds:
            return time
        if step is not None and steps >= self.steps:
            return step
        return None

    def ended(self, words: str) -> Status | None:
        """The status of this budget whose message is ``words`` (the words a phase it stopped ends with), or None."""
        return next((s for s in self._ends() if s is not None and s.message == words), None)

    def _ends(self) -> tuple[Status | None, Status | None]:
        """The statuses this budget ends a run with: (time, steps); None for a limit it does not set."""
        time = step = None
        if self.seconds is not None:
            time = Status(StatusKind.TIME_BUDGET, f"time budget of {self.seconds:g} s reached")
        if self.steps is not None:
            step = Status(StatusKind.STEP_BUDGET, f"step budget of {self.steps} steps reached")
        return time, step


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainingConfig:
    """What a training run is asked to do; nothing in it changes while the run goes.

    * problem: whose loss is trained; budget: when to stop (a ``Budget``).
    * seed: seeds the mini-batches and the points drawn by ``Resample`` phases.
    * derivatives: how the loss terms get their derivatives, a ``Derivatives`` (front doors such as
      ``solve`` convert the names).
    * eval_x, eval_ref: points (m, d) and reference values (m, c) for the rel_l2 logged in the history
      (eval_centered: columns compared after removing their means, ``Problem.up_to_constant``)
      (both None: none logged). Errors are logged at fixed steps (``error_checkpoint``: 1, 2, 3, 4, 5, 6,
      8, 10, then ten per decade), at the end of every optimizer phase and at the end of the run, so a
      seed and a step budget give the same history; eval_every: seconds of training between further
      logged errors (None, the default: none; 0: at every step), for plots against time at the cost of a
      history that depends on timing. record_every: steps between history entries (phase ends and events
      are always recorded).
    * n_boundary: points per condition drawn by ``Resample`` (None: the problem's count); n_interior: the
      interior count asked of ``solve`` (None: the problem's), which a ``Resample`` of the energy form's
      quadrature asks for again (its rule holds more points once interface cells are split).
    * causal: causal weighting of the residual (a ``Causal``; the problem needs a time axis named t);
      balance: gradient-norm balancing of the condition terms in Adam phases (a ``Balance``).
    * compile: compile the one-pass network evaluation (``torch.compile``; the time counts in the budget).
    * form: the loss's form (``Form.STRONG``: residuals; ``Form.ENERGY``: the integral of the energy, with
      quadrature weights on the points).
    * progress: a progress display (None: a bar on a terminal, log lines otherwise; False: nothing).
    """

    problem: Problem
    budget: Budget
    seed: int = 0
    derivatives: Derivatives = Derivatives.AUTO
    eval_x: Tensor | None = None
    eval_ref: Tensor | None = None
    eval_centered: tuple[int, ...] = ()
    eval_every: float | None = None
    record_every: int = 10
    n_boundary: int | None = None
    n_interior: int | None = None
    causal: Causal | None = None
    balance: Balance | None = None
    compile: bool = False
    progress: bool | None = None
    form: Form = Form.STRONG

    def __post_init__(self) -> None:
        seed, every, record, n_boundary = self.seed, self.eval_every, self.record_every, self.n_boundary
        fields = (  # (field, whether its value is good, what is expected)
            ("problem", isinstance(self.problem, Problem), "a kanpde.Problem"),
            ("budget", isinstance(self.budget, Budget), "a Budget(seconds=..., steps=...)"),
            ("seed", is_int(seed) and seed >= 0, "an int >= 0"),
            (
                "derivatives",
                isinstance(self.derivatives, Derivatives),
                "a kanpde.pinn.loss.Derivatives (Derivatives.parse converts a name such as 'jet')",
            ),
            (
                "eval_every",
                every is None or (is_real(every) and every >= 0),
                "None (errors at fixed steps only) or a number of seconds >= 0 (0: at every step)",
            ),
            ("record_every", is_int(record) and record >= 1, "an int >= 1"),
            (
                "n_boundary",
                n_boundary is None or (is_int(n_boundary) and n_boundary >= 1),
                "an int >= 1 or None (the problem's count)",
            ),
            ("causal", self.causal is None or isinstance(self.causal, Causal), "a kanpde.solvers.Causal or None"),
            ("balance", self.balance is None or isinstance(self.balance, Balance), "a kanpde.solvers.Balance or None"),
            ("compile", isinstance(self.compile, bool), "True or False"),
            ("form", isinstance(self.form, Form), "a kanpde.pinn.loss.Form (Form.parse converts 'energy')"),
            (
                "progress",
                self.progress is None or isinstance(self.progress, bool),
                "True, False or None (a bar on a terminal only)",
            ),
        )
        for name, good, expected in fields:
            _check(good, f"TrainingConfig.{name}", getattr(self, name), expected)
        self._check_eval()
        if self.causal is not None:
            self.causal.reducer(self.problem)  # the problem must have a time axis: an error names the fix

    def _check_eval(self) -> None:
        x, ref = self.eval_x, self.eval_ref
        if x is None and ref is None:
            return
        _check(
            isinstance(x, Tensor) and isinstance(ref, Tensor),
            "TrainingConfig.eval_x and eval_ref",
            (x, ref),
            "both tensors or both None (no errors logged)",
        )
        if x.ndim != 2 or ref.ndim != 2 or x.shape[0] != ref.shape[0]:
            raise ShapeError(
                f"TrainingConfig.eval_x must be (m, d) points and eval_ref (m, c) values at them; got shapes "
                f"{tuple(x.shape)} and {tuple(ref.shape)}"
            )


class Clock:
    """Training time: wall time since start minus the time spent inside ``paused()``, plus ``offset`` (the
    training time of the run this one resumes)."""

    def __init__(self, offset: float = 0.0) -> None:
        self._start = time.perf_counter()
        self._paused = 0.0
        self._offset = offset

    def elapsed(self) -> float:
        return time.perf_counter() - self._start - self._paused + self._offset

    @contextmanager
    def paused(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - t0


@dataclass
class PhaseReport:
    """One phase as it ran: its kind, where it started and ended, and why it stopped (``status``, words).

    non_finite: it ended on a non-finite loss (the model was rolled back); kept out of ``as_dict``.
    """

    phase: str
    start_step: int
    start_t: float
    grid: int | None
    end_step: int = 0
    end_t: float = 0.0
    status: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    non_finite: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PhaseReport:
        """The report back from ``as_dict`` (plus ``non_finite``), as a checkpoint stores it."""
        known = ("phase", "start_step", "end_step", "start_t", "end_t", "status", "grid", "non_finite")
        return cls(
            d["phase"],
            d["start_step"],
            d["start_t"],
            d.get("grid"),
            d["end_step"],
            d["end_t"],
            d["status"],
            {k: v for k, v in d.items() if k not in known},
            d.get("non_finite", False),
        )

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


@dataclass(eq=False)
class TrainingState:
    """What changes while a run trains, beside the ``config`` it trains under (which does not).

    model: the surrogate (replaced by a new one when a phase changes its structure). colloc: the
    collocation points (replaced by ``Resample``). plan: the derivative plan, found once at the start.
    generator: draws the mini-batches. reduce: how the residuals become the residual term (None: their
    mean square; ``Causal.reducer`` gives one that holds weights).
    step: optimizer iterations so far; last_loss: the loss of the latest one. history, phases: what the
    run records. term_weights: the balancing weights. clock: training time. snapshot: the parameters of
    the last state whose loss was seen finite, and ``snapshot_step`` its step. Build one with ``start``.
    """

    config: TrainingConfig
    model: Surrogate
    colloc: Collocation
    plan: DerivativePlan
    generator: torch.Generator
    reduce: ResidualReduce | None = None
    step: int = 0
    last_loss: float = math.nan
    history: list[dict[str, Any]] = field(default_factory=list)
    phases: list[PhaseReport] = field(default_factory=list)
    term_weights: dict[str, float] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)
    compile_s: float = 0.0
    draws: int = 0
    progress: Progress | None = None
    snapshot: list[Tensor] = field(default_factory=list)
    snapshot_step: int = 0
    sparsity: tuple[Sparsity, Tensor] | None = None  # an optimizer phase's penalty, and the network inputs it is at
    last_eval_t: float = -math.inf
    last_rel_l2: float | None = None
    checkpointing: Checkpointing | None = None
    phase_index: int = 0  # the phase running (or next to run)
    optimizer: Callable[[], dict[str, Any]] | None = None  # the running optimizer phase's state, for checkpoints
    phase_start: tuple[int, float] | None = None  # (step, training seconds) at which that phase started
    pending: dict[str, Any] | None = None  # a resumed run's optimizer state, for the phase it resumes in
    resumed: list[dict[str, Any]] = field(default_factory=list)
    running: PhaseReport | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "model":  # the problem's unknowns read the model being trained, whichever that is now
            bind(self.config.problem, value.unknowns)

    @classmethod
    def start(cls, config: TrainingConfig, model: Surrogate, colloc: Collocation) -> TrainingState:
        """The state before the first phase: the derivative plan found for ``model`` at ``colloc`` (an
        error here if ``Derivatives.JET`` cannot carry a term), the mini-batch generator seeded with
        ``config.seed``, and the causal reduction when ``config.causal`` asks for one."""
        plan = plan_derivatives(config.problem, model, colloc, config.derivatives, config.form)
        reduce = config.causal.reducer(config.problem) if config.causal is not None else None
        state = cls(config, model, colloc, plan, torch.Generator().manual_seed(config.seed), reduce)
        if config.problem.data:
            state.term_weights = state.initial_data_weights()
        return state

    def initial_data_weights(self, points: int = 2048) -> dict[str, float]:
        """The weights of the ``weight="auto"`` data terms (``automatic_data_weights``), from the current
        model on up to ``points`` interior points and all the other sets."""
        colloc = self.colloc
        if len(colloc.interior) > points:
            colloc = colloc.subset(points / len(colloc.interior), torch.Generator().manual_seed(self.config.seed))
        terms = loss_terms(self.config.problem, self.model, colloc, self.plan, form=self.config.form)
        return automatic_data_weights(terms, self.config.problem, self.trained("solution"))

    # --- the loss ---------------------------------------------------------------------------------------
    def loss(self, colloc: Collocation, *, rebalance: bool = False) -> Tensor:
        """The loss at ``colloc``: the terms times the balance weights (updated first with ``rebalance``)."""
        terms = loss_terms(self.config.problem, self.model, colloc, self.plan, self.reduce, self.config.form)
        if self.sparsity is not None:
            spec, x = self.sparsity
            terms["sparsity"] = spec.weight * sparsity_penalty(self.model.net, x, entropy=spec.entropy)
        balance = self.config.balance
        if rebalance and balance is not None and self.step % balance.every == 0:
            params = [p for p in self.model.parameters() if p.requires_grad]
            self.term_weights = balance.update(terms, params, self.term_weights)
        return total_loss({k: v * self.term_weights.get(k, 1.0) for k, v in terms.items()})

    def plain_loss(self, colloc: Collocation | None = None) -> float:
        """The loss without a sparsity penalty (what the fit itself costs) at ``colloc`` (default: all the
        collocation points), as a number: what the self-checks of a schedule compare."""
        saved, self.sparsity = self.sparsity, None
        try:
            return float(self.loss(self.colloc if colloc is None else colloc).detach())
        finally:
            self.sparsity = saved

    def backward(self, loss: Tensor, params: list[Tensor] | None = None) -> None:
        """Gradients of the loss for the parameters (``params``, default all trainable ones) only, never
        for the collocation points."""
        loss.backward(inputs=self.trained("all") if params is None else params)

    def trained(self, part: str) -> list[Tensor]:
        """The trainable parameters of ``part``: ``"all"``, ``"solution"`` (the network and its output
        transforms) or ``"unknowns"`` (an inverse problem's; empty without unknowns)."""
        unknowns = self.model.unknowns
        held = set() if unknowns is None else {id(p) for p in unknowns.parameters()}
        params = [p for p in self.model.parameters() if p.requires_grad]
        if part == "solution":
            return [p for p in params if id(p) not in held]
        if part == "unknowns":
            return [p for p in params if id(p) in held]
        return params

    def budget_spent(self) -> Status | None:
        """The status that ends the run now that the budget is spent, or None while it lasts."""
        return self.config.budget.spent(self.clock.elapsed(), self.step)

    def time_spent(self) -> bool:
        """Whether the time budget is spent (never, without one): the test ``budget_spent`` makes first."""
        seconds = self.config.budget.seconds
        return seconds is not None and self.clock.elapsed() >= seconds

    # --- snapshots -------------------------------------------------------------------------------------
    def take_snapshot(self) -> None:
        self.snapshot = [p.detach().clone() for p in self.model.parameters()]
        self.snapshot_step = self.step

    def restore_snapshot(self) -> None:
        with torch.no_grad():
            for p, saved in zip(self.model.parameters(), self.snapshot):
                p.copy_(saved)

    # --- a changed model -------------------------------------------------------------------------------
    def replace_model(
        self,
        build: Callable[[], Surrogate],
        event: str,
        what: str,
        report: PhaseReport,
        limit: float | None = None,
    ) -> str | None:
        """Swap in ``build()`` (a model with a changed structure); record how far it moved the function on
        the collocation points. Returns the phase's status words; with a ``limit``, a model that moves it
        further (relative) is not swapped in: None, with ``fit_error`` and ``rolled_back`` in the report."""
        x = self.colloc.interior.detach()
        with torch.no_grad():
            before = self.model(x)
            new = build()
            after = new(x)
        fit_error = float((after - before).abs().max() / before.abs().max().clamp_min(1e-300))
        if limit is not None and fit_error > limit:
            report.details.update({"rolled_back": True, "fit_error": fit_error})
            self.record_event({"event": f"{event}_undone", "fit_error": fit_error})
            return None
        self.model = new
        self.prepare_model()
        self.take_snapshot()
        report.details["fit_error"] = fit_error
        self.record_event({"event": event, "grid": new.grid, "fit_error": fit_error})
        return f"{what}; relative {'fit ' if what else ''}error {fit_error:.2e} on the collocation points"

    def prepare_model(self) -> None:
        """With ``config.compile``, compile the one-pass network evaluation of the current model and warm
        it up (forward and backward) so the compile time is spent, and counted, here."""
        if not self.config.compile or self.plan.interior is None:
            return
        t0 = time.perf_counter()
        self.model.forward_jet = torch.compile(self.model.forward_jet, dynamic=False)  # type: ignore[method-assign]
        params = [p for p in self.model.parameters() if p.requires_grad]
        torch.autograd.grad(self.loss(self.colloc), params)
        self.compile_s += time.perf_counter() - t0
        logger.info("compiled the one-pass network evaluation in %.1f s", time.perf_counter() - t0)

    # --- checkpoints ------------------------------------------------------------------------------------
    def checkpoint(self, *, force: bool = False) -> None:
        """Write the checkpoint when one is due (every ``checkpointing.every`` seconds), or now with ``force``."""
        if self.checkpointing is not None and (force or self.checkpointing.due()):
            with self.clock.paused():
                self.checkpointing.write(self.capture())

    def capture(self) -> dict[str, Any]:
        """All that a resumed run needs to go on from here (see ``kanpde.solvers.checkpoint``)."""
        within, report = None, self.running
        if self.optimizer is not None and self.phase_start is not None and report is not None:
            within = {
                "start_step": self.phase_start[0],
                "start_t": self.phase_start[1],
                "optimizer": self.optimizer(),
                "report": json.dumps({**report.as_dict(), "non_finite": report.non_finite}),
            }
        cpu = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        return {
            "phase": self.phase_index,
            "within": within,
            "model": json.dumps(self.model.describe()),
            "weights": cpu,
            "interior": self.colloc.interior.detach().cpu(),
            "boundary": [(b.x.detach().cpu(), b.normal.detach().cpu()) for b in self.colloc.boundary],
            "quadrature": None  # the energy form's weights: interior, then one per boundary set, and the rule
            if self.colloc.weights is None
            else {
                "interior": self.colloc.weights.detach().cpu(),
                "boundary": [b.weights.detach().cpu() for b in self.colloc.boundary],
                "rule": self.colloc.rule,
            },
            "step": self.step,
            "elapsed": self.clock.elapsed(),
            "last_loss": self.last_loss,
            "history": json.dumps(self.history),
            "phases": json.dumps([{**p.as_dict(), "non_finite": p.non_finite} for p in self.phases]),
            "term_weights": json.dumps(self.term_weights),
            "draws": self.draws,
            "compile_s": self.compile_s,
            "snapshot": [t.detach().cpu() for t in self.snapshot],
            "snapshot_step": self.snapshot_step,
            "generator": self.generator.get_state(),
            "reduce": self.reduce.state_dict() if hasattr(self.reduce, "state_dict") else None,
            "last_eval_t": self.last_eval_t,
            "last_rel_l2": self.last_rel_l2,
            "resumed": json.dumps(self.resumed),
        }

    def restore(self, content: dict[str, Any]) -> None:
        """Take up the counters, history, weights and generator of a checkpoint (the model and points were
        rebuilt from it already); the phase it was in resumes with ``pending`` optimizer state."""
        device = self.colloc.interior.device
        dtype = self.colloc.interior.dtype
        self.phase_index = content["phase"]
        self.step, self.last_loss, self.draws = content["step"], content["last_loss"], content["draws"]
        self.history = json.loads(content["history"])
        self.phases = [PhaseReport.from_dict(d) for d in json.loads(content["phases"])]
        self.term_weights = json.loads(content["term_weights"])
        self.compile_s = content["compile_s"]
        self.snapshot = [t.to(device=device, dtype=dtype) for t in content["snapshot"]]
        self.snapshot_step = content["snapshot_step"]
        self.generator.set_state(content["generator"])
        if content["reduce"] is not None and hasattr(self.reduce, "load_state_dict"):
            self.reduce.load_state_dict({k: v if v is None else v.to(device) for k, v in content["reduce"].items()})
        self.last_eval_t, self.last_rel_l2 = content["last_eval_t"], content["last_rel_l2"]
        self.resumed = [*json.loads(content["resumed"]), {"step": self.step, "t": round(content["elapsed"], 4)}]
        self.clock = Clock(content["elapsed"])
        self.pending = content["within"]

    # --- history ------------------------------------------------------------------------------------------
    def record(self, phase: str | None = None, *, force_eval: bool = False) -> None:
        """Append a history entry when one is due (every ``record_every`` steps, at a step where an error
        is logged, see ``error_checkpoint``, or ``force_eval``), and update the progress display.

        A step that has its entry already, with nothing since but phase ends, gets the error added to it."""
        config, t = self.config, self.clock.elapsed()
        due_eval = config.eval_x is not None and (force_eval or self._error_due(t))
        if not (force_eval or due_eval or self.step % config.record_every == 0):
            return
        label = phase or (self.phases[-1].phase if self.phases else None)
        last = next((h for h in reversed(self.history) if h.get("event") != "phase_end"), None)
        if last is not None and "event" not in last and last["step"] == self.step:
            entry = last  # this state has its entry already
            due_eval = due_eval and "rel_l2" not in entry
        else:
            entry = {"step": self.step, "t": round(t, 4), "loss": self.last_loss, "phase": label}
            if self.model.grid is not None:
                entry["grid"] = self.model.grid
            if self.term_weights:
                entry["term_weights"] = dict(self.term_weights)
            if hasattr(self.reduce, "last_min_weight"):  # a causal reduction reports its smallest weight
                entry["causal_min_weight"] = self.reduce.last_min_weight
            if self.model.unknowns is not None and self.model.unknowns.scalars:
                entry["unknowns"] = self.model.unknowns.scalar_values()
            self.history.append(entry)
        if due_eval:
            with self.clock.paused():
                entry["rel_l2"] = self.last_rel_l2 = self.evaluate_rel_l2()
            self.last_eval_t = t
        if self.progress is not None:
            done = t if config.budget.seconds is not None else self.step
            self.progress.update(done, loss=self.last_loss, rel_l2=self.last_rel_l2, phase=label, grid=self.model.grid)

    def _error_due(self, t: float) -> bool:
        every = self.config.eval_every
        return error_checkpoint(self.step) or (every is not None and t - self.last_eval_t >= every)

    def record_event(self, event: dict[str, Any]) -> None:
        self.history.append({"step": self.step, "t": round(self.clock.elapsed(), 4), **event})

    def evaluate_rel_l2(self) -> float:
        """Relative L2 error of the current model on the evaluation points (``config.eval_x``)."""
        x, ref = self.config.eval_x, self.config.eval_ref
        if x is None or ref is None:
            raise ConfigError("evaluate_rel_l2 needs TrainingConfig.eval_x and eval_ref; pass the points and values")
        with torch.no_grad():
            pred = torch.cat([self.model(chunk) for chunk in torch.split(x, 16384)])
        return rel_l2(*centered(pred, ref, self.config.eval_centered))
