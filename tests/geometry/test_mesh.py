"""MeshDomain: reading files with named parts, cells of every kind, sampling, point location, the boundary's
distance function, descriptions, and the errors of bad meshes. Oracles: exact areas and volumes, the
divergence theorem for outward normals, distances known in closed form, finite differences."""

import itertools
import json
import math
from pathlib import Path

import meshio
import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry import Box, Interval, from_description
from kanpde.geometry.domain import Distance
from kanpde.geometry.mesh import MeshDomain

DATA = Path(__file__).resolve().parents[1] / "data"


def divergence_check(domain: MeshDomain, n: int = 20000) -> float:
    """sum over boundary samples of x . n * area / n, over d * volume: 1 for outward normals."""
    b = domain.sample_boundary("boundary", n, method="sobol", seed=3)
    area = sum(p.measure for p in domain.pieces())
    return float((b.x * b.normal).sum(axis=1).mean() * area / (domain.dim * domain.volume()))


def fan(m: int, radius: float = 1.0) -> MeshDomain:
    """A regular m-gon inscribed in a circle, cut into m triangles around the centre; part ``rim``."""
    angle = 2 * np.pi * np.arange(m) / m
    points = np.concatenate([[[0.0, 0.0]], radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)])
    ring = 1 + np.arange(m)
    cells = np.stack([np.zeros(m, dtype=int), ring, np.roll(ring, -1)], axis=1)
    return MeshDomain(points, cells, {"rim": np.stack([ring, np.roll(ring, -1)], axis=1)})


# --- files ---------------------------------------------------------------------------------------------------
def test_read_lshape_file_parts_volume_normals():
    domain = MeshDomain.read(DATA / "lshape.msh")
    assert domain.dim == 2 and domain.axes == ("x", "y")
    assert set(domain.parts) == {"reentrant", "right", "top", "left", "bottom", "wall", "boundary"}
    assert domain.volume() == pytest.approx(3.0, rel=1e-12)
    assert divergence_check(domain) == pytest.approx(1.0, rel=1e-3)
    for part, normal, axis, value in (("right", (1, 0), 0, 1.0), ("left", (-1, 0), 0, -1.0), ("top", (0, 1), 1, 1.0)):
        b = domain.sample_boundary(part, 64, seed=1)
        np.testing.assert_allclose(b.normal, np.tile(normal, (len(b.x), 1)), atol=1e-12)
        np.testing.assert_allclose(b.x[:, axis], value, atol=1e-12)
    b = domain.sample_boundary("reentrant", 400, seed=2)
    assert np.all(np.isclose(b.x[:, 0], 0) | np.isclose(b.x[:, 1], 0))
    assert sum(p.measure for p in domain.pieces() if "reentrant" in p.names) == pytest.approx(2.0)
    x = domain.sample(2000, seed=0)
    assert domain.contains(x).all() and not np.any((x[:, 0] > 0) & (x[:, 1] < 0))


def test_read_3d_file_parts_volume_normals():
    domain = MeshDomain.read(DATA / "bracket.msh")
    assert domain.dim == 3
    assert {"hole", "plate", "x_min", "z_max", "boundary"} <= set(domain.parts)
    hole = 4 / 3 * np.pi * 0.3**3 - 2 * np.pi * 0.1**2 * (0.3 - 0.1 / 3)  # the ball less the caps outside the plate
    assert domain.volume() == pytest.approx(2 * 1 * 0.4 - hole, rel=0.03)
    assert divergence_check(domain) == pytest.approx(1.0, rel=1e-3)
    b = domain.sample_boundary("hole", 500, seed=0)
    radius = np.linalg.norm(b.x - [1, 0.5, 0.2], axis=1)
    assert radius.max() <= 0.3 + 1e-9 and radius.min() > 0.25
    inward = ((b.x - [1, 0.5, 0.2]) * b.normal).sum(axis=1)
    assert np.all(inward < 0)  # a hole's outward normals point to its centre
    x = domain.sample(3000, method="lhs", seed=4)
    assert domain.contains(x).all()


def test_read_meshio_formats_keep_the_domain(tmp_path):
    domain = MeshDomain.read(DATA / "bracket.msh")
    for suffix in (".vtu", ".xdmf", ".msh"):
        again = MeshDomain.read(domain.write(tmp_path / f"bracket{suffix}"))
        assert again.volume() == pytest.approx(domain.volume(), rel=1e-12)
        assert len(again.facets) == len(domain.facets)
    assert again.parts == domain.parts  # .msh keeps the parts as physical groups
    for part in domain.facet_parts:
        np.testing.assert_array_equal(again.part_nodes(part), domain.part_nodes(part))


