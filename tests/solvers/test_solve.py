"""solve(): accuracy on a fixed step budget, phase hand-offs, refinement, rollback, budgets and checks."""

import math

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.io.status import Status, StatusKind
from kanpde.pde import ops
from kanpde.problems import Poisson


def test_poisson_sin_reaches_one_percent_on_a_step_budget():
    sol = kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 10, 1], grid=5), steps=150, progress=False)
    assert sol.errors["rel_l2"] < 1e-2, sol.errors
    assert sol.info["steps"] == 150 and sol.status.kind is StatusKind.STEP_BUDGET
    assert str(sol.status).startswith("step budget of 150 steps reached")
    assert sol.info["params"] == sum(p.numel() for p in sol.model.parameters())
    logged = [h for h in sol.history if "rel_l2" in h]
    assert logged and logged[-1]["rel_l2"] == pytest.approx(sol.errors["rel_l2"])


def test_adam_lbfgs_handoff_and_refinement_inside_solve():
    schedule = [
        kanpde.Adam(steps=15, lr=1e-2, batch=500),
        kanpde.LBFGS(steps=15),
        kanpde.Refine(grid=10),
        kanpde.LBFGS(steps=10),
    ]
    sol = kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 4, 1], grid=5), schedule=schedule, progress=False)
    assert [p["phase"] for p in sol.phases] == ["adam", "lbfgs", "refine", "lbfgs"]
    assert [p["end_step"] for p in sol.phases] == [15, 30, 30, 40]
    assert sol.phases[0]["batch"] == 500 and sol.phases[0]["status"] == "completed 15 steps"
    assert sol.phases[2]["fit_error"] < 1e-12  # 5 -> 10 nests the knots: the refit is exact
    assert sol.model.grid == 10 and sol.status == Status(StatusKind.COMPLETE, "schedule complete (4 phases)")
    assert sol.phases[-1]["status"] == "completed 10 steps"
    events = [h for h in sol.history if h.get("event") == "refine"]
    assert events and events[0]["grid"] == 10
    grids = [h["grid"] for h in sol.history if "loss" in h]
    assert grids[0] == 5 and grids[-1] == 10
    # the loss does not jump at the refinement, and keeps falling after it
    before = [h["loss"] for h in sol.history if "loss" in h and h["step"] <= 30][-1]
    after = [h["loss"] for h in sol.history if "loss" in h and h["step"] > 30]
    assert after[-1] < before


def test_refinement_to_a_non_nested_grid_reports_its_fit_error():
    sol = kanpde.solve(
        Poisson.sin(),
        model=kanpde.KAN([2, 4, 1], grid=5),
        schedule=[kanpde.LBFGS(steps=5), kanpde.Refine(grid=7), kanpde.LBFGS(steps=2)],
        progress=False,
    )
    assert 0 < sol.phases[1]["fit_error"] < 0.5
    assert "relative fit error" in sol.phases[1]["status"]


def test_update_grid_phase():
    sol = kanpde.solve(
        Poisson.sin(),
        model=kanpde.KAN([2, 4, 1], grid=5),
        schedule=[kanpde.LBFGS(steps=5), kanpde.UpdateGrid(), kanpde.LBFGS(steps=5)],
        progress=False,
    )
    assert not sol.model.net.layers[1].uniform and sol.phases[1]["fit_error"] < 0.1


def test_non_finite_loss_rolls_back_to_the_last_finite_state():
    calls = {"n": 0}

    def residual(u, x):
        calls["n"] += x.shape[0] == 64  # count training evaluations only (the checks use 7 points)
        r = ops.laplacian(u, x) + 1.0
        return r * float("nan") if calls["n"] > 5 else r

    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]),
        residual=residual,
        conditions=[kanpde.Dirichlet("boundary")],
        n_interior=64,
        n_boundary=32,
    )
    sol = kanpde.solve(
        problem,
        model=kanpde.MLP([2, 8, 1]),
        schedule=[kanpde.Adam(steps=20, lr=1e-2), kanpde.LBFGS(steps=5)],
        progress=False,
    )
    # step 6 is the first NaN; the last parameters whose loss was seen finite are those after step 4
    # (evaluated at step 5), since the update of step 5 was never evaluated.
    assert sol.phases[0]["status"] == "non-finite loss (nan) at step 6; rolled back to the state of step 4"
    assert all(torch.isfinite(p).all() for p in sol.model.parameters())
    assert sol.phases[1]["status"].startswith("non-finite loss")
    assert math.isfinite(sol.errors.get("rel_l2", 0.0))
    # the last optimizer phase stopped on it, so the run did: its status says so, and then how the schedule ended
    assert sol.status.kind is StatusKind.NON_FINITE
    assert str(sol.status) == f"{sol.phases[1]['status']} (phase 2 of 2, lbfgs); schedule complete (2 phases)"


