"""The training loop: its frozen configuration (each bad field is a ConfigError naming it), the Status a run
ends with (step budget, time budget, completed schedule, non-finite loss) and the typed modes
(``Derivatives``, ``Constraints``) that the string options of ``solve`` and the CLI become."""

import dataclasses
import math
import re

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, ShapeError
from kanpde.io.status import Status, StatusKind
from kanpde.pde import ops
from kanpde.pinn.hard_constraints import CONSTRAINT_MODES, Constraints
from kanpde.pinn.loss import DERIVATIVE_MODES, Collocation, Derivatives
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson
from kanpde.solvers import LBFGS, Adam, Causal, Recipe, Resample
from kanpde.solvers.training import Budget, Trainer, TrainingConfig


def small_problem(residual=None):
    """-u'' = 1 on the unit square with u = 0 on its boundary, on few points (fast)."""
    residual = residual or (lambda u, x: ops.laplacian(u, x) + 1.0)
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]),
        residual=residual,
        conditions=[kanpde.Dirichlet("boundary")],
        n_interior=64,
        n_boundary=32,
    )


def run(problem, schedule, **options):
    return kanpde.solve(problem, model=kanpde.MLP([2, 8, 1]), schedule=schedule, progress=False, **options)


# --- the configuration ------------------------------------------------------------------------------------
def config(**changes):
    return TrainingConfig(**{"problem": small_problem(), "budget": Budget(steps=10), **changes})


def exact(field, expected, value):
    return re.escape(f"{field} must be {expected}; got {value!r}") + "$"


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("problem", "poisson", "a kanpde.Problem"),
        ("budget", 60, "a Budget(seconds=..., steps=...)"),
        ("seed", -1, "an int >= 0"),
        ("seed", 1.5, "an int >= 0"),
        ("derivatives", "jet", "a kanpde.pinn.loss.Derivatives (Derivatives.parse converts a name such as 'jet')"),
        ("eval_every", -1, "None (errors at fixed steps only) or a number of seconds >= 0 (0: at every step)"),
        ("eval_every", math.inf, "None (errors at fixed steps only) or a number of seconds >= 0 (0: at every step)"),
        ("record_every", 0, "an int >= 1"),
        ("n_boundary", 0, "an int >= 1 or None (the problem's count)"),
        ("causal", True, "a kanpde.solvers.Causal or None"),
        ("balance", "on", "a kanpde.solvers.Balance or None"),
        ("compile", 1, "True or False"),
        ("progress", "auto", "True, False or None (a bar on a terminal only)"),
    ],
)
def test_the_config_refuses_a_bad_field_by_name(field, value, expected):
    with pytest.raises(ConfigError, match=exact(f"TrainingConfig.{field}", expected, value)):
        config(**{field: value})


def test_the_config_checks_its_evaluation_points_and_causal_weighting():
    x = torch.zeros(5, 2, dtype=torch.float64)
    with pytest.raises(ConfigError, match=r"TrainingConfig.eval_x and eval_ref must be both tensors or both None"):
        config(eval_x=x)
    shapes = r"eval_x must be \(m, d\) points and eval_ref \(m, c\) values at them; got shapes \(5, 2\) and \(4, 1\)"
    with pytest.raises(ShapeError, match=shapes):
        config(eval_x=x, eval_ref=torch.zeros(4, 1, dtype=torch.float64))
    with pytest.raises(ConfigError, match=r"Causal weighting needs a space-time problem whose last axis is named 't'"):
        config(causal=Causal())


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"seconds": 0}, exact("Budget.seconds", "a number > 0 or None", 0)),
        ({"seconds": math.nan}, r"Budget.seconds must be a number > 0 or None; got nan$"),
        ({"steps": 0}, exact("Budget.steps", "an int >= 1 or None", 0)),
        ({"steps": 2.0}, exact("Budget.steps", "an int >= 1 or None", 2.0)),
    ],
)
def test_a_budget_refuses_a_bad_limit(changes, match):
    with pytest.raises(ConfigError, match=match):
        Budget(**changes)


def test_the_config_is_frozen_and_keyword_only():
    cfg = config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1
    with pytest.raises(TypeError):
        TrainingConfig(small_problem(), Budget(steps=1))  # positional: a mix-up would go unseen


