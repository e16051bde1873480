"""Inverse problems through ``kanpde.solve``: the unknowns are trained, kept and refused where they must be.

The problem: u'' + c pi^2 sin(pi x) = 0 on [0, 1] with u = 0 at both ends, so u = c sin(pi x); 20
observations of u made with c = 2, the unknown starting at 1. Oracles: each optimizer moves c toward 2
(L-BFGS to within 2 % in twenty iterations); a run stopped and resumed ends with the unknowns of a run that
was never stopped, to the last bit; a saved run loads with the same unknowns; every refusal comes before
training, with a one-line message naming the unknown and the fix, and writes nothing.
"""

import math

import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde.unknowns import bound_source
from kanpde.solvers import LBFGS, Adam, Sparsity
from kanpde.solvers.checkpoint import CHECKPOINT

PI = math.pi
C_TRUE = 2.0
SENSORS = np.linspace(0.05, 0.95, 20)[:, None]


def exact(x):
    return C_TRUE * torch.sin(PI * x[:, 0])


class Tiny(kanpde.Problem):
    domain = kanpde.Box([0.0], [1.0])
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    c = kanpde.Unknown(init=1.0, lower=0.0, exact=C_TRUE)
    n_interior, n_boundary = 64, 2

    def __init__(self, weight="auto"):
        self.data = [kanpde.Data(SENSORS, exact(torch.as_tensor(SENSORS)), weight=weight)]

    def residual(self, u, x):
        return ops.laplacian(u, x) + self.c * PI**2 * torch.sin(PI * x[:, 0])

    def evaluation_grid(self):
        return self.domain.grid(33)


class TinyField(Tiny):
    """The same with a coefficient field a > 0 (true value 1) in (a u')' + c pi^2 sin(pi x) = 0."""

    a = kanpde.UnknownField(init=0.8, positive=True, exact=lambda x: torch.ones(x.shape[0]))

    def residual(self, u, x):
        return ops.div(self.a(x) * ops.grad(u, x), x) + self.c * PI**2 * torch.sin(PI * x[:, 0])


def run(problem, schedule, net="kan", **kw):
    model = kanpde.KAN([1, 5, 1], grid=5, seed=0) if net == "kan" else kanpde.MLP([1, 10, 1], seed=0)
    return kanpde.solve(problem, model, schedule=schedule, seed=1, progress=False, **kw)


# --- both optimizers train the unknowns ---------------------------------------------------------------


def test_adam_moves_the_unknown_toward_the_truth():
    sol = run(Tiny(), [Adam(steps=30, lr=0.05)])
    c = sol.unknowns["c"]
    assert 1.1 < c < C_TRUE  # from 1: the first steps already walk it toward 2
    assert sol.errors["rel_err_c"] == pytest.approx(abs(c - C_TRUE) / C_TRUE, rel=1e-12)
    logged = [h["unknowns"]["c"] for h in sol.history if "unknowns" in h]
    assert logged and logged[-1] == c


def test_lbfgs_moves_the_unknown_to_the_truth():
    sol = run(Tiny(), [LBFGS(steps=20)])
    assert abs(sol.unknowns["c"] - C_TRUE) < 0.02 * C_TRUE
    assert sol.info["steps"] == 20


def test_the_data_weight_is_automatic_or_the_given_number():
    auto = run(Tiny(), [LBFGS(steps=1)], net="mlp")
    fixed = run(Tiny(weight=5.0), [LBFGS(steps=1)], net="mlp")
    assert fixed.info["data_weights"] == {"data:data": 5.0}
    weight = auto.info["data_weights"]["data:data"]
    assert weight > 0 and weight != 1.0  # R0 / D0 of the first model
    assert set(auto.info["data_misfit"]) == set(fixed.info["data_misfit"]) == {"data:data"}
    assert auto.info["unknowns_declared"] == [{"kind": "scalar", "name": "c", "init": 1.0, "lower": 0.0, "upper": None}]


# --- kept across checkpoints and saved runs -----------------------------------------------------------


@pytest.mark.parametrize("stop", [3, 8], ids=["in-adam", "in-lbfgs"])
def test_a_resumed_run_ends_with_the_unknowns_of_an_uninterrupted_one(tmp_path, monkeypatch, stop, interrupt_at):
    schedule = [Adam(steps=5, lr=0.02), LBFGS(steps=5)]
    whole = run(TinyField(), schedule, net="mlp", steps=10)
    with monkeypatch.context() as m:
        interrupt_at.within(m, stop)
        with pytest.raises(interrupt_at.error):
            run(TinyField(), schedule, net="mlp", steps=10, checkpoint=tmp_path, checkpoint_every=1e9)
    assert (tmp_path / CHECKPOINT).is_file()
    resumed = run(TinyField(), schedule, net="mlp", steps=10, resume=tmp_path)
    assert resumed.info["resumed"][0]["step"] == stop
    assert resumed.unknowns["c"] == whole.unknowns["c"] != 1.0
    x = np.linspace(0, 1, 11)[:, None]
    assert np.array_equal(resumed.unknowns["a"](x), whole.unknowns["a"](x))
    assert not np.allclose(whole.unknowns["a"](x), 0.8)  # the field was trained too
    states = zip(resumed.model.unknowns.state_dict().values(), whole.model.unknowns.state_dict().values())
    assert all(torch.equal(a, b) for a, b in states)


