"""Built-in problems: Poisson, Darcy and Allen-Cahn, with the named instances of ``kanpde list``."""

from .allen_cahn import AllenCahn
from .darcy import Darcy
from .poisson import Poisson

__all__ = ["Poisson", "Darcy", "AllenCahn"]
