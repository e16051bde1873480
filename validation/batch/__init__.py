"""Batch validation: suites (TOML), the runner (local processes or Dask), reports, benchmarks."""

from kanpde.validation.batch.runner import run_suite
from kanpde.validation.batch.suite import Case, Suite, load_suite

__all__ = ["Case", "Suite", "load_suite", "run_suite"]
