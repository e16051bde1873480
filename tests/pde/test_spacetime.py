"""Space-time problems: Initial and Periodic conditions, the periodic embedding, hard initial values, causal weights."""

import contextlib
import math

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde import ops
from kanpde.pinn.hard_constraints import split_conditions
from kanpde.pinn.loss import Collocation, loss_terms, plan_derivatives, total_loss
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import AllenCahn
from kanpde.solvers import Causal


def heat(**kwargs):
    """u_t = u_xx on [0, 2] x [0, 0.5], periodic in x, u(x, 0) = sin(pi x): exact exp(-pi^2 t) sin(pi x)."""
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0.0, 0.0], [2.0, 0.5], axes=("x", "t")),
        residual=lambda u, x: ops.dt(u, x) - ops.partial(u, x, 0, 0),
        conditions=[kanpde.Periodic("x"), kanpde.Initial(lambda x: torch.sin(math.pi * x[:, 0]))],
        exact=lambda x: torch.exp(-(math.pi**2) * x[:, 1]) * torch.sin(math.pi * x[:, 0]),
        n_interior=400,
        n_boundary=64,
        **kwargs,
    )


def hard_surrogate(problem, net):
    hard, _ = split_conditions(problem, "hard")
    return Surrogate(net, problem.domain.lower, problem.domain.upper, hard.dirichlet, hard.periodic)


@pytest.mark.parametrize(
    "net", [kanpde.KAN([3, 5, 1], grid=5, init_noise=1.0, seed=2), kanpde.MLP([3, 16, 16, 1], seed=3)]
)
def test_embedding_and_hard_initial_hold_for_any_weights(net):
    problem = heat()
    model = hard_surrogate(problem, net)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    t = torch.linspace(0, 0.5, 11).reshape(-1, 1)
    left = torch.cat([0 * t, t], 1).requires_grad_(True)
    right = torch.cat([2 + 0 * t, t], 1).requires_grad_(True)
    ul, ur = model(left), model(right)
    gl = torch.autograd.grad(ul.sum(), left, create_graph=True)[0][:, 0]
    gr = torch.autograd.grad(ur.sum(), right, create_graph=True)[0][:, 0]
    torch.testing.assert_close(ul, ur, rtol=0, atol=1e-12)
    torch.testing.assert_close(gl, gr, rtol=0, atol=1e-11)
    x0 = torch.stack([torch.linspace(0, 2, 13), torch.zeros(13)], 1)
    torch.testing.assert_close(model(x0)[:, 0], torch.sin(math.pi * x0[:, 0]), rtol=0, atol=1e-14)


def test_hard_space_time_one_pass_equals_autograd():
    problem = heat()
    model = hard_surrogate(problem, kanpde.KAN([3, 4, 1], grid=5, init_noise=1.0, seed=1))
    _, soft = split_conditions(problem, "hard")
    assert soft == ()
    colloc = Collocation.sample(problem, n_interior=30, conditions=soft)
    params = list(model.parameters())
    grads = {}
    for mode in ("jet", "autograd"):
        plan = plan_derivatives(problem, model, colloc, mode)
        grads[mode] = torch.autograd.grad(total_loss(loss_terms(problem, model, colloc, plan)), params)
    assert plan_derivatives(problem, model, colloc).interior is not None  # auto picks one pass
    for a, b in zip(grads["jet"], grads["autograd"]):
        assert float((a - b).abs().max() / b.abs().max()) <= 1e-10


def test_soft_periodic_and_initial_terms():
    problem = heat()
    colloc = Collocation.sample(problem)
    periodic = colloc.boundary[0]
    assert periodic.condition.label == "periodic:x" and periodic.x.shape == (64, 2)
    torch.testing.assert_close(periodic.x[0::2, 1], periodic.x[1::2, 1])  # pairs share their time
    assert periodic.x[0::2, 0].eq(0).all() and periodic.x[1::2, 0].eq(2).all()
    surrogate = Surrogate(kanpde.MLP([2, 8, 1]), problem.domain.lower, problem.domain.upper)
    terms = loss_terms(problem, surrogate, colloc, plan_derivatives(problem, surrogate, colloc))
    assert set(terms) == {"residual", "periodic:x", "initial:t_min"}
    assert all(float(v) > 0 for v in terms.values())
    sub = colloc.subset(0.25, torch.Generator().manual_seed(0))
    torch.testing.assert_close(sub.boundary[0].x[0::2, 1], sub.boundary[0].x[1::2, 1])  # mini-batches keep pairs