# --- cells of every kind -------------------------------------------------------------------------------------
def test_quads_split_into_triangles_and_a_flat_third_coordinate_is_dropped():
    g = np.linspace(0, 1, 5)
    points = np.array([(x, y, 0.0) for x in g for y in g])
    idx = np.arange(25).reshape(5, 5)
    quads = np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], axis=-1).reshape(-1, 4)
    domain = MeshDomain(points, {"quad": quads})
    assert domain.dim == 2 and len(domain.cells) == 32
    assert domain.volume() == pytest.approx(1.0) and len(domain.facets) == 16


def test_hexahedra_split_conforming_with_quad_parts():
    n = 3
    g = np.linspace(0, 1, n + 1)
    points = np.array(list(itertools.product(g, g, g)))
    idx = np.arange((n + 1) ** 3).reshape(n + 1, n + 1, n + 1)
    i, j, k = (a.ravel() for a in np.meshgrid(*[np.arange(n)] * 3, indexing="ij"))
    hexes = np.stack(
        [idx[i, j, k], idx[i + 1, j, k], idx[i + 1, j + 1, k], idx[i, j + 1, k]]
        + [idx[i, j, k + 1], idx[i + 1, j, k + 1], idx[i + 1, j + 1, k + 1], idx[i, j + 1, k + 1]],
        axis=1,
    )
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    a, b = a.ravel(), b.ravel()
    bottom = np.stack([idx[a, b, 0], idx[a + 1, b, 0], idx[a + 1, b + 1, 0], idx[a, b + 1, 0]], axis=1)
    domain = MeshDomain(points, {"hexahedron": hexes}, {"floor": bottom})
    assert len(domain.cells) == 12 * n**3
    assert domain.volume() == pytest.approx(1.0)
    assert len(domain.facets) == 6 * n * n * 2  # split faces agree between neighbours: no inner boundary
    floor = [p for p in domain.pieces() if "floor" in p.names][0]
    assert floor.measure == pytest.approx(1.0)
    np.testing.assert_allclose(floor.normals, np.tile([0, 0, -1.0], (len(floor.normals), 1)), atol=1e-12)
    assert divergence_check(domain) == pytest.approx(1.0, rel=1e-3)


def test_repeated_cells_and_nodes_count_once():
    """msh 2.2 repeats an element per physical group; some writers repeat nodes per cell."""
    grid = MeshDomain.grid([0, 0], [1, 1], 3)
    twice = MeshDomain(grid.points, np.concatenate([grid.cells, grid.cells[:, ::-1]]))
    assert twice.volume() == pytest.approx(1.0) and len(twice.facets) == 12
    split = np.concatenate([grid.points, grid.points])  # each cell gets its own copies of its nodes
    cells = grid.cells + len(grid.points) * (np.arange(len(grid.cells)) % 2)[:, None]
    again = MeshDomain(split, cells)
    assert len(again.points) == len(grid.points) and len(again.facets) == 12


def test_grid_mesh_has_the_box_faces():
    domain = MeshDomain.grid([0, 0, 0], [1, 2, 3], (2, 3, 4))
    assert domain.volume() == pytest.approx(6.0)
    assert {f"{a}_{s}" for a in "xyz" for s in ("min", "max")} | {"boundary"} == set(domain.parts)
    face = domain.sample_boundary("y_max", 100, seed=0)
    np.testing.assert_allclose(face.x[:, 1], 2.0)
    np.testing.assert_allclose(face.normal, np.tile([0, 1.0, 0], (len(face.x), 1)))
    flat = MeshDomain.grid([0, 0], [1, 1], 4)
    assert {"left", "right", "bottom", "top", "x_min"} <= set(flat.parts)


# --- sampling ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["random", "sobol", "lhs", "grid"])
def test_sampling_is_uniform_on_a_graded_mesh(method):
    """Cells of very different sizes: the fraction of points in a region is its area fraction."""
    g = np.linspace(0, 1, 17) ** 2  # cells from 0.004 to 0.12 wide
    points = np.array([(x, y) for x in g for y in g])
    idx = np.arange(17 * 17).reshape(17, 17)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    domain = MeshDomain(points, np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)]))
    x = domain.sample(4096, method=method, seed=5)
    assert x.shape == (4096, 2) and domain.contains(x).all()
    for cut in (0.1, 0.5, 0.8):
        assert np.mean(x[:, 0] < cut) == pytest.approx(cut, abs=0.03)
        assert np.mean(x[:, 1] < cut) == pytest.approx(cut, abs=0.03)
    assert x.mean(axis=0) == pytest.approx([0.5, 0.5], abs=0.02)


