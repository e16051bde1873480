"""Exports and plots of systems: every component a named scalar array, each declared vector a 3-component
VTK vector (zero-padded in 2-D), reference and error per component (a pressure's reference shifted to the
solution's mean), one residual array per equation; read back with h5py, meshio and an XML parse and
compared with ``sol(x)``, the exact solution and the autograd residual. Plots: one row per component."""

import json
import math
import xml.etree.ElementTree as ET

import h5py
import meshio
import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError
from kanpde.io.export import sample
from kanpde.io.plots import plot_solution
from kanpde.io.solution import evaluate_errors
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.loss import residual_values
from kanpde.pinn.surrogate import Surrogate

PI = math.pi
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")


def flow_exact(x):
    """u = sin(pi x) cos(pi y), v = -cos(pi x) sin(pi y) (divergence-free), p = x y + 3."""
    s, c = torch.sin(PI * x), torch.cos(PI * x)
    return torch.stack([s[:, 0] * c[:, 1], -c[:, 0] * s[:, 1], x[:, 0] * x[:, 1] + 3], 1)


class Flow(kanpde.Problem):
    """A velocity (u, v) and a pressure p defined up to a constant: div = 0 and p_x = y."""

    outputs = ("u", "v", "p")
    vectors = {"velocity": ("u", "v")}
    up_to_constant = ("p",)
    domain = kanpde.Box([0, 0], [1, 1])
    conditions = [
        kanpde.Dirichlet("boundary", lambda x: flow_exact(x)[:, 0], component="u"),
        kanpde.Dirichlet("boundary", lambda x: flow_exact(x)[:, 1], component="v"),
    ]

    def residual(self, u, x):
        div = ops.partial(u["u"], x, "x") + ops.partial(u["v"], x, "y")
        return div, ops.partial(u["p"], x, "x") - x[:, 1]

    def exact(self, x):
        return flow_exact(x)


class Waves(kanpde.Problem):
    """u_t = w_x, w_t = u_x on x in [0, 1], t in [0, 1]: a system in time; (u, w) as a vector for the test."""

    outputs = ("u", "w")
    vectors = {"pair": ("u", "w")}
    domain = kanpde.Box([0, 0], [1, 1], axes=("x", "t"))

    def residual(self, u, x):
        return ops.dt(u["u"], x) - ops.partial(u["w"], x, "x"), ops.dt(u["w"], x) - ops.partial(u["u"], x, "x")

    def exact(self, x):
        return torch.stack([torch.sin(PI * x[:, 0]) * torch.cos(PI * x[:, 1]), 0 * x[:, 0]], 1)


def untrained(problem, width, seed=1):
    """A Solution around a random KAN with its errors: exports are checked against sol(x), not accuracy."""
    model = Surrogate(
        kanpde.KAN(width, grid=3, seed=seed),
        torch.as_tensor(problem.domain.lower),
        torch.as_tensor(problem.domain.upper),
    )
    return kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors=evaluate_errors(model, problem))


@pytest.fixture(scope="module")
def flow():
    return untrained(Flow(), [2, 4, 3])


def grid(n=9):
    return kanpde.Box([0, 0], [1, 1]).grid(n).points()


def autograd_residual(sol, pts):
    x = torch.as_tensor(pts).requires_grad_(True)
    return residual_values(sol.problem, sol.model, x, None).detach().numpy()


def padded(values):
    return np.concatenate([values, np.zeros((len(values), 1))], axis=1)


SYSTEM_FIELDS = {
    "u", "v", "p", "velocity",
    "reference_u", "reference_v", "reference_p", "reference_velocity",
    "error_u", "error_v", "error_p", "error_velocity",
    "residual_0", "residual_1",
}  # fmt: skip


def check_values(arrays, sol, pts, atol=1e-13):
    """Names and values of a system's arrays, (N,) or (N, c), against sol(x), the exact solution and autograd."""
    assert set(arrays) == SYSTEM_FIELDS
    u, ref = sol(pts), flow_exact(torch.as_tensor(pts)).numpy()
    ref[:, 2] += u[:, 2].mean() - ref[:, 2].mean()  # p is compared up to a constant
    for j, name in enumerate("uvp"):
        np.testing.assert_allclose(arrays[name].reshape(-1), u[:, j], rtol=0, atol=atol)
        np.testing.assert_allclose(arrays[f"reference_{name}"].reshape(-1), ref[:, j], rtol=0, atol=atol)
        np.testing.assert_allclose(arrays[f"error_{name}"].reshape(-1), u[:, j] - ref[:, j], rtol=0, atol=atol)
    assert arrays["velocity"].shape == (len(pts), 3)
    np.testing.assert_allclose(arrays["velocity"], padded(u[:, :2]), rtol=0, atol=atol)
    np.testing.assert_allclose(arrays["reference_velocity"], padded(ref[:, :2]), rtol=0, atol=atol)
    np.testing.assert_allclose(arrays["error_velocity"], padded(u[:, :2] - ref[:, :2]), rtol=0, atol=atol)
    residual = autograd_residual(sol, pts)
    for k in range(2):
        np.testing.assert_allclose(arrays[f"residual_{k}"].reshape(-1), residual[:, k], rtol=1e-9, atol=1e-9)


