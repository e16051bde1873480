"""Regenerate cube_cavity.msh: the unit cube minus the ball of radius 0.25 at its centre, tetrahedra of size
0.05 on the sphere (so its flat facets stay within about 0.0015 of it), 0.16 on the cube's faces (few facets
keep the distance function cheap) and 0.065 inside; physical groups x_min ... z_max, outer (all six faces)
and cavity. Needs gmsh: ``python problems/data/make_cavity_mesh.py``."""

from pathlib import Path

import gmsh

OUT = Path(__file__).resolve().parent / "cube_cavity.msh"

gmsh.initialize()
gmsh.option.setNumber("General.Terminal", 0)
gmsh.model.add("cube_cavity")
box = gmsh.model.occ.addBox(0, 0, 0, 1, 1, 1)
ball = gmsh.model.occ.addSphere(0.5, 0.5, 0.5, 0.25)
gmsh.model.occ.cut([(3, box)], [(3, ball)])
gmsh.model.occ.synchronize()
faces = {}
cavity = []
for dim, tag in gmsh.model.getEntities(2):
    x, y, z = gmsh.model.occ.getCenterOfMass(dim, tag)
    c = (x, y, z)
    for a, name in enumerate("xyz"):
        if abs(c[a]) < 1e-9:
            faces[f"{name}_min"] = tag
        elif abs(c[a] - 1) < 1e-9:
            faces[f"{name}_max"] = tag
    if all(abs(v - 0.5) < 1e-6 for v in c):
        cavity.append(tag)
for name, tag in faces.items():
    gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, [tag]), name)
gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, list(faces.values())), "outer")
gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, cavity), "cavity")
gmsh.model.setPhysicalName(3, gmsh.model.addPhysicalGroup(3, [v[1] for v in gmsh.model.getEntities(3)]), "domain")


def graded(surfaces, near, far, reach):
    dist = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(dist, "SurfacesList", surfaces)
    field = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(field, "InField", dist)
    for key, value in (("SizeMin", near), ("SizeMax", far), ("DistMin", 0.01), ("DistMax", reach)):
        gmsh.model.mesh.field.setNumber(field, key, value)
    return field


fields = [graded(list(faces.values()), 0.16, 0.065, 0.15), graded(cavity, 0.05, 0.16, 0.1)]
smallest = gmsh.model.mesh.field.add("Min")
gmsh.model.mesh.field.setNumbers(smallest, "FieldsList", fields)
gmsh.model.mesh.field.setAsBackgroundMesh(smallest)
for key in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
    gmsh.option.setNumber(key, 0)
gmsh.model.mesh.generate(3)
gmsh.write(str(OUT))
gmsh.finalize()