def test_sampling_is_seeded():
    domain = MeshDomain.read(DATA / "lshape.msh")
    for method in ("random", "sobol", "lhs"):
        np.testing.assert_array_equal(
            domain.sample(100, method=method, seed=7), domain.sample(100, method=method, seed=7)
        )
        assert not np.array_equal(domain.sample(100, method=method, seed=7), domain.sample(100, method=method, seed=8))
        b1 = domain.sample_boundary("wall", 50, method=method, seed=7)
        b2 = domain.sample_boundary("wall", 50, method=method, seed=7)
        np.testing.assert_array_equal(b1.x, b2.x)
    np.testing.assert_array_equal(domain.sample(50, method="grid", seed=1), domain.sample(50, method="grid", seed=2))


def test_boundary_samples_spread_by_length():
    domain = MeshDomain.read(DATA / "lshape.msh")
    b = domain.sample_boundary("boundary", 8000, method="sobol", seed=0)
    # the edges x = 1 (length 1) and y = 1 (length 2) take 1/8 and 2/8 of the perimeter 8
    assert np.mean(np.isclose(b.x[:, 0], 1.0)) == pytest.approx(1 / 8, abs=0.01)
    assert np.mean(np.isclose(b.x[:, 1], 1.0)) == pytest.approx(2 / 8, abs=0.01)


def test_spacetime_mesh_samples_and_parts():
    space = MeshDomain.grid([0, 0], [1, 1], 3)
    domain = space * Interval(0, 2, axis="t")
    assert {"left", "t_min", "space_boundary"} <= set(domain.parts)
    x = domain.sample(500, seed=0)
    assert domain.contains(x).all()
    b = domain.sample_boundary("left", 100, seed=0)
    np.testing.assert_allclose(b.x[:, 0], 0.0, atol=1e-12)


# --- point location and margins ------------------------------------------------------------------------------
def test_locate_gives_barycentric_coordinates():
    domain = MeshDomain.read(DATA / "bracket.msh")
    x = domain.sample(500, seed=2)
    cell, bary = domain.locate(x)
    assert np.all(cell >= 0) and np.all(bary > -1e-10)
    np.testing.assert_allclose(np.einsum("nj,njk->nk", bary, domain.points[domain.cells[cell]]), x, atol=1e-12)
    far = np.array([[5.0, 5.0, 5.0], [1.0, 0.5, 0.2]])  # outside; the centre of the hole
    cell, _ = domain.locate(far)
    assert np.all(cell == -1)
    cell, bary = domain.locate(far, nearest=True)
    assert np.all(cell >= 0) and np.all(bary >= 0) and np.allclose(bary.sum(axis=1), 1)


def test_inside_margin_is_the_euclidean_distance():
    """On a square mesh the boundary is exact, so inside(x, margin) is dist(x, boundary) > margin."""
    domain = MeshDomain.grid([0, 0], [1, 1], 7)
    x = np.random.default_rng(0).uniform(-0.3, 1.3, size=(4000, 2))
    inner = np.minimum(x, 1 - x).min(axis=1)
    outer = np.linalg.norm(np.maximum(np.maximum(-x, x - 1), 0), axis=1)
    for margin in (0.0, 0.05, 0.2):
        np.testing.assert_array_equal(domain.inside(x, margin=margin), inner > margin)
    for margin in (-0.05, -0.2):
        np.testing.assert_array_equal(domain.inside(x, margin=margin), (inner >= 0) | (outer <= -margin))
    edge = np.array([[0.0, 0.5], [0.5, 1.0], [1.0, 1.0]])
    assert not domain.inside(edge).any() and domain.contains(edge).all()


def test_inside_margin_in_3d():
    domain = MeshDomain.grid([0, 0, 0], [1, 1, 1], 3)
    x = np.random.default_rng(1).uniform(-0.2, 1.2, size=(3000, 3))
    inner = np.minimum(x, 1 - x).min(axis=1)
    for margin in (0.0, 0.1):
        np.testing.assert_array_equal(domain.inside(x, margin=margin), inner > margin)