def test_heat_solves_with_hard_conditions():
    sol = kanpde.solve(heat(), model=kanpde.KAN([3, 6, 1], grid=5), steps=200, constraints="hard", progress=False)
    assert sol.info["constraints"] == "hard (dirichlet on 1 face, periodic x)"
    assert sol.errors["rel_l2"] < 5e-2, sol.errors


def test_width_must_count_the_embedding():
    with pytest.raises(
        ShapeError,
        match=r"the first entry must be 3 \(the 2 coordinates, with x embedded as cos and sin .*use width \[3, 6, 1\]",
    ):
        kanpde.solve(heat(), model=kanpde.KAN([2, 6, 1]), steps=1, constraints="hard", progress=False)
    assert kanpde.solvers.network_inputs(heat(), "kan", "hard") == 3
    assert kanpde.solvers.network_inputs(heat(), "kan", "soft") == 2


def test_causal_weights_are_deterministic_and_ordered():
    reduce = Causal(chunks=4, tol=1.0).reducer(heat())
    x = torch.tensor([[0.0, 0.01], [0.0, 0.2], [0.0, 0.3], [0.0, 0.49]])
    r = torch.tensor([[1.0], [2.0], [0.0], [3.0]])
    # chunk losses 1, 4, 0, 9; weights exp(-(0, 1, 5, 5)); mean of w_i L_i
    expected = (1 * 1 + math.exp(-1) * 4 + math.exp(-5) * 0 + math.exp(-5) * 9) / 4
    assert float(reduce(r, x)) == pytest.approx(expected)
    assert reduce.last_min_weight == pytest.approx(math.exp(-5))
    runs = [
        kanpde.solve(
            heat(), model=kanpde.MLP([3, 8, 1]), steps=5, constraints="hard", causal=Causal(chunks=4), progress=False
        )
        for _ in range(2)
    ]
    assert runs[0].errors == runs[1].errors and runs[0].info["causal"] == {"chunks": 4, "tol": 1.0, "drift": 0.01}
    assert all("causal_min_weight" in h for h in runs[0].history if "loss" in h)


