"""Systems of equations and second-order time: named components and axes, stacked residuals, conditions
per component, gauges, initial rates, hard conditions per component.

Oracles: the one-pass derivative path equals nested autograd on system residuals (products of
components, second derivatives in time, derivatives of combinations of fields); exact solutions (Kovasznay,
d'Alembert) drive the residual to round-off; a hard constraint holds its data exactly for any network;
errors of a component defined up to a constant do not see the constant.
"""

import math

import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde.field import Field, Layout
from kanpde.pde.jetfield import JetField, discover_spec, full_spec
from kanpde.pinn.components import Componentwise
from kanpde.pinn.hard_constraints import constraint_from_description, split_conditions
from kanpde.pinn.loss import Collocation, loss_terms, residual_values
from kanpde.pinn.rates import SERIES_BELOW, InitialRate, saturating_factor3
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Kovasznay, LidDrivenCavity, Wave
from kanpde.problems.navier_stokes import navier_stokes_residual

LAYOUT = Layout(("u", "v", "p"), ("x", "y"))


def rand(n, d, seed=0):
    return (2 * torch.rand(n, d, generator=torch.Generator().manual_seed(seed)) - 1).requires_grad_(True)


def system_surrogate(out=3, d=2, kind="kan"):
    net = kanpde.KAN([d, 6, out], grid=5, init_noise=1.0, seed=3) if kind == "kan" else kanpde.MLP([d, 16, out], seed=3)
    return Surrogate(net, -torch.ones(d), torch.ones(d))


def jet_and_plain(model, x, layout=LAYOUT):
    spec = full_spec(x.shape[1])
    return JetField(model.forward_jet(x, spec), spec, x, layout=layout), Field(model(x), x, layout)


def close(a, b, tol=1e-10):
    a, b = (v.values if isinstance(v, Field) else v for v in (a, b))
    scale = b.detach().abs().max().clamp_min(1e-12)
    assert float((a - b).detach().abs().max() / scale) <= tol


# --- names ---------------------------------------------------------------------------------------
def test_components_and_axes_by_name():
    model, x = system_surrogate(), rand(20, 2)
    for u in jet_and_plain(model, x):
        close(u["p"], model(x)[:, 2:3])
        close(u["v"], u[1])
        close(ops.partial(u["u"], x, "y"), ops.partial(u[0], x, 1))
        close(ops.partial(u["v"], x, "x", "y"), ops.partial(u[1], x, 0, 1))
        with pytest.raises(ConfigError, match=r"u\['w'\]: no component named 'w'; its components are 'u', 'v', 'p'"):
            u["w"]
        with pytest.raises(ConfigError, match=r"no coordinate axis named 't'; the axes are 'x', 'y'"):
            ops.partial(u["u"], x, "t")


def test_operators_take_axes():
    model, x = system_surrogate(out=1, d=3), rand(16, 3)
    layout = Layout(("u",), ("x", "y", "t"))
    for u in jet_and_plain(model, x, layout):
        g = ops.grad(u, x, axes=("x", "y"))
        assert g.shape == (16, 2)
        close(g.values[:, 1:2], ops.partial(u, x, "y"))
        close(ops.laplacian(u, x, axes=("x", "y")), ops.partial(u, x, 0, 0) + ops.partial(u, x, 1, 1))
        close(ops.div(g, x, axes=("x", "y")), ops.laplacian(u, x, axes=range(2)))
        h = ops.hessian(u, x, axes=("y", "t"))
        assert h.shape == (16, 2, 2)
        close(h.values[:, 0, 1:2], ops.partial(u, x, "y", "t"))
    with pytest.raises(ShapeError, match=r"ops.div needs a vector field of shape \(n, 2\)"):
        ops.div(Field(model(x), x, layout), x, axes=("x", "y"))


