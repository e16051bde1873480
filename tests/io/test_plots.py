"""kanpde.io.plots: the figures show the sampled fields, the history with its events, a KAN's edge functions;
PNG files are written atomically and no global matplotlib state changes."""

import math

import matplotlib
import numpy as np
import pytest
import torch

import kanpde
from kanpde.io.plots import plot_history, plot_kan, plot_solution, plot_solution_report
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson

PI = math.pi
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")  # a solution built by hand, never trained


def small_poisson():
    """poisson_sin on a 33 x 33 evaluation grid (the built-in one has 256 x 256: slow for a test)."""
    base = Poisson.sin()
    return Poisson(
        source=base.source,
        exact=base.exact,
        boundary=0.0,
        residual_weight=0.01,
        n_interior=400,
        n_boundary=80,
        eval_points=33,
        name="small_sin",
    )


@pytest.fixture(scope="module")
def sol():
    schedule = [kanpde.LBFGS(steps=4), kanpde.Refine(grid=10), kanpde.LBFGS(steps=3)]
    return kanpde.solve(
        small_poisson(), model=kanpde.KAN([2, 3, 1], grid=5), schedule=schedule, progress=False, eval_every=0.0
    )


def test_report_writes_three_pngs_and_leaves_matplotlib_alone(sol, tmp_path):
    backend = matplotlib.get_backend()
    written = plot_solution_report(sol, tmp_path / "run", resolution=33)
    assert [p.name for p in written] == ["solution.png", "history.png", "kan.png"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["history.png", "kan.png", "solution.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 300
    assert matplotlib.get_backend() == backend


def test_solution_maps_show_u_reference_and_error(sol):
    fig = plot_solution(sol, resolution=(33, 17))
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["u", "reference", "|u - reference|"]
    x = kanpde.Box([-1, -1], [1, 1]).grid((33, 17)).points()
    u = sol(x)[:, 0].reshape(33, 17)
    ref = (np.sin(PI * x[:, 0]) * np.sin(PI * x[:, 1])).reshape(33, 17)
    # images are drawn with x across and y up: the array is the transposed grid
    np.testing.assert_allclose(panels[0].images[0].get_array(), u.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(panels[1].images[0].get_array(), ref.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(panels[2].images[0].get_array(), np.abs(u - ref).T, rtol=0, atol=1e-14)
    assert panels[0].images[0].get_extent() == [-1, 1, -1, 1]
    assert panels[0].get_xlabel() == "x" and panels[0].get_ylabel() == "y"


def test_time_dependent_problems_get_space_time_maps():
    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [2, 1], axes=("x", "t")),
        residual=lambda u, x: kanpde.ops.dt(u, x),
        exact=lambda x: torch.sin(PI * x[:, 0]) * torch.exp(-x[:, 1]),
    )
    model = Surrogate(kanpde.KAN([2, 2, 1], grid=3), torch.tensor([0.0, 0.0]), torch.tensor([2.0, 1.0]))
    fig = plot_solution(kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors={}), resolution=9)
    ax = [a for a in fig.axes if a.images][0]
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "t" and ax.images[0].get_extent() == [0, 2, 0, 1]


def test_history_marks_phase_ends_and_refinements(sol):
    fig = plot_history(sol)
    loss_ax, err_ax = fig.axes[:2]
    entries = [h for h in sol.history if "loss" in h]
    line = loss_ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [h["step"] for h in entries])
    np.testing.assert_array_equal(line.get_ydata(), [h["loss"] for h in entries])
    errs = [h for h in sol.history if h.get("rel_l2") is not None]
    assert errs and list(err_ax.get_lines()[0].get_ydata()) == [h["rel_l2"] for h in errs]
    events = {(h["event"], h["step"]) for h in sol.history if h.get("event") in ("phase_end", "refine")}
    assert ("refine", 4) in events
    drawn = {(line.get_label(), line.get_xdata()[0]) for line in loss_ax.get_lines()[1:]}
    assert {step for _, step in events} == {step for _, step in drawn}
    assert {text.get_text() for text in loss_ax.get_legend().get_texts()} == {"phase end", "refine"}
    assert any(t.get_text() == "G=10" for t in loss_ax.texts)


def test_kan_edge_functions_add_up_to_the_layer(sol):
    fig = plot_kan(sol)
    net = sol.model.net
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert len(panels) == sum(net.width[:-1])  # one panel per (layer, input)
    for ax in panels:
        layer_index, input_index = (int(w.strip(",")) for w in ax.get_title().split()[1::2])
        layer = net.layers[layer_index]
        curves = ax.get_lines()[: layer.out_dim]
        t = torch.as_tensor(curves[0].get_xdata())
        # a layer is the sum of its edge functions: moving input i alone changes output o by phi_oi's change
        x = torch.zeros(len(t), layer.in_dim, dtype=t.dtype)
        x[:, input_index] = t
        with torch.no_grad():
            change = (layer(x) - layer(x[:1])).numpy()
        for o, curve in enumerate(curves):
            y = np.asarray(curve.get_ydata())
            np.testing.assert_allclose(y - y[0], change[:, o], rtol=0, atol=1e-12)


def test_mlp_has_no_kan_plot(tmp_path):
    mlp = kanpde.solve(small_poisson(), model=kanpde.MLP([2, 8, 1]), schedule=[kanpde.LBFGS(steps=2)], progress=False)
    assert plot_kan(mlp) is None
    names = [p.name for p in plot_solution_report(mlp, tmp_path)]
    assert names == ["solution.png", "history.png"]
