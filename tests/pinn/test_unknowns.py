"""The trained values of the unknowns (``UnknownSet``) and the loss terms an inverse problem adds.

Oracles: a fresh set reads ``init`` everywhere; ``from_description(describe())`` rebuilds a set that
describes itself alike and, with the same weights, gives the same values; the one-pass derivative path
gives the loss and its gradient with respect to the unknowns' parameters of nested autograd (to ~1e-12
in float64), for a scalar and for a coefficient field, with a KAN and an MLP; a data term is its weight
times the mean square misfit computed by hand.
"""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import kanpde
from kanpde.errors import ConfigError, ShapeError
from kanpde.pde import ops
from kanpde.pde.unknowns import bind
from kanpde.pinn.loss import (
    Collocation,
    data_terms,
    loss_terms,
    plan_derivatives,
    total_loss,
)
from kanpde.pinn.surrogate import Surrogate
from kanpde.pinn.unknowns import FieldNet, UnknownSet

PI = math.pi
AXES = ("x", "y")
LOWER, UPPER = [0.0, -1.0], [2.0, 1.0]


def declared():
    return [
        kanpde.Unknown("c", 2.0, lower=0.0, upper=5.0),
        kanpde.Unknown("k", -1.0, upper=0.0),
        kanpde.Unknown("s", 0.3),
        kanpde.UnknownField("a", 1.5, positive=True, model="mlp"),
        kanpde.UnknownField("b", 0.25, lower=0.0, upper=1.0, axes=("y",), model="kan"),
        kanpde.UnknownField("e", -2.0, axes=(0,), model=kanpde.MLP([1, 6, 1], seed=4)),
    ]


