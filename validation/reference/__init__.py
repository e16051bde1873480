"""Reference solutions: finite differences and volumes, P1 finite elements on meshes, a spectral solver,
the exact Burgers solution, the lid-driven cavity, interpolation, the cache, orders."""

from kanpde.validation.reference.burgers import BURGERS_NU, burgers_cole_hopf
from kanpde.validation.reference.cache import (
    Reference,
    ReferenceSpec,
    cache_path,
    load_reference,
    reference,
    register_reference,
    registered_references,
)
from kanpde.validation.reference.cavity import CAVITY_RESOLUTION, CavitySolution, cavity_fd, cavity_reference
from kanpde.validation.reference.convergence import convergence_order, grid_errors, observed_orders, rel_h1
from kanpde.validation.reference.fd import FDSolution, darcy_fv, poisson_fd
from kanpde.validation.reference.fem import FESolution, solve_p1
from kanpde.validation.reference.spectral import SpectralSolution, allen_cahn_spectral

__all__ = [
    "Reference",
    "ReferenceSpec",
    "reference",
    "load_reference",
    "register_reference",
    "registered_references",
    "cache_path",
    "FDSolution",
    "poisson_fd",
    "darcy_fv",
    "FESolution",
    "solve_p1",
    "SpectralSolution",
    "allen_cahn_spectral",
    "burgers_cole_hopf",
    "BURGERS_NU",
    "CavitySolution",
    "cavity_fd",
    "cavity_reference",
    "CAVITY_RESOLUTION",
    "convergence_order",
    "observed_orders",
    "rel_h1",
    "grid_errors",
]
