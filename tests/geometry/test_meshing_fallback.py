"""mesh_domain without gmsh: 2-D shapes get a Delaunay mesh with their part names (and a warning), 3-D shapes
a ConfigError naming the install. Oracles: exact areas of polygons, boundary nodes on their pieces."""

import math
import sys

import numpy as np
import pytest

from kanpde.errors import ConfigError
from kanpde.geometry import Ball, Box, Disk, Polygon
from kanpde.geometry.mesh import MeshDomain
from kanpde.geometry.meshing import mesh_domain


@pytest.fixture(autouse=True)
def no_gmsh(monkeypatch):
    monkeypatch.setitem(sys.modules, "gmsh", None)  # import gmsh raises ImportError


def test_polygon_gets_a_delaunay_mesh_with_its_edge_names(tmp_path):
    shape = Polygon(
        [(0, 0), (1, 0), (1, 1), (-1, 1), (-1, -1), (0, -1)],
        edges=["reentrant", "right", "top", "left", "bottom", "reentrant"],
    )
    with pytest.warns(UserWarning, match="gmsh is not installed"):
        domain = mesh_domain(shape, 0.1, path=tmp_path / "l.msh")
    assert set(domain.parts) == {"reentrant", "right", "top", "left", "bottom", "polygon", "boundary"}
    assert domain.volume() == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(domain.points[domain.part_nodes("right")][:, 0], 1.0, atol=1e-12)
    again = MeshDomain.read(tmp_path / "l.msh")
    assert again.parts == domain.parts and again.volume() == pytest.approx(3.0)


def test_box_minus_disk_without_gmsh():
    shape = Box([0, 0], [1, 1], name="outer") - Disk([0.5, 0.5], 0.2, name="hole")
    with pytest.warns(UserWarning, match="pip install gmsh"):
        domain = mesh_domain(shape, 0.05)
    assert {"outer", "hole", "left", "top"} <= set(domain.parts)
    np.testing.assert_allclose(np.linalg.norm(domain.points[domain.part_nodes("hole")] - 0.5, axis=1), 0.2)
    assert domain.volume() == pytest.approx(1 - math.pi * 0.04, rel=1e-3)


def test_3d_needs_gmsh():
    with pytest.raises(ConfigError, match="needs gmsh to mesh a 3-D shape: pip install gmsh"):
        mesh_domain(Ball([0, 0, 0], 1), 0.2)