# --- formats ---------------------------------------------------------------------------------------------
def test_h5_holds_components_vectors_and_their_errors(flow, tmp_path):
    kanpde.export(flow, tmp_path / "f.h5", resolution=9)
    pts = grid()
    with h5py.File(tmp_path / "f.h5", "r") as f:
        arrays = {name: f[f"fields/{name}"][()] for name in f["fields"]}
        assert f["fields/u"].shape == (81,) and f["fields/velocity"].shape == (81, 3)
        assert list(f.attrs["components"]) == ["u", "v", "p"]
        assert json.loads(f.attrs["vectors"]) == {"velocity": ["u", "v"]}
        for name in ("u", "v", "p"):  # each component's errors as numbers, as the solution has them
            assert f.attrs[f"rel_l2_{name}"] == pytest.approx(flow.errors[f"rel_l2_{name}"])
        meta = json.loads(f.attrs["metadata"])
        assert meta["components"] == ["u", "v", "p"] and any("up to a constant" in n for n in meta["notes"])
    check_values(arrays, flow, pts)
    # the shifted reference of p leaves an error with no mean, which is what rel_l2_p measures
    assert abs(arrays["error_p"].mean()) < 1e-12


def test_vtu_has_named_scalars_and_a_vector(flow, tmp_path):
    kanpde.export(flow, tmp_path / "f.vtu", resolution=9)
    mesh = meshio.read(tmp_path / "f.vtu")
    np.testing.assert_array_equal(mesh.points[:, :2], grid())
    check_values(mesh.point_data, flow, grid())


def test_vti_names_the_active_scalars_and_vectors(flow, tmp_path, read_vti):
    kanpde.export(flow, tmp_path / "f.vti", resolution=(9, 5))
    points, arrays = read_vti(tmp_path / "f.vti")
    check_values(arrays, flow, points[:, :2])
    assert arrays["velocity"].shape == (45, 3) and arrays["u"].shape == (45, 1)
    data = ET.parse(tmp_path / "f.vti").getroot().find("ImageData/Piece/PointData")
    assert data.get("Scalars") == "u" and data.get("Vectors") == "velocity"


def test_xdmf_declares_the_vector(flow, tmp_path):
    kanpde.export(flow, tmp_path / "f.xdmf", resolution=9)
    mesh = meshio.read(tmp_path / "f.xdmf")
    check_values(mesh.point_data, flow, grid())
    kinds = {a.get("Name"): a.get("AttributeType") for a in ET.parse(tmp_path / "f.xdmf").getroot().iter("Attribute")}
    assert kinds["velocity"] == "Vector" and kinds["p"] == kinds["error_u"] == "Scalar"


def test_a_system_in_time_is_a_series_of_named_components(tmp_path):
    sol = untrained(Waves(), [2, 3, 2])
    kanpde.export(sol, tmp_path / "w.xdmf", resolution=(7, 4))
    xs, ts = np.linspace(0, 1, 7), np.linspace(0, 1, 4)
    with meshio.xdmf.TimeSeriesReader(tmp_path / "w.xdmf") as reader:
        reader.read_points_cells()
        assert reader.num_steps == 4
        for k in range(4):
            t, data, _ = reader.read_data(k)
            assert t == ts[k]
            x = np.column_stack([xs, np.full(7, ts[k])])
            names = {
                "u",
                "w",
                "pair",
                "reference_u",
                "reference_w",
                "reference_pair",
                "error_u",
                "error_w",
                "error_pair",
            }
            assert set(data) == names | {"residual_0", "residual_1"}
            np.testing.assert_allclose(data["pair"], padded(sol(x)), rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["u"], sol(x)[:, 0], rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["w"], sol(x)[:, 1], rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["reference_u"], np.sin(PI * xs) * np.cos(PI * ts[k]), rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["residual_1"], autograd_residual(sol, x)[:, 1], rtol=1e-9, atol=1e-9)
    with h5py.File(tmp_path / "w.h5", "r") as f:  # row s * nt + k of /fields is space node s at slice k
        np.testing.assert_array_equal(f["fields/w"][()].reshape(7, 4)[:, 2], f["steps/2/w"][()])


