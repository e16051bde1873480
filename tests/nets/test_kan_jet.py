"""The fused KAN layer jet against the composed one and nested autograd (float64), gradients included."""

import pytest
import torch

import kanpde
from kanpde.nets import kan_jet
from kanpde.nets.kan import KANLayer
from kanpde.pde import jet

SPECS = {
    "laplacian": jet.JetSpec.build([0, 1], [((0, 0), (1, 1))]),
    "mixed and u_yy": jet.JetSpec.build([0], [((0, 1),), ((1, 1),)]),
    "first only": jet.JetSpec.build([1]),
    "values": jet.JetSpec(),
}


def rough_kan(width, grid, seed=1, uniform=True, fade=0.0):
    net = kanpde.KAN(width, grid=grid, init_noise=1.0, seed=seed, curvature_fade=fade)
    if not uniform:  # knots that follow samples: the de Boor path
        x = torch.randn(400, width[0], generator=torch.Generator().manual_seed(seed), dtype=torch.float64) ** 3
        net = net.grid_updated(x)
    return net


def points(n, d, seed=0):  # partly outside the initial grid [-1, 1], so the continuation is exercised
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 3 - 1.5


def nested_autograd(net, x, spec):
    """The channels of ``spec`` from the plain forward pass, by nested autograd."""
    x = x.clone().requires_grad_(True)
    u = net(x)
    out = [u]
    grads = [torch.autograd.grad(u[:, o].sum(), x, create_graph=True)[0] for o in range(u.shape[1])]
    out += [torch.stack([g[:, a] for g in grads], 1) for a in spec.axes]
    for pairs in spec.second:
        total = 0
        for i, j in pairs:
            total = total + torch.stack(
                [torch.autograd.grad(g[:, i].sum(), x, create_graph=True)[0][:, j] for g in grads], 1
            )
        out.append(total)
    return torch.stack(out).detach()