def _causal_loss_and_slope(held: bool) -> tuple[float, float]:
    """g.d at theta and the central difference of the loss along d, with causal weights taken at theta
    (``held``) or at every evaluation."""
    problem = heat()
    model = hard_surrogate(problem, kanpde.MLP([3, 16, 1], seed=4)).double()
    colloc = Collocation.sample(problem, n_interior=200, conditions=())
    reduce = Causal(chunks=4, tol=0.02).reducer(problem)  # chunk losses ~50: weights 1 .. e^-3
    params = list(model.parameters())
    theta = [p.detach().clone() for p in params]
    d = [torch.randn(p.shape, dtype=p.dtype, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(params)]

    def loss_at(h: float) -> torch.Tensor:
        with torch.no_grad():
            for p, p0, dp in zip(params, theta, d):
                p.copy_(p0 + h * dp)
        return total_loss(loss_terms(problem, model, colloc, None, reduce))

    with reduce.held() if held else contextlib.nullcontext():
        grads = torch.autograd.grad(loss_at(0.0), params)
        slope = sum(float((g * dp).sum()) for g, dp in zip(grads, d))
        h = 1e-6
        fd = (float(loss_at(h).detach()) - float(loss_at(-h).detach())) / (2 * h)
    return slope, fd


def test_held_causal_weights_give_the_line_search_one_objective():
    """A line search compares loss values and slopes g.d: they must belong to one function. With the
    weights held (as in each L-BFGS iteration) the slope equals the derivative of the values; with
    weights from every evaluation the values carry the weights' own change, which the gradient omits."""
    slope, fd = _causal_loss_and_slope(held=True)
    assert fd == pytest.approx(slope, rel=1e-6)
    slope, fd = _causal_loss_and_slope(held=False)
    assert abs(fd - slope) > 1e-2 * abs(slope)


@pytest.mark.parametrize("drift", [0.0, 1.0])
def test_lbfgs_iterations_hold_the_causal_weights(monkeypatch, drift):
    """Through solve(): Adam steps take new weights at every evaluation; in L-BFGS every evaluation
    between two renewals uses the weights of the first (a start point), renewed at every iteration with
    drift 0 and never with drift 1 (weights lie in (0, 1]); a kept set costs no extra evaluation."""
    log = []
    make = Causal.reducer

    class Spy:
        def __init__(self, inner):
            self.inner, self.held = inner, inner.held

        def refresh(self):
            renewed = self.inner.refresh()
            log.append("renew" if renewed else "keep")
            return renewed

        def __call__(self, r, x):
            out = self.inner(r, x)
            log.append((self.inner._last_weights.clone(), r.detach().clone()))
            return out

    monkeypatch.setattr(Causal, "reducer", lambda spec, problem: Spy(make(spec, problem)))
    schedule = [kanpde.solvers.Adam(steps=3, lr=1e-2), kanpde.solvers.LBFGS(steps=6)]
    causal = Causal(chunks=4, tol=0.02, drift=drift)  # chunk losses ~50 at first: weights well inside (0, 1)
    kanpde.solve(
        heat(),
        model=kanpde.MLP([3, 8, 1], seed=1),
        schedule=schedule,
        constraints="hard",
        causal=causal,
        progress=False,
    )
    first = log.index("renew")
    adam, lbfgs = log[:first], log[first:]
    assert len(adam) == 3 and not torch.equal(adam[0][0], adam[1][0])
    assert lbfgs.count("renew") + lbfgs.count("keep") == 6
    held = []
    for item in lbfgs:
        if item == "renew":
            held.append([])
        elif not isinstance(item, str):
            held[-1].append(item[0])
    assert len(held) == (6 if drift == 0 else 1)
    residuals = [item[1] for item in lbfgs if not isinstance(item, str)]
    repeats = sum(torch.equal(a, b) for a, b in zip(residuals, residuals[1:]))  # the same point evaluated again
    assert repeats == (5 if drift == 0 else 0)
    assert all(len(ws) >= 2 and all(torch.equal(w, ws[0]) for w in ws) for ws in held)  # start point and trial points
    assert all(not torch.equal(a[0], b[0]) for a, b in zip(held, held[1:]))


def test_bad_space_time_definitions():
    with pytest.raises(ConfigError, match=r"Initial needs a space-time domain whose last axis is named 't'"):
        kanpde.FunctionProblem(
            domain=kanpde.Box([0, 0], [1, 1]), residual=lambda u, x: u, conditions=[kanpde.Initial(0.0)]
        )
    with pytest.raises(ConfigError, match=r"Periodic\('y'\) names no axis of the domain; its axes are x, t"):
        kanpde.FunctionProblem(
            domain=kanpde.Box([0, 0], [1, 1], axes=("x", "t")),
            residual=lambda u, x: u,
            conditions=[kanpde.Periodic("y")],
        )
    with pytest.raises(DefinitionError, match=r"Periodic\('x'\) takes no value"):
        kanpde.Periodic("x", 1.0)
    with pytest.raises(ConfigError, match=r"Causal weighting needs a space-time problem .*axes \('x', 'y'\)"):
        kanpde.solve(kanpde.problems.Poisson.sin(), steps=1, causal=True, progress=False)
    with pytest.raises(ConfigError, match=r"Causal.chunks must be an int >= 2; got 1"):
        Causal(chunks=1)
    with pytest.raises(ConfigError, match=r"Causal.drift must be a number >= 0; got -0.1"):
        Causal(drift=-0.1)
    with pytest.raises(ConfigError, match=r"solve\(causal=...\) must be a kanpde.solvers.Causal"):
        kanpde.solve(heat(), steps=1, causal="yes", progress=False)
    with pytest.raises(DefinitionError, match=r"AllenCahn.eps must be a number > 0; got 0"):
        AllenCahn(eps=0)


def test_allen_cahn_instance():
    problem = kanpde.pde.instance("allen_cahn")
    grid = problem.evaluation_grid()
    assert grid.shape == (511, 201)
    assert grid.axes[0][0] == -1 and grid.axes[0][-1] == pytest.approx(1 - 2 / 511) and grid.axes[1][-1] == 1.0
    hard, soft = split_conditions(problem, "hard")
    assert hard.periodic == (0,) and hard.dirichlet.faces == ((1, 0),) and soft == ()
    x = torch.tensor([[0.5, 0.0]])
    assert float(hard.dirichlet.value(x)) == pytest.approx(0.25 * math.cos(math.pi * 0.5))
