"""KAN layers: layouts, refinement, grid updates, inputs outside the grid, dtypes, descriptions."""

import math

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, ShapeError
from kanpde.nets import bspline
from kanpde.nets.kan import KANLayer, is_uniform


def rand(n, d, seed=0, lo=-1.0, hi=1.0):
    return lo + (hi - lo) * torch.rand(n, d, generator=torch.Generator().manual_seed(seed))


def rough_kan(width=(2, 5, 3, 1), grid=5, seed=1):
    """A KAN with O(1) random spline coefficients, whose hidden activations leave [-1, 1]."""
    return kanpde.KAN(list(width), grid=grid, init_noise=1.0, seed=seed)


def test_forward_matches_the_reference_basis():
    net = rough_kan()
    x = rand(500, 2)
    h = x
    for layer in net.layers:
        ref = torch.nn.functional.silu(h) @ layer.base_weight.T + torch.einsum(
            "nij,oij->no", bspline.basis(h, layer.knots, layer.k), layer.coef
        )
        inside = ((h >= layer.knots[:, layer.k]) & (h <= layer.knots[:, -layer.k - 1])).all(1)
        torch.testing.assert_close(layer(h)[inside], ref[inside])
        h = layer(h)


@pytest.mark.parametrize("width, grid", [((2, 10, 1), 5), ((2, 10, 1), 40), ((3, 16, 2), 10)])
def test_dense_and_gather_layouts_agree(width, grid):
    layer = rough_kan(width, grid).layers[0]
    x = rand(300, width[0], lo=-1.5, hi=1.5)
    torch.testing.assert_close(layer.spline(x, "dense"), layer.spline(x, "gather"))


@pytest.mark.parametrize("factor", [2, 3])
def test_refinement_with_nested_knots_reproduces_the_network(factor):
    net = rough_kan()
    assert max(h.abs().max() for h in net.layer_inputs(rand(2000, 2))) > 1.2  # hidden inputs leave the grid
    fine = net.refined(5 * factor)
    assert fine.grid == 5 * factor and all(l.uniform for l in fine.layers)
    with torch.no_grad():
        x = rand(4000, 2, seed=5)
        assert (fine(x) - net(x)).abs().max() <= 1e-10
        far = rand(1000, 2, seed=6, lo=-4, hi=4)  # the C^2 continuation is reproduced too
        assert (fine(far) - net(far)).abs().max() <= 1e-10 * (1 + net(far).abs().max())


def test_refining_a_non_uniform_grid_keeps_it_and_the_function():
    net = rough_kan().grid_updated(rand(3000, 2, seed=2) ** 3)
    assert not any(l.uniform for l in net.layers)
    fine = net.refined(10)
    assert not any(l.uniform for l in fine.layers)
    old_knots = net.layers[0].knots[:, 3:9]
    assert torch.isin(old_knots, fine.layers[0].knots).all()  # every old grid knot is a new one
    with torch.no_grad():
        x = rand(4000, 2, seed=3)
        assert (fine(x) - net(x)).abs().max() <= 1e-10


def test_refinement_to_a_non_nested_grid_is_approximate():
    net = rough_kan()
    with torch.no_grad():
        x = rand(2000, 2, seed=4)
        err = float((net.refined(7)(x) - net(x)).abs().max())
    assert 1e-6 < err  # 5 -> 7 cannot contain the old knots: the fit error is real and reported by solve()


def test_refinement_that_covers_the_activations_widens_only_the_grids_they_leave():
    net = kanpde.KAN([2, 4, 1], grid=5, init_noise=0.5, seed=1)
    x = rand(3000, 2, seed=7)
    hidden = net.layer_inputs(x)[1]
    left = (hidden < -1) | (hidden > 1)
    assert left.any() and not left.all(0).all()  # some hidden inputs leave [-1, 1], some do not
    fine = net.refined(10, cover=x)
    assert fine.grid == 10 and all(l.grid == 10 for l in fine.layers)
    torch.testing.assert_close(fine.layers[0].knots, net.refined(10).layers[0].knots)  # inputs inside: nested
    lo, hi = fine.layers[1].grid_range().unbind(1)
    h = fine.layer_inputs(x)[1]
    assert (h.min(0).values > lo).all() and (h.max(0).values < hi).all()  # every activation inside a grid
    kept = ~left.any(0)
    torch.testing.assert_close(fine.layers[1].knots[kept], net.refined(10).layers[1].knots[kept])
    spread = hidden.max(0).values - hidden.min(0).values
    widened = hidden.min(0).values < -1
    torch.testing.assert_close(lo[widened], hidden.min(0).values[widened] - 0.1 * spread[widened])
    with torch.no_grad():  # no longer exact where a grid moved, but close on smooth edges
        err = float((fine(x) - net(x)).abs().max() / net(x).abs().max())
    assert 1e-12 < err < 1e-2
    with pytest.raises(ConfigError, match="margin"):
        net.refined(10, cover=x, margin=-1)


