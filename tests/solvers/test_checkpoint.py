"""Checkpoints and resume: a run stopped at any iteration and resumed ends with the weights of a run that
was never stopped (step budgets); the checkpoint names what it belongs to."""

import math

import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError
from kanpde.problems import Poisson
from kanpde.solvers import LBFGS, Adam, Causal, Refine, Resample
from kanpde.solvers.checkpoint import CHECKPOINT


def small_poisson():
    return Poisson(
        source=lambda x: -2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        n_interior=300,
        n_boundary=40,
        eval_points=17,
    )


SCHEDULE = [
    Adam(steps=12, lr=5e-3, batch=100),
    LBFGS(steps=10),
    Refine(grid=10),
    Resample(adaptive=True),
    LBFGS(steps=None),
]


def run(problem, schedule, steps, **kw):
    net = kanpde.KAN([problem.dim, 4, 1], grid=5, seed=3)
    kw.setdefault("constraints", "soft")  # boundary points too, in the checkpoint and the mini-batches
    return kanpde.solve(problem, net, schedule=schedule, steps=steps, seed=1, progress=False, **kw)


def weights(sol):
    return [t.detach().clone() for t in sol.model.state_dict().values()]


@pytest.mark.parametrize("stop", [5, 17, 27], ids=["in-adam", "in-lbfgs", "after-refine-and-resample"])
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, monkeypatch, stop, interrupt_at):
    problem = small_poisson()
    whole = run(problem, SCHEDULE, 32)
    with monkeypatch.context() as m:
        interrupt_at.within(m, stop)
        with pytest.raises(interrupt_at.error):
            run(problem, SCHEDULE, 32, checkpoint=tmp_path, checkpoint_every=1e9)
    assert (tmp_path / CHECKPOINT).is_file()
    resumed = run(problem, SCHEDULE, 32, resume=tmp_path)
    assert resumed.info["steps"] == whole.info["steps"] == 32
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(whole)))
    assert resumed.errors == whole.errors
    assert resumed.info["resumed"][0]["step"] == stop and "resumed 1x, first from step" in str(resumed.status)
    assert [p["phase"] for p in resumed.phases] == [p["phase"] for p in whole.phases]


def heat():
    """u_t = u_xx, periodic in x: causal weights held through each L-BFGS line search."""
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0.0, 0.0], [2.0, 0.5], axes=("x", "t")),
        residual=lambda u, x: ops.dt(u, x) - ops.partial(u, x, 0, 0),
        conditions=[kanpde.Periodic("x"), kanpde.Initial(lambda x: torch.sin(math.pi * x[:, 0]))],
        exact=lambda x: torch.exp(-(math.pi**2) * x[:, 1]) * torch.sin(math.pi * x[:, 0]),
        n_interior=200,
        n_boundary=32,
    )


def test_causal_weights_held_in_lbfgs_resume_exactly(tmp_path, monkeypatch, interrupt_at):
    problem, schedule = heat(), [LBFGS(steps=None)]
    kw = {"constraints": "hard", "causal": Causal(chunks=4, tol=1.0, drift=0.05)}
    net = kanpde.KAN([3, 4, 1], grid=5, seed=2)
    whole = kanpde.solve(problem, net, schedule=schedule, steps=14, progress=False, **kw)
    with monkeypatch.context() as m:
        interrupt_at.within(m, 6)
        with pytest.raises(interrupt_at.error):
            kanpde.solve(problem, net, schedule=schedule, steps=14, progress=False, checkpoint=tmp_path, **kw)
    resumed = kanpde.solve(problem, net, schedule=schedule, steps=14, progress=False, resume=tmp_path, **kw)
    assert all(torch.equal(a, b) for a, b in zip(weights(resumed), weights(whole)))


def test_a_time_budget_resumes_with_what_was_left(tmp_path, monkeypatch, interrupt_at):
    problem = small_poisson()
    with monkeypatch.context() as m:
        interrupt_at.within(m, 5)
        with pytest.raises(interrupt_at.error):
            run(problem, [LBFGS(steps=None)], None, budget=3.0, checkpoint=tmp_path)
    resumed = run(problem, [LBFGS(steps=None)], None, budget=3.0, resume=tmp_path)
    assert resumed.status.kind.value == "time_budget" and "resumed 1x" in str(resumed.status)
    assert 3.0 <= resumed.info["train_s"] < 4.5  # the training time of both runs together
    assert resumed.info["resumed"][0]["t"] > 0


def test_resume_refuses_another_run_and_a_missing_checkpoint(tmp_path):
    problem = small_poisson()
    run(problem, [LBFGS(steps=3)], None, checkpoint=tmp_path)
    assert (tmp_path / CHECKPOINT).is_file()  # the last one, at the end of the run
    with pytest.raises(
        ConfigError, match=r"resume: the checkpoint in .* was written by a different run: its schedule differ"
    ):
        run(problem, [LBFGS(steps=4)], None, resume=tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"resume: .*checkpoint.pt' does not exist: no run has written a checkpoint there; run without resume",
    ):
        run(problem, [LBFGS(steps=3)], None, resume=tmp_path / "other")
    (tmp_path / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(
        ConfigError, match=r"is not a kanpde checkpoint or is damaged .*delete it and run without resume"
    ):
        run(problem, [LBFGS(steps=3)], None, resume=tmp_path)
    with pytest.raises(ConfigError, match=r"a resumed run keeps writing its checkpoints where it reads them"):
        run(problem, [LBFGS(steps=3)], None, resume=tmp_path, checkpoint=tmp_path / "elsewhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"checkpoint .*file/sub' cannot be created: .*file' is a file, not a folder"):
        run(problem, [LBFGS(steps=3)], None, checkpoint=tmp_path / "file" / "sub")


def test_resuming_a_finished_run_returns_it(tmp_path):
    problem = small_poisson()
    first = run(problem, [LBFGS(steps=4)], None, checkpoint=tmp_path)
    again = run(problem, [LBFGS(steps=4)], None, resume=tmp_path)
    assert again.info["steps"] == first.info["steps"] == 4
    assert all(torch.equal(a, b) for a, b in zip(weights(again), weights(first)))


def test_the_command_line_removes_its_checkpoint_and_refuses_to_resume_a_finished_run(tmp_path, capsys):
    from kanpde.cli import main

    out = tmp_path / "run"
    assert main(["solve", "poisson_sin", "--steps", "3", "--out", str(out), "--quiet", "--no-plots"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.pt", "report.json"]
    capsys.readouterr()
    assert main(["solve", "poisson_sin", "--steps", "3", "--out", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "resume: " in err and "holds a finished run (report.json) and no checkpoint; run without resume" in err
    assert main(["solve", "poisson_sin", "--steps", "3", "--out", str(out), "--checkpoint-every", "-1"]) == 2
    assert "--checkpoint-every must be a number of seconds >= 0; got -1" in capsys.readouterr().err
