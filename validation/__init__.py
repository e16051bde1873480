"""Validation: reference solutions, error metrics and convergence orders.

* FD/FV references on boxes: :func:`poisson_fd` (sine-transform direct solve) and :func:`darcy_fv`
  (cell-centred finite volumes, FFT-preconditioned CG); the Allen-Cahn reference
  :func:`allen_cahn_spectral` (Fourier pseudo-spectral, ETDRK4).
* :func:`reference`: the exact solution of a problem, or its registered reference, cached in HDF5
  and interpolated onto any points; :func:`register_reference` adds one for a new problem.
* Batch runs: :func:`load_suite` reads a suite TOML, :func:`run_suite` runs it (``kanpde validate``).
* Metrics: ``rel_l2``, ``max_abs``, ``errors``, :func:`rel_h1`, :func:`grid_errors`; orders:
  :func:`convergence_order` (fitted log-log slope) and :func:`observed_orders`.
"""

from kanpde.metrics import errors, max_abs, rel_l2

from .convergence import convergence_order, grid_errors, observed_orders, rel_h1
from .fd import FDSolution, darcy_fv, poisson_fd
from .instances import (
    allen_cahn_initial,
    darcy_piecewise_coefficient,
    darcy_piecewise_source,
    darcy_smooth_coefficient,
    darcy_smooth_exact,
    darcy_smooth_source,
)
from .references import (
    Reference,
    ReferenceSpec,
    cache_path,
    load_reference,
    reference,
    register_reference,
    registered_references,
)
from .runner import run_suite
from .spectral import SpectralSolution, allen_cahn_spectral
from .suite import Case, Suite, load_suite

__all__ = [
    "rel_l2", "max_abs", "errors", "rel_h1", "grid_errors", "convergence_order", "observed_orders",
    "FDSolution", "poisson_fd", "darcy_fv", "SpectralSolution", "allen_cahn_spectral",
    "Reference", "ReferenceSpec", "reference", "load_reference", "register_reference", "registered_references",
    "cache_path", "Case", "Suite", "load_suite", "run_suite",
    "allen_cahn_initial", "darcy_piecewise_coefficient", "darcy_piecewise_source",
    "darcy_smooth_coefficient", "darcy_smooth_exact", "darcy_smooth_source",
]