def test_a_trainer_changes_its_state_not_its_config():
    problem = small_problem()
    cfg = config(problem=problem, derivatives=Derivatives.AUTOGRAD)
    model = Surrogate(kanpde.MLP([2, 8, 1]), problem.domain.lower, problem.domain.upper)
    trainer = Trainer(cfg, model, Collocation.sample(problem))
    assert trainer.state.plan.describe() == "autograd (asked for)"
    status = trainer.run((Adam(steps=4), LBFGS(steps=3)))
    assert status == Status(StatusKind.COMPLETE, "schedule complete (2 phases)")
    assert trainer.config is cfg and trainer.state.step == 7 and [p.end_step for p in trainer.state.phases] == [4, 7]


# --- the status a run ends with -----------------------------------------------------------------------------
def test_a_step_budget_ends_the_run_inside_or_before_a_phase():
    sol = run(small_problem(), [Adam(steps=10)], steps=5)
    assert sol.status == Status(StatusKind.STEP_BUDGET, "step budget of 5 steps reached during phase 1 of 1 (adam)")
    assert (
        sol.info["steps"] == 5 and sol.status.stop_reason == sol.phases[0]["status"] == "step budget of 5 steps reached"
    )
    sol = run(small_problem(), [Adam(steps=5), LBFGS(steps=5)], steps=5)
    assert sol.status == Status(StatusKind.STEP_BUDGET, "step budget of 5 steps reached before phase 2 of 2 (lbfgs)")
    assert sol.status.stop_reason == "completed 5 steps"  # the last phase that ran: Adam, to its end


def test_a_completed_schedule():
    sol = run(small_problem(), [Adam(steps=3), LBFGS(steps=2)])
    assert sol.status == Status(StatusKind.COMPLETE, "schedule complete (2 phases)") and sol.info["steps"] == 5
    assert [p["status"] for p in sol.phases] == ["completed 3 steps", "completed 2 steps"]  # per phase: words
    assert sol.status.stop_reason == "completed 2 steps"


def test_a_completed_schedule_says_why_its_last_phase_stopped_early():
    sol = run(small_problem(), [Adam(steps=3), LBFGS(steps=None, stall_window=1, stall_tol=0.9)])
    reason = "stalled: best loss improved by less than 0.9 (relative) over 1 iterations"
    assert sol.phases[1]["status"] == reason == sol.status.stop_reason
    assert sol.status == Status(
        StatusKind.COMPLETE, f"schedule complete (2 phases); the last optimizer phase (2 of 2, lbfgs) stopped: {reason}"
    )
    kan = kanpde.solve(
        small_problem(),
        model=kanpde.KAN([2, 3, 1], grid=4),
        schedule=[LBFGS(steps=None, stall_window=1, stall_tol=0.9)],
        progress=False,
    )
    assert str(kan.status).endswith(f"; the last optimizer phase (1 of 1, lbfgs on grid 4) stopped: {reason}")


def test_a_budget_spent_between_phases_says_why_the_last_optimizer_phase_stopped():
    stalling = LBFGS(steps=None, stall_window=1, stall_tol=0.9)
    k = run(small_problem(), [stalling]).info["steps"]  # where it stalls
    sol = run(small_problem(), [stalling, Resample(), Adam(steps=3)], steps=k)
    reason = "stalled: best loss improved by less than 0.9 (relative) over 1 iterations"
    assert sol.status == Status(
        StatusKind.STEP_BUDGET,
        f"step budget of {k} steps reached before phase 2 of 3 (resample); "
        f"the last optimizer phase (1 of 3, lbfgs) stopped: {reason}",
    )
    assert sol.status.stop_reason == reason and [p["phase"] for p in sol.phases] == ["lbfgs"]


def test_a_time_budget():
    sol = run(small_problem(), [Adam(steps=None), LBFGS(steps=5)], budget=0.3)
    steps = sol.info["steps"]
    words = f"time budget of 0.3 s reached during phase 1 of 2 (adam) after {steps} steps"
    assert (
        sol.status == Status(StatusKind.TIME_BUDGET, words) and sol.status.stop_reason == "time budget of 0.3 s reached"
    )
    assert sol.info["train_s"] >= 0.3 and sol.info["budget_overshoot_s"] == pytest.approx(sol.info["train_s"] - 0.3)


def nan_residual(bad):
    """A residual that turns NaN at the training evaluations numbered in ``bad`` (64 points; the checks
    before training use 7)."""
    calls = {"n": 0}

    def residual(u, x):
        calls["n"] += x.shape[0] == 64
        r = ops.laplacian(u, x) + 1.0
        return r * float("nan") if calls["n"] in bad else r

    return residual


