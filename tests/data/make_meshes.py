"""Regenerate the mesh files the tests read (needs gmsh): ``python tests/data/make_meshes.py``.

- ``lshape.msh``: the L-shape (-1, 1)^2 minus [0, 1] x [-1, 0], triangles of about 0.1; physical groups
  ``reentrant`` (the two edges at the re-entrant corner), ``right``, ``top``, ``left``, ``bottom`` and ``wall``
  (every edge).
- ``bracket.msh``: the plate [0, 2] x [0, 1] x [0, 0.4] minus a ball of radius 0.3 at (1, 0.5, 0.2) (a hole
  through the plate), tetrahedra of about 0.2; groups ``x_min`` ... ``z_max``, ``plate`` (all six faces)
  and ``hole``.
"""

from pathlib import Path

from kanpde.geometry import Ball, Box, Polygon
from kanpde.geometry.meshing import mesh_domain

HERE = Path(__file__).resolve().parent

LSHAPE = Polygon(
    [(0, 0), (1, 0), (1, 1), (-1, 1), (-1, -1), (0, -1)],
    edges=["reentrant", "right", "top", "left", "bottom", "reentrant"],
    name="wall",
)
BRACKET = Box([0, 0, 0], [2, 1, 0.4], name="plate") - Ball([1, 0.5, 0.2], 0.3, name="hole")

if __name__ == "__main__":
    mesh_domain(LSHAPE, 0.1, path=HERE / "lshape.msh")
    mesh_domain(BRACKET, 0.2, path=HERE / "bracket.msh")
