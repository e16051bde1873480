"""Exports and plots off a box: the files read back (meshio, h5py, an XML parse) hold nodes in the domain,
the fields ``sol(x)``, the exact solution and |u - exact| at them; a ``MeshDomain``'s own cells; a disk in
time as wedges and as a time series; ``.vti`` and plots NaN outside the shape; the Delaunay fallback
without gmsh; a saved run loaded without its problem; the command line; nothing written on bad input."""

import importlib
import math
import sys

import h5py
import meshio
import numpy as np
import pytest
import torch

import kanpde
from kanpde.cli import main
from kanpde.errors import ConfigError
from kanpde.geometry import Box, Disk, Interval, Polygon
from kanpde.geometry.mesh import MeshDomain
from kanpde.io.plots import plot_kan, plot_solution, plot_solution_report
from kanpde.io.status import Status, StatusKind
from kanpde.io.triangulate import shape_mesh, spacetime_cells, triangulate
from kanpde.pinn.loss import residual_values
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import PoissonDisk, PoissonLShape

writers = importlib.import_module("kanpde.io.writers")
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")
PI = math.pi


def untrained(problem, seed=1):
    """A Solution around a random KAN: exports are checked against sol(x), not against accuracy."""
    d = problem.domain.dim
    model = Surrogate(
        kanpde.KAN([d, 3, 1], grid=3, seed=seed),
        torch.as_tensor(problem.domain.lower),
        torch.as_tensor(problem.domain.upper),
    )
    return kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors={})


def exact(problem, pts):
    with torch.no_grad():
        return problem.exact(torch.as_tensor(pts)).numpy().reshape(len(pts))


def autograd_residual(sol, pts):
    x = torch.as_tensor(pts).requires_grad_(True)
    return residual_values(sol.problem, sol.model, x, None).detach().numpy()[:, 0]


def heat_disk():
    """u_t = lap u on the unit disk in time, exact u = exp(-t) x y (harmonic in space: u_t = -u, lap u = 0)."""
    return kanpde.FunctionProblem(
        domain=Disk([0.0, 0.0], 1.0) * Interval(0.0, 1.0, axis="t"),
        residual=lambda u, x: kanpde.ops.dt(u, x) + u,
        exact=lambda x: torch.exp(-x[:, 2]) * x[:, 0] * x[:, 1],
    )


def triangle_areas(points, cells):
    a, b, c = (points[cells[:, i], :2] for i in range(3))
    return 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])


@pytest.fixture(scope="module")
def disk_sol():
    return untrained(PoissonDisk())


@pytest.fixture(params=["gmsh", "delaunay"])
def mesher(request, monkeypatch):
    """Each export made with gmsh (skipped where it is not installed) and with the Delaunay fallback."""
    if request.param == "gmsh":
        pytest.importorskip("gmsh")
    else:
        monkeypatch.setitem(sys.modules, "gmsh", None)  # import gmsh raises ImportError
    return request.param


# --- meshes of shapes ------------------------------------------------------------------------------------
def test_vtu_of_a_disk_holds_the_fields_at_nodes_in_the_disk(disk_sol, mesher, tmp_path):
    assert kanpde.export(disk_sol, tmp_path / "d.vtu", resolution=21) == [tmp_path / "d.vtu"]
    mesh = meshio.read(tmp_path / "d.vtu")
    pts = mesh.points[:, :2]
    assert np.all(mesh.points[:, 2] == 0) and len(pts) > 200
    disk = disk_sol.problem.domain
    assert disk.contains(pts, tol=1e-12).all()
    u = disk_sol(pts)[:, 0]
    np.testing.assert_allclose(mesh.point_data["u"], u, rtol=0, atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["reference"], exact(disk_sol.problem, pts), rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.abs(mesh.point_data["error"]), np.abs(u - exact(disk_sol.problem, pts)), atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["residual"], autograd_residual(disk_sol, pts), rtol=1e-9, atol=1e-9)
    triangles = mesh.cells_dict["triangle"]
    assert list(mesh.cells_dict) == ["triangle"]
    assert disk.contains(pts[triangles].mean(axis=1)).all()  # no triangle outside
    areas = np.abs(triangle_areas(pts, triangles))
    assert areas.min() > 0 and areas.sum() == pytest.approx(PI, rel=0.02)  # chords cut off a little