def test_time_budget_and_default_model():
    sol = kanpde.solve(Poisson.sin(), budget=1.0, progress=False)
    assert sol.model.kind == "kan" and sol.model.net.width == [2, 10, 1]
    assert sol.status.kind is StatusKind.TIME_BUDGET and str(sol.status).startswith("time budget of 1 s reached")
    assert sol.info["train_s"] >= 1.0 and sol.info["wall_s"] >= sol.info["train_s"]


def test_solve_does_not_change_the_callers_model():
    net = kanpde.KAN([2, 4, 1], grid=5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    sol = kanpde.solve(Poisson.sin(), model=net, steps=3, progress=False)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert sol.model.net is not net


def test_neumann_and_robin_conditions_1d():
    """u'' = -1 on [0, 1], u(0) = 0, u'(1) + u(1) = 1/2 + 0  -> exact u = x - x^2/2 (u'(1) = 0, u(1) = 1/2)."""
    exact = lambda x: x[:, 0] - x[:, 0] ** 2 / 2  # noqa: E731
    problem = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: ops.partial(u, x, 0, 0) + 1.0,
        conditions=[kanpde.Dirichlet("left", 0.0), kanpde.Robin("right", 0.5, alpha=1.0, beta=1.0)],
        exact=exact,
        n_interior=64,
    )
    sol = kanpde.solve(problem, model=kanpde.MLP([1, 16, 1]), schedule=[kanpde.LBFGS(steps=300)], progress=False)
    assert sol.errors["rel_l2"] < 1e-3
    neumann = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: ops.partial(u, x, 0, 0) + 1.0,
        conditions=[kanpde.Dirichlet("left", 0.0), kanpde.Neumann("right", 0.0)],
        exact=exact,
        n_interior=64,
    )
    sol = kanpde.solve(neumann, model=kanpde.KAN([1, 3, 1], grid=5), schedule=[kanpde.LBFGS(steps=300)], progress=False)
    assert sol.errors["rel_l2"] < 1e-3


class Vector(kanpde.Problem):
    """Two decoupled components: u0'' = 0 and u1'' = 2 on [0, 1] with u = (x, x^2) on the ends."""

    domain = kanpde.Interval(0, 1)
    out_dim = 2
    conditions = [kanpde.Dirichlet("boundary", lambda x: torch.stack([x[:, 0], x[:, 0] ** 2], 1))]
    n_interior = 64

    def residual(self, u, x):
        return torch.cat([ops.partial(u[0], x, 0, 0).values, (ops.partial(u[1], x, 0, 0) - 2).values], 1)

    def exact(self, x):
        return torch.stack([x[:, 0], x[:, 0] ** 2], 1)


