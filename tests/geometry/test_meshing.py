"""mesh_domain: gmsh meshes of boxes, disks, balls, polygons and CSG shapes, with the shape's part names.
Oracles: boundary nodes lie exactly on the piece their part names (circles, spheres, edges, faces), areas
and volumes converge to the shape's, files read back with their groups (msh 4.1 and 2.2)."""

import math

import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError
from kanpde.geometry import Ball, Box, Disk, Interval, Polygon
from kanpde.geometry.mesh import MeshDomain
from kanpde.geometry.meshing import mesh_domain

gmsh = pytest.importorskip("gmsh")


def nodes(domain: MeshDomain, part: str) -> np.ndarray:
    return domain.points[domain.part_nodes(part)]


def test_box_minus_disk_parts_lie_on_their_pieces():
    shape = Box([0, 0], [1, 1], name="outer") - Disk([0.5, 0.5], 0.2, name="hole")
    domain = mesh_domain(shape, 0.05)
    assert {"outer", "hole", "left", "x_max", "top", "boundary"} <= set(domain.parts)
    np.testing.assert_allclose(np.linalg.norm(nodes(domain, "hole") - 0.5, axis=1), 0.2, rtol=1e-9)
    np.testing.assert_allclose(nodes(domain, "left")[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(nodes(domain, "top")[:, 1], 1.0, atol=1e-12)
    assert len(domain.part_nodes("outer")) == len(
        np.unique(np.concatenate([domain.part_nodes(p) for p in ("left", "right", "top", "bottom")]))
    )
    assert domain.volume() == pytest.approx(1 - math.pi * 0.04, rel=2e-3)
    edges = np.ptp(domain.points[domain.cells], axis=1).max(axis=1)
    assert edges.max() < 2 * 0.05 and np.median(edges) > 0.5 * 0.05  # elements of about the size asked


def test_polygon_edges_keep_their_names():
    shape = Polygon([(0, 0), (2, 0), (2, 1), (0, 1)], edges=["floor", "outlet", "lid", "inlet"], name="walls")
    domain = mesh_domain(shape, 0.1)
    assert set(domain.parts) == {"floor", "outlet", "lid", "inlet", "walls", "boundary"}
    np.testing.assert_allclose(nodes(domain, "outlet")[:, 0], 2.0, atol=1e-12)
    np.testing.assert_allclose(nodes(domain, "lid")[:, 1], 1.0, atol=1e-12)
    assert domain.volume() == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("op", ["union", "intersection"])
def test_union_and_intersection(op):
    a, b = Disk([0, 0], 1, name="left_disk"), Disk([1, 0], 1, name="right_disk")
    shape = a | b if op == "union" else a & b
    domain = mesh_domain(shape, 0.05)
    assert {"left_disk", "right_disk"} <= set(domain.parts)
    lens = 2 * math.pi / 3 - math.sqrt(3) / 2  # the overlap of two unit disks one radius apart
    expected = 2 * math.pi - lens if op == "union" else lens
    assert domain.volume() == pytest.approx(expected, rel=3e-3)
    np.testing.assert_allclose(np.linalg.norm(nodes(domain, "left_disk"), axis=1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(nodes(domain, "right_disk") - [1, 0], axis=1), 1.0, rtol=1e-9)


def test_3d_box_minus_ball_written_and_read_back(tmp_path):
    shape = Box([0, 0, 0], [1, 1, 1]) - Ball([0.5, 0.5, 0.5], 0.3, name="cavity")
    path = tmp_path / "cube.msh"
    domain = mesh_domain(shape, 0.15, path=path)
    assert {"cavity", "x_min", "z_max", "boundary"} <= set(domain.parts)
    np.testing.assert_allclose(np.linalg.norm(nodes(domain, "cavity") - 0.5, axis=1), 0.3, rtol=1e-9)
    np.testing.assert_allclose(nodes(domain, "z_max")[:, 2], 1.0, atol=1e-12)
    assert domain.volume() == pytest.approx(1 - 4 / 3 * math.pi * 0.027, rel=0.01)
    again = MeshDomain.read(path)
    assert set(again.parts) == set(domain.parts)
    assert again.volume() == pytest.approx(domain.volume(), rel=1e-12)
    for part in domain.parts:
        np.testing.assert_allclose(np.sort(nodes(again, part), axis=0), np.sort(nodes(domain, part), axis=0))


def test_msh22_files_read_with_their_names(tmp_path):
    """An msh 2.2 file (gmsh:physical tags and names) reads like msh 4.1; gmsh stays initialized after."""
    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
        shape = Polygon([(0, 0), (1, 0), (0, 1)], edges=["a", "b", "c"])
        mesh_domain(shape, 0.2, path=tmp_path / "tri.msh")
        assert gmsh.isInitialized()
    finally:
        gmsh.finalize()
    assert "$MeshFormat\n2.2" in (tmp_path / "tri.msh").read_text()
    domain = MeshDomain.read(tmp_path / "tri.msh")
    assert {"a", "b", "c"} <= set(domain.parts)
    np.testing.assert_allclose(nodes(domain, "a")[:, 1], 0.0, atol=1e-12)
    assert domain.volume() == pytest.approx(0.5)


def test_distance_of_a_meshed_disk_converges_to_half_the_radius_at_the_centre():
    """int over the circle of ds / r^2 = 2 pi / R, so the facets' distance at the centre tends to R / 2."""
    errors = []
    for size in (0.4, 0.2, 0.1):
        domain = mesh_domain(Disk([0, 0], 1.0, name="rim"), size)
        phi = domain.pieces()[0].plain(torch.zeros(1, 2, dtype=torch.float64))
        errors.append(abs(float(phi) - 0.5))
    assert errors[2] < errors[1] < errors[0] < 0.05
    assert errors[0] / errors[2] > 8  # second order in the facet size


def test_bad_calls(tmp_path):
    with pytest.raises(ConfigError, match="size must be a length > 0"):
        mesh_domain(Disk([0, 0], 1), 0.0)
    with pytest.raises(ConfigError, match="larger than the shape itself"):
        mesh_domain(Disk([0, 0], 1), 10.0)
    with pytest.raises(ConfigError, match="space-time domain"):
        mesh_domain(Disk([0, 0], 1) * Interval(0, 1, axis="t"), 0.1)
    with pytest.raises(ConfigError, match=r"gmsh could not mesh .*Unknown output file format.*suffix gmsh writes"):
        mesh_domain(Box([0, 0], [1, 1]), 0.2, path=tmp_path / "mesh.unknownsuffix")
    with pytest.raises(ConfigError, match="builds box, disk/ball, polygon and csg shapes; got kind 'mesh'"):
        mesh_domain(MeshDomain.grid([0, 0], [1, 1], 2), 0.1)


@pytest.mark.parametrize("version", [4.1, 2.2])
def test_unnamed_physical_groups_become_physical_tag_parts(tmp_path, version):
    gmsh.initialize(readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("Mesh.MshFileVersion", version)
        gmsh.model.add("square")
        gmsh.model.occ.addRectangle(0, 0, 0, 1, 1)
        gmsh.model.occ.synchronize()
        curves = [t for _, t in gmsh.model.getEntities(1)]
        gmsh.model.addPhysicalGroup(1, curves[:1], tag=7)
        gmsh.model.addPhysicalGroup(1, curves[1:2], tag=8, name="named")
        gmsh.model.addPhysicalGroup(2, [1], tag=9, name="domain")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.25)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(tmp_path / "square.msh"))
    finally:
        gmsh.finalize()
    domain = MeshDomain.read(tmp_path / "square.msh")
    assert set(domain.parts) == {"physical7", "named", "boundary"}
    assert domain.volume() == pytest.approx(1.0)
    assert sum(p.measure for p in domain.pieces() if "physical7" in p.names) == pytest.approx(1.0)
