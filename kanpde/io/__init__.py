"""Results on disk: ``Solution`` save/load, atomic files, export writers (HDF5, VTU, VTI, XDMF), plots."""

from kanpde.io import plots
from kanpde.io.export import FORMATS, export
from kanpde.io.solution import Solution, load
from kanpde.io.status import Status, StatusKind

__all__ = ["Solution", "load", "export", "FORMATS", "plots", "Status", "StatusKind"]