def test_stack_and_tuple_residuals():
    model, x = system_surrogate(), rand(10, 2)
    u = Field(model(x), x, LAYOUT)
    r = ops.stack(u["u"], u["v"] * 2, torch.zeros(10))
    assert r.shape == (10, 3)
    close(r.values[:, 1:2], 2 * u["v"].values)
    with pytest.raises(ShapeError, match=r"ops.stack: equation 1 has shape \(3,\)"):
        ops.stack(u["u"], torch.zeros(3))


# --- one pass = autograd ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["kan", "mlp"])
def test_navier_stokes_residual_one_pass_equals_autograd(kind):
    model, x = system_surrogate(kind=kind), rand(30, 2, seed=1)
    jet_u, plain_u = jet_and_plain(model, x)
    for a, b in zip(navier_stokes_residual(jet_u, x, 20.0), navier_stokes_residual(plain_u, x, 20.0)):
        close(a, b)
    spec, misses = discover_spec(lambda u, y: ops.stack(*navier_stokes_residual(u, y, 20.0)), model, x[:5], LAYOUT)
    assert not misses and spec.second == (((0, 0), (1, 1)),)


def test_combinations_and_products_stay_on_the_jet():
    """d/dx of (v_x - u_y) (a vorticity gradient) and the Laplacian of u * v come from the jet's second
    derivatives, equal to nested autograd, with no fall-back."""
    model, x = system_surrogate(), rand(25, 2, seed=2)

    def vorticity_gradient(u, y):
        w = ops.partial(u["v"], y, "x") - ops.partial(u["u"], y, "y")
        return ops.stack(ops.partial(w, y, "x"), ops.partial(w, y, "y"), ops.laplacian(u["u"] * u["v"], y), -2.0 * w)

    jet_u, plain_u = jet_and_plain(model, x)
    close(vorticity_gradient(jet_u, x), vorticity_gradient(plain_u, x))
    spec, misses = discover_spec(vorticity_gradient, model, x[:5], LAYOUT)
    assert not misses and set(spec.second) == {((0, 0),), ((0, 1),), ((1, 1),), ((0, 0), (1, 1))}


def test_second_order_time_one_pass():
    problem = Wave(eval_x=8, eval_t=8)
    model, x = system_surrogate(out=1), rand(40, 2, seed=3)
    spec, misses = discover_spec(problem.residual, model, x[:5], problem.layout)
    assert not misses and set(spec.second) == {((1, 1),), ((0, 0),)}
    close(residual_values(problem, model, x, spec), residual_values(problem, model, x, None))


# --- exact solutions --------------------------------------------------------------------------------
class _Exact(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        out = self.fn(x)
        return out.reshape(-1, 1) if out.ndim == 1 else out


@pytest.mark.parametrize("problem", [Kovasznay(), Wave()], ids=["kovasznay", "wave"])
def test_exact_solutions_solve_the_equations(problem):
    x = torch.as_tensor(problem.domain.sample(200, seed=1)).requires_grad_(True)
    r = residual_values(problem, _Exact(problem.exact), x)
    assert r.abs().max() < 1e-9


# --- conditions ---------------------------------------------------------------------------------------
def test_conditions_per_component():
    problem = Kovasznay()
    assert [c.label for c in problem.conditions] == [
        "dirichlet:boundary[u]",
        "dirichlet:boundary[v]",
        "point:-0.5,-0.5[p]",
    ]
    model = system_surrogate()
    colloc = Collocation.sample(problem, n_boundary=32)
    terms = loss_terms(problem, _Exact(problem.exact), colloc)
    assert all(float(v) < 1e-25 for k, v in terms.items() if k != "residual")
    terms = loss_terms(problem, model, colloc)
    assert all(float(v.detach()) > 0 for v in terms.values())

    class Bad(kanpde.Problem):
        outputs = ("u", "p")
        domain = kanpde.Box([0, 0], [1, 1])
        conditions = [kanpde.Dirichlet("left", 0.0, component="v")]

        def residual(self, u, x):
            return u["u"]

    with pytest.raises(
        ConfigError, match=r"component='v'\) names no component of the solution; its components are 'u', 'p'"
    ):
        Bad()


def test_gauges():
    box = kanpde.Box([0, 0], [1, 1])
    x = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    u = Field(torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64), x, LAYOUT)
    point = kanpde.PointValue((0.5, 0.5), 1.0, component="p")
    assert float(point.residual(u, x, x)) == 2.0
    with pytest.raises(ConfigError, match=r"PointValue point \[2.0, 0.5\] is not a point of the domain"):
        kanpde.PointValue((2.0, 0.5), component="p").check_domain(box, "P")
    xs = torch.rand(8, 2, dtype=torch.float64)
    mean = kanpde.MeanValue(0.5, component="u")
    field = Field(torch.arange(24, dtype=torch.float64).reshape(8, 3), xs, LAYOUT)
    assert float(mean.residual(field, xs, xs)) == pytest.approx(10.5 - 0.5)
    with pytest.raises(DefinitionError, match=r"MeanValue.value must be a number"):
        kanpde.MeanValue(lambda x: x)