def test_boundary_distance_equals_brute_force():
    """The k-d tree search against the distance to every facet, for points inside, outside and far away."""
    from kanpde.geometry.facets import facet_distance

    domain = MeshDomain.read(DATA / "bracket.msh")
    x = np.random.default_rng(0).uniform(-1, 3, size=(200, 3))
    corners = domain.points[domain.facets]
    brute = np.array([facet_distance(np.repeat(p[None], len(corners), axis=0), corners).min() for p in x])
    np.testing.assert_allclose(domain.boundary_distance(x), brute, rtol=1e-12, atol=1e-15)
    capped = domain.boundary_distance(x, reach=0.2)
    np.testing.assert_array_equal(capped, np.where(brute <= 0.2, brute, np.inf))


def test_evaluation_points_are_nodes_and_centroids():
    domain = MeshDomain.grid([0, 0], [1, 1], 4)
    pts = domain.evaluation_points().points()
    assert len(pts) == len(domain.points) + len(domain.cells) and domain.contains(pts).all()


# --- the boundary's distance function ------------------------------------------------------------------------
def test_distance_vanishes_on_facets_and_is_the_distance_near_them():
    for domain in (MeshDomain.read(DATA / "lshape.msh"), MeshDomain.read(DATA / "bracket.msh")):
        for piece in domain.pieces():
            x, normal = piece.sample(200, "random", np.random.default_rng(0))
            on = piece.plain(torch.as_tensor(x))
            assert on.abs().max() < 1e-9
            for delta in (1e-4, 1e-6):
                near = piece.plain(torch.as_tensor(x - delta * normal))[:, 0].numpy()
                # close to a facet's own edge the others add their share; most points are clear of it
                assert np.median(np.abs(near / delta - 1)) < 20 * delta / 1e-4 * 1e-2


def test_distance_does_not_depend_on_how_straight_edges_are_cut():
    coarse, fine = MeshDomain.grid([0, 0], [1, 1], 2), MeshDomain.grid([0, 0], [1, 1], 16)
    x = torch.as_tensor(coarse.sample(300, seed=0))
    for part in ("left", "boundary"):
        a = coarse.distance([part])
        b = fine.distance([part])
        torch.testing.assert_close(a(x) / a.scale, b(x) / b.scale, rtol=1e-12, atol=1e-14)
    # closed forms: at the centre of the unit square (cube) every edge (face) is 1/2 away, subtending pi/2 (2 pi/3)
    centre = torch.full((1, 2), 0.5, dtype=torch.float64)
    total = sum(p.plain(centre) ** -1 for p in fine.pieces()) ** -1
    assert float(total) == pytest.approx(0.25, rel=1e-12)
    cube = MeshDomain.grid([0, 0, 0], [1, 1, 1], 3)
    centre = torch.full((1, 3), 0.5, dtype=torch.float64)
    total = sum(p.plain(centre) ** -1 for p in cube.pieces()) ** -1
    assert float(total) == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e5])
def test_distance_in_float32_at_any_scale(scale):
    """At the centre of a cube of side s the distance is s / 4, in float32 too (products of six lengths)."""
    cube = MeshDomain.grid([0, 0, 0], [scale] * 3, 2)
    centre = torch.full((1, 3), 0.5 * scale, dtype=torch.float32)
    total = sum(p.plain(centre) ** -1 for p in cube.pieces()) ** -1
    assert total.dtype == torch.float32 and float(total) == pytest.approx(0.25 * scale, rel=1e-5)


@pytest.mark.parametrize("m", [6, 24, 96])
def test_distance_at_the_centre_of_a_regular_polygon(m):
    """Each edge subtends 2 pi / m at the centre, at distance R cos(pi / m): phi = R cos(pi / m) / 2 -> R / 2."""
    domain = fan(m, radius=2.0)
    phi = domain.pieces()[0].plain(torch.zeros(1, 2, dtype=torch.float64))
    assert float(phi) == pytest.approx(2.0 * math.cos(math.pi / m) / 2, rel=1e-12)


