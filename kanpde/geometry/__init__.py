"""Domains and sampling: boxes and intervals with named boundary parts, evaluation grids, point sets."""

from kanpde.geometry.box import BoundarySample, Box, Face, Grid, Interval
from kanpde.geometry.sampling import METHODS, sample_box

__all__ = ["Box", "Interval", "Face", "Grid", "BoundarySample", "METHODS", "sample_box"]
