"""kanpde.export: round trips through h5py, meshio and an XML parse give back the points and the field
values ``sol(x)``; time series have one step per time slice; user meshes; bad input; atomic writes."""

import importlib
import json
import math
import os

import h5py
import meshio
import numpy as np
import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, ShapeError
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.loss import residual_values
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson

writers = importlib.import_module("kanpde.io.writers")
PI = math.pi
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")  # a solution built by hand, never trained


def untrained(problem, width, seed=1):
    """A Solution around a random KAN: exports are checked against sol(x), not against accuracy."""
    model = Surrogate(
        kanpde.KAN(width, grid=3, seed=seed),
        torch.as_tensor(problem.domain.lower),
        torch.as_tensor(problem.domain.upper),
    )
    return kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors={})


def heat():
    """u_t = u_xx / pi^2 on (x, t) in [0, 1]^2, exact u = sin(pi x) exp(-t): a time-dependent problem."""
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1], axes=("x", "t")),
        residual=lambda u, x: kanpde.ops.dt(u, x) - kanpde.ops.partial(u, x, 0, 0) / PI**2,
        exact=lambda x: torch.sin(PI * x[:, 0]) * torch.exp(-x[:, 1]),
    )


def poisson_3d():
    return Poisson(
        source=lambda x: -3 * PI**2 * torch.sin(PI * x).prod(dim=1),
        exact=lambda x: torch.sin(PI * x).prod(dim=1),
        box=kanpde.Box([0, 0, 0], [1, 1, 1]),
    )


@pytest.fixture(scope="module")
def sol():
    """A few L-BFGS steps on poisson_sin with a 33 x 33 evaluation grid (the built-in one has 256 x 256)."""
    base = Poisson.sin()
    problem = Poisson(
        source=base.source,
        exact=base.exact,
        boundary=0.0,
        residual_weight=0.01,
        n_interior=400,
        n_boundary=80,
        eval_points=33,
        name="small_sin",
    )
    return kanpde.solve(problem, model=kanpde.KAN([2, 4, 1], grid=5), schedule=[kanpde.LBFGS(steps=5)], progress=False)


@pytest.fixture(scope="module")
def heat_sol():
    return untrained(heat(), [2, 3, 1])


def grid_points(n=17):
    return kanpde.Box([-1, -1], [1, 1]).grid(n).points()


def exact_sin(pts):
    return np.sin(PI * pts[:, 0]) * np.sin(PI * pts[:, 1])


def autograd_residual(sol, pts):
    x = torch.as_tensor(pts).requires_grad_(True)
    return residual_values(sol.problem, sol.model, x, None).detach().numpy()[:, 0]