def test_vector_valued_problem():
    sol = kanpde.solve(Vector(), model=kanpde.MLP([1, 16, 2]), schedule=[kanpde.LBFGS(steps=100)], progress=False)
    assert sol.errors["rel_l2"] < 1e-3
    assert sol(torch.zeros(3, 1)).shape == (3, 2)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (
            {"model": kanpde.KAN([3, 10, 1])},
            ShapeError,
            r"model width \[3, 10, 1\] does not fit poisson_sin: .*use width \[2, 10, 1\]",
        ),
        ({"model": kanpde.MLP([2, 10, 2])}, ShapeError, r"last the number of components 1; use width \[2, 10, 1\]"),
        ({"model": torch.nn.Linear(2, 1)}, DefinitionError, "must be a kanpde.KAN or kanpde.MLP; got Linear"),
        ({"budget": 0}, ConfigError, "budget must be a number of seconds > 0; got 0"),
        ({"budget": -5.0}, ConfigError, "budget must be a number of seconds > 0"),
        ({"budget": float("nan")}, ConfigError, "budget must be a number of seconds > 0"),
        ({"steps": 0}, ConfigError, "steps must be an int >= 1; got 0"),
        ({"dtype": "float16"}, ConfigError, "dtype must be 'float32' or 'float64'; got 'float16'"),
        ({"device": "tpu"}, ConfigError, "device must be 'cpu' or 'cuda'"),
        ({"seed": -1}, ConfigError, r"solve\(seed=...\) must be an int >= 0; got -1"),
        (
            {"model": kanpde.MLP([2, 8, 1]), "schedule": [kanpde.Refine(grid=10)]},
            ConfigError,
            "Refine needs a KAN .*the model is an MLP",
        ),
        ({"schedule": []}, ConfigError, "schedule must be a non-empty list of phases"),
        ({"schedule": kanpde.LBFGS()}, ConfigError, "schedule must be a non-empty list"),
        (
            {"schedule": ["lbfgs"]},
            ConfigError,
            "schedule entries must be Adam, LBFGS, Refine, UpdateGrid, Resample, Prune or Symbolize; got 'lbfgs'",
        ),
    ],
)
def test_solve_rejects_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        kanpde.solve(Poisson.sin(), **{"steps": 1, "progress": False, **kwargs})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_is_an_error():
    with pytest.raises(ConfigError, match="device='cuda' was asked for but no CUDA GPU is available"):
        kanpde.solve(Poisson.sin(), device="cuda", steps=1, progress=False)


def test_not_a_problem():
    with pytest.raises(DefinitionError, match="solve\\(\\) needs a kanpde.Problem as its first argument; got str"):
        kanpde.solve("poisson_sin")


@pytest.mark.parametrize(
    "residual, match",
    [
        (
            lambda u, x: ops.laplacian(u, x).values.reshape(1, -1),
            r"must return shape \(32,\) or \(32, m\) for 32 points; got \(1, 32\)",
        ),
        (lambda u, x: ops.laplacian(u, x).values + x[:, :1].T, r"got \(32, 32\)"),  # an outer product by broadcasting
        (lambda u, x: "r", "must return a tensor or field; got str"),
    ],
)
def test_residual_shape_is_checked_before_training(residual, match):
    problem = kanpde.FunctionProblem(domain=kanpde.Box([0, 0], [1, 1]), residual=residual)
    with pytest.raises(ShapeError, match=match):
        kanpde.solve(problem, steps=1, progress=False)


@pytest.mark.parametrize(
    "phase, match",
    [
        (lambda: kanpde.Adam(steps=0), r"Adam.steps must be an int >= 1 or None .*; got 0"),
        (lambda: kanpde.Adam(lr=0), "Adam.lr must be a number > 0; got 0"),
        (lambda: kanpde.Adam(batch=0), "Adam.batch must be an int >= 1 or None"),
        (lambda: kanpde.Adam(steps=None, final_lr=1e-4), "a decay needs a length"),
        (lambda: kanpde.LBFGS(history=0), "LBFGS.history must be an int >= 1; got 0"),
        (lambda: kanpde.LBFGS(share=1.5), r"LBFGS.share must be a fraction of the budget in \(0, 1\]"),
        (lambda: kanpde.LBFGS(stall_tol=1.0), r"LBFGS.stall_tol must be a number in \[0, 1\)"),
        (lambda: kanpde.Refine(grid=0), "Refine.grid must be an int >= 1; got 0"),
        (lambda: kanpde.UpdateGrid(eps=0), r"UpdateGrid.eps must be a number in \(0, 1\]"),
    ],
)
def test_phases_validate(phase, match):
    with pytest.raises(ConfigError, match=match):
        phase()


def test_a_typo_in_a_phase_is_an_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'step'"):
        kanpde.LBFGS(step=10)


def test_lbfgs_stall_ends_the_phase():
    problem = kanpde.FunctionProblem(domain=kanpde.Interval(0, 1), residual=lambda u, x: u - 1.0, n_interior=16)
    sol = kanpde.solve(
        problem,
        model=kanpde.MLP([1, 4, 1]),
        schedule=[kanpde.LBFGS(steps=500, stall_window=5, stall_tol=1e-3)],
        progress=False,
    )
    assert (
        sol.phases[0]["status"].startswith("stalled")
        or sol.phases[0]["status"].startswith("gradient below")
        or "no decrease" in sol.phases[0]["status"]
    )
    assert sol.info["steps"] < 500


