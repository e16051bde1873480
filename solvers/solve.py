"""``kanpde.solve``: the one front door from a problem and a surrogate to a trained ``Solution``."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kanpde.checks import is_int, is_real, resolve_device, resolve_dtype
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.io.files import check_output_folder
from kanpde.io.solution import Solution, evaluate_errors
from kanpde.io.status import Status
from kanpde.pde.conditions import Condition, Dirichlet
from kanpde.pde.problem import Problem
from kanpde.pde.unknowns import bind
from kanpde.pinn.hard_constraints import Constraints, split_conditions, why_soft
from kanpde.pinn.loss import BoundarySet, Collocation, Derivatives, Form, data_terms
from kanpde.pinn.surrogate import NETWORKS, Surrogate, count_parameters, interface_scales
from kanpde.pinn.unknowns import UnknownSet
from kanpde.solvers.allocator import keep_freed_memory
from kanpde.solvers.checkpoint import Checkpointing, fingerprint, read_checkpoint
from kanpde.solvers.phases import Phase, check_schedule
from kanpde.solvers.preflight import check_reference, preflight
from kanpde.solvers.recipes import default_model, default_recipe, problem_features
from kanpde.solvers.training import Budget, Trainer, TrainingConfig
from kanpde.solvers.weighting import Balance, Causal

__all__ = ["solve", "check_fit"]

DEFAULT_BUDGET_S = 60.0


def solve(
    problem: Problem,
    model: nn.Module | None = None,
    *,
    schedule: Sequence[Phase] | None = None,
    budget: float | None = None,
    steps: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    n_interior: int | None = None,
    n_boundary: int | None = None,
    eval_every: float | None = None,
    derivatives: Derivatives | str = Derivatives.AUTO,
    constraints: Constraints | str | None = None,
    causal: Causal | bool | None = None,
    balance: Balance | bool | None = None,
    compile: bool = False,
    progress: bool | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: float | None = None,
    resume: str | os.PathLike[str] | None = None,
    form: Form | str | None = None,
) -> Solution:
    """Train a surrogate for ``problem`` and return the trained field with its errors.

    Args:
        problem: what to solve (a ``kanpde.Problem``).
        model: a ``kanpde.KAN`` or ``kanpde.MLP`` whose width starts with the problem's dimension and ends
            with its number of components (default: ``kanpde.solvers.default_model(problem)``, a
            ``KAN([inputs, 10, out], grid=5)``). It is copied, never
            changed in place.
        schedule: phases (``Adam``, ``LBFGS``, ``Refine``, ``UpdateGrid``); default: the recommended
            schedule for this problem class and network kind.
        budget: training time in seconds (sampling, optimizer work and grid changes count; error
            evaluations for the history do not). steps: a budget in optimizer iterations instead, or as
            well (whichever ends first). Without either, 60 s.
        seed: seeds the collocation points and mini-batches (and the default model's weights).
        device: ``"cpu"``, ``"cuda"`` (default: cuda when available). dtype: ``float64`` (default for a
            float64 model; needed for relative errors below ~1e-5) or ``float32``.
        n_interior, n_boundary: override the problem's collocation counts.
        eval_every: seconds of training between further relative L2 errors logged in the history (0: at
            every step); by default errors are logged at fixed steps only (1, 2, 3, 4, 5, 6, 8, 10, then ten
            per decade, ``kanpde.solvers.training_state.error_checkpoint``), at phase ends and at the end,
            so the same seed and step budget give the same history; a number makes it depend on timing.
        derivatives: a ``kanpde.pinn.loss.Derivatives`` or its name. ``"auto"`` (default) carries the
            derivatives each residual needs through the network in one forward pass where that covers it
            and uses nested autograd elsewhere; ``"jet"`` insists on one pass (an error says what it
            cannot carry); ``"autograd"`` always nests. Both give the same numbers to round-off; one pass
            is several times faster.
        constraints: a ``kanpde.pinn.hard_constraints.Constraints`` or its name. ``"hard"`` builds the
            Dirichlet conditions into the surrogate, ``u = g + D(x) N(x)`` with D vanishing on their faces
            (see ``kanpde.pinn.hard_constraints``), so they hold exactly and leave the loss; ``"soft"``
            penalises them in the loss; None (default): the recommended choice for this problem and
            network, hard only where the Dirichlet values are numbers.
        causal: causal weighting of a space-time residual (``kanpde.solvers.Causal``, Wang et al. 2022):
            a ``Causal(chunks=, tol=)``, True for the defaults, False for none; None (default): the
            recipe's choice.
        balance: gradient-norm balancing of the condition terms (``kanpde.solvers.Balance``, Wang, Teng
            and Perdikaris 2021), updated during Adam phases: a ``Balance(every=, alpha=)``, True for the
            defaults, False for none; None (default): the recipe's choice.
        compile: compile the one-pass network evaluation with ``torch.compile`` (again after each grid
            refinement, since shapes change); each compilation takes tens of seconds, counted in the
            budget and reported as ``compile_s``. On a 2-core CPU the compiled KAN [2, 32, 32, 1] step was
            slower than the eager fused one (87.9 against 49.9 ms, float32; README, Results), so it is
            off by default; try it where a compiler has more to fuse (a GPU, long runs without refinement).
        progress: show a progress bar (None: on a terminal only).
        checkpoint: a folder to write ``checkpoint.pt`` into as the run trains (``kanpde.solvers.checkpoint``),
            every ``checkpoint_every`` seconds of wall time (default: a tenth of the time budget, at least
            10 s; 30 s under a step budget), after every phase and at the end; the file is replaced
            atomically. resume: such a folder, whose run (killed, say) goes on from its checkpoint with the
            same arguments; it keeps writing checkpoints there. With ``steps=`` the result equals an
            uninterrupted run's; with ``budget=`` it spends what was left of the budget.
        form: ``"strong"`` (the mean square residual at points), ``"energy"`` (the integral of the problem's
            energy, ``Problem.energy``, by quadrature: first derivatives only, and a coefficient's jump
            needs no special treatment; Dirichlet conditions are built into the surrogate and the
            problem's interfaces become network inputs), or None (default): the recipe's choice, the
            energy form for a steady problem with an energy and a declared ``interface``, else strong.
            (A weak form against test functions is not built.)

    Returns:
        A frozen ``Solution``; ``sol.status`` says why training stopped: ``sol.status.kind`` (a
        ``kanpde.io.status.StatusKind``: complete, time or step budget, non-finite loss) and, in words,
        ``str(sol.status)``.

    Everything is checked before training starts: the model fits the problem, the residual returns one
    value per point, the budget is positive, the device exists.
    """
    wall0 = time.perf_counter()
    if not isinstance(problem, Problem):
        raise DefinitionError(f"solve() needs a kanpde.Problem as its first argument; got {type(problem).__name__}")
    if not is_int(seed) or seed < 0:
        raise ConfigError(f"solve(seed=...) must be an int >= 0; got {seed!r}")
    if not isinstance(compile, bool):
        raise ConfigError(f"solve(compile=...) must be True or False; got {compile!r}")
    derivatives = Derivatives.parse(derivatives, "derivatives")
    if constraints is not None:
        constraints = Constraints.parse(constraints, "constraints", also="None (the recommended one)")
    asked_form = None if form is None else Form.parse(form, "form")
    net = (
        model
        if model is not None
        else default_model(problem, "kan", seed=seed, constraints=constraints, form=asked_form)
    )
    _check_kind(net)
    recipe = default_recipe(problem, net, asked_form)
    form = recipe.form if asked_form is None else asked_form
    mode = recipe.constraints if constraints is None else constraints
    discontinuous = "blend" if constraints is not None else "soft"
    hard, soft = split_conditions(problem, mode, strict=constraints is not None, discontinuous=discontinuous)
    if form is Form.ENERGY:
        _check_energy_form(problem, soft, constraints)
    interfaces = problem.interfaces if form is Form.ENERGY else ()
    check_fit(problem, net, periodic=hard.periodic, interfaces=len(interfaces))
    budget_s, max_steps = _check_budget(budget, steps)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, default=next(net.parameters()).dtype)
    phases = check_schedule(schedule if schedule is not None else recipe.schedule, net.kind)
    causal_spec = _resolve_option(causal, recipe.causal, Causal, "causal")
    balance_spec = _resolve_option(balance, recipe.balance, Balance, "balance")
    unbounded = any(getattr(p, "steps", 0) is None for p in phases)
    if budget_s is None and max_steps is None and unbounded:
        budget_s = DEFAULT_BUDGET_S
    folder = _checkpoint_folder(checkpoint, resume)
    identity = fingerprint(
        problem=problem.describe(),
        net=net.describe(),
        schedule=[repr(p) for p in phases],
        seed=seed,
        budget=[budget_s, max_steps],
        dtype=str(dt),
        derivatives=derivatives.value,
        constraints=hard.describe(problem.domain.axes),
        points=[n_interior, n_boundary],
        form=form.value,
    )
    saved = read_checkpoint(folder, identity) if resume is not None else None
    if saved is None:
        domain = problem.domain
        unknowns = (
            UnknownSet(problem.unknowns, domain.lower, domain.upper, domain.axes, seed=seed)
            if problem.unknowns
            else None
        )
        scales = interface_scales(problem) if interfaces else ()
        surrogate = Surrogate(
            copy.deepcopy(net), domain.lower, domain.upper, hard.dirichlet, hard.periodic, unknowns, interfaces, scales
        ).to(device=dev, dtype=dt)
    else:
        surrogate, colloc = _resumed(saved, problem, soft, dev, dt)
    if saved is None:
        sample = Collocation.quadrature if form is Form.ENERGY else Collocation.sample
        colloc = sample(
            problem, seed=seed, dtype=dt, device=dev, n_interior=n_interior, n_boundary=n_boundary, conditions=soft
        )
    bind(problem, surrogate.unknowns)  # the residual reads the unknowns being trained
    preflight(problem, surrogate, colloc, form=form)
    eval_x = torch.as_tensor(problem.evaluation_grid().points(), dtype=dt, device=dev)
    eval_ref = problem.reference_values(eval_x)
    if eval_ref is None:
        eval_x = None
    check_reference(problem, eval_x, eval_ref)
    config = TrainingConfig(
        problem=problem,
        budget=Budget(budget_s, max_steps),
        seed=seed,
        derivatives=derivatives,
        eval_x=eval_x,
        eval_ref=eval_ref,
        eval_centered=problem.centered_columns,
        eval_every=eval_every,
        n_boundary=n_boundary,
        n_interior=n_interior,
        causal=causal_spec,
        balance=balance_spec,
        compile=compile,
        progress=progress,
        form=form,
    )
    keep_freed_memory()  # freed tensors stay in the process for the next step (kanpde.solvers.allocator)
    trainer = Trainer(config, surrogate, colloc)  # finds the derivative plan: "jet" fails here where it cannot
    state = trainer.state
    if saved is not None:
        state.restore(saved)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        every = checkpoint_every if checkpoint_every is not None else (max(10.0, budget_s / 10) if budget_s else 30.0)
        state.checkpointing = Checkpointing(folder, float(every), identity)
    status = trainer.run(phases)
    if state.resumed:
        first = state.resumed[0]
        status = Status(
            status.kind,
            f"{status.message}; resumed {len(state.resumed)}x, first from step {first['step']}",
            status.stop_reason,
        )
    train_s = state.clock.elapsed()
    trained = state.model.eval()
    errors = evaluate_errors(trained, problem)
    info = {
        "steps": state.step,
        "train_s": round(train_s, 4),
        "budget_overshoot_s": None if budget_s is None else round(max(0.0, train_s - budget_s), 4),
        "wall_s": round(time.perf_counter() - wall0, 4),
        "time_per_step_s": train_s / state.step if state.step else None,
        "compile_s": round(state.compile_s, 4),
        "params": count_parameters(trained),
        "device": str(dev),
        "dtype": str(dt).removeprefix("torch."),
        "seed": seed,
        "budget": {"seconds": budget_s, "steps": max_steps},
        "resumed": state.resumed,
        "collocation": colloc.sizes,
        "form": form.value,
        **({"quadrature": colloc.rule} if colloc.rule else {}),
        "derivatives": state.plan.describe(),
        "constraints": hard.describe(problem.domain.axes),
        "components": list(problem.components),
        "axes": list(problem.domain.axes),
        "vectors": {k: list(v) for k, v in problem.vectors.items()},
        **_inverse_info(problem, trained, state.term_weights),
        "recipe": {
            "name": recipe.name if schedule is None else "given schedule",
            "features": problem_features(problem).describe(),
            "why_soft": _why_soft(problem, mode, constraints),
        },
        "causal": None
        if causal_spec is None
        else {"chunks": causal_spec.chunks, "tol": causal_spec.tol, "drift": causal_spec.drift},
        "balance": None
        if balance_spec is None
        else {
            "every": balance_spec.every,
            "alpha": balance_spec.alpha,
            "weights": state.term_weights,
        },
    }
    return Solution(
        model=trained,
        problem=problem,
        status=status,
        errors=errors,
        history=tuple(state.history),
        phases=tuple(p.as_dict() for p in state.phases),
        info=info,
    )


def _inverse_info(problem: Problem, model: Surrogate, weights: dict[str, float]) -> dict[str, Any]:
    """For a problem with unknowns or data: what was declared, the data terms' weights and their root
    mean square misfit after training (compare it with the noise level)."""
    out: dict[str, Any] = {}
    if problem.unknowns:
        out["unknowns_declared"] = [u.describe() for u in problem.unknowns]
    if problem.data:
        with torch.no_grad():
            misfit = {k: float(v) ** 0.5 for k, v in data_terms(problem, model, model.lower).items()}
        out["data_weights"] = {d.label: weights.get(d.label, 1.0) * d.factor for d in problem.data}
        out["data_misfit"] = {d.label: misfit[d.label] / d.factor**0.5 for d in problem.data}
    return out


def _why_soft(problem: Problem, mode: Constraints, asked: Constraints | None) -> str | None:
    """Why the Dirichlet and initial conditions stay loss terms, or None when they are built in."""
    if mode is Constraints.SOFT:
        return "constraints='soft' was asked" if asked is not None else "the recipe penalises them"
    return why_soft(problem, "blend" if asked is not None else "soft")


def _checkpoint_folder(checkpoint: Any, resume: Any) -> Path | None:
    """The folder checkpoints go to (``resume`` continues in its own), checked before any work."""
    if checkpoint is not None and resume is not None and Path(checkpoint) != Path(resume):
        raise ConfigError(
            f"solve(checkpoint={str(checkpoint)!r}, resume={str(resume)!r}): a resumed run keeps writing its "
            "checkpoints where it reads them; pass resume only"
        )
    if checkpoint is None and resume is None:
        return None
    return check_output_folder(
        resume if resume is not None else checkpoint, "resume" if resume is not None else "checkpoint"
    )


def _resumed(
    saved: dict[str, Any], problem: Problem, soft: Sequence[Condition], device: torch.device, dtype: torch.dtype
) -> tuple[Surrogate, Collocation]:
    """The model and the points of a checkpoint, on ``device`` in ``dtype``."""
    model = Surrogate.from_description(json.loads(saved["model"]), problem).to(device=device, dtype=dtype)
    model.load_state_dict(saved["weights"])
    interior = saved["interior"].to(device=device, dtype=dtype).requires_grad_(True)
    quadrature = saved.get("quadrature")  # the energy form's weights, as the run had them

    def weights(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.to(device=device, dtype=dtype)

    bweights = quadrature["boundary"] if quadrature else [None] * len(saved["boundary"])
    sets = tuple(
        BoundarySet(
            c,
            x.to(device=device, dtype=dtype).requires_grad_(c.needs_derivatives()),
            n.to(device=device, dtype=dtype),
            weights(w),
        )
        for c, (x, n), w in zip(soft, saved["boundary"], bweights)
    )
    if quadrature is None:
        return model, Collocation(interior, sets)
    return model, Collocation(interior, sets, weights(quadrature["interior"]), quadrature["rule"])


def check_fit(problem: Problem, net: nn.Module, *, periodic: Sequence[int] = (), interfaces: int = 0) -> None:
    """The network takes the problem's coordinates (each periodic axis embedded as two inputs, and under
    the energy form one input per interface) and returns its number of components."""
    _check_kind(net)
    width, inputs = net.width, problem.dim + len(periodic) + interfaces
    if width[0] != inputs or width[-1] != problem.out_dim:
        fixed = [inputs, *width[1:-1], problem.out_dim]
        names = ", ".join(problem.domain.axes[a] for a in periodic)
        why = f"the dimension {problem.dim}"
        if periodic:
            why = f"{problem.dim + len(periodic)} (the {problem.dim} coordinates, with {names} embedded as cos and sin for exact periodicity; constraints='soft' takes {problem.dim})"
        if interfaces:
            why += f", plus {interfaces} for the interfaces, whose |phi| the energy form gives the network"
        raise ShapeError(
            f"model width {width} does not fit {problem!r}: the first entry must be {why} "
            f"and the last the number of components {problem.out_dim}; use width {fixed}"
        )


def _check_energy_form(problem: Problem, soft: Sequence[Condition], constraints: Constraints | None) -> None:
    """The energy form needs an energy, a steady problem, and every Dirichlet condition built in."""
    kind = type(problem).__name__
    if not problem.has_energy:
        problem.energy(None, None)  # raises: the error says how to declare one
    if problem.domain.axes[-1] == "t":
        raise ConfigError(
            f"solve(form='energy'): {kind} evolves in time (its last axis is t), and an energy is minimised by a "
            "steady field only; use form='strong'"
        )
    values = [c for c in soft if isinstance(c, Dirichlet)]
    if values:
        why = "constraints='soft' was asked" if constraints is Constraints.SOFT else "they cannot be built in here"
        raise ConfigError(
            f"solve(form='energy') builds Dirichlet conditions into the surrogate, but {values[0].label} stays a "
            f"penalty ({why}); pass constraints='hard' (or None), or use form='strong'"
        )


def _check_kind(net: object) -> None:
    if getattr(net, "kind", None) not in NETWORKS:
        raise DefinitionError(f"solve(model=...) must be a kanpde.KAN or kanpde.MLP; got {type(net).__name__}")


def _resolve_option(value: Any, default: Any, kind: type, name: str) -> Any:
    """None -> the recipe's ``default``; True -> ``kind()``; False -> None; else an instance of ``kind``."""
    if value is None:
        return default
    if value is True:
        return kind()
    if value is False:
        return None
    if not isinstance(value, kind):
        raise ConfigError(
            f"solve({name}=...) must be a kanpde.solvers.{kind.__name__}, True, False or None; got {value!r}"
        )
    return value


def _check_budget(budget: float | None, steps: int | None) -> tuple[float | None, int | None]:
    if budget is not None and (not is_real(budget) or budget <= 0):
        raise ConfigError(f"budget must be a number of seconds > 0; got {budget!r}")
    if steps is not None and (not is_int(steps) or steps < 1):
        raise ConfigError(f"steps must be an int >= 1; got {steps!r}")
    return (float(budget) if budget is not None else None), steps