def test_xdmf_and_h5_of_the_lshape_keep_the_corner(mesher, tmp_path):
    sol = untrained(PoissonLShape())
    written = kanpde.export(sol, tmp_path / "l.xdmf", resolution=11)
    assert written == [tmp_path / "l.xdmf", tmp_path / "l.h5"]
    mesh = meshio.read(tmp_path / "l.xdmf")
    lshape = sol.problem.domain
    assert lshape.contains(mesh.points).all()
    assert np.any(np.all(mesh.points == 0.0, axis=1))  # the re-entrant corner is a node
    np.testing.assert_allclose(mesh.point_data["u"], sol(mesh.points)[:, 0], rtol=0, atol=1e-14)
    triangles = mesh.cells_dict["triangle"]
    assert lshape.contains(mesh.points[triangles].mean(axis=1)).all()
    assert np.abs(triangle_areas(mesh.points, triangles)).sum() == pytest.approx(3.0, rel=1e-12)
    with h5py.File(tmp_path / "l.h5", "r") as f:
        np.testing.assert_array_equal(f["points"][()], mesh.points)
        np.testing.assert_array_equal(f["mesh/cells/triangle"][()], triangles)
        assert set(f["fields"]) == {"u", "reference", "error", "residual"}
        assert ("gmsh" if mesher == "gmsh" else "Delaunay") in f.attrs["on"]


def test_mesh_domain_exports_on_its_own_cells(tmp_path):
    rng = np.random.default_rng(3)
    angle = np.linspace(0, 2 * PI, 7)[:-1]
    points = np.concatenate([np.stack([np.cos(angle), np.sin(angle)], axis=1), 0.5 * rng.random((12, 2)) - 0.25])
    from scipy.spatial import Delaunay

    cells = Delaunay(points).simplices
    domain = MeshDomain(points, cells)
    problem = kanpde.FunctionProblem(
        domain=domain, residual=lambda u, x: kanpde.ops.laplacian(u, x), exact=lambda x: x[:, 0] ** 2 - x[:, 1] ** 2
    )
    sol = untrained(problem)
    for suffix in (".vtu", ".xdmf"):
        kanpde.export(sol, tmp_path / f"m{suffix}")
        back = meshio.read(tmp_path / f"m{suffix}")
        np.testing.assert_array_equal(back.points[:, :2], domain.points)
        np.testing.assert_array_equal(back.cells_dict["triangle"], domain.cells)
        np.testing.assert_allclose(back.point_data["u"], sol(domain.points)[:, 0], rtol=0, atol=1e-14)
        err = np.abs(sol(domain.points)[:, 0] - (domain.points[:, 0] ** 2 - domain.points[:, 1] ** 2))
        np.testing.assert_allclose(np.abs(back.point_data["error"]), err, rtol=0, atol=1e-14)
    # the cells are those given: each input triangle appears once
    assert sorted(map(tuple, np.sort(domain.cells, axis=1))) == sorted(map(tuple, np.sort(cells, axis=1)))