def relative(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


@pytest.mark.parametrize("spec_name", list(SPECS))
@pytest.mark.parametrize(
    ("width", "grid", "uniform"), [([2, 7, 3], 5, True), ([3, 4, 1], 20, True), ([2, 5, 2], 6, False)]
)
def test_fused_jet_equals_nested_autograd_and_its_gradients_the_composed_ones(spec_name, width, grid, uniform):
    spec = SPECS[spec_name]
    net = rough_kan(width, grid, uniform=uniform)
    x = points(60, width[0])
    fused = net.forward_jet(jet.seed(x, spec), spec)
    assert relative(fused.detach(), nested_autograd(net, x, spec)) < 1e-10
    # gradients with respect to every parameter and to the input jet, against autograd on the composed jet
    weights = torch.randn(fused.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    grads = []
    for fuse in (True, False):
        t = jet.seed(x, spec).requires_grad_(True)
        out = net.forward_jet(t, spec, fused=fuse)
        grads.append(torch.autograd.grad((out * weights).sum(), [t, *net.parameters()]))
    for ours, ref in zip(*grads):
        assert relative(ours, ref) < 1e-10


def test_layouts_agree_and_cover_the_gather_path():
    layer = KANLayer(3, 2, grid=40, k=3, init_noise=1.0, generator=torch.Generator().manual_seed(0))
    assert layer._layout() == "gather"  # (k + 1) out = 8 < G + k = 43
    spec = SPECS["laplacian"]
    t = jet.seed(points(50, 3), spec).requires_grad_(True)
    base_weight, coef = layer.weights()
    outs = {}
    for layout in ("gather", "dense"):
        composed = lambda t, c, b, layout=layout: layer._composed_jet(t, c, b, spec, layout)  # noqa: E731
        out = kan_jet.fused_layer_jet(t, spec, layer.knots, 3, True, coef, base_weight, composed, layout)
        outs[layout] = (out, torch.autograd.grad(out.square().sum(), [t, layer.coef, layer.base_weight]))
    assert relative(outs["gather"][0], outs["dense"][0]) < 1e-12
    for a, b in zip(outs["gather"][1], outs["dense"][1]):
        assert relative(a, b) < 1e-12


@pytest.mark.parametrize("layout", ["dense", "gather"])
def test_gradcheck(layout):
    layer = KANLayer(2, 3, grid=4, k=3, init_noise=1.0, generator=torch.Generator().manual_seed(2))
    spec = SPECS["mixed and u_yy"]
    composed = lambda t, c, b: layer._composed_jet(t, c, b, spec, layout)  # noqa: E731
    t = jet.seed(points(6, 2), spec).requires_grad_(True)
    coef = layer.coef.detach().clone().requires_grad_(True)
    base = layer.base_weight.detach().clone().requires_grad_(True)

    def f(t, coef, base):
        return kan_jet.fused_layer_jet(t, spec, layer.knots, 3, True, coef, base, composed, layout)

    assert torch.autograd.gradcheck(f, (t, coef, base))


def test_a_graph_of_the_backward_is_exact():
    """create_graph=True (a derivative by autograd that is then trained) goes through the composed path."""
    net = rough_kan([2, 4, 1], 5)
    spec = SPECS["laplacian"]
    results = []
    for fuse in (True, False):
        x = points(30, 2).requires_grad_(True)
        lap = net.forward_jet(jet.seed(x, spec), spec, fused=fuse)[3]
        (gx,) = torch.autograd.grad(lap.sum(), x, create_graph=True)  # a third derivative of the network
        results.append(torch.autograd.grad(gx.square().sum(), list(net.parameters())))
    for a, b in zip(*results):
        assert relative(a, b) < 1e-10


def test_fixed_edges_are_added_on_both_paths():
    net = rough_kan([2, 3, 1], 5)
    net.layers[0] = net.layers[0].with_fixed(
        {(0, 1): ("sin", (1.0, 0.2, 0.7, 0.1)), (2, 0): ("0", (0.0, 0.0, 0.0, 0.0))}
    )
    spec = SPECS["laplacian"]
    x = points(40, 2)
    fused = net.forward_jet(jet.seed(x, spec), spec)
    assert relative(fused.detach(), nested_autograd(net, x, spec)) < 1e-10


@pytest.mark.parametrize("layout", ["dense", "gather"])
def test_blocks_of_points_give_the_same_jet_and_gradients(monkeypatch, layout):
    layer = KANLayer(3, 2, grid=6, k=3, init_noise=1.0, generator=torch.Generator().manual_seed(4))
    spec = SPECS["laplacian"]
    t0 = jet.seed(points(203, 3), spec)
    base_weight, coef = layer.weights()
    composed = lambda t, c, b: layer._composed_jet(t, c, b, spec, layout)  # noqa: E731
    results = []
    for size in (2**24, 8000):  # one block, then blocks of a few points (the last one shorter)
        monkeypatch.setattr(kan_jet, "_BLOCK_BYTES", size)
        t = t0.clone().requires_grad_(True)
        out = kan_jet.fused_layer_jet(t, spec, layer.knots, 3, True, coef, base_weight, composed, layout)
        results.append((out, *torch.autograd.grad(out.square().sum(), [t, layer.coef, layer.base_weight])))
    for a, b in zip(*results):
        assert relative(a, b) < 1e-12


@pytest.mark.parametrize("block_bytes", [2**24, 8000])
def test_kept_dense_blocks_give_the_gradients_of_rebuilt_ones(monkeypatch, block_bytes):
    """The forward keeps the dense basis jet for the backward up to ``_KEEP_BYTES``; above it the backward
    builds the blocks again. Both give the same gradients, in one block or several."""
    layer = KANLayer(3, 2, grid=6, k=3, init_noise=1.0, generator=torch.Generator().manual_seed(6))
    spec = SPECS["mixed and u_yy"]
    t0 = jet.seed(points(203, 3), spec)
    base_weight, coef = layer.weights()
    composed = lambda t, c, b: layer._composed_jet(t, c, b, spec, "dense")  # noqa: E731
    monkeypatch.setattr(kan_jet, "_BLOCK_BYTES", block_bytes)
    results, kept = [], []
    for keep_bytes in (2**30, 0):
        monkeypatch.setattr(kan_jet, "_KEEP_BYTES", keep_bytes)
        t = t0.clone().requires_grad_(True)
        out = kan_jet.fused_layer_jet(t, spec, layer.knots, 3, True, coef, base_weight, composed, "dense")
        kept.append(out.grad_fn.kept)  # the blocks the forward kept (the backward's context)
        results.append((out, *torch.autograd.grad(out.square().sum(), [t, layer.coef, layer.base_weight])))
    # one block, or blocks of the 16 points at least (C = 4 channels, 27 columns, 8 bytes: 16 x 3456 > 8000)
    assert kept == [1 if block_bytes > 2**20 else 13, 0]
    for a, b in zip(*results):
        assert relative(a, b) < 1e-12


@pytest.mark.parametrize("k", [1, 2, 4])
def test_taylor_rows_of_other_spline_orders(k):
    """A narrow layer's Taylor rows hold k + 1 coefficients; derivatives past order k are zero."""
    layer = KANLayer(3, 1, grid=9, k=k, init_noise=1.0, generator=torch.Generator().manual_seed(k))
    assert layer._layout() == "gather"
    spec = SPECS["laplacian"]
    results = []
    for fuse in (True, False):
        t = jet.seed(points(70, 3), spec).requires_grad_(True)
        out = layer.forward_jet(t, spec, fused=fuse)
        results.append((out, *torch.autograd.grad(out.square().sum(), [t, layer.coef, layer.base_weight])))
    for a, b in zip(*results):
        assert relative(a, b) < 1e-10


def test_plain_forward_of_a_narrow_layer_equals_the_dense_form_to_second_order():
    """The plain forward of a narrow layer runs the fused values-only jet; its values, gradients and a
    second derivative by autograd (the composed path) match the dense basis matrix."""
    layer = KANLayer(3, 2, grid=12, k=3, init_noise=1.0, generator=torch.Generator().manual_seed(3))
    assert layer._layout() == "gather"

    def dense_form(x):
        base, coef = layer.weights()
        return torch.nn.functional.silu(x) @ base.T + layer.combine(*layer._basis(x), coef, "dense")

    results = []
    for f in (layer, dense_form):
        x = points(80, 3).requires_grad_(True)
        y = f(x)
        (gx,) = torch.autograd.grad(y[:, 1].sum(), x, create_graph=True)
        (hxx,) = torch.autograd.grad(gx[:, 0].sum(), x, create_graph=True)
        loss = y.square().sum() + hxx.square().sum()
        results.append((y, gx, hxx, *torch.autograd.grad(loss, [x, layer.coef, layer.base_weight])))
    for a, b in zip(*results):
        assert relative(a, b) < 1e-10
