"""Validation: reference solutions (``reference/``) and batch runs (``batch/``), error metrics and orders.

* FD/FV references on boxes: :func:`poisson_fd` (sine-transform direct solve) and :func:`darcy_fv`
  (cell-centred finite volumes, FFT-preconditioned CG); the Allen-Cahn reference
  :func:`allen_cahn_spectral` (Fourier pseudo-spectral, ETDRK4).
* :func:`reference`: the exact solution of a problem, or its registered reference, cached in HDF5
  and interpolated onto any points; :func:`register_reference` adds one for a new problem (each built-in
  problem registers its own, in ``kanpde.problems``).
* Batch runs: :func:`load_suite` reads a suite TOML, :func:`run_suite` runs it (``kanpde validate``).
* Metrics: ``rel_l2``, ``max_abs``, ``errors``, :func:`rel_h1`, :func:`grid_errors`; orders:
  :func:`convergence_order` (fitted log-log slope) and :func:`observed_orders`.

``kanpde.validation`` never imports ``kanpde.problems``: it finds problems by name in the registry
(``kanpde.pde.registry``), which the built-in problems fill when ``kanpde`` is imported.
"""

from kanpde.metrics import errors, max_abs, rel_l2
from kanpde.validation.batch import Case, Suite, load_suite, run_suite
from kanpde.validation.reference import (
    FDSolution,
    Reference,
    ReferenceSpec,
    SpectralSolution,
    allen_cahn_spectral,
    cache_path,
    convergence_order,
    darcy_fv,
    grid_errors,
    load_reference,
    observed_orders,
    poisson_fd,
    reference,
    register_reference,
    registered_references,
    rel_h1,
)

__all__ = [
    "rel_l2",
    "max_abs",
    "errors",
    "rel_h1",
    "grid_errors",
    "convergence_order",
    "observed_orders",
    "FDSolution",
    "poisson_fd",
    "darcy_fv",
    "SpectralSolution",
    "allen_cahn_spectral",
    "Reference",
    "ReferenceSpec",
    "reference",
    "load_reference",
    "register_reference",
    "registered_references",
    "cache_path",
    "Case",
    "Suite",
    "load_suite",
    "run_suite",
]
