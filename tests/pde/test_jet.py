"""One-pass derivatives equal nested autograd (float64, 1e-10 relative) for every layer kind and grid state."""

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError
from kanpde.pde import jet, ops
from kanpde.pde.field import Field
from kanpde.pde.jetfield import JetField, discover_spec, full_spec
from kanpde.pinn.loss import Collocation, loss_terms, plan_derivatives, total_loss
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson


def rand(n, d, lo=-1.3, hi=1.3, seed=0):
    return (lo + (hi - lo) * torch.rand(n, d, generator=torch.Generator().manual_seed(seed))).requires_grad_(True)


def kan(width=(2, 5, 3, 1), grid=5, k=3):
    return kanpde.KAN(list(width), grid=grid, k=k, init_noise=1.0, seed=1)


def surrogates(d=2):
    """KANs in every grid state (uniform, updated, refined, other k) and MLPs with each activation."""
    box = (-torch.ones(d), torch.ones(d))
    base = kan((d, 5, 3, 1))
    samples = rand(2000, d, seed=9).detach() ** 3
    nets = {
        "kan-uniform": base,
        "kan-updated": base.grid_updated(samples),
        "kan-updated-refined": base.grid_updated(samples).refined(10),
        "kan-refined-7": base.refined(7),
        "kan-k2": kan((d, 4, 1), grid=6, k=2),
        "kan-wide-dense": kan((d, 16, 16, 2), grid=4),
        "kan-fine-gather": kan((d, 3, 1), grid=40),
        "mlp-tanh": kanpde.MLP([d, 12, 12, 1], seed=2),
        "mlp-sin": kanpde.MLP([d, 12, 1], activation="sin", seed=3),
        "mlp-silu": kanpde.MLP([d, 12, 1], activation="silu", seed=4),
    }
    return {name: Surrogate(net, *box) for name, net in nets.items()}


def nested(u, x):
    """Value, gradient (n, c, d) and Hessian (n, c, d, d) by nested autograd."""
    n, c = u.shape
    g = torch.stack([torch.autograd.grad(u[:, j].sum(), x, create_graph=True)[0] for j in range(c)], 1)
    h = torch.stack(
        [
            torch.stack([torch.autograd.grad(g[:, j, i].sum(), x, create_graph=True)[0] for i in range(x.shape[1])], 1)
            for j in range(c)
        ],
        1,
    )
    return g, h


def close(a, b):
    scale = b.detach().abs().max().clamp_min(1e-12)
    assert float((a - b).detach().abs().max() / scale) <= 1e-10


NAMES = [
    "kan-uniform",
    "kan-updated",
    "kan-updated-refined",
    "kan-refined-7",
    "kan-k2",
    "kan-wide-dense",
    "kan-fine-gather",
    "mlp-tanh",
    "mlp-sin",
    "mlp-silu",
]


def test_names_cover_every_surrogate():
    assert sorted(NAMES) == sorted(surrogates())


@pytest.mark.parametrize("name", NAMES)
def test_jet_channels_equal_nested_autograd(name):
    model = surrogates()[name]
    x = rand(300, 2)
    spec = jet.JetSpec.build([0, 1], [((0, 0), (1, 1)), ((0, 1),), ((1, 1),)])
    t = model.forward_jet(x, spec)
    u = model(x)
    g, h = nested(u, x)
    close(t[0], u)
    close(t[spec.first_channel(0)], g[..., 0])
    close(t[spec.first_channel(1)], g[..., 1])
    close(t[spec.second_channel(((0, 0), (1, 1)))], h[..., 0, 0] + h[..., 1, 1])
    close(t[spec.second_channel(((0, 1),))], h[..., 0, 1])
    close(t[spec.second_channel(((1, 1),))], h[..., 1, 1])


def test_space_time_spec_carries_only_what_is_asked():
    model = surrogates()["kan-uniform"]
    x = rand(200, 2)
    spec = jet.JetSpec.build([1], [((0, 0),)])  # u_t (t = x1) and u_xx
    assert spec.axes == (0, 1) and spec.channels == 4
    t = model.forward_jet(x, spec)
    g, h = nested(model(x), x)
    close(t[spec.first_channel(1)], g[..., 1])
    close(t[spec.second_channel(((0, 0),))], h[..., 0, 0])


@pytest.mark.parametrize("name", ["kan-uniform", "kan-updated-refined", "kan-wide-dense", "mlp-tanh"])
def test_parameter_gradients_equal_nested_autograd(name):
    model = surrogates()[name]
    problem = Poisson.kan_paper()
    colloc = Collocation.sample(problem, n_interior=400, n_boundary=80)
    plan = plan_derivatives(problem, model, colloc)
    assert plan.interior is not None
    params = list(model.parameters())
    fast = torch.autograd.grad(total_loss(loss_terms(problem, model, colloc, plan)), params)
    slow = torch.autograd.grad(total_loss(loss_terms(problem, model, colloc)), params)
    for a, b in zip(fast, slow):
        close(a, b)


