"""The Surrogate: input map onto [-1, 1]^d, periodic embedding, hard Dirichlet constraint, saved
description, and the structure-changing methods (refined, grid_updated, with_net).

Oracles: the map sends the box's corners to the cube's; the embedded field is periodic to round-off
(values and derivatives); a constrained field equals its value exactly on the constrained faces for any
weights; a description rebuilds the same network; a KAN refined from G = 5 to the nested G = 10 equals
the coarse one to round-off.
"""

import json

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde.jet import JetSpec
from kanpde.pde.jetfield import full_spec
from kanpde.pinn.hard_constraints import HardDirichlet
from kanpde.pinn.surrogate import Surrogate, count_parameters

LOWER, UPPER = torch.tensor([0.0, -2.0]), torch.tensor([3.0, 1.0])


def inside(n, seed=0, lower=LOWER, upper=UPPER):
    g = torch.Generator().manual_seed(seed)
    return lower + torch.rand(n, lower.numel(), generator=g) * (upper - lower)


def perturb(model, scale=0.3, seed=0):
    """Random weights: a property that holds 'for any weights' must hold for these."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return model


def kan(width=(2, 4, 3, 1), grid=5, seed=2):
    return kanpde.KAN(list(width), grid=grid, init_noise=1.0, seed=seed)


# --- input map --------------------------------------------------------------------------------------


def test_the_input_map_sends_the_box_onto_the_cube():
    s = Surrogate(kan(), LOWER, UPPER)
    corners = torch.tensor([[0.0, -2.0], [3.0, -2.0], [0.0, 1.0], [3.0, 1.0], [1.5, -0.5]])
    expected = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    assert torch.equal(s.normalize(corners), expected)
    t = s.normalize(inside(200))
    assert bool((t.abs() <= 1).all())
    torch.testing.assert_close(t, 2 * (inside(200) - LOWER) / (UPPER - LOWER) - 1, rtol=0, atol=0)
    assert torch.equal(s.features(corners), expected)  # no periodic axes: the features are the map
    x = inside(20)
    torch.testing.assert_close(s(x), s.net(s.normalize(x)), rtol=0, atol=0)
    assert (s.in_dim, s.out_dim, s.kind, s.grid) == (2, 1, "kan", 5)
    assert Surrogate(kanpde.MLP([2, 3, 2]), LOWER, UPPER).grid is None


def test_the_box_takes_the_network_dtype():
    s = Surrogate(kanpde.MLP([2, 3, 1], dtype=torch.float32), [0, 0], [1, 2])
    assert s.lower.dtype == s.upper.dtype == torch.float32 and s.lower.tolist() == [0.0, 0.0]


# --- periodic embedding -----------------------------------------------------------------------------


def test_periodic_features_are_cos_and_sin_of_the_mapped_coordinate():
    s = Surrogate(kan(width=(3, 4, 1)), LOWER, UPPER, periodic=[0])
    x = inside(30)
    t = s.normalize(x)
    f = s.features(x)
    assert f.shape == (30, 3)
    torch.testing.assert_close(
        f, torch.stack([torch.cos(torch.pi * t[:, 0]), torch.sin(torch.pi * t[:, 0]), t[:, 1]], 1)
    )


@pytest.mark.parametrize("net", [kan(width=(3, 4, 1), seed=1), kanpde.MLP([3, 8, 1], seed=1)], ids=["kan", "mlp"])
def test_the_periodic_embedding_makes_the_field_periodic(net):
    """u(0, y) = u(3, y) and u(x, y) = u(x + 3, y), with all derivatives, for any weights."""
    s = perturb(Surrogate(net, LOWER, UPPER, periodic=[0]))
    y = inside(40)[:, 1]
    a = torch.stack([torch.zeros(40), y], 1).requires_grad_(True)
    b = torch.stack([torch.full((40,), 3.0), y], 1).requires_grad_(True)
    ua, ub = s(a), s(b)
    assert (ua - ub).abs().max().item() <= 1e-13 * ua.abs().max().item()
    assert (ua - s(inside(40))).abs().max().item() > 1e-3  # not constant: the check above can fail
    ga = torch.autograd.grad(ua.sum(), a, create_graph=True)[0]
    gb = torch.autograd.grad(ub.sum(), b, create_graph=True)[0]
    torch.testing.assert_close(ga, gb, rtol=1e-12, atol=1e-12)
    haa = torch.autograd.grad(ga[:, 0].sum(), a)[0]
    hbb = torch.autograd.grad(gb[:, 0].sum(), b)[0]
    torch.testing.assert_close(haa, hbb, rtol=1e-11, atol=1e-11)
    x = inside(40, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(s(x), s(x + torch.tensor([3.0, 0.0])), rtol=1e-12, atol=1e-12)
        assert float((s(x) - s(x + torch.tensor([0.0, 3.0]))).abs().max()) > 1e-3  # y is not periodic


def test_the_one_pass_jet_equals_autograd_through_the_embedding():
    s = perturb(Surrogate(kan(width=(3, 4, 1), seed=3), LOWER, UPPER, periodic=[0]))
    spec = full_spec(2)
    x = inside(25).requires_grad_(True)
    out = s.forward_jet(x, spec)  # (C, n, 1): u, u_x, u_y, u_xx, u_xy, u_yy
    u = s(x)
    g = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    h = [torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(2)]
    expected = torch.stack([u[:, 0], g[:, 0], g[:, 1], h[0][:, 0], h[0][:, 1], h[1][:, 1]])
    assert spec == JetSpec(axes=(0, 1), second=(((0, 0),), ((0, 1),), ((1, 1),)))
    torch.testing.assert_close(out[..., 0], expected, rtol=1e-11, atol=1e-11)


# --- hard constraint --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [1.5, lambda x: torch.sin(x[:, 0]) * x[:, 1] + x[:, 2] ** 2], ids=["number", "function"]
)
@pytest.mark.parametrize("net", [kan(width=(3, 5, 1), seed=4), kanpde.MLP([3, 10, 1], seed=5)], ids=["kan", "mlp"])
def test_a_hard_dirichlet_constraint_holds_exactly_on_its_faces(net, value):
    lower, upper = torch.tensor([0.0, -1.0, 2.0]), torch.tensor([1.0, 3.0, 2.5])
    faces = ((0, 0), (1, 1), (2, 0))  # x = 0, y = 3, z = 2
    s = perturb(Surrogate(net, lower, upper, HardDirichlet(faces, value)), scale=1.0)
    g = value if callable(value) else (lambda x: torch.full((x.shape[0],), value))
    x = inside(30, lower=lower, upper=upper)
    with torch.no_grad():
        for axis, side in faces:
            on = x.clone()
            on[:, axis] = (upper if side else lower)[axis]
            assert torch.equal(s(on), g(on).reshape(-1, 1)), (axis, side)
        free = x.clone()
        free[:, 0] = upper[0]  # x = 1 is not constrained
        assert float((s(free) - g(free).reshape(-1, 1)).abs().max()) > 1e-3
    on = x.clone()
    on[:, 1] = upper[1]
    jet = s.forward_jet(on, JetSpec.build([0, 2]))  # value and tangential slopes on the face y = 3
    assert torch.equal(jet[0], g(on).reshape(-1, 1))


def test_the_constraint_vanishes_on_exactly_its_faces():
    c = HardDirichlet(((0, 0), (1, 1)), 0.0)
    t = torch.tensor([[-1.0, 0.3], [0.2, 1.0], [1.0, -1.0], [0.0, 0.0]])
    assert c.distance(t).flatten().tolist() == [0.0, 0.0, 2.0 * 2.0, 1.0]


# --- describe / from_description --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Surrogate(kan(), LOWER, UPPER),
        lambda: Surrogate(kanpde.MLP([2, 8, 8, 2], activation="sin", seed=7), LOWER, UPPER),
        lambda: Surrogate(kan(width=(3, 4, 1)), LOWER, UPPER, HardDirichlet(((1, 0), (1, 1)), -0.5), periodic=[0]),
    ],
    ids=["kan", "mlp", "kan-hard-periodic"],
)
def test_a_description_round_trips_to_the_same_outputs(make):
    s = make()
    desc = json.loads(json.dumps(s.describe()))  # JSON-ready
    assert desc == s.describe()
    fresh = Surrogate.from_description(desc)
    x = inside(50)
    with torch.no_grad():
        assert torch.equal(fresh(x), s(x))  # same seed, same initial network
        perturb(s)
        back = Surrogate.from_description(desc)
        back.load_state_dict(s.state_dict())  # the description plus the weights is the trained surrogate
        assert torch.equal(back(x), s(x))
    assert back.constraint == s.constraint and back.periodic == s.periodic
    assert torch.equal(back.lower, s.lower) and torch.equal(back.upper, s.upper)


def test_the_description_names_the_map_the_constraint_and_the_periodic_axes():
    s = Surrogate(kanpde.MLP([3, 4, 1], seed=3), LOWER, UPPER, HardDirichlet(((1, 0),), 2.0), periodic=(0,))
    assert s.describe() == {
        "net": {"kind": "mlp", "width": [3, 4, 1], "activation": "tanh", "seed": 3},
        "input_box": {"lower": [0.0, -2.0], "upper": [3.0, 1.0]},
        "constraint": {"kind": "hard_dirichlet", "faces": [[1, 0]], "value": 2.0},
        "periodic": [0],
    }


def test_a_bad_description_is_refused():
    box = {"lower": [0.0], "upper": [1.0]}
    with pytest.raises(
        ConfigError, match="unknown network kind 'cnn' in the saved description; expected one of kan, mlp"
    ):
        Surrogate.from_description({"net": {"kind": "cnn"}, "input_box": box})
    with pytest.raises(
        ConfigError,
        match="unknown output constraint 'x' in the saved description; expected one of hard_dirichlet, shape_dirichlet",
    ):
        Surrogate.from_description(
            {"net": kanpde.MLP([1, 2, 1]).describe(), "input_box": box, "constraint": {"kind": "x"}}
        )


# --- refined / grid_updated / with_net --------------------------------------------------------------


@pytest.mark.parametrize("constraint", [None, HardDirichlet(((0, 1),), 0.25)], ids=["free", "hard"])
def test_refining_to_a_nested_grid_reproduces_the_surrogate(constraint):
    s = perturb(Surrogate(kan(), LOWER, UPPER, constraint))
    fine = s.refined(10)
    assert fine is not s and fine.grid == 10 and s.grid == 5  # a new surrogate; the coarse one unchanged
    assert fine.constraint == s.constraint and torch.equal(fine.lower, s.lower) and torch.equal(fine.upper, s.upper)
    x = inside(400)
    outside = inside(100, seed=1, lower=LOWER - 0.5, upper=UPPER + 0.5)  # the C^2 continuation past the grids
    with torch.no_grad():
        for pts in (x, outside):
            assert float((fine(pts) - s(pts)).abs().max()) <= 1e-12 * float(s(pts).abs().max())
        assert float((s.refined(7)(x) - s(x)).abs().max()) > 1e-6  # a non-nested grid is only a fit


def test_grid_update_follows_the_mapped_samples_and_keeps_the_rest():
    s = perturb(Surrogate(kan(width=(3, 4, 1)), LOWER, UPPER, HardDirichlet(((1, 0),), 1.0), periodic=[0]))
    x = inside(300, lower=torch.tensor([0.5, -1.0]), upper=torch.tensor([2.0, 0.5]))
    new = s.grid_updated(x, eps=0.5)
    assert new is not s and new.grid == 5 and new.periodic == (0,) and new.constraint == s.constraint
    f = s.features(x)
    lo, hi = f.min(0).values, f.max(0).values
    # the first layer's grids cover exactly the network inputs of the samples (not the raw points)
    torch.testing.assert_close(new.net.layers[0].grid_range(), torch.stack([lo, hi], 1), rtol=0, atol=1e-15)
    edge = x.clone()
    edge[:, 1] = -2.0
    with torch.no_grad():
        assert torch.equal(new(edge), torch.ones(300, 1))


def test_kan_only_methods_refuse_an_mlp():
    s = Surrogate(kanpde.MLP([2, 4, 1]), LOWER, UPPER)
    with pytest.raises(ConfigError, match="only a KAN has a spline grid to refine the grid; this model is an MLP"):
        s.refined(10)
    with pytest.raises(ConfigError, match="only a KAN has a spline grid to update the grid; this model is an MLP"):
        s.grid_updated(inside(10))


def test_with_net_keeps_the_map_and_the_constraint():
    c = HardDirichlet(((0, 0),), 3.0)
    s = Surrogate(kan(), LOWER, UPPER, c)
    other = s.with_net(kanpde.MLP([2, 5, 1]))
    assert other.kind == "mlp" and other.constraint is c
    assert torch.equal(other.lower, LOWER) and torch.equal(other.upper, UPPER)
    edge = inside(10)
    edge[:, 0] = 0.0
    with torch.no_grad():
        assert torch.equal(other(edge), torch.full((10, 1), 3.0))


def test_construction_errors():
    with pytest.raises(DefinitionError, match="model must be a kanpde.KAN or kanpde.MLP; got Linear"):
        Surrogate(torch.nn.Linear(2, 1), LOWER, UPPER)
    with pytest.raises(ShapeError, match=r"periodic axes \(2,\) are out of range for a 2-dimensional box"):
        Surrogate(kanpde.MLP([3, 4, 1]), LOWER, UPPER, periodic=[2])
    with pytest.raises(
        ShapeError,
        match=r"the input box has 2 dimensions \(1 periodic axes add one input each\), so the "
        r"network must take 3 inputs; it takes 2",
    ):
        Surrogate(kanpde.MLP([2, 4, 1]), LOWER, UPPER, periodic=[0])
    with pytest.raises(
        ShapeError, match="the input box has 2 dimensions, so the network must take 2 inputs; it takes 3"
    ):
        Surrogate(kanpde.MLP([3, 4, 1]), LOWER, UPPER)


def test_count_parameters_counts_trainable_scalars():
    s = Surrogate(kanpde.MLP([2, 5, 1]), LOWER, UPPER)
    assert count_parameters(s) == (2 * 5 + 5) + (5 * 1 + 1)  # the box is a buffer, not a parameter
    k = Surrogate(kanpde.KAN([2, 3, 1], grid=5, k=3), LOWER, UPPER)
    assert count_parameters(k) == (2 * 3 + 1 * 3) * (1 + 5 + 3)  # per edge: a base weight and G + k coefficients