# --- round trips -----------------------------------------------------------------------------------------
def test_h5_round_trip(sol, tmp_path):
    assert kanpde.export(sol, tmp_path / "p.h5", resolution=17) == [tmp_path / "p.h5"]
    pts = grid_points()
    u = sol(pts)[:, 0]
    with h5py.File(tmp_path / "p.h5", "r") as f:
        np.testing.assert_array_equal(f["points"][()], pts)
        np.testing.assert_allclose(f["fields/u"][()], u, rtol=0, atol=1e-14)
        np.testing.assert_allclose(f["fields/reference"][()], exact_sin(pts), rtol=0, atol=1e-14)
        np.testing.assert_allclose(f["fields/error"][()], u - exact_sin(pts), rtol=0, atol=1e-14)
        # the one-pass residual equals nested autograd
        np.testing.assert_allclose(f["fields/residual"][()], autograd_residual(sol, pts), rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(f["grid"].attrs["shape"], [17, 17])
        np.testing.assert_array_equal(f["grid/y"][()], np.linspace(-1, 1, 17))
        np.testing.assert_array_equal(f["fields/u"][()].reshape(17, 17)[3], u.reshape(17, 17)[3])
        assert f["mesh/cells/quad"].shape == (256, 4) and f["mesh/points"].shape == (289, 2)
        assert f.attrs["problem"] == "small_sin" and f.attrs["kanpde_version"] == kanpde.__version__
        assert json.loads(f.attrs["errors"]) == pytest.approx(dict(sol.errors)) and f.attrs["rel_l2"] == pytest.approx(
            sol.errors["rel_l2"]
        )
        assert json.loads(f.attrs["surrogate"])["net"]["width"] == [2, 4, 1]
        assert list(f.attrs["axes"]) == ["x", "y"] and not f.attrs["time_dependent"]
        meta = json.loads(f.attrs["metadata"])
        assert meta["fields"] == ["u", "reference", "error", "residual"] and meta["reference"] == "exact"


def test_vtu_round_trip(sol, tmp_path):
    kanpde.export(sol, tmp_path / "p.vtu", resolution=17)
    mesh = meshio.read(tmp_path / "p.vtu")
    pts = grid_points()
    np.testing.assert_array_equal(mesh.points[:, :2], pts)
    assert np.all(mesh.points[:, 2] == 0)
    np.testing.assert_allclose(mesh.point_data["u"], sol(pts)[:, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["reference"], exact_sin(pts), rtol=0, atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["residual"], autograd_residual(sol, pts), rtol=1e-9, atol=1e-9)
    quads = mesh.cells_dict["quad"]
    assert quads.shape == (256, 4)
    # counter-clockwise cells that tile the square: signed areas positive, summing to 4
    p = mesh.points[quads][:, :, :2]
    area = 0.5 * np.sum(
        p[:, :, 0] * np.roll(p[:, :, 1], -1, axis=1) - np.roll(p[:, :, 0], -1, axis=1) * p[:, :, 1], axis=1
    )
    assert np.all(area > 0) and area.sum() == pytest.approx(4.0)


def test_vti_round_trip(sol, tmp_path, read_vti):
    kanpde.export(sol, tmp_path / "p.vti", resolution=(17, 9))
    points, arrays = read_vti(tmp_path / "p.vti")
    assert points.shape == (153, 3) and np.all(points[:, 2] == 0)
    assert set(arrays) == {"u", "reference", "error", "residual"}
    np.testing.assert_allclose(arrays["u"][:, 0], sol(points[:, :2])[:, 0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(arrays["reference"][:, 0], exact_sin(points), rtol=0, atol=1e-13)
    np.testing.assert_allclose(arrays["error"][:, 0], arrays["u"][:, 0] - arrays["reference"][:, 0], rtol=0, atol=1e-14)


def test_xdmf_steady_round_trip(sol, tmp_path):
    written = kanpde.export(sol, tmp_path / "p.xdmf", resolution=9)
    assert written == [tmp_path / "p.xdmf", tmp_path / "p.h5"]
    mesh = meshio.read(tmp_path / "p.xdmf")
    pts = grid_points(9)
    np.testing.assert_array_equal(mesh.points[:, :2], pts)
    np.testing.assert_allclose(mesh.point_data["u"], sol(pts)[:, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["error"], sol(pts)[:, 0] - exact_sin(pts), rtol=0, atol=1e-14)
    assert mesh.cells_dict["quad"].shape == (64, 4)
    # its .h5 is the same layout as a .h5 export
    with h5py.File(tmp_path / "p.h5", "r") as f:
        np.testing.assert_array_equal(f["points"][()], pts)


def test_xdmf_time_series_has_one_step_per_time_slice(heat_sol, tmp_path):
    kanpde.export(heat_sol, tmp_path / "heat.xdmf", resolution=(9, 6))
    xs, ts = np.linspace(0, 1, 9), np.linspace(0, 1, 6)
    with meshio.xdmf.TimeSeriesReader(tmp_path / "heat.xdmf") as reader:
        points, cells = reader.read_points_cells()
        assert reader.num_steps == 6
        np.testing.assert_array_equal(points[:, 0], xs)
        assert cells[0].type == "line" and len(cells[0].data) == 8
        for k in range(6):
            t, data, _ = reader.read_data(k)
            assert t == ts[k]
            x = np.column_stack([xs, np.full(9, ts[k])])
            np.testing.assert_allclose(data["u"], heat_sol(x)[:, 0], rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["reference"], np.sin(PI * xs) * np.exp(-ts[k]), rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["residual"], autograd_residual(heat_sol, x), rtol=1e-9, atol=1e-9)
    with h5py.File(tmp_path / "heat.h5", "r") as f:
        np.testing.assert_array_equal(f["times"][()], ts)
        assert f.attrs["time_dependent"] and list(f.attrs["axes"]) == ["x", "t"]
        # row s * nt + k of /fields is space node s at time slice k
        np.testing.assert_array_equal(f["fields/u"][()].reshape(9, 6)[:, 2], f["steps/2/u"][()])


def test_residual_with_a_function_valued_hard_initial_condition(tmp_path):
    """The hard transform differentiates its value g(x) by autograd inside the one-pass evaluation."""
    problem = heat()
    problem.conditions = [kanpde.Initial(lambda x: torch.sin(PI * x[:, 0]))]
    hard = kanpde.solve(
        problem,
        model=kanpde.KAN([2, 3, 1], grid=3),
        schedule=[kanpde.LBFGS(steps=1)],
        constraints="hard",
        progress=False,
    )
    kanpde.export(hard, tmp_path / "hard.h5", resolution=(5, 4))
    x = kanpde.Box([0, 0], [1, 1]).grid((5, 4)).points()
    with h5py.File(tmp_path / "hard.h5", "r") as f:
        np.testing.assert_allclose(f["fields/residual"][()], autograd_residual(hard, x), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(f["steps/0/u"][()], np.sin(PI * np.linspace(0, 1, 5)), rtol=0, atol=1e-12)


def test_time_dependent_vtu_is_a_space_time_grid(heat_sol, tmp_path):
    kanpde.export(heat_sol, tmp_path / "heat.vtu", resolution=(9, 6))
    mesh = meshio.read(tmp_path / "heat.vtu")
    x = kanpde.Box([0, 0], [1, 1]).grid((9, 6)).points()
    np.testing.assert_array_equal(mesh.points[:, :2], x)
    np.testing.assert_allclose(mesh.point_data["u"], heat_sol(x)[:, 0], rtol=0, atol=1e-14)
    assert mesh.cells_dict["quad"].shape == (40, 4)


# --- user meshes -----------------------------------------------------------------------------------------
def square_mesh(n=5, z=None):
    """A triangle mesh of [-1, 1]^2 (points with a z column) plus its boundary lines."""
    g = np.linspace(-1, 1, n)
    X, Y = np.meshgrid(g, g, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), np.zeros(n * n) if z is None else z(X.ravel(), Y.ravel())])
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    tris = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    lines = np.stack([idx[:-1, 0], idx[1:, 0]], 1)
    return meshio.Mesh(pts, [("line", lines), ("triangle", tris)])


def cube_mesh():
    """Six tetrahedra filling [0, 1]^3 and a point in the middle of one edge-free region."""
    pts = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=float)
    tets = np.array([[0, 1, 3, 7], [0, 1, 5, 7], [0, 2, 3, 7], [0, 2, 6, 7], [0, 4, 5, 7], [0, 4, 6, 7]])
    return meshio.Mesh(pts, [("tetra", tets)])


def test_fields_at_the_nodes_of_a_2d_msh_file(sol, tmp_path):
    mesh = square_mesh()
    meshio.write(tmp_path / "square.msh", mesh, file_format="gmsh22", binary=False)
    kanpde.export(sol, tmp_path / "on_mesh.vtu", mesh=tmp_path / "square.msh")
    back = meshio.read(tmp_path / "on_mesh.vtu")
    np.testing.assert_allclose(back.points, mesh.points, rtol=0, atol=1e-15)
    np.testing.assert_allclose(back.point_data["u"], sol(mesh.points[:, :2])[:, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(back.point_data["reference"], exact_sin(mesh.points), rtol=0, atol=1e-14)
    assert list(back.cells_dict) == ["triangle"]  # the boundary lines of a 2-D mesh are left out
    np.testing.assert_array_equal(back.cells_dict["triangle"], mesh.cells_dict["triangle"])


def test_fields_at_the_nodes_of_a_3d_mesh(tmp_path):
    three = untrained(poisson_3d(), [3, 2, 1])
    mesh = cube_mesh()
    kanpde.export(three, tmp_path / "cube.xdmf", mesh=mesh)
    back = meshio.read(tmp_path / "cube.xdmf")
    np.testing.assert_array_equal(back.points, mesh.points)
    np.testing.assert_allclose(back.point_data["u"], three(mesh.points)[:, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(back.point_data["reference"], np.sin(PI * mesh.points).prod(axis=1), rtol=0, atol=1e-14)
    assert back.cells_dict["tetra"].shape == (6, 4)


def test_time_series_on_a_1d_mesh(heat_sol, tmp_path):
    xs = np.array([0.0, 0.1, 0.35, 0.7, 1.0])
    mesh = meshio.Mesh(
        np.column_stack([xs, np.zeros(5), np.zeros(5)]), [("line", np.stack([np.arange(4), np.arange(1, 5)], 1))]
    )
    kanpde.export(heat_sol, tmp_path / "rod.xdmf", mesh=mesh, resolution=4)
    with meshio.xdmf.TimeSeriesReader(tmp_path / "rod.xdmf") as reader:
        points, _ = reader.read_points_cells()
        np.testing.assert_array_equal(points[:, 0], xs)
        assert reader.num_steps == 4
        for k, t in enumerate(np.linspace(0, 1, 4)):
            tk, data, _ = reader.read_data(k)
            assert tk == t
            np.testing.assert_allclose(
                data["u"], heat_sol(np.column_stack([xs, np.full(5, t)]))[:, 0], rtol=0, atol=1e-14
            )


def test_solution_without_a_problem_exports_u_only(sol, tmp_path):
    bare = kanpde.Solution(model=sol.model, problem=None, status=Status(StatusKind.UNKNOWN, "loaded"), errors={})
    kanpde.export(bare, tmp_path / "bare.h5", resolution=5)
    with h5py.File(tmp_path / "bare.h5", "r") as f:
        assert list(f["fields"]) == ["u"]
        assert "no problem attached" in json.loads(f.attrs["metadata"])["notes"][0]
        np.testing.assert_allclose(f["fields/u"][()], sol(grid_points(5))[:, 0], rtol=0, atol=1e-14)


# --- bad input -------------------------------------------------------------------------------------------
BAD = [
    ("p.vtk", {}, ConfigError, r"suffix '\.vtk'; use one of \.h5, \.vtu, \.vti, \.xdmf"),
    ("p", {}, ConfigError, r"suffix '\(none\)'"),
    ("p.vtu", {"resolution": 1}, ConfigError, r"resolution must be an int >= 2 or 2 of them .* got 1"),
    ("p.vtu", {"resolution": (5, 5, 5)}, ConfigError, r"resolution must be an int >= 2 or 2 of them"),
    (
        "p.vtu",
        {"mesh": "cube"},
        ShapeError,
        r"mesh 'mesh' is 3-D \(its cells are tetra\) but the problem has 2 space dimension\(s\) \(x, y\); pass a 2-D mesh",
    ),
    ("p.vtu", {"mesh": "bumpy"}, ShapeError, r"non-zero coordinates past the first 2"),
    (
        "p.vti",
        {"mesh": "square"},
        ConfigError,
        r"a \.vti file is a uniform grid and cannot hold a mesh; use \.vtu, \.xdmf or \.h5",
    ),
    ("p.vtu", {"mesh": "square", "resolution": 5}, ConfigError, r"pass one of them"),
    ("p.vtu", {"mesh": "missing.msh"}, ConfigError, r"mesh file .*missing\.msh' does not exist"),
]


@pytest.mark.parametrize("name, kwargs, error, match", BAD)
def test_bad_input_is_an_error_and_writes_nothing(sol, tmp_path, name, kwargs, error, match):
    meshes = {
        "cube": cube_mesh(),
        "square": square_mesh(),
        "bumpy": square_mesh(z=lambda x, y: 0.1 * x * y),
        "missing.msh": tmp_path / "missing.msh",
    }
    if "mesh" in kwargs:
        kwargs = {**kwargs, "mesh": meshes[kwargs["mesh"]]}
    with pytest.raises(error, match=match):
        kanpde.export(sol, tmp_path / "out" / name, **kwargs)
    assert not (tmp_path / "out").exists()


def test_mesh_of_the_wrong_dimension_for_a_3d_problem(tmp_path):
    with pytest.raises(
        ShapeError, match=r"is 2-D \(its cells are triangle\) but the problem has 3 space dimension\(s\) \(x, y, z\)"
    ):
        kanpde.export(untrained(poisson_3d(), [3, 2, 1]), tmp_path / "p.vtu", mesh=square_mesh())


def test_time_dependent_mesh_export_needs_xdmf_or_h5(heat_sol, tmp_path):
    line = meshio.Mesh(np.array([[0.0], [1.0]]), [("line", np.array([[0, 1]]))])
    with pytest.raises(
        ConfigError, match=r"time-dependent export on a mesh has no space-time cells for \.vtu; use \.xdmf"
    ):
        kanpde.export(heat_sol, tmp_path / "rod.vtu", mesh=line)
    assert list(tmp_path.iterdir()) == []


# --- atomic writes ---------------------------------------------------------------------------------------
def _interrupt_vtu(monkeypatch):
    def partial(path, *args, **kwargs):
        open(path, "w").write("<VTKFile half")
        raise KeyboardInterrupt

    monkeypatch.setattr(meshio, "write", partial)


def _interrupt_h5(monkeypatch):
    def partial(f, data):
        f.create_dataset("points", data=data.points)
        raise KeyboardInterrupt

    monkeypatch.setattr(writers, "_fill_h5", partial)


def _interrupt_vti(monkeypatch):
    def fail(values):
        raise KeyboardInterrupt

    monkeypatch.setattr(writers, "encode_array", fail)


@pytest.mark.parametrize(
    "suffix, interrupt",
    [(".vtu", _interrupt_vtu), (".h5", _interrupt_h5), (".vti", _interrupt_vti), (".xdmf", _interrupt_h5)],
)
def test_interrupted_export_leaves_no_file_and_keeps_the_previous_one(sol, tmp_path, monkeypatch, suffix, interrupt):
    interrupt(monkeypatch)
    fresh, kept = tmp_path / "fresh", tmp_path / "kept"
    kept.mkdir()
    previous = {kept / f"p{suffix}": b"previous export"}
    if suffix == ".xdmf":
        previous[kept / "p.h5"] = b"previous data"
    for path, content in previous.items():
        path.write_bytes(content)
    with pytest.raises(KeyboardInterrupt):
        kanpde.export(sol, fresh / f"p{suffix}", resolution=5)
    assert list(fresh.iterdir()) == []  # neither the target nor a temporary file
    with pytest.raises(KeyboardInterrupt):
        kanpde.export(sol, kept / f"p{suffix}", resolution=5)
    assert {p: p.read_bytes() for p in kept.iterdir()} == previous


def test_export_replaces_a_previous_file(sol, tmp_path):
    target = tmp_path / "p.h5"
    kanpde.export(sol, target, resolution=5)
    kanpde.export(sol, target, resolution=7)
    with h5py.File(target, "r") as f:
        assert f["points"].shape == (49, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.h5"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # as open() would make it, not owner-only