def test_initial_rate_condition():
    rate = kanpde.Initial(lambda x: x[:, 0], derivative=1)
    assert rate.label == "initial_rate:t_min" and rate.needs_derivatives()
    x = rand(10, 2).detach().requires_grad_(True)
    u = Field((x[:, :1] * x[:, 1:]) ** 1, x, Layout(("u",), ("x", "t")))  # du/dt = x
    assert float(rate.residual(u, x, x).abs().max()) < 1e-14
    with pytest.raises(DefinitionError, match=r"derivative must be 0 \(the value\) or 1"):
        kanpde.Initial(0.0, derivative=2)


def test_per_equation_weights():
    problem = Kovasznay()
    problem.residual_weight = (1.0, 4.0, 9.0)
    model, colloc = system_surrogate(), Collocation.sample(Kovasznay(), n_interior=64, n_boundary=8)
    r = residual_values(problem, model, colloc.interior)
    expected = (r.pow(2).mean(0) * torch.tensor([1.0, 4.0, 9.0])).mean()
    assert float(loss_terms(problem, model, colloc)["residual"]) == pytest.approx(float(expected), rel=1e-12)
    problem.residual_weight = (1.0, 2.0)
    with pytest.raises(ShapeError, match=r"residual_weight gives 2 weights but the residual has 3 equations"):
        loss_terms(problem, model, colloc)


# --- hard conditions per component ---------------------------------------------------------------------
def test_hard_conditions_per_component_are_exact():
    problem = LidDrivenCavity()
    hard, soft = split_conditions(problem, "hard")
    assert isinstance(hard.dirichlet, Componentwise) and hard.dirichlet.parts[2] is None
    assert [c.label for c in soft] == ["mean[p]"]
    model = Surrogate(kanpde.KAN([2, 5, 3], seed=1, init_noise=1.0), torch.zeros(2), torch.ones(2), hard.dirichlet)
    s = torch.linspace(0.05, 0.95, 11, dtype=torch.float64)
    lid = torch.stack([s, torch.ones_like(s)], 1)
    wall = torch.stack([torch.zeros_like(s), s], 1)
    with torch.no_grad():
        assert torch.allclose(
            model(lid)[:, :2], torch.tensor([1.0, 0.0], dtype=torch.float64).expand(11, 2), atol=1e-12
        )
        assert model(wall)[:, :2].abs().max() < 1e-12 and model(wall)[:, 2].abs().min() > 0  # p is free
    x = rand(20, 2, seed=4).detach().mul(0.5).add(0.5).requires_grad_(True)
    jet_u, plain_u = jet_and_plain(model, x)
    for a, b in zip(navier_stokes_residual(jet_u, x, 100.0), navier_stokes_residual(plain_u, x, 100.0)):
        close(a, b)