def test_the_refine_phase_covers_the_collocation_activations_when_asked():
    from kanpde.solvers import Refine

    with pytest.raises(ConfigError, match="Refine.cover"):
        Refine(grid=10, cover="yes")
    problem = kanpde.problems.Poisson(
        source=lambda x: -2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        n_interior=400,
        n_boundary=40,
        eval_points=9,
    )
    net = kanpde.KAN([2, 4, 1], grid=5, init_noise=0.5, seed=1)
    schedule = [kanpde.LBFGS(steps=3), Refine(grid=10, cover=True), kanpde.LBFGS(steps=2)]
    sol = kanpde.solve(problem, net, schedule=schedule, steps=5, seed=0, progress=False)
    lo, hi = sol.model.net.layers[1].grid_range().unbind(1)
    assert (lo < -1).any() or (hi > 1).any()  # the hidden grids widened to the trained activations
    assert sol.model.net.layers[0].grid_range().abs().max() == 1  # the inputs' grids did not need to
    assert sol.phases[1]["fit_error"] > 1e-12  # a widened grid's fit is not exact, and says so


def smooth_layer(in_dim=2, out_dim=3, grid=10):
    """A layer whose edges are smooth functions (least-squares fit of sin), as after training."""
    layer = KANLayer(in_dim, out_dim, grid, 3, generator=torch.Generator().manual_seed(0))
    x = torch.linspace(-1, 1, 400).reshape(-1, 1).expand(-1, in_dim)
    target = torch.stack([torch.sin(1.5 * x * (o + 1) + o) for o in range(out_dim)], -1)  # (n, in, out)
    a = bspline.dense_basis(x, layer.knots, 3, uniform=True).transpose(0, 1)
    with torch.no_grad():
        layer.coef.copy_(bspline.lstsq(a, target.transpose(0, 1)).permute(2, 0, 1))
    return layer


def test_grid_update_keeps_the_function_on_the_sampled_range():
    net = kanpde.KAN([2, 3], grid=10)
    net.layers[0] = smooth_layer()
    u = rand(5000, 2, seed=7)
    samples = torch.sign(u) * u.abs() ** 1.5 * 0.8  # denser around 0, range about [-0.8, 0.8]
    new = net.grid_updated(samples)
    knots = new.layers[0].knots
    assert not new.layers[0].uniform
    torch.testing.assert_close(knots[:, 3], samples.min(0).values)
    torch.testing.assert_close(knots[:, -4], samples.max(0).values)
    # knots follow the samples: denser near 0 than a uniform grid over the same range
    assert knots[0, 3:-3].diff().min() < 0.6 * (knots[0, -4] - knots[0, 3]) / 10
    lo, hi = samples.min(0).values, samples.max(0).values
    with torch.no_grad():
        x = lo + (hi - lo) * torch.rand(3000, 2, generator=torch.Generator().manual_seed(8))
        err = (new(x) - net(x)).abs().max() / net(x).abs().max()
    # the new knots do not contain the old ones, so this is a cubic-spline approximation (measured 9.4e-4)
    assert err < 3e-3


def test_grid_update_with_uniform_mix_and_full_range_is_exact():
    net = rough_kan((2, 4))
    x = torch.cartesian_prod(torch.linspace(-1, 1, 60), torch.linspace(-1, 1, 60))
    new = net.grid_updated(x, eps=1.0)  # knots = uniform grid over [-1, 1]: unchanged
    torch.testing.assert_close(new.layers[0].knots, net.layers[0].knots)
    with torch.no_grad():
        assert (new(x) - net(x)).abs().max() <= 1e-10


def test_grid_update_handles_constant_inputs():
    net = rough_kan((2, 3, 1))
    x = torch.cat([rand(100, 1), torch.full((100, 1), 0.3)], 1)
    new = net.grid_updated(x)
    assert torch.isfinite(new(x)).all() and all(torch.isfinite(l.knots).all() for l in new.layers)


