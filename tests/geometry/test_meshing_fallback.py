"""mesh_domain without gmsh: a ConfigError naming the install, or with fallback=True a Delaunay mesh of a 2-D
shape with its part names. Oracles: exact areas of polygons, boundary nodes on their pieces."""

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
    domain = mesh_domain(shape, 0.1, path=tmp_path / "l.msh", fallback=True)
    assert set(domain.parts) == {"reentrant", "right", "top", "left", "bottom", "polygon", "boundary"}
    assert domain.volume() == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(domain.points[domain.part_nodes("right")][:, 0], 1.0, atol=1e-12)
    again = MeshDomain.read(tmp_path / "l.msh")
    assert again.parts == domain.parts and again.volume() == pytest.approx(3.0)


def test_box_minus_disk_without_gmsh():
    shape = Box([0, 0], [1, 1], name="outer") - Disk([0.5, 0.5], 0.2, name="hole")
    domain = mesh_domain(shape, 0.05, fallback=True)
    assert {"outer", "hole", "left", "top"} <= set(domain.parts)
    np.testing.assert_allclose(np.linalg.norm(domain.points[domain.part_nodes("hole")] - 0.5, axis=1), 0.2)
    assert domain.volume() == pytest.approx(1 - math.pi * 0.04, rel=1e-3)


def test_without_gmsh_a_config_error_names_the_install():
    with pytest.raises(ConfigError, match=r"needs gmsh to mesh Disk.*pip install gmsh.*fallback=True"):
        mesh_domain(Disk([0, 0], 1), 0.2)
    with pytest.raises(
        ConfigError, match=r"needs gmsh to mesh Disk.*pip install gmsh \(or pip install 'kanpde\[mesh\]'\)$"
    ):
        mesh_domain(Ball([0, 0, 0], 1), 0.2, fallback=True)