def test_hard_initial_rate_is_exact():
    problem = Wave()
    hard, soft = split_conditions(problem, "hard")
    assert isinstance(hard.dirichlet, InitialRate) and soft == ()
    model = Surrogate(kanpde.KAN([2, 5, 1], seed=1, init_noise=1.0), torch.zeros(2), torch.ones(2), hard.dirichlet)
    x0 = torch.stack([torch.linspace(0, 1, 17, dtype=torch.float64), torch.zeros(17, dtype=torch.float64)], 1)
    x0.requires_grad_(True)
    u = model(x0)
    (ut,) = torch.autograd.grad(u.sum(), x0)
    assert float((u[:, 0] - problem.initial(x0)).abs().max()) < 1e-12
    assert float(ut[:, 1].abs().max()) < 1e-12
    walls = torch.tensor([[0.0, 0.3], [1.0, 0.7]], dtype=torch.float64)
    assert float(model(walls).abs().max()) < 1e-12
    x = rand(30, 2, seed=5).detach().mul(0.5).add(0.5).requires_grad_(True)
    spec = full_spec(2)
    close(residual_values(problem, model, x, spec), residual_values(problem, model, x, None))


def test_initial_rate_time_factor_follows_the_lifted_fields_residual():
    # wave: G = u0, r[G] = -c^2 u0''; over x uniform rms(u0)^2 = (1 + 0.25) / 2 and rms(r)^2 = pi^4 (1 + 0.25 * 8^4) / 2
    tau = split_conditions(Wave(), "hard")[0].dirichlet.tau
    assert tau == pytest.approx(2 * math.sqrt(math.sqrt(1.25) / (math.pi**2 * math.sqrt(1 + 0.25 * 8**4))), rel=0.03)
    # physical time scale 1 / c: twice the speed halves it, and so does twice the time span (in network units)
    assert split_conditions(Wave(c=2.0), "hard")[0].dirichlet.tau == pytest.approx(tau / 2, rel=1e-9)
    assert split_conditions(Wave(t_end=2.0), "hard")[0].dirichlet.tau == pytest.approx(tau / 2, rel=1e-9)
    # a lifted field that solves the equation (a string at rest) keeps the linear factor
    assert split_conditions(Wave(modes=((1, 0.0),)), "hard")[0].dirichlet.tau is None


class String(kanpde.Problem):
    """u_tt = u_xx on [0, 1]^2 with fixed ends, starting straight (u = 0) at the initial rate ``rate``."""

    domain = kanpde.Box([0, 0], [1, 1], axes=("x", "t"))

    def __init__(self, rate):
        self.conditions = [
            kanpde.Dirichlet("x_min", 0.0),
            kanpde.Dirichlet("x_max", 0.0),
            kanpde.Initial(0.0),
            kanpde.Initial(rate, derivative=1),
        ]

    def residual(self, u, x):
        return ops.partial(u, x, "t", "t") - ops.partial(u, x, "x", "x")


def test_initial_rate_of_a_plucked_string_is_exact():
    problem = String(lambda x: torch.sin(math.pi * x[:, 0]))
    rate = split_conditions(problem, "hard")[0].dirichlet
    assert rate.tau == pytest.approx(2 / math.pi, rel=1e-9)  # G = t sin(pi x), r[G] = pi^2 G at any points
    model = Surrogate(kanpde.KAN([2, 5, 1], seed=2, init_noise=1.0), torch.zeros(2), torch.ones(2), rate)
    x0 = torch.stack([torch.linspace(0, 1, 17, dtype=torch.float64), torch.zeros(17, dtype=torch.float64)], 1)
    x0.requires_grad_(True)
    u = model(x0)
    (du,) = torch.autograd.grad(u.sum(), x0)
    assert float(u.abs().max()) < 1e-12
    assert float((du[:, 1] - torch.sin(math.pi * x0[:, 0])).abs().max()) < 1e-12
    x = rand(30, 2, seed=6).detach().mul(0.5).add(0.5).requires_grad_(True)
    close(residual_values(problem, model, x, full_spec(2)), residual_values(problem, model, x, None))