def test_float32_on_cpu():
    sol = kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 4, 1], grid=5), steps=5, dtype="float32", progress=False)
    assert next(sol.model.parameters()).dtype == torch.float32 and sol.info["dtype"] == "float32"
    assert math.isfinite(sol.errors["rel_l2"])


def test_resample_draws_fresh_points_deterministically():
    schedule = [kanpde.LBFGS(steps=3), kanpde.Resample(n_interior=300), kanpde.LBFGS(steps=3)]
    runs = [
        kanpde.solve(
            Poisson.sin(), model=kanpde.KAN([2, 3, 1], grid=5), schedule=schedule, constraints="soft", progress=False
        )
        for _ in range(2)
    ]
    assert runs[0].phases[1]["collocation"]["interior"] == 300
    assert runs[0].errors["rel_l2"] == runs[1].errors["rel_l2"]  # same seed, same draws
    events = [h for h in runs[0].history if h.get("event") == "resample"]
    assert events and events[0]["collocation"]["dirichlet:boundary"] == 400
    other = kanpde.solve(
        Poisson.sin(),
        model=kanpde.KAN([2, 3, 1], grid=5),
        schedule=schedule,
        seed=1,
        constraints="soft",
        progress=False,
    )
    assert other.errors["rel_l2"] != runs[0].errors["rel_l2"]
    with pytest.raises(ConfigError, match=r"Resample.n_interior must be an int >= 1 or None"):
        kanpde.Resample(n_interior=0)


def test_poisson_recipe_builds_the_boundary_in_where_it_can():
    kan = kanpde.solve(Poisson.sin(), model=kanpde.KAN([2, 3, 1], grid=5), steps=2, progress=False)
    assert (
        kan.info["constraints"] == "hard (dirichlet on 4 faces)" and "dirichlet:boundary" not in kan.info["collocation"]
    )
    # a quarter of the step budget (at least one step) on G = 5, then G = 10 until the budget ends
    assert [p["phase"] for p in kan.phases] == ["lbfgs", "refine", "lbfgs"]
    assert kan.phases[0]["status"] == "used its share of the step budget (0.25 x 2 steps)"

    class TwoValues(Poisson):  # different values on two faces: blended, built in all the same
        def __init__(self):
            super().__init__(source=lambda x: 0 * x[:, 0])
            self.conditions = [kanpde.Dirichlet("left", 0.0), kanpde.Dirichlet("right", 1.0)]

    two = kanpde.solve(TwoValues(), model=kanpde.KAN([2, 3, 1], grid=5), steps=2, progress=False)
    assert two.info["constraints"] == "hard (dirichlet on 2 faces, 2 values interpolated)"
    assert "dirichlet:left" not in two.info["collocation"]

    class Flux(Poisson):  # nothing to build in: the recipe stays soft and says why
        def __init__(self):
            super().__init__(source=lambda x: 0 * x[:, 0] - 1)
            self.conditions = [kanpde.Robin("boundary", 0.0, alpha=1.0, beta=1.0)]

    soft = kanpde.solve(Flux(), model=kanpde.KAN([2, 3, 1], grid=5), steps=2, progress=False)
    assert soft.info["constraints"] == "soft" and soft.info["collocation"]["robin:boundary"] == 512
    assert "no Dirichlet" in soft.info["recipe"]["why_soft"]
    schedule = kanpde.solvers.default_schedule(Poisson.kan_paper(), kanpde.KAN([2, 10, 1], grid=5))
    assert [type(p).__name__ for p in schedule] == ["LBFGS", "Refine", "LBFGS", "Refine", "LBFGS"]
    assert schedule[0].share == 0.25 and schedule[-1].steps is None


def test_refinement_shares_per_grid():
    """The Allen-Cahn KAN recipe: short shares of the budget on the coarse grids, the last grid until it
    ends; a network that starts on a finer grid skips the leading phases and keeps the later shares."""
    from kanpde.problems import AllenCahn
    from kanpde.solvers.recipes import kan_refinement

    def plan(grid):
        schedule = kanpde.solvers.default_schedule(AllenCahn.standard(), kanpde.KAN([3, 10, 1], grid=grid))
        assert isinstance(schedule[0], kanpde.Adam) and schedule[-1].steps is None
        return [p.grid if isinstance(p, kanpde.Refine) else p.share for p in schedule[1:]]

    assert plan(5) == [0.05, 10, 0.1, 20, 0.2, 40, None]
    assert plan(10) == [0.1, 20, 0.2, 40, None]
    assert plan(40) == [None]
    with pytest.raises(
        ConfigError, match=r"kan_refinement share must be a number or one per grid before the last \(2\); got \(0.1,\)"
    ):
        kan_refinement((10, 20), share=(0.1,))