def test_a_disk_in_time_is_wedges_in_vtu_and_a_time_series_in_xdmf(tmp_path):
    sol = untrained(heat_disk())
    kanpde.export(sol, tmp_path / "h.vtu", resolution=(9, 9, 4))
    mesh = meshio.read(tmp_path / "h.vtu")
    assert sol.problem.domain.contains(mesh.points).all()
    np.testing.assert_allclose(mesh.point_data["u"], sol(mesh.points)[:, 0], rtol=0, atol=1e-14)
    wedges = mesh.cells_dict["wedge"]
    bottom, top = mesh.points[wedges[:, :3]], mesh.points[wedges[:, 3:]]
    np.testing.assert_array_equal(bottom[..., :2], top[..., :2])  # a triangle swept one time step up
    assert np.all(top[..., 2] > bottom[..., 2])
    assert np.all(triangle_areas(bottom.reshape(-1, 3), np.arange(bottom.size // 3).reshape(-1, 3)) > 0)
    kanpde.export(sol, tmp_path / "h.xdmf", resolution=(9, 9, 4))
    with meshio.xdmf.TimeSeriesReader(tmp_path / "h.xdmf") as reader:
        points, cells = reader.read_points_cells()
        assert reader.num_steps == 4 and cells[0].type == "triangle"
        for k, t in enumerate(np.linspace(0, 1, 4)):
            time, data, _ = reader.read_data(k)
            x = np.column_stack([points, np.full(len(points), t)])
            assert time == t
            np.testing.assert_allclose(data["u"], sol(x)[:, 0], rtol=0, atol=1e-14)
            np.testing.assert_allclose(data["reference"], np.exp(-t) * points[:, 0] * points[:, 1], atol=1e-14)


def test_vti_off_a_box_is_nan_outside_with_an_inside_field(disk_sol, tmp_path, read_vti):
    kanpde.export(disk_sol, tmp_path / "d.vti", resolution=(17, 9))
    points, arrays = read_vti(tmp_path / "d.vti")
    assert points.shape == (153, 3) and set(arrays) == {"u", "reference", "error", "residual", "inside"}
    inside = disk_sol.problem.domain.contains(points[:, :2])
    assert 0 < inside.sum() < len(points)
    np.testing.assert_array_equal(arrays["inside"][:, 0], inside.astype(float))
    for name in ("u", "reference", "error", "residual"):
        assert np.all(np.isnan(arrays[name][~inside])) and np.all(np.isfinite(arrays[name][inside]))
    np.testing.assert_allclose(arrays["u"][inside, 0], disk_sol(points[inside, :2])[:, 0], rtol=0, atol=1e-14)


# --- the fallback triangulation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "domain, area",
    [
        (Disk([0.0, 0.0], 1.0), PI),
        (PoissonLShape.domain, 3.0),
        (Box([-1.0, -1.0], [1.0, 1.0]) - Disk([0.3, 0.0], 0.4), 4 - PI * 0.16),
        (Polygon([(0, 0), (2, 0), (2, 1), (1, 0.2), (0, 1)]), 2 - 0.8),  # a notch down to y = 0.2
    ],
)
@pytest.mark.parametrize("h", [0.08, 0.3])
def test_delaunay_fallback_covers_the_shape_and_nothing_else(domain, area, h):
    points, cells = triangulate(domain, h)
    assert domain.contains(points).all()
    assert domain.contains(points[cells].mean(axis=1)).all()
    areas = triangle_areas(points, cells)
    assert areas.min() > 0  # counter-clockwise, none degenerate
    assert areas.sum() == pytest.approx(area, rel=0.4 * h**2 + 1e-12)  # chords of circles: O(h^2)
    assert len(np.unique(cells)) == len(points)  # every node in a cell


def test_delaunay_fallback_in_1d_and_3d():
    gap = Interval(0.0, 1.0) | Interval(2.0, 3.0)
    points, cells = triangulate(gap, 0.1)
    lengths = points[cells[:, 1], 0] - points[cells[:, 0], 0]
    assert lengths.min() > 0 and lengths.sum() == pytest.approx(2.0)  # no line bridges the gap
    ball = Disk([0.0, 0.0, 0.0], 1.0)
    points, cells = triangulate(ball, 0.3)
    edges = points[cells[:, 1:]] - points[cells[:, :1]]
    volumes = np.linalg.det(edges) / 6
    assert ball.contains(points).all() and volumes.min() > 0
    assert volumes.sum() == pytest.approx(4 * PI / 3, rel=0.15)


def test_shape_mesh_of_a_mesh_domain_is_the_mesh_and_beyond_3d_is_nodes_only():
    domain = MeshDomain.grid([0, 0], [1, 2], (2, 3))
    made = shape_mesh(domain, 0.1)
    assert made.points is domain.points and made.cells[0][1] is domain.cells
    ball4 = Disk([0.0] * 4, 1.0)
    made = shape_mesh(ball4, 0.5)
    assert made.cells == [] and ball4.contains(made.points).all()
    assert spacetime_cells(made.points, [("tetra", np.zeros((1, 4), dtype=int))], 3) is None


def test_a_ball_without_gmsh_is_triangulated_here(monkeypatch):
    monkeypatch.setitem(sys.modules, "gmsh", None)
    ball = Disk([0.0, 0.0, 0.0], 1.0)
    made = shape_mesh(ball, 0.4)
    assert made.how.startswith("Delaunay triangulation") and "pip install gmsh" in made.how
    assert made.cells[0][0] == "tetra" and ball.contains(made.points).all()


def test_two_rods_in_time_export_without_bridging_the_gap(tmp_path):
    rods = Interval(0.0, 1.0) | Interval(2.0, 3.0)
    problem = kanpde.FunctionProblem(
        domain=rods * Interval(0.0, 1.0, axis="t"),
        residual=lambda u, x: kanpde.ops.dt(u, x),
        exact=lambda x: x[:, 0] * x[:, 1],
    )
    sol = untrained(problem)
    kanpde.export(sol, tmp_path / "r.vtu", resolution=(13, 3))
    mesh = meshio.read(tmp_path / "r.vtu")
    xt = mesh.points[:, :2]
    assert problem.domain.contains(xt).all() and list(mesh.cells_dict) == ["quad"]
    quads = xt[mesh.cells_dict["quad"]]
    assert np.all(np.ptp(quads[..., 0], axis=1) <= 0.25 + 1e-12)  # no quad spans the gap (1, 2)
    assert problem.domain.contains(quads.mean(axis=1)).all()
    np.testing.assert_allclose(mesh.point_data["u"], sol(xt)[:, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(
        np.abs(mesh.point_data["error"]), np.abs(sol(xt)[:, 0] - xt[:, 0] * xt[:, 1]), atol=1e-14
    )


def test_lines_in_time_are_counter_clockwise_quads():
    quads = spacetime_cells(np.array([[1.0], [0.0]]), [("line", np.array([[0, 1]]))], 3)
    # node s * nt + k; the line runs right to left, so it is flipped first
    np.testing.assert_array_equal(quads[0][1], [[3, 0, 1, 4], [4, 1, 2, 5]])


# --- saved runs ------------------------------------------------------------------------------------------
def test_a_run_loaded_without_its_problem_exports_on_the_saved_shape(tmp_path):
    annulus = Disk([0.0, 0.0], 1.0) - Disk([0.0, 0.0], 0.5, name="hole")
    problem = kanpde.FunctionProblem(domain=annulus, residual=lambda u, x: kanpde.ops.laplacian(u, x))
    untrained(problem).save(tmp_path / "run")
    sol = kanpde.load(tmp_path / "run")
    assert sol.problem is None
    kanpde.export(sol, tmp_path / "a.vtu", resolution=21)
    mesh = meshio.read(tmp_path / "a.vtu")
    pts = mesh.points[:, :2]
    radius = np.linalg.norm(pts, axis=1)
    assert radius.min() >= 0.5 - 1e-9 and radius.max() <= 1 + 1e-9
    assert np.linalg.norm(pts[mesh.cells_dict["triangle"]].mean(axis=1), axis=1).min() > 0.5  # the hole stays open
    assert set(mesh.point_data) == {"u"}
    np.testing.assert_allclose(mesh.point_data["u"], sol(pts)[:, 0], rtol=0, atol=1e-14)


def test_cli_export_of_a_saved_disk_run(disk_sol, tmp_path, capsys, read_vti):
    disk_sol.save(tmp_path / "run")
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "run"), "--format", "vtu,vti", "--resolution", "15", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["solution.vti", "solution.vtu"]
    mesh = meshio.read(out / "solution.vtu")
    assert Disk([0.0, 0.0], 1.0).contains(mesh.points[:, :2]).all()
    np.testing.assert_allclose(mesh.point_data["u"], disk_sol(mesh.points[:, :2])[:, 0], rtol=0, atol=1e-14)
    points, arrays = read_vti(out / "solution.vti")
    assert np.isnan(arrays["u"][arrays["inside"][:, 0] == 0]).all()


def test_cli_solve_of_a_disk_with_exports_and_plots(tmp_path):
    out = tmp_path / "run"
    args = ["solve", "poisson_disk", "--width", "2,3,1", "--steps", "2", "--export", "xdmf,vti", "--out", str(out)]
    assert main([*args, "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"solution.xdmf", "solution.h5", "solution.vti", "solution.png", "kan.png"} <= names
    sol = kanpde.load(out)
    mesh = meshio.read(out / "solution.xdmf")
    assert sol.problem.domain.contains(mesh.points).all()
    np.testing.assert_allclose(mesh.point_data["u"], sol(mesh.points)[:, 0], rtol=0, atol=1e-12)


# --- plots -----------------------------------------------------------------------------------------------
def image_values(fig, title):
    """The array behind the panel titled ``title``, as the field on the grid: (nx, ny)."""
    (ax,) = [ax for ax in fig.axes if ax.images and ax.get_title() == title]
    return np.ma.filled(ax.images[0].get_array().astype(float), np.nan).T


def test_plot_of_a_disk_is_blank_outside(disk_sol):
    fig = plot_solution(disk_sol, resolution=33)
    nodes = Box([-1, -1], [1, 1]).grid(33).points()
    inside = disk_sol.problem.domain.contains(nodes).reshape(33, 33)
    u = image_values(fig, "u")
    assert np.all(np.isnan(u[~inside])) and np.all(np.isfinite(u[inside]))
    np.testing.assert_allclose(u[inside], disk_sol(nodes)[:, 0].reshape(33, 33)[inside], rtol=0, atol=1e-14)
    error = image_values(fig, "|u - reference|")
    assert np.all(np.isnan(error[~inside])) and np.all(error[inside] >= 0)


def test_plot_of_a_disk_in_time_is_its_spatial_slice_at_the_final_time():
    sol = untrained(heat_disk())
    fig = plot_solution(sol, resolution=(17, 17, 5))
    assert "(t = 1)" in fig._suptitle.get_text()
    nodes = Box([-1, -1], [1, 1]).grid(17).points()
    inside = Disk([0.0, 0.0], 1.0).contains(nodes).reshape(17, 17)
    u = image_values(fig, "u")
    x = np.column_stack([nodes, np.ones(len(nodes))])
    assert np.all(np.isnan(u[~inside]))
    np.testing.assert_allclose(u[inside], sol(x)[:, 0].reshape(17, 17)[inside], rtol=0, atol=1e-14)


def test_plot_report_and_kan_edges_off_a_box(disk_sol, tmp_path):
    written = plot_solution_report(disk_sol, tmp_path, resolution=17)
    assert [p.name for p in written] == ["solution.png", "kan.png"]  # no history: never trained
    assert plot_kan(disk_sol) is not None


# --- bad input and interruptions ------------------------------------------------------------------------
def test_vti_whose_grid_misses_the_shape_is_refused_before_anything_is_written(disk_sol, tmp_path):
    ring = Disk([0.0, 0.0], 1.0) - Disk([0.0, 0.0], 0.9)
    sol = untrained(kanpde.FunctionProblem(domain=ring, residual=lambda u, x: kanpde.ops.laplacian(u, x)))
    with pytest.raises(ConfigError, match=r"no node of the 2x2 grid over the bounding box .* pass a finer resolution"):
        kanpde.export(sol, tmp_path / "out" / "r.vti", resolution=2)
    assert not (tmp_path / "out").exists()


def test_a_ball_in_time_has_no_vtu_cells(tmp_path):
    sol = untrained(
        kanpde.FunctionProblem(
            domain=Disk([0.0, 0.0, 0.0], 1.0) * Interval(0.0, 1.0, axis="t"), residual=lambda u, x: kanpde.ops.dt(u, x)
        )
    )
    with pytest.raises(ConfigError, match=r"no space-time cells for \.vtu; use \.xdmf"):
        kanpde.export(sol, tmp_path / "out" / "b.vtu", resolution=3)
    assert not (tmp_path / "out").exists()


def test_interrupted_shape_export_leaves_no_file(disk_sol, tmp_path, monkeypatch):
    def partial(path, *args, **kwargs):
        open(path, "w").write("<VTKFile half")
        raise KeyboardInterrupt

    monkeypatch.setattr(meshio, "write", partial)
    (tmp_path / "kept.vtu").write_bytes(b"previous")
    with pytest.raises(KeyboardInterrupt):
        kanpde.export(disk_sol, tmp_path / "kept.vtu", resolution=9)
    with pytest.raises(KeyboardInterrupt):
        kanpde.export(disk_sol, tmp_path / "fresh.vtu", resolution=9)
    assert [(p.name, p.read_bytes()) for p in tmp_path.iterdir()] == [("kept.vtu", b"previous")]