def perturbed(s, seed=0):
    """The set with every parameter moved at random (so values differ from init)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in s.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return s


def points(n=9, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.tensor(LOWER) + (torch.tensor(UPPER) - torch.tensor(LOWER)) * torch.rand(n, 2, generator=gen)


def test_a_fresh_set_reads_init_everywhere():
    s = UnknownSet(declared(), LOWER, UPPER, AXES, seed=3)
    assert s.names == ("c", "k", "s", "a", "b", "e")
    assert tuple(s.scalars) == ("c", "k", "s") and tuple(s.fields) == ("a", "b", "e")
    assert s.scalar_values() == pytest.approx({"c": 2.0, "k": -1.0, "s": 0.3}, rel=1e-14)
    x = points()
    for name, init in (("a", 1.5), ("b", 0.25)):  # built from "mlp" / "kan": the raw output starts at 0
        assert torch.allclose(s.field(name)(x), torch.full((9,), init), rtol=1e-14, atol=0)
    assert s.field("a")(x).shape == (9,)
    assert [p.dtype for p in s.parameters()] == [torch.float64] * len(list(s.parameters()))
    with torch.no_grad():  # only the last layer starts at zero: the field can move from the first step
        assert float(s.fields["a"].net.linears[0].weight.abs().min()) > 0
        assert float(s.fields["b"].net.layers[0].coef.abs().max()) > 0


def test_a_field_depends_on_its_axes_only():
    s = perturbed(UnknownSet(declared(), LOWER, UPPER, AXES))
    x = points()
    moved = x.clone()
    moved[:, 0] = torch.rand(9, generator=torch.Generator().manual_seed(5)) * 2
    assert torch.equal(s.field("b")(x), s.field("b")(moved))  # b = b(y)
    assert not torch.allclose(s.field("a")(x), s.field("a")(moved))  # a = a(x, y)
    swapped = x.clone()
    swapped[:, 1] = -swapped[:, 1]
    assert torch.equal(s.field("e")(x), s.field("e")(swapped))  # e = e(x)
    assert bool((s.field("a")(x) > 0).all()) and bool(((s.field("b")(x) >= 0) & (s.field("b")(x) <= 1)).all())


def test_describe_and_from_description_round_trip():
    s = perturbed(UnknownSet(declared(), LOWER, UPPER, AXES, seed=3))
    desc = s.describe()
    json_ready = json.loads(json.dumps(desc))
    assert json_ready == desc
    back = UnknownSet.from_description(json_ready, LOWER, UPPER)
    assert back.describe() == desc
    assert back.state_dict().keys() == s.state_dict().keys()
    back.load_state_dict(s.state_dict())
    assert back.scalar_values() == s.scalar_values()
    x = points()
    for name in s.fields:
        assert torch.equal(back.field(name)(x), s.field(name)(x)), name
    assert back.scalar_values() != pytest.approx({"c": 2.0, "k": -1.0, "s": 0.3})  # the trained values, not init


def test_unknown_names_and_networks_are_checked():
    s = UnknownSet(declared(), LOWER, UPPER, AXES)
    with pytest.raises(ConfigError, match=r"^no unknown scalar named 'a'; the scalars are \('c', 'k', 's'\)$"):
        s.value("a")
    with pytest.raises(ConfigError, match=r"^no unknown field named 'c'; the fields are \('a', 'b', 'e'\)$"):
        s.field("c")
    wide = kanpde.UnknownField("a", axes=("x",), model=kanpde.MLP([2, 4, 1]))
    with pytest.raises(
        ShapeError,
        match=r"^an UnknownField's network must take its 1 coordinates and return 1 value; its width is \[2, 4, 1\]: "
        r"use \[1, \.\.\., 1\]$",
    ):
        UnknownSet([wide], LOWER, UPPER, AXES)
    with pytest.raises(ConfigError, match=r"^an UnknownField's model must be a kanpde.KAN or kanpde.MLP; got Linear$"):
        FieldNet(nn.Linear(2, 1), (0, 1), torch.tensor(LOWER), torch.tensor(UPPER), declared()[3].bounds)


# --- the one-pass derivative path and autograd agree --------------------------------------------------


class ScalarSource(kanpde.Problem):
    """c * laplacian(u) + u u_x = k f(x), with a Neumann condition: scalars in the residual and its source."""

    domain = kanpde.Box(LOWER, UPPER)
    conditions = [kanpde.Dirichlet("left", 0.0), kanpde.Neumann("top", 0.5)]
    c = kanpde.Unknown(init=1.3, lower=0.0)
    k = kanpde.Unknown(init=0.7, lower=-2.0, upper=2.0)

    def residual(self, u, x):
        return self.c * ops.laplacian(u, x) + u * ops.partial(u, x, 0) - self.k * torch.sin(PI * x[:, 0]) * x[:, 1]


class Coefficient(kanpde.Problem):
    """div(a grad u) + s = 0 with a(x, y) > 0 and b(y) a field of one axis, s a scalar."""

    domain = kanpde.Box(LOWER, UPPER)
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    a = kanpde.UnknownField(init=1.2, positive=True)
    b = kanpde.UnknownField(init=0.5, lower=0.0, upper=1.0, axes=("y",), model="kan")
    s = kanpde.Unknown(init=1.0)

    def residual(self, u, x):
        return ops.div(self.a(x) * ops.grad(u, x), x) + self.b(x) * ops.partial(u, x, 1) + self.s


NETS = {
    "kan": lambda: kanpde.KAN([2, 4, 3, 1], grid=6, init_noise=1.0, seed=2),
    "mlp": lambda: kanpde.MLP([2, 12, 1], seed=3),
}


@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("kind", [ScalarSource, Coefficient])
def test_one_pass_loss_and_gradients_in_the_unknowns_equal_nested_autograd(kind, net):
    problem = kind()
    unknowns = perturbed(UnknownSet(problem.unknowns, LOWER, UPPER, AXES, seed=1), seed=2)
    model = Surrogate(NETS[net](), problem.domain.lower, problem.domain.upper, unknowns=unknowns)
    bind(problem, unknowns)
    colloc = Collocation.sample(problem, n_interior=40, n_boundary=16, seed=4)
    mine = list(unknowns.parameters())
    assert mine and all(any(p is q for q in model.parameters()) for p in mine)  # trained with the network
    terms, grads = {}, {}
    for mode in ("jet", "autograd"):
        plan = plan_derivatives(problem, model, colloc, mode)
        assert (plan.interior is None) == (mode == "autograd")
        terms[mode] = loss_terms(problem, model, colloc, plan)
        grads[mode] = torch.autograd.grad(total_loss(terms[mode]), mine + list(model.net.parameters()))
    assert terms["jet"].keys() == terms["autograd"].keys()
    for label, value in terms["autograd"].items():
        assert terms["jet"][label].item() == pytest.approx(value.item(), rel=1e-12, abs=1e-14), label
    for i, (a, b) in enumerate(zip(grads["jet"], grads["autograd"])):
        assert float((a - b).abs().max()) <= 1e-10 * float(b.abs().max()), i
    for g in grads["autograd"][: len(mine)]:  # every unknown's parameters reach the loss
        assert float(g.abs().max()) > 0


# --- data terms ------------------------------------------------------------------------------------


class Known(nn.Module):
    """u = x + y, v = x y: a model whose values are known at any point."""

    def forward(self, x):
        return torch.stack([x[:, 0] + x[:, 1], x[:, 0] * x[:, 1]], 1)


class Observed(kanpde.Problem):
    domain = kanpde.Box([0, 0], [1, 1])
    outputs = ("u", "v")

    def __init__(self, *data, residual_weight=1.0):
        self.data = list(data)
        self.residual_weight = residual_weight

    def residual(self, u, x):
        return ops.laplacian(u["u"], x) - 1.0, ops.laplacian(u["v"], x) + u["u"]


def test_data_terms_are_weight_times_the_mean_square_misfit():
    rng = np.random.default_rng(0)
    y = rng.uniform(size=(7, 2))
    u, v = y.sum(1), y.prod(1)
    off = 0.1 * rng.standard_normal(7)
    problem = Observed(
        kanpde.Data(y, np.stack([u, v], 1), name="exact"),
        kanpde.Data(y, v + off, component="v", weight=3.0, name="v"),
        kanpde.Data(y, np.stack([v, u + 0.5], 1), component=("v", 0), weight=0.5, name="both"),
    )
    terms = data_terms(problem, Known(), torch.zeros((), dtype=torch.float64))
    assert list(terms) == ["data:exact", "data:v", "data:both"]
    assert float(terms["data:exact"]) < 1e-30
    assert float(terms["data:v"]) == pytest.approx(3.0 * np.mean(off**2), rel=1e-13)
    assert float(terms["data:both"]) == pytest.approx(0.5 * 0.25 / 2, rel=1e-13)  # one column off by 0.5
    single = data_terms(problem, Known(), torch.zeros((), dtype=torch.float32))
    assert all(t.dtype == torch.float32 for t in single.values())


def test_an_automatic_weight_leaves_the_term_unweighted_for_the_solver():
    """``weight="auto"``: the term carries weight 1 (the solver multiplies in the weight it chooses,
    ``TrainingState.term_weights``); a number is applied in the term."""
    y = np.random.default_rng(1).uniform(size=(5, 2))
    auto = kanpde.Data(y, 3.0 * np.ones(5), component="u", name="auto")
    fixed = kanpde.Data(y, np.ones(5), component="v", weight=2.0, name="fixed")
    problem = Observed(auto, fixed)
    model = Surrogate(kanpde.MLP([2, 8, 2], seed=0), problem.domain.lower, problem.domain.upper)
    terms = data_terms(problem, model, torch.zeros(()))
    with torch.no_grad():
        pred = model(torch.as_tensor(y))
    assert terms["data:auto"].item() == pytest.approx(float((pred[:, 0] - 3.0).pow(2).mean()), rel=1e-12)
    assert terms["data:fixed"].item() == pytest.approx(2.0 * float((pred[:, 1] - 1.0).pow(2).mean()), rel=1e-12)


def test_data_terms_join_the_loss():
    y = np.random.default_rng(2).uniform(size=(5, 2))
    problem = Observed(kanpde.Data(y, np.ones(5), component="u", name="probe"))
    colloc = Collocation.sample(problem, n_interior=20, conditions=())
    model = Surrogate(kanpde.MLP([2, 8, 2], seed=0), problem.domain.lower, problem.domain.upper)
    terms = loss_terms(problem, model, colloc)
    assert list(terms) == ["residual", "data:probe"]
    assert terms["data:probe"].item() == pytest.approx(data_terms(problem, model, colloc.interior)["data:probe"].item())
