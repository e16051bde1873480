"""Domains and sampling: boxes, disks, polygons, CSG and space-time shapes with named boundary parts,
sampling inside and on the boundary, distance functions, evaluation grids and point sets."""

from kanpde.errors import ConfigError
from kanpde.geometry.box import Box, Face, Grid, Interval
from kanpde.geometry.csg import CSG
from kanpde.geometry.domain import BoundarySample, Distance, Domain, PointSet
from kanpde.geometry.mesh import MeshDomain
from kanpde.geometry.sampling import METHODS, sample_box
from kanpde.geometry.shapes import Ball, Disk, Polygon
from kanpde.geometry.spacetime import SpaceTime

__all__ = [
    "Domain",
    "Box",
    "Interval",
    "Disk",
    "Ball",
    "Polygon",
    "CSG",
    "SpaceTime",
    "MeshDomain",
    "Face",
    "Grid",
    "PointSet",
    "BoundarySample",
    "Distance",
    "METHODS",
    "sample_box",
    "from_description",
]


def from_description(desc: dict) -> Domain:
    """Rebuild a domain from its ``describe()`` (a saved run keeps it, so a loaded surrogate needs no problem)."""
    kind = desc.get("kind", "box")
    if kind == "box":
        return Box(desc["lower"], desc["upper"], axes=desc.get("axes"), name=desc.get("name"))
    if kind == "disk":
        return Disk(desc["center"], desc["radius"], name=desc.get("name"), axes=desc.get("axes"))
    if kind == "polygon":
        return Polygon(desc["vertices"], name=desc.get("name"), edges=desc.get("edges"), axes=desc.get("axes"))
    if kind == "csg":
        return CSG(desc["op"], from_description(desc["a"]), from_description(desc["b"]))
    if kind == "spacetime":
        return SpaceTime(from_description(desc["space"]), from_description(desc["time"]))
    if kind == "mesh":
        return MeshDomain.from_description(desc)
    raise ConfigError(
        f"unknown domain kind {kind!r} in a saved description; expected box, disk, polygon, csg, spacetime or mesh"
    )