def test_time_factor_is_taken_once_per_point_set(monkeypatch):
    rate = split_conditions(String(lambda x: torch.sin(math.pi * x[:, 0])), "hard")[0].dirichlet
    model = Surrogate(kanpde.KAN([2, 5, 1], seed=2, init_noise=1.0), torch.zeros(2), torch.ones(2), rate)
    spec = full_spec(2)
    x, y = (rand(40, 2, seed=s).detach().mul(0.5).add(0.5) for s in (7, 8))
    first = model.forward_jet(x, spec)
    calls = []
    factor3 = InitialRate.factor3
    monkeypatch.setattr(InitialRate, "factor3", lambda self, t: calls.append(t.shape) or factor3(self, t))
    assert torch.equal(model.forward_jet(x, spec), first) and calls == []  # the same points: kept
    model.forward_jet(y, spec)  # other points: taken afresh, and right
    assert len(calls) == 1
    x.add_(0.0)  # changed in place: taken afresh
    model.forward_jet(x, spec)
    assert len(calls) == 2
    fresh = InitialRate(rate.base, rate.rate, rate.t0, rate.tau)
    again = Surrogate(model.net, torch.zeros(2), torch.ones(2), fresh).forward_jet(y, spec)
    assert torch.equal(model.forward_jet(y, spec), again)


def test_saturating_time_factor():
    z = torch.linspace(0, 2, 401, dtype=torch.float64)[1:].requires_grad_(True)
    s, s1, s2 = saturating_factor3(z, 0.1)
    (g1,) = torch.autograd.grad(s.sum(), z, create_graph=True)
    (g2,) = torch.autograd.grad(g1.sum(), z)
    assert float((g1 - s1).abs().max() / s1.abs().max()) < 1e-12
    assert float((g2 - s2).abs().max() / s2.abs().max()) < 1e-10
    ends = saturating_factor3(torch.tensor([0.0, 2.0], dtype=torch.float64), 0.1)[0]
    assert ends.tolist() == pytest.approx([0.0, 2.0], abs=1e-14)  # D s has its double zero, and equals z at t1
    # the Taylor series below the switch and the closed forms above it agree there
    edge = torch.tensor([SERIES_BELOW * (1 - 1e-9), SERIES_BELOW * (1 + 1e-9)], dtype=torch.float64) * 0.1
    for v in saturating_factor3(edge, 0.1):
        assert float(v[0]) == pytest.approx(float(v[1]), rel=1e-8)
    # a long time scale gives back the linear factor
    s, s1, s2 = saturating_factor3(z.detach(), 1e6)
    assert torch.allclose(s, z.detach(), rtol=1e-5) and torch.allclose(s1, torch.ones_like(s1), rtol=1e-5)


def test_initial_rate_with_a_time_factor_round_trips_its_description():
    class KleinGordon(kanpde.Problem):  # no walls: numbers only, and the lifted u = 1 has r = 1
        domain = kanpde.Box([0, 0], [1, 4], axes=("x", "t"))
        conditions = [kanpde.Initial(1.0), kanpde.Initial(0.0, derivative=1)]

        def residual(self, u, x):
            return ops.partial(u, x, "t", "t") - ops.partial(u, x, "x", "x") + u

    rate = split_conditions(KleinGordon(), "hard")[0].dirichlet
    assert rate.tau == pytest.approx(0.5)  # sqrt(1 / 1) in time units, times 2 / (t1 - t0)
    again = constraint_from_description(rate.describe())
    assert again.tau == rate.tau
    net = kanpde.KAN([2, 4, 1], seed=5, init_noise=1.0)
    lower, upper = torch.zeros(2), torch.tensor([1.0, 4.0])
    x = rand(16, 2, seed=7).detach().add(1).mul(torch.tensor([0.5, 2.0]))
    with torch.no_grad():
        assert torch.equal(Surrogate(net, lower, upper, rate)(x), Surrogate(net, lower, upper, again)(x))