def test_outside_inputs_stay_finite_and_continuous():
    net = rough_kan()
    t = torch.linspace(-50, 50, 20001).reshape(-1, 1)
    x = torch.cat([t, 0.3 * t], 1)
    with torch.no_grad():
        y = net(x)[:, 0]
        fine = net(x + 1e-7)[:, 0]
    assert torch.isfinite(y).all()
    # continuous: a step 1e-7 in x moves y by a tiny fraction of what a step 0.005 does (no jump)
    assert (fine - y).abs().max() < 1e-3 * y.diff().abs().max()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes(dtype):
    net = kanpde.KAN([2, 6, 1], grid=5, dtype=dtype)
    y = net(rand(10, 2).to(dtype))
    assert y.dtype == dtype and y.shape == (10, 1)
    assert all(b.dtype == dtype for b in net.buffers())


def test_same_seed_same_network_and_description_round_trip():
    a = kanpde.KAN([2, 4, 1], grid=6, seed=3)
    b = kanpde.KAN.from_description(a.describe())
    x = rand(20, 2)
    torch.testing.assert_close(a(x), b(x))
    assert not torch.equal(a(x), kanpde.KAN([2, 4, 1], grid=6, seed=4)(x))


def test_loading_weights_restores_grids_and_uniform_flag():
    net = rough_kan().grid_updated(rand(500, 2) ** 3).refined(10)
    fresh = kanpde.KAN.from_description(net.describe())
    assert fresh.grid == 10 and fresh.layers[0].uniform
    fresh.load_state_dict(net.state_dict())
    assert not fresh.layers[0].uniform
    x = rand(50, 2)
    torch.testing.assert_close(fresh(x), net(x))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"width": [2]}, r"at least two ints >= 1.*got \[2\]"),
        ({"width": [2, 0, 1]}, "at least two ints >= 1"),
        ({"width": "2,10,1"}, "at least two ints"),
        ({"width": [2, 10, 1], "grid": 0}, "KAN.grid must be an int >= 1; got 0"),
        ({"width": [2, 10, 1], "k": 0}, "KAN.k must be an int >= 1; got 0"),
        ({"width": [2, 10, 1], "grid_range": (1, -1)}, "lo < hi"),
        ({"width": [2, 10, 1], "init_noise": -1}, "init_noise must be a finite number >= 0"),
        ({"width": [2, 10, 1], "curvature_fade": -0.1}, r"curvature_fade must be a finite number >= 0.*got -0.1"),
    ],
)
def test_kan_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        kanpde.KAN(**kwargs)


def test_grid_update_rejects_bad_samples():
    with pytest.raises(ShapeError, match=r"samples of shape \(n >= 2, 2\)"):
        kanpde.KAN([2, 3, 1]).grid_updated(torch.zeros(10, 3))
    with pytest.raises(ConfigError, match=r"eps must be in \(0, 1\]"):
        kanpde.KAN([2, 3, 1]).grid_updated(torch.zeros(10, 2), eps=0)


def test_is_uniform():
    assert is_uniform(bspline.extend_grid(torch.linspace(-1, 1, 6).reshape(1, -1), 3))
    assert not is_uniform(torch.tensor([[0.0, 1.0, 3.0]]))


def test_mlp_init_and_errors():
    net = kanpde.MLP([2, 50, 50, 1], seed=0)
    w = net.linears[1].weight
    assert abs(float(w.detach().std()) - math.sqrt(2 / 100)) < 0.01  # Xavier normal
    assert float(net.linears[0].bias.detach().abs().max()) == 0
    assert net(rand(7, 2)).shape == (7, 1)
    torch.testing.assert_close(kanpde.MLP.from_description(net.describe())(rand(3, 2)), net(rand(3, 2)))
    with pytest.raises(ConfigError, match="MLP.activation must be one of tanh, sin, silu; got 'relu'"):
        kanpde.MLP([2, 5, 1], activation="relu")


def test_curvature_fade_survives_refinement_descriptions_and_pruning():
    net = kanpde.KAN([2, 4, 1], grid=5, curvature_fade=1 / 32, init_noise=1.0, seed=3)
    x = rand(300, 2, seed=4, lo=-3, hi=3)  # mostly past the grid, where the continuation matters
    fine = net.refined(10)
    back = kanpde.KAN.from_description(net.describe())
    back.load_state_dict(net.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(fine(x), net(x), rtol=1e-10, atol=1e-10)  # nested refinement: exact
        torch.testing.assert_close(back(x), net(x), rtol=0, atol=0)
        assert (kanpde.KAN([2, 4, 1], grid=5, init_noise=1.0, seed=3)(x) - net(x)).abs().max() > 1e-3
    assert all(layer.fade == 1 / 32 for m in (fine, back) for layer in m.layers)
    assert net.layers[0].subset([0, 1], [0, 1]).fade == 1 / 32