def test_distance_is_smooth_inside_even_on_extended_edge_lines():
    """Autograd gradient and Laplacian equal central differences, also on the lines that carry an edge of
    the L-shape through the domain (x = 0, y > 0 and y = 0, x < 0)."""
    piece = MeshDomain.read(DATA / "lshape.msh").pieces()
    phi = Distance([_Plain(p) for p in piece])
    x = torch.tensor([[0.0, 0.5], [-0.5, 0.0], [-0.3, 0.7], [0.6, 0.4], [-0.9, -0.2]], dtype=torch.float64)
    x.requires_grad_(True)
    value = phi(x)
    grad = torch.autograd.grad(value.sum(), x, create_graph=True)[0]
    lap = sum(torch.autograd.grad(grad[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(2))
    h = 1e-4
    with torch.no_grad():
        fd_grad = torch.stack([(phi(x + h * e) - phi(x - h * e))[:, 0] / (2 * h) for e in torch.eye(2)], dim=1)
        fd_lap = sum((phi(x + h * e) - 2 * phi(x) + phi(x - h * e))[:, 0] / h**2 for e in torch.eye(2))
    assert torch.isfinite(lap).all()
    torch.testing.assert_close(grad.detach(), fd_grad, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(lap.detach(), fd_lap, rtol=1e-4, atol=1e-4)


def test_domain_distance_to_a_part():
    domain = MeshDomain.read(DATA / "lshape.msh")
    phi = domain.distance(["right", "top"])
    assert isinstance(phi, Distance)
    inside = torch.as_tensor(domain.sample(1000, seed=1))
    values = phi(inside)
    assert values.min() > 0 and values.max() == pytest.approx(1.0, rel=0.05)
    on = torch.as_tensor(domain.sample_boundary("top", 100, seed=0).x)
    assert phi(on).abs().max() < 1e-9
    off = torch.as_tensor(domain.sample_boundary("left", 100, seed=0).x)
    assert phi(off).min() > 1e-3


class _Plain:
    """A piece's plain distance as a ``Distance`` term."""

    def __init__(self, piece):
        self.piece = piece

    def __call__(self, x):
        return self.piece.plain(x)


# --- descriptions and export ---------------------------------------------------------------------------------
def test_description_round_trip():
    domain = MeshDomain.read(DATA / "lshape.msh")
    again = from_description(json.loads(json.dumps(domain.describe())))
    assert isinstance(again, MeshDomain) and again.parts == domain.parts
    np.testing.assert_array_equal(again.points, domain.points)
    np.testing.assert_array_equal(again.cells, domain.cells)
    np.testing.assert_array_equal(again.sample(64, seed=3), domain.sample(64, seed=3))
    b1, b2 = domain.sample_boundary("reentrant", 32, seed=1), again.sample_boundary("reentrant", 32, seed=1)
    np.testing.assert_array_equal(b1.x, b2.x)


def test_csg_with_a_mesh_operand():
    hole = fan(32, radius=0.3)
    domain = Box([-1, -1], [1, 1], name="outer") - hole
    assert "rim" in domain.parts
    x = domain.sample(500, seed=0)
    assert np.all(np.linalg.norm(x, axis=1) > 0.3 * math.cos(math.pi / 32))
    b = domain.sample_boundary("rim", 200, seed=0)
    assert np.all((b.x * b.normal).sum(axis=1) < 0)  # the hole's normals point out of the domain: to its centre
    assert isinstance(domain.distance(["rim"]), Distance)


# --- errors --------------------------------------------------------------------------------------------------
def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        MeshDomain.read(tmp_path / "nope.msh")
    junk = tmp_path / "junk.msh"
    junk.write_text("this is not a mesh\n")
    with pytest.raises(ConfigError, match="could not be read by meshio"):
        MeshDomain.read(junk)
    unknown = tmp_path / "mesh.unknownsuffix"
    unknown.write_text("1 2 3\n")
    with pytest.raises(ConfigError, match="could not be read by meshio"):
        MeshDomain.read(unknown)


def test_file_without_cells_of_the_domain_dimension(tmp_path):
    path = tmp_path / "lines.vtu"
    meshio.write(
        path, meshio.Mesh(np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0]]), [("line", np.array([[0, 1], [1, 2]]))])
    )
    with pytest.raises(ConfigError, match="no 2-D or 3-D cells.*line"):
        MeshDomain.read(path)


def test_surface_in_3d_is_not_a_domain(tmp_path):
    path = tmp_path / "surface.vtu"
    meshio.write(
        path, meshio.Mesh(np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 1]]), [("triangle", np.array([[0, 1, 2]]))])
    )
    with pytest.raises(ConfigError, match="surface mesh in 3-D is not a domain"):
        MeshDomain.read(path)
    with pytest.raises(ConfigError, match="non-zero third coordinate"):
        MeshDomain(np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 1]]), {"triangle": np.array([[0, 1, 2]])})