def test_jet_field_ops_equal_field_ops():
    model = surrogates()["kan-updated"]
    x = rand(100, 2)
    spec = full_spec(2).union(jet.JetSpec.build([], [((0, 0), (1, 1))]))
    u = JetField(model.forward_jet(x, spec), spec, x)
    v = Field(model(x), x)
    for a, b in [
        (ops.grad(u, x), ops.grad(v, x)),
        (ops.partial(u, x, 1), ops.partial(v, x, 1)),
        (ops.partial(u, x, 0, 1), ops.partial(v, x, 0, 1)),
        (ops.laplacian(u, x), ops.laplacian(v, x)),
        (ops.laplacian(u, x, axes=[0]), ops.laplacian(v, x, axes=[0])),
        (ops.hessian(u, x), ops.hessian(v, x)),
        (ops.div(ops.grad(u, x), x), ops.div(ops.grad(v, x), x)),
        (ops.partial(ops.grad(u, x), x, 1), ops.partial(ops.grad(v, x), x, 1)),
        (5 * u**3 - u, 5 * v**3 - v),
    ]:
        close(a.values, b.values)
    # beyond the jet (a third derivative, a derivative of an expression) autograd takes over, correctly
    close(ops.partial(u, x, 0, 0, 1).values, ops.partial(v, x, 0, 0, 1).values)
    close(ops.grad(u * u, x).values, ops.grad(v * v, x).values)


def test_vector_valued_jets():
    model = Surrogate(kanpde.KAN([2, 4, 2], grid=5, init_noise=1.0), -torch.ones(2), torch.ones(2))
    x = rand(50, 2)
    spec = full_spec(2)
    u = JetField(model.forward_jet(x, spec), spec, x)
    v = Field(model(x), x)
    close(ops.div(u, x).values, ops.div(v, x).values)
    close(ops.grad(u[1], x).values, ops.grad(v[1], x).values)
    close(ops.laplacian(u[0], x).values, ops.laplacian(v[0], x).values)


def test_discovery_finds_minimal_specs_or_falls_back():
    model = surrogates()["kan-uniform"]
    x = rand(7, 2)
    spec, misses = discover_spec(lambda u, x: ops.laplacian(u, x) - 1.0, model, x)
    assert spec == jet.JetSpec((0, 1), (((0, 0), (1, 1)),)) and not misses
    spec, _ = discover_spec(lambda u, x: ops.partial(u, x, 1) - ops.partial(u, x, 0, 0) + u**3, model, x)
    assert spec == jet.JetSpec((0, 1), (((0, 0),),))
    spec, misses = discover_spec(lambda u, x: ops.div((1 + x[:, 0]) * ops.grad(u, x), x), model, x)
    assert spec == jet.JetSpec((0, 1), (((0, 0), (1, 1)),)) and not misses  # div(a grad u) = a lap u + grad a . grad u
    spec, misses = discover_spec(lambda u, x: ops.partial(u * u, x, 0), model, x)
    assert spec == jet.JetSpec((0,), ()) and not misses  # a product keeps the jet (Leibniz rule)
    spec, misses = discover_spec(lambda u, x: ops.partial(torch.sin(u), x, 0), model, x)
    assert spec is None and misses == ["a derivative of an expression of the surrogate"]


def test_plan_modes():
    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1]),
        residual=lambda u, x: ops.partial(torch.sin(u), x, 0) + ops.laplacian(u, x) + 1.0,
        conditions=[kanpde.Neumann("left", 0.0), kanpde.Dirichlet("right", 0.0)],
    )
    model = surrogates()["kan-uniform"]
    colloc = Collocation.sample(problem, n_interior=20, n_boundary=20)
    auto = plan_derivatives(problem, model, colloc)
    assert auto.interior is None and auto.boundary[0] == jet.JetSpec((0, 1), ()) and auto.boundary[1].channels == 1
    assert "FunctionProblem.residual needs a derivative of an expression" in auto.notes[0]
    assert plan_derivatives(problem, model, colloc, "autograd").boundary == (None, None)
    with pytest.raises(
        ConfigError, match="derivatives='jet', but FunctionProblem.residual needs a derivative of an expression"
    ):
        plan_derivatives(problem, model, colloc, "jet")
    with pytest.raises(ConfigError, match="derivatives must be one of auto, jet, autograd; got 'fast'"):
        plan_derivatives(problem, model, colloc, "fast")


def test_gradcheck_through_the_jet_laplacian():
    """No custom backward exists; gradcheck still confirms the one-pass graph is consistently differentiable."""
    layer = kanpde.KAN([2, 2], grid=4, init_noise=1.0).layers[0]
    x = rand(6, 2, seed=3).detach()
    spec = jet.JetSpec.build([0, 1], [((0, 0), (1, 1))])

    class Laplacian(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer.forward_jet(jet.seed(x, spec), spec)[spec.second_channel(((0, 0), (1, 1)))]

    module = Laplacian()

    def lap(coef, base):
        return torch.func.functional_call(module, {"layer.coef": coef, "layer.base_weight": base}, (x,))

    coef = layer.coef.detach().clone().requires_grad_(True)
    base = layer.base_weight.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lap, (coef, base))
