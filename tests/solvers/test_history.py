"""The history logs errors at fixed steps (never by the clock), so the same seed and step budget give the
same history, timings aside; under a time budget the errors stay few (ten per decade of steps)."""

import math

import pytest
import torch

import kanpde
from kanpde.problems import Poisson
from kanpde.solvers import LBFGS, Adam, Refine, Resample
from kanpde.solvers.training_state import error_checkpoint

TIMES = {"t", "start_t", "end_t"}  # the only fields that may differ between two runs


def small_poisson():
    return Poisson(
        source=lambda x: -2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        n_interior=200,
        n_boundary=32,
        eval_points=17,
    )


SCHEDULE = [Adam(steps=8, lr=5e-3, batch=100), LBFGS(steps=8), Refine(grid=10), Resample(), LBFGS(steps=None)]


def run(**kw):
    net = kanpde.KAN([2, 4, 1], grid=5, seed=3)
    return kanpde.solve(small_poisson(), net, schedule=SCHEDULE, constraints="soft", progress=False, **kw)


def untimed(entries):
    return [{k: v for k, v in e.items() if k not in TIMES} for e in entries]


def test_the_error_steps_are_log_spaced():
    steps = [s for s in range(1, 10_001) if error_checkpoint(s)]
    assert steps[:18] == [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 79, 100]
    assert len(steps) == 38 and steps[-1] == 10_000 and not error_checkpoint(0)
    assert [s for s in range(100, 1001) if error_checkpoint(s)] == [
        100,
        126,
        158,
        200,
        251,
        316,
        398,
        501,
        631,
        794,
        1000,
    ]


def test_the_same_seed_and_step_budget_give_the_same_history():
    a, b = run(steps=30, seed=1), run(steps=30, seed=1)
    assert untimed(a.history) == untimed(b.history) and untimed(a.phases) == untimed(b.phases)
    assert any(h["t"] != g["t"] for h, g in zip(a.history, b.history))  # the timings alone differ (they are there)
    errors = [h["step"] for h in a.history if "rel_l2" in h]
    ends = [p["end_step"] for p in a.phases if p["phase"] in ("adam", "lbfgs")]
    assert errors == sorted({s for s in range(1, 31) if error_checkpoint(s)} | set(ends))  # fixed steps, phase ends
    assert errors[-1] == 30 and [h for h in a.history if "loss" in h][-1]["rel_l2"] == pytest.approx(
        a.errors["rel_l2"], rel=1e-6
    )
    assert {h["event"] for h in a.history if "event" in h} == {"phase_end", "refine", "resample"}
    assert untimed(run(steps=30, seed=2).history) != untimed(a.history)


def test_a_time_budget_logs_few_errors():
    sol = run(budget=1.5)
    steps = sol.info["steps"]
    logged = [h["step"] for h in sol.history if "rel_l2" in h]
    due = sum(error_checkpoint(s) for s in range(1, steps + 1))
    assert due <= len(logged) <= due + len(SCHEDULE) + 1  # the fixed steps, phase ends and the final step
    assert len(logged) < 10 * (math.log10(steps) + 2)
    assert len(logged) == len(set(logged))  # one entry per step


def test_errors_every_few_seconds_on_request():
    sol = run(steps=20, eval_every=0.0)  # 0 s: at every step
    assert [h["step"] for h in sol.history if "rel_l2" in h] == list(range(1, 21))
