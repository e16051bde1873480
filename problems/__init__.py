"""Built-in problems. Each module registers its named instances (``kanpde list``)."""

from .poisson import Poisson

__all__ = ["Poisson"]
