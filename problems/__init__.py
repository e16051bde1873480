"""Built-in problems: Poisson, Darcy and Allen-Cahn, with the named instances of ``kanpde list``,
manufactured problems built from sympy formulas, and Poisson problems on a disk, an L-shape and a square
with holes."""

from kanpde.problems.allen_cahn import AllenCahn
from kanpde.problems.darcy import Darcy
from kanpde.problems.manufactured import Manufactured
from kanpde.problems.poisson import Poisson
from kanpde.problems.shapes import PoissonCavity, PoissonDisk, PoissonHoles, PoissonLShape

__all__ = [
    "Poisson",
    "Darcy",
    "AllenCahn",
    "Manufactured",
    "PoissonDisk",
    "PoissonLShape",
    "PoissonHoles",
    "PoissonCavity",
]