def test_a_non_finite_loss_in_the_last_optimizer_phase_is_why_the_run_stopped():
    sol = run(small_problem(nan_residual(range(6, 10**6))), [Adam(steps=20, lr=1e-2), LBFGS(steps=5)])
    assert sol.phases[1]["status"] == "non-finite loss (nan) at step 6; rolled back to the state of step 4"
    assert sol.status == Status(
        StatusKind.NON_FINITE,
        "non-finite loss (nan) at step 6; rolled back to the state of step 4 (phase 2 of 2, lbfgs); "
        "schedule complete (2 phases)",
    )
    assert sol.status.stop_reason == sol.phases[1]["status"]
    assert all(torch.isfinite(p).all() for p in sol.model.parameters())  # rolled back


def test_a_non_finite_loss_that_training_recovers_from_is_not_the_status():
    sol = run(small_problem(nan_residual({6})), [Adam(steps=20, lr=1e-2), LBFGS(steps=3)])
    assert sol.phases[0]["status"] == "non-finite loss (nan) at step 6; rolled back to the state of step 4"
    assert sol.phases[1]["status"] == "completed 3 steps"
    assert sol.status == Status(StatusKind.COMPLETE, "schedule complete (2 phases)")


# --- the typed modes ---------------------------------------------------------------------------------------
def test_modes_parse_their_names_and_members():
    assert [Derivatives.parse(name) for name in DERIVATIVE_MODES] == list(Derivatives)
    assert list(Derivatives) == [Derivatives.AUTO, Derivatives.JET, Derivatives.AUTOGRAD]
    assert [Constraints.parse(name) for name in CONSTRAINT_MODES] == [Constraints.SOFT, Constraints.HARD]
    assert Derivatives.parse(Derivatives.JET) is Derivatives.JET
    assert Constraints.parse(Constraints.HARD) is Constraints.HARD


@pytest.mark.parametrize(
    "parse, value, field, match",
    [
        (Derivatives.parse, "fast", "derivatives", "derivatives must be one of auto, jet, autograd; got 'fast'"),
        (Derivatives.parse, "JET", "solve(derivatives=...)", r"solve\(derivatives=...\) must be one of .*; got 'JET'"),
        (Derivatives.parse, None, "derivatives", "derivatives must be one of auto, jet, autograd; got None"),
        (Constraints.parse, "exact", "constraints", "constraints must be one of soft, hard; got 'exact'"),
        (Constraints.parse, Derivatives.JET, "Recipe.constraints", "Recipe.constraints must be one of soft, hard; got"),
    ],
)
def test_modes_refuse_other_values_naming_the_field_and_the_choices(parse, value, field, match):
    with pytest.raises(ConfigError, match=match):
        parse(value, field)


def test_the_front_doors_take_names_or_members_and_pass_members_inward():
    problem = small_problem()
    by_name = run(problem, [LBFGS(steps=2)], derivatives="autograd", constraints="soft")
    by_member = run(problem, [LBFGS(steps=2)], derivatives=Derivatives.AUTOGRAD, constraints=Constraints.SOFT)
    assert by_name.info["derivatives"] == by_member.info["derivatives"] == "autograd (asked for)"
    assert by_name.info["constraints"] == by_member.info["constraints"] == "soft"
    assert by_name.errors == by_member.errors
    hard = run(problem, [LBFGS(steps=2)], constraints=Constraints.HARD)
    assert hard.info["constraints"] == "hard (dirichlet on 4 faces)"
    with pytest.raises(ConfigError, match=r"derivatives must be one of auto, jet, autograd; got 'fast'"):
        run(problem, [LBFGS(steps=2)], derivatives="fast")
    refused = r"constraints must be one of soft, hard or None \(the recommended one\); got 'exact'"
    with pytest.raises(ConfigError, match=refused):
        run(problem, [LBFGS(steps=2)], constraints="exact")
    assert Recipe(schedule=(LBFGS(),), constraints="hard").constraints is Constraints.HARD
    with pytest.raises(ConfigError, match=r"Recipe.constraints must be one of soft, hard; got 'exact'"):
        Recipe(schedule=(LBFGS(),), constraints="exact")


def test_the_default_recipe_gives_a_member():
    net = kanpde.KAN([2, 3, 1], grid=3)
    assert kanpde.solvers.default_recipe(Poisson.sin(), net).constraints is Constraints.HARD
