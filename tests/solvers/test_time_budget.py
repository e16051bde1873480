"""A time budget holds inside an L-BFGS iteration: the line search checks the time before each loss
evaluation, so a run overruns its budget by one evaluation at most, not by a whole iteration; the
overrun is reported (``budget_overshoot_s``)."""

import time

import pytest

import kanpde
from kanpde.io.status import StatusKind
from kanpde.pde import ops
from kanpde.solvers import LBFGS, optimize

SLEEP = 0.1  # seconds per training evaluation of the loss


def slow_problem():
    """-u'' = 1 on the unit square, u = 0 on its boundary, whose residual sleeps at each training evaluation
    (64 points; the checks before training use fewer)."""

    def residual(u, x):
        if x.shape[0] == 64:
            time.sleep(SLEEP)
        return ops.laplacian(u, x) + 1.0

    return kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]),
        residual=residual,
        conditions=[kanpde.Dirichlet("boundary")],
        n_interior=64,
        n_boundary=32,
    )


def run(budget, schedule):
    return kanpde.solve(
        slow_problem(),
        model=kanpde.MLP([2, 8, 1], seed=0),
        schedule=schedule,
        budget=budget,
        constraints="soft",
        progress=False,
    )


# lr=1e-6: the first trial step is tiny, so each line search extrapolates over several evaluations
SLOW_ITERATIONS = [LBFGS(steps=None, lr=1e-6, stall_tol=0)]


def test_a_tiny_time_budget_stops_within_one_evaluation_of_it(monkeypatch):
    sol = run(0.35, SLOW_ITERATIONS)
    assert sol.status.kind is StatusKind.TIME_BUDGET
    assert sol.info["train_s"] >= 0.35 and sol.info["budget_overshoot_s"] == pytest.approx(sol.info["train_s"] - 0.35)
    assert sol.info["budget_overshoot_s"] < 2.5 * SLEEP  # one evaluation (0.1 s), with room for a loaded machine
    # the same run checking the time between iterations only (as before) finishes its first iteration
    monkeypatch.setattr(optimize, "_deadline", lambda state, phase: None)
    late = run(0.35, SLOW_ITERATIONS)
    assert late.info["budget_overshoot_s"] > sol.info["budget_overshoot_s"] + 2 * SLEEP
    assert late.phases[0]["evals"] > sol.phases[0]["evals"] + 2


def test_an_interrupted_run_ends_at_a_state_whose_loss_it_reports():
    """After a cut, the parameters sit at an evaluated point: the last loss recorded is the loss there."""
    sol = run(0.75, SLOW_ITERATIONS)
    assert sol.status.kind is StatusKind.TIME_BUDGET and sol.info["steps"] >= 1
    entries = [h for h in sol.history if "loss" in h]
    assert entries[-1]["step"] == sol.info["steps"]
    problem, model = slow_problem(), sol.model.train()
    colloc = kanpde.pinn.loss.Collocation.sample(problem, seed=0, conditions=problem.conditions)
    plan = kanpde.pinn.loss.plan_derivatives(problem, model, colloc, kanpde.pinn.loss.Derivatives.AUTO)
    terms = kanpde.pinn.loss.loss_terms(problem, model, colloc, plan)
    assert float(kanpde.pinn.loss.total_loss(terms).detach()) == pytest.approx(entries[-1]["loss"], rel=1e-12)


def test_a_step_budget_reports_no_overshoot():
    sol = run(None, [LBFGS(steps=2)])
    assert sol.info["budget_overshoot_s"] is None and sol.status.kind is StatusKind.COMPLETE
