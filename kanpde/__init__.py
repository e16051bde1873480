"""kanpde: physics-informed PDE solving with Kolmogorov-Arnold Networks and MLPs.

import kanpde
from kanpde.problems import Poisson

sol = kanpde.solve(Poisson.kan_paper(), model=kanpde.KAN([2, 10, 1], grid=5), budget=60)
sol.errors      # {"rel_l2": ..., "max_abs": ...}
"""

from kanpde import geometry, interpret, io, nets, pde, pinn
from kanpde._version import __version__
from kanpde.errors import ConfigError, DefinitionError, KanpdeError, ShapeError, TrainingError
from kanpde.geometry import Ball, Box, Disk, Grid, Interval, MeshDomain, Polygon
from kanpde.io import Solution, Status, export, load
from kanpde.nets import KAN, MLP
from kanpde.pde import (
    Condition,
    Data,
    Dirichlet,
    DivergenceForm,
    Field,
    FunctionProblem,
    Initial,
    MeanValue,
    Neumann,
    Periodic,
    PointValue,
    Problem,
    Robin,
    Unknown,
    UnknownField,
    ops,
)

# isort: split
# The sibling folders (installed as kanpde.problems, kanpde.solvers, kanpde.validation) sit above the core;
# importing kanpde.problems registers the built-in problems by name (``kanpde list``).
from kanpde import problems, solvers, validation
from kanpde.solvers import LBFGS, Adam, Refine, Resample, UpdateGrid, solve

__all__ = [
    "__version__",
    "ops",
    "Box",
    "Interval",
    "Disk",
    "Ball",
    "Polygon",
    "MeshDomain",
    "Grid",
    "Condition",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Initial",
    "Periodic",
    "PointValue",
    "MeanValue",
    "Unknown",
    "UnknownField",
    "Data",
    "DivergenceForm",
    "Problem",
    "FunctionProblem",
    "Field",
    "KAN",
    "MLP",
    "solve",
    "Adam",
    "LBFGS",
    "Refine",
    "UpdateGrid",
    "Resample",
    "Solution",
    "load",
    "export",
    "Status",
    "geometry",
    "pde",
    "nets",
    "pinn",
    "interpret",
    "io",
    "problems",
    "solvers",
    "validation",
    "KanpdeError",
    "ConfigError",
    "ShapeError",
    "DefinitionError",
    "TrainingError",
]