def test_a_checkpoint_is_not_resumed_with_other_observations(tmp_path):
    run(Tiny(), [LBFGS(steps=2)], net="mlp", checkpoint=tmp_path)
    other = Tiny()
    other.data = [kanpde.Data(SENSORS, 1.01 * exact(torch.as_tensor(SENSORS)))]  # same count, other values
    with pytest.raises(ConfigError, match=r"^resume: the checkpoint in .* was written by a different run: its problem"):
        run(other, [LBFGS(steps=2)], net="mlp", resume=tmp_path)
    assert run(Tiny(), [LBFGS(steps=2)], net="mlp", resume=tmp_path).info["steps"] == 2  # the same data: resumed


def test_a_saved_run_loads_with_its_unknowns(tmp_path):
    sol = run(TinyField(), [LBFGS(steps=4)], net="mlp")
    sol.save(tmp_path / "run")
    loaded = kanpde.load(tmp_path / "run")
    assert list(loaded.unknowns) == ["c", "a"]
    assert loaded.unknowns["c"] == sol.unknowns["c"]
    x = np.linspace(0, 1, 9)[:, None]
    assert np.array_equal(loaded.unknowns["a"](x), sol.unknowns["a"](x)) and loaded.unknowns["a"](x).shape == (9, 1)
    assert loaded.errors["rel_err_c"] == sol.errors["rel_err_c"]
    problem = TinyField()
    with_problem = kanpde.load(tmp_path / "run", problem=problem)
    assert problem.c.item() == sol.unknowns["c"]  # the problem reads the identified values
    assert with_problem.unknowns["c"] == sol.unknowns["c"]


def test_a_phase_rerun_after_a_collapse_trains_the_unknowns_the_problem_reads():
    problem = TinyField()
    sol = run(problem, [LBFGS(steps=40, sparsity=Sparsity(weight=1e3))], constraints="soft")
    assert "rolled back" in sol.phases[0]["status"]  # the model was replaced by the phase's starting copy
    assert bound_source(problem) is sol.model.unknowns  # the residual reads the copy being trained
    assert sol.unknowns["c"] != 1.0  # so the rerun moved c from its first guess


# --- refused before training, writing nothing ---------------------------------------------------------


class Unused(Tiny):
    k = kanpde.Unknown(init=0.5)  # in no term of the loss


class WrongNet(Tiny):
    a = kanpde.UnknownField(init=1.0, model=kanpde.MLP([2, 4, 1]))

    def residual(self, u, x):
        return ops.div(self.a(x) * ops.grad(u, x), x) + self.c * PI**2 * torch.sin(PI * x[:, 0])


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            Unused,
            DefinitionError,
            r"^Unused: the unknown 'k' is used neither in residual\(\) nor in a condition, so nothing would identify "
            r"it; use it \(self.k\) or remove it$",
        ),
        (
            WrongNet,
            ShapeError,
            r"^an UnknownField's network must take its 1 coordinates and return 1 value; its width is \[2, 4, 1\]: "
            r"use \[1, \.\.\., 1\]$",
        ),
    ],
    ids=["unused", "wrong-width"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["absent", "empty"])
def test_a_refused_unknown_stops_solve_before_anything_is_written(tmp_path, make, error, match, existing):
    folder = tmp_path / "ck"
    if existing:
        folder.mkdir()
    with pytest.raises(error, match=match) as err:
        run(make(), [LBFGS(steps=3)], net="mlp", checkpoint=folder)
    assert "\n" not in str(err.value)
    assert (folder.is_dir() and not any(folder.iterdir())) if existing else not folder.exists()


def test_data_that_does_not_fit_fails_before_solve(tmp_path):
    """Data is checked when the problem is built: solve() is never reached, so nothing is written."""

    class Outside(Tiny):
        def __init__(self):
            self.data = [kanpde.Data([[0.5], [1.5]], [1.0, 0.0])]

    with pytest.raises(ConfigError, match=r"^Outside.data\[0\] \(data:data\) points: 1 of 2 points lie"):
        run(Outside(), [LBFGS(steps=3)], checkpoint=tmp_path / "ck")
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("train", ["solution", "unknowns"])
def test_a_phase_trains_only_the_part_it_names(train):
    """train='unknowns' moves c and leaves the network's weights as they were; train='solution' the reverse."""
    problem = Tiny()
    before = run(problem, [LBFGS(steps=1)])
    start_net = [p.detach().clone() for p in before.model.net.parameters()]
    sol = run(problem, [LBFGS(steps=1), LBFGS(steps=5, train=train)])
    moved_net = any(not torch.equal(a, b) for a, b in zip(start_net, sol.model.net.parameters()))
    moved_c = sol.unknowns["c"] != before.unknowns["c"]
    assert (moved_net, moved_c) == ((True, False) if train == "solution" else (False, True))


def test_a_phase_with_nothing_to_train_is_refused():
    class Forward(kanpde.Problem):
        domain = kanpde.Box([0.0], [1.0])
        conditions = [kanpde.Dirichlet("boundary", 0.0)]

        def residual(self, u, x):
            return ops.laplacian(u, x) + 1.0

    with pytest.raises(ConfigError, match=r"LBFGS\(train='unknowns'\): the model has nothing to train there"):
        kanpde.solve(Forward(), kanpde.KAN([1, 5, 1]), schedule=[LBFGS(steps=2, train="unknowns")], progress=False)
    with pytest.raises(ConfigError, match=r"Adam.train must be 'all' \(default\)"):
        Adam(train="net")
