"""Validation: error metrics against exact solutions and references (FD references and the batch runner follow)."""

from kanpde.metrics import errors, max_abs, rel_l2

__all__ = ["rel_l2", "max_abs", "errors"]
