"""Built-in problems: Poisson, Darcy and Allen-Cahn, with the named instances of ``kanpde list``, and
manufactured problems built from sympy formulas."""

from kanpde.problems.allen_cahn import AllenCahn
from kanpde.problems.darcy import Darcy
from kanpde.problems.manufactured import Manufactured
from kanpde.problems.poisson import Poisson

__all__ = ["Poisson", "Darcy", "AllenCahn", "Manufactured"]