def test_adaptive_resampling_follows_the_residual_and_is_seeded():
    schedule = [kanpde.LBFGS(steps=5), kanpde.Resample(adaptive=True, k=2.0, c=0.0), kanpde.LBFGS(steps=2)]
    runs = [
        kanpde.solve(
            Poisson.kan_paper(), model=kanpde.KAN([2, 3, 1], grid=5), schedule=schedule, n_interior=500, progress=False
        )
        for _ in range(2)
    ]
    assert runs[0].errors == runs[1].errors
    assert runs[0].phases[1]["status"] == "drew 500 residual-weighted (RAD) interior points (draw 1)"
    events = [h for h in runs[0].history if h.get("event") == "resample"]
    assert events[0]["adaptive"] is True and events[0]["collocation"]["interior"] == 500
    with pytest.raises(ConfigError, match=r"Resample.candidates must be an int >= 1; got 0"):
        kanpde.Resample(adaptive=True, candidates=0)


def test_rad_points_gather_where_the_residual_is_large():
    """A residual that is large only for x > 0.5: with c = 0 and k = 2 nearly every point lands there."""
    from kanpde.pinn.loss import Collocation
    from kanpde.pinn.surrogate import Surrogate
    from kanpde.solvers.restructure import resample
    from kanpde.solvers.training import Budget, PhaseReport, Trainer, TrainingConfig

    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]),
        residual=lambda u, x: ops.laplacian(u, x) * 0 + (x[:, 0] > 0.5).to(x.dtype) * 10.0 + 1e-3,
        conditions=[kanpde.Dirichlet("boundary", 0.0)],
        n_interior=400,
    )
    model = Surrogate(kanpde.MLP([2, 4, 1]), problem.domain.lower, problem.domain.upper)
    state = Trainer(TrainingConfig(problem=problem, budget=Budget(steps=1)), model, Collocation.sample(problem)).state
    resample(state, kanpde.Resample(adaptive=True, k=2.0, c=0.0), PhaseReport("resample", 0, 0.0, None))
    x = state.colloc.interior.detach()
    assert x.shape == (400, 2) and float((x[:, 0] > 0.5).double().mean()) > 0.99
    resample(state, kanpde.Resample(adaptive=True, k=2.0, c=1e6), PhaseReport("resample", 0, 0.0, None))
    assert 0.35 < float((state.colloc.interior[:, 0] > 0.5).double().mean()) < 0.65  # a large c is uniform


def test_gradient_norm_balancing_raises_a_starved_term():
    """With interior weight 100 the boundary term's gradients are tiny: balancing lifts its weight."""
    exact = Poisson.sin().exact
    problem = Poisson(
        source=Poisson.sin().source,
        exact=exact,
        boundary=0.0,
        residual_weight=100.0,
        n_interior=300,
        n_boundary=80,
        eval_points=32,
    )
    schedule = [kanpde.Adam(steps=6, lr=1e-3), kanpde.LBFGS(steps=2)]
    runs = [
        kanpde.solve(
            problem,
            model=kanpde.MLP([2, 8, 1]),
            schedule=schedule,
            constraints="soft",
            balance=kanpde.solvers.Balance(every=3, alpha=0.5),
            progress=False,
        )
        for _ in range(2)
    ]
    weights = runs[0].info["balance"]["weights"]
    assert set(weights) == {"dirichlet:boundary"} and weights["dirichlet:boundary"] > 1.0
    assert runs[0].errors["rel_l2"] == runs[1].errors["rel_l2"] and weights == runs[1].info["balance"]["weights"]
    logged = [h["term_weights"] for h in runs[0].history if "term_weights" in h]
    assert logged and logged[-1] == weights  # held fixed through the L-BFGS phase
    with pytest.raises(ConfigError, match=r"Balance.alpha must be a number in \(0, 1\]; got 0"):
        kanpde.solvers.Balance(alpha=0)
    with pytest.raises(ConfigError, match=r"solve\(balance=...\) must be a kanpde.solvers.Balance"):
        kanpde.solve(problem, balance="on", steps=1, progress=False)
