"""The language a PDE is written in: ``Problem``, conditions, ``Field``, ``ops``, jets, unknowns and data,
named instances."""

from kanpde.pde import ops
from kanpde.pde.conditions import (
    Condition,
    Dirichlet,
    Initial,
    MeanValue,
    Neumann,
    Periodic,
    PointValue,
    Robin,
)
from kanpde.pde.data import Data
from kanpde.pde.field import Field
from kanpde.pde.forms import DivergenceForm
from kanpde.pde.problem import FunctionProblem, Problem
from kanpde.pde.registry import instance, instances, register_instance
from kanpde.pde.unknowns import Unknown, UnknownField

__all__ = [
    "ops",
    "Field",
    "Problem",
    "FunctionProblem",
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
    "register_instance",
    "instance",
    "instances",
]
