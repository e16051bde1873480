"""Built-in problems: Poisson, Darcy and Allen-Cahn, with the named instances of ``kanpde list``, and
manufactured problems built from sympy formulas."""

from .allen_cahn import AllenCahn
from .darcy import Darcy
from .manufactured import Manufactured
from .poisson import Poisson

__all__ = ["Poisson", "Darcy", "AllenCahn", "Manufactured"]