def test_a_vector_off_a_box_is_nan_outside_in_a_vti(tmp_path, read_vti):
    class DiskFlow(Flow):
        domain = kanpde.Disk([0.5, 0.5], 0.5)
        conditions = []

    sol = untrained(DiskFlow(), [2, 3, 3])
    kanpde.export(sol, tmp_path / "d.vti", resolution=11)
    points, arrays = read_vti(tmp_path / "d.vti")
    inside = arrays["inside"][:, 0] == 1
    assert 0 < inside.sum() < len(inside)
    assert np.isnan(arrays["velocity"][~inside]).all() and np.isnan(arrays["error_p"][~inside]).all()
    np.testing.assert_allclose(arrays["velocity"][inside][:, :2], sol(points[inside, :2])[:, :2], rtol=0, atol=1e-13)
    assert np.all(arrays["velocity"][inside][:, 2] == 0)


def test_a_saved_system_exports_without_its_problem(flow, tmp_path):
    flow.save(tmp_path / "run")
    back = kanpde.load(tmp_path / "run")
    assert back.problem is None and back.components == ("u", "v", "p") and back.vectors == {"velocity": ("u", "v")}
    kanpde.export(back, tmp_path / "b.h5", resolution=5)
    with h5py.File(tmp_path / "b.h5", "r") as f:
        assert set(f["fields"]) == {"u", "v", "p", "velocity"}  # no problem: no reference or residual
        np.testing.assert_allclose(f["fields/p"][()], flow(grid(5))[:, 2], rtol=0, atol=1e-14)
        assert f.attrs["rel_l2_v"] == pytest.approx(flow.errors["rel_l2_v"])  # the saved errors


def test_unnamed_components_are_u0_u1(tmp_path):
    problem = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: ops.partial(u, x, 0),
        exact=lambda x: torch.stack([x[:, 0], 2 * x[:, 0]], 1),
        out_dim=2,
    )
    data = sample(untrained(problem, [1, 2, 2]), resolution=5)
    assert set(data.fields) == {
        "u0",
        "u1",
        "reference_u0",
        "reference_u1",
        "error_u0",
        "error_u1",
        "residual_0",
        "residual_1",
    }
    np.testing.assert_allclose(data.fields["reference_u1"][:, 0], 2 * np.linspace(0, 1, 5), rtol=0, atol=1e-15)


def test_array_names_that_clash_are_refused_before_anything_is_written(tmp_path):
    class Clash(Flow):
        vectors = {"u": ("u", "v")}

    with pytest.raises(ConfigError, match="the array 'u' of vector 'u' has the name of component 'u'; rename"):
        kanpde.export(untrained(Clash(), [2, 2, 3]), tmp_path / "c.vtu")
    assert not (tmp_path / "c.vtu").exists()


# --- plots -----------------------------------------------------------------------------------------------
def test_plot_has_a_row_per_component(flow):
    fig = plot_solution(flow, resolution=9)
    panels = [ax for ax in fig.axes if ax.images]
    titles = [ax.get_title() for ax in panels]
    assert titles[:2] == ["u", "u: reference"] and titles[3:5] == ["v", "v: reference"] and titles[6] == "p"
    assert titles[2] == f"|u - reference|, rel L2 {flow.errors['rel_l2_u']:.2e}"
    u = flow(grid())
    for row, j in ((0, 0), (3, 1), (6, 2)):
        np.testing.assert_allclose(panels[row].images[0].get_array(), u[:, j].reshape(9, 9).T, rtol=0, atol=1e-14)
    ref = flow_exact(torch.as_tensor(grid())).numpy()[:, 1]
    np.testing.assert_allclose(panels[5].images[0].get_array(), np.abs(u[:, 1] - ref).reshape(9, 9).T, atol=1e-14)
    assert "rel_l2_u" not in fig._suptitle.get_text()  # per component in the panels, not the title


def test_a_one_dimensional_system_plots_a_row_per_component():
    problem = kanpde.FunctionProblem(
        domain=kanpde.Interval(0, 1),
        residual=lambda u, x: ops.partial(u, x, 0),
        exact=lambda x: torch.stack([x[:, 0], 2 * x[:, 0]], 1),
        outputs=("a", "b"),
    )
    sol = untrained(problem, [1, 2, 2])
    fig = plot_solution(sol, resolution=11)
    left = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert [[t.get_text() for t in ax.get_legend().get_texts()] for ax in left] == [
        ["a", "a: reference"],
        ["b", "b: reference"],
    ]
    np.testing.assert_allclose(left[1].get_lines()[0].get_ydata(), sol(np.linspace(0, 1, 11)[:, None])[:, 1])