def test_a_run_saved_before_the_time_factor_loads_with_the_linear_one():
    problem = Wave()
    rate = split_conditions(problem, "hard")[0].dirichlet
    old = {k: v for k, v in rate.describe().items() if k != "tau"}  # what a run saved before tau wrote
    assert constraint_from_description(old, problem).tau is None
    assert constraint_from_description(rate.describe(), problem).tau == rate.tau


class Strings(kanpde.Problem):
    """Two strings as one system: u_tt = u_xx and v_tt = 4 v_xx on [0, 1]^2, fixed ends, starting straight
    at the initial rates sin(pi x) and sin(2 pi x) / 2."""

    domain = kanpde.Box([0, 0], [1, 1], axes=("x", "t"))
    outputs = ("u", "v")
    conditions = [
        kanpde.Dirichlet("x_min", 0.0),
        kanpde.Dirichlet("x_max", 0.0),
        kanpde.Initial(0.0),
        kanpde.Initial(lambda x: torch.sin(math.pi * x[:, 0]), derivative=1, component="u"),
        kanpde.Initial(lambda x: 0.5 * torch.sin(2 * math.pi * x[:, 0]), derivative=1, component="v"),
    ]

    def residual(self, u, x):
        return (
            ops.partial(u["u"], x, "t", "t") - ops.partial(u["u"], x, "x", "x"),
            ops.partial(u["v"], x, "t", "t") - 4 * ops.partial(u["v"], x, "x", "x"),
        )


def test_a_system_with_initial_rates_shares_one_time_factor():
    problem = Strings()
    hard, soft = split_conditions(problem, "hard")
    assert soft == () and isinstance(hard.dirichlet, Componentwise)
    u_rate, v_rate = hard.dirichlet.parts
    # G = t (sin(pi x), sin(2 pi x) / 2), r[G] = t (pi^2 sin(pi x), 8 pi^2 sin(2 pi x)): the means over
    # both components give rms(G)^2 = (1/3)(1/2 + 1/8) and rms(r)^2 = (1/3)(pi^4 / 2 + 32 pi^4)
    expected = 2 * math.sqrt(math.sqrt(0.625 / 32.5) / math.pi**2)
    assert u_rate.tau == v_rate.tau == pytest.approx(expected, rel=0.03)
    model = Surrogate(kanpde.KAN([2, 5, 2], seed=4, init_noise=1.0), torch.zeros(2), torch.ones(2), hard.dirichlet)
    x0 = torch.stack([torch.linspace(0, 1, 17, dtype=torch.float64), torch.zeros(17, dtype=torch.float64)], 1)
    x0.requires_grad_(True)
    u = model(x0)
    assert float(u.abs().max()) < 1e-12
    for j, rate in enumerate((torch.sin(math.pi * x0[:, 0]), 0.5 * torch.sin(2 * math.pi * x0[:, 0]))):
        (du,) = torch.autograd.grad(u[:, j].sum(), x0, retain_graph=True)
        assert float((du[:, 1] - rate).abs().max()) < 1e-12
    x = rand(30, 2, seed=9).detach().mul(0.5).add(0.5).requires_grad_(True)
    close(residual_values(problem, model, x, full_spec(2)), residual_values(problem, model, x, None))
    # saved and loaded with its problem: the same factor; a run saved before the factor: the linear one
    desc = hard.dirichlet.describe()
    assert constraint_from_description(desc, problem).describe() == desc
    old = desc | {"parts": [{k: v for k, v in p.items() if k != "tau"} for p in desc["parts"]]}
    assert [p.tau for p in constraint_from_description(old, problem).parts] == [None, None]


