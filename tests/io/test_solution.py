"""Solution: evaluation, report fields, save/load round trips."""

import json

import numpy as np
import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, ShapeError
from kanpde.problems import Poisson

REPORT_FIELDS = {
    "problem",
    "model",
    "rel_l2",
    "max_abs",
    "wall_s",
    "steps",
    "time_per_step_s",
    "device",
    "dtype",
    "seed",
    "history",
    "status",
    "status_kind",
    "phases",
}


@pytest.fixture(scope="module")
def solved():
    schedule = [kanpde.LBFGS(steps=8), kanpde.UpdateGrid(), kanpde.Refine(grid=10), kanpde.LBFGS(steps=4)]
    return kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 4, 1], grid=5), schedule=schedule, progress=False)


def test_call_with_tensors_and_arrays(solved):
    x = torch.rand(10, 2) * 2 - 1
    y = solved(x)
    assert isinstance(y, torch.Tensor) and y.shape == (10, 1)
    y_np = solved(x.numpy())
    assert isinstance(y_np, np.ndarray)
    np.testing.assert_allclose(y_np, y.numpy())
    with pytest.raises(ShapeError, match=r"Solution\(x\) needs points of shape \(n, 2\); got \(10, 3\)"):
        solved(torch.zeros(10, 3))


def test_report_fields(solved):
    report = solved.report()
    assert REPORT_FIELDS <= set(report)
    assert report["problem"] == "poisson_sin"
    assert report["model"]["kind"] == "kan" and report["model"]["grid"] == 10 and report["model"]["width"] == [2, 4, 1]
    assert report["model"]["params"] == sum(p.numel() for p in solved.model.parameters())
    assert report["steps"] == 12
    assert report["status"] == "schedule complete (4 phases)" and report["status_kind"] == "complete"
    assert report["time_per_step_s"] == pytest.approx(report["train_s"] / 12, rel=1e-3)  # train_s is rounded
    entries = [h for h in report["history"] if "loss" in h]
    assert all({"step", "t", "loss", "phase", "grid"} <= set(h) for h in entries)
    assert {h["event"] for h in report["history"] if "event" in h} == {"phase_end", "update_grid", "refine"}


def test_save_and_load_round_trip(solved, tmp_path):
    folder = solved.save(tmp_path / "run")
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.pt", "report.json"]
    report = json.loads((folder / "report.json").read_text())
    assert REPORT_FIELDS <= set(report)
    loaded = kanpde.load(folder)
    x = torch.rand(100, 2) * 2 - 1
    torch.testing.assert_close(loaded(x), solved(x), rtol=0, atol=0)
    # a non-uniform grid from the update survives the trip
    assert not loaded.model.net.layers[0].uniform and loaded.model.grid == 10
    # the built-in problem is rebuilt, so errors are recomputed and agree
    assert loaded.problem is not None and loaded.problem.name == "poisson_sin"
    assert loaded.errors["rel_l2"] == pytest.approx(solved.errors["rel_l2"], rel=1e-12)
    assert loaded.status == solved.status and len(loaded.history) == len(solved.history)
    # saving the loaded solution again gives the same report
    again = json.loads((loaded.save(tmp_path / "again") / "report.json").read_text())
    assert again["model"] == report["model"] and again["problem"] == "poisson_sin" and again["steps"] == report["steps"]


def test_load_a_user_problem_run(tmp_path):
    exact = lambda x: x[:, 0] * (1 - x[:, 0])  # noqa: E731
    problem = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: kanpde.ops.partial(u, x, 0, 0) + 2.0,
        conditions=[kanpde.Dirichlet("boundary")],
        exact=exact,
        n_interior=32,
    )
    sol = kanpde.solve(problem, model=kanpde.MLP([1, 8, 1]), schedule=[kanpde.LBFGS(steps=30)], progress=False)
    sol.save(tmp_path)
    bare = kanpde.load(tmp_path)
    assert bare.problem is None and bare.errors["rel_l2"] == pytest.approx(sol.errors["rel_l2"])
    x = torch.linspace(0, 1, 9).reshape(-1, 1)
    torch.testing.assert_close(bare(x), sol(x))
    with_problem = kanpde.load(tmp_path, problem=problem)
    assert with_problem.problem is problem and with_problem.errors == pytest.approx(sol.errors)


def test_save_and_load_errors(solved, tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(
        ConfigError, match=r"Solution.save path must be a folder; .*file' is a file. Choose another name"
    ):
        solved.save(file)
    with pytest.raises(
        ConfigError, match=r"Solution.save path .*file/run' cannot be created: .*file' is a file, not a folder"
    ):
        solved.save(file / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written
    with pytest.raises(ConfigError, match="model.pt is missing"):
        kanpde.load(tmp_path / "nothing")


def test_interrupted_save_leaves_no_partial_file(solved, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        solved.save(tmp_path / "run")
    assert list((tmp_path / "run").iterdir()) == []
