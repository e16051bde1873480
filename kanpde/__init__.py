"""kanpde: physics-informed PDE solving with Kolmogorov-Arnold Networks and MLPs.

    import kanpde
    from kanpde.problems import Poisson

    sol = kanpde.solve(Poisson.kan_paper(), model=kanpde.KAN([2, 10, 1], grid=5), budget=60)
    sol.errors      # {"rel_l2": ..., "max_abs": ...}
"""

from . import ops
from ._version import __version__
from .conditions import Condition, Dirichlet, Initial, Neumann, Periodic, Robin
from .domain import Box, Grid, Interval
from .errors import ConfigError, DefinitionError, KanpdeError, ShapeError, TrainingError
from .field import Field
from .kan import KAN
from .mlp import MLP
from .problem import FunctionProblem, Problem
from .solution import Solution, load
from .exporting import export
from . import plots, pruning, symbolic, symbols

# The sibling packages import the core above; they come last.
from . import problems, solvers, validation  # noqa: E402  (installed as kanpde.problems, ...)
from .solvers import LBFGS, Adam, Refine, Resample, UpdateGrid, solve  # noqa: E402


__all__ = [
    "__version__",
    "ops",
    "Box", "Interval", "Grid",
    "Condition", "Dirichlet", "Neumann", "Robin", "Initial", "Periodic",
    "Problem", "FunctionProblem", "Field",
    "KAN", "MLP",
    "solve", "Adam", "LBFGS", "Refine", "UpdateGrid", "Resample",
    "Solution", "load", "export", "plots",
    "pruning", "symbolic", "symbols",
    "problems", "solvers", "validation",
    "KanpdeError", "ConfigError", "ShapeError", "DefinitionError", "TrainingError",
]