def test_incompatible_initial_rate_stays_soft():
    # the ends stay still but the string starts moving everywhere
    hard, soft = split_conditions(String(1.0), "hard")
    assert not isinstance(hard.dirichlet, InitialRate) and [c.label for c in soft] == ["initial_rate:t_min"]


# --- errors ------------------------------------------------------------------------------------------------
def test_errors_of_a_component_up_to_a_constant():
    from kanpde.metrics import errors

    ref = torch.rand(50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    pred = ref + torch.tensor([0.0, 0.0, 5.0], dtype=torch.float64)
    assert errors(pred, ref, ("u", "v", "p"), (2,))["rel_l2"] < 1e-14
    assert errors(pred, ref, ("u", "v", "p"))["rel_l2_p"] > 1
    assert set(errors(pred, ref, ("u", "v", "p"))) >= {"rel_l2_u", "max_abs_v", "rel_l2_p"}


def test_a_short_system_solve_reports_components():
    sol = kanpde.solve(Kovasznay(), model=kanpde.KAN([2, 6, 3], grid=5), steps=30)
    assert sol.info["components"] == ["u", "v", "p"]
    assert sol.errors["rel_l2"] < 0.5 and {"rel_l2_u", "rel_l2_v", "rel_l2_p"} <= set(sol.errors)
    assert "u: dirichlet on 4 faces; v: dirichlet on 4 faces" in sol.info["constraints"]


def test_saved_system_constraints_rebuild(tmp_path):
    """A per-component constraint with numbers rebuilds from its description alone; one with function data
    (Kovasznay's walls, the wave's initial data) from the problem, checked to build the same."""
    from kanpde.pinn.hard_constraints import constraint_from_description

    cavity, _ = split_conditions(LidDrivenCavity(), "hard")
    rebuilt = constraint_from_description(cavity.dirichlet.describe())
    assert isinstance(rebuilt, Componentwise) and rebuilt.describe() == cavity.dirichlet.describe()
    for problem in (Kovasznay(), Wave()):
        hard, _ = split_conditions(problem, "hard")
        desc = hard.dirichlet.describe()
        with pytest.raises(ConfigError, match=r"load it with its problem"):
            constraint_from_description(desc)
        assert constraint_from_description(desc, problem).describe() == desc
    with pytest.raises(ConfigError, match=r"the problem given to load builds"):
        constraint_from_description(split_conditions(Kovasznay(), "hard")[0].dirichlet.describe(), Wave())
    sol = kanpde.solve(LidDrivenCavity(), model=kanpde.KAN([2, 5, 3], grid=5), steps=3, progress=False)
    sol.save(tmp_path / "run")
    x = torch.rand(7, 2, dtype=torch.float64)
    assert torch.allclose(kanpde.load(tmp_path / "run")(x), sol(x), atol=1e-13)


def test_discontinuous_data_stay_soft_in_the_recipe():
    """The lid's u = 1 meets the walls' u = 0 at two corners: asked for, the data are blended; the recipes
    leave them soft (the blend's residual is unbounded there) and still build in v's walls."""
    problem = LidDrivenCavity()
    hard, soft = split_conditions(problem, "hard", strict=False, discontinuous="soft")
    assert [p is None for p in hard.dirichlet.parts] == [True, False, True]
    assert [c.label for c in soft][:4] == [
        "dirichlet:y_max[u]",
        "dirichlet:x_min[u]",
        "dirichlet:x_max[u]",
        "dirichlet:y_min[u]",
    ]
    sol = kanpde.solve(problem, model=kanpde.KAN([2, 5, 3], grid=5), steps=2, progress=False)
    assert sol.info["constraints"] == "hard (v: dirichlet on 4 faces)"
    assert "disagree where faces meet" in sol.info["recipe"]["why_soft"]
    asked = kanpde.solve(problem, model=kanpde.KAN([2, 5, 3], grid=5), steps=2, constraints="hard", progress=False)
    assert asked.info["constraints"].startswith("hard (u: dirichlet on 4 faces, 2 values blended")
