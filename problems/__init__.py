"""Built-in problems: Poisson, Darcy and Allen-Cahn, with the named instances of ``kanpde list``,
manufactured problems built from sympy formulas, and Poisson problems on a disk, an L-shape and a square
with holes; systems and second-order time: Burgers, the wave equation, Kovasznay flow and the lid-driven
cavity; inverse problems with a known truth: a scalar in a Poisson source, Darcy's coefficient field, a
heat equation's diffusivity."""

from kanpde.problems.allen_cahn import AllenCahn
from kanpde.problems.darcy import Darcy
from kanpde.problems.inverse import HeatInverse, PoissonInverse, darcy_inverse
from kanpde.problems.manufactured import Manufactured
from kanpde.problems.navier_stokes import Kovasznay, LidDrivenCavity, NavierStokes
from kanpde.problems.poisson import Poisson
from kanpde.problems.shapes import PoissonCavity, PoissonDisk, PoissonHoles, PoissonLShape
from kanpde.problems.waves import Burgers, Wave

__all__ = [
    "Poisson",
    "Darcy",
    "AllenCahn",
    "Manufactured",
    "PoissonDisk",
    "PoissonLShape",
    "PoissonHoles",
    "PoissonCavity",
    "Burgers",
    "Wave",
    "NavierStokes",
    "Kovasznay",
    "LidDrivenCavity",
    "PoissonInverse",
    "HeatInverse",
    "darcy_inverse",
]