def test_degenerate_cells_are_refused():
    points = np.array([[0.0, 0], [1, 0], [2, 0], [0, 1]])
    with pytest.raises(ConfigError, match=r"1 of 2 cells have zero volume.*remove degenerate cells"):
        MeshDomain(points, np.array([[0, 1, 3], [0, 1, 2]]))


def test_folded_cells_are_refused():
    """Node 4 dragged across the edge 1-2: the cells on both sides of that edge overlap."""
    points = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1], [1.5, 0.5]])
    good = MeshDomain(points, np.array([[0, 1, 2], [0, 2, 3], [1, 4, 2]]))
    assert good.volume() == pytest.approx(1.25)
    folded = points.copy()
    folded[4] = [0.7, 0.5]
    with pytest.raises(ConfigError, match="same side of their shared facet.*untangle"):
        MeshDomain(folded, np.array([[0, 1, 2], [0, 2, 3], [1, 4, 2]]))


def test_non_manifold_facets_are_refused():
    points = np.array([[0.0, 0], [1, 0], [0.5, 1], [0.5, -1], [1.5, 0.5]])
    with pytest.raises(ConfigError, match="shared by 3 cells"):
        MeshDomain(points, np.array([[0, 1, 2], [0, 3, 1], [0, 1, 4]]))


def test_bad_arrays():
    points = np.array([[0.0, 0], [1, 0], [0, 1]])
    with pytest.raises(ShapeError, match=r"cells must be integer node numbers of shape \(m, 3\)"):
        MeshDomain(points, np.array([[0.0, 1.0, 2.0]]))
    with pytest.raises(ConfigError, match=r"triangle cells must be node numbers 0..2 \(there are 3 points\)"):
        MeshDomain(points, np.array([[0, 1, 3]]))
    with pytest.raises(ConfigError, match="hexahedron cells must be node numbers"):
        MeshDomain(np.zeros((8, 3)), {"hexahedron": np.array([[0, 1, 2, 3, 4, 5, 6, 9]])})
    with pytest.raises(ConfigError, match="coordinates must be finite"):
        MeshDomain(np.array([[0.0, 0], [1, 0], [0, np.nan]]), np.array([[0, 1, 2]]))
    with pytest.raises(ShapeError, match=r"points must have shape \(n, 2\) or \(n, 3\)"):
        MeshDomain(np.zeros((3, 4)), np.array([[0, 1, 2]]))
    with pytest.raises(ConfigError, match="other than 'boundary'"):
        MeshDomain(points, np.array([[0, 1, 2]]), {"boundary": np.array([[0, 1]])})
    with pytest.raises(ConfigError, match="axes must be 2 distinct"):
        MeshDomain(points, np.array([[0, 1, 2]]), axes=("x", "x"))
    with pytest.raises(ConfigError, match="the mesh is 2-D"):
        MeshDomain.read(DATA / "lshape.msh", axes=("x", "y", "z"))
    with pytest.raises(ConfigError, match="no 2-D or 3-D cells"):
        MeshDomain(points, {"line": np.array([[0, 1]])})
    with pytest.raises(ConfigError, match="lower < upper"):
        MeshDomain.grid([0, 0], [0, 1], 3)
    with pytest.raises(ConfigError, match="n >= 1 intervals"):
        MeshDomain.grid([0, 0], [1, 1], 0)


def test_part_facets_inside_the_mesh_are_left_out_with_a_warning():
    domain = MeshDomain.grid([0, 0], [1, 1], 2)
    inner = np.array([[4, 1]])  # node 4 is the centre: this edge lies inside
    with pytest.warns(UserWarning, match="1 of 1 facets of part 'cut' are not on the boundary"):
        again = MeshDomain(domain.points, domain.cells, {"cut": inner})
    assert "cut" not in again.parts


def test_bad_queries():
    domain = MeshDomain.grid([0, 0], [1, 1], 2)
    with pytest.raises(ConfigError, match="unknown boundary part 'inlet'"):
        domain.sample_boundary("inlet", 10)
    with pytest.raises(ConfigError, match="number of points must be an int >= 1"):
        domain.sample(0)
    with pytest.raises(ConfigError, match="method must be one of"):
        domain.sample(10, method="halton")
    with pytest.raises(ShapeError, match=r"needs points of shape \(n, 2\)"):
        domain.inside(np.zeros((3, 3)))
