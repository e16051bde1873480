"""The exceptions kanpde raises on bad input.

Every message names the field, the value it got, what was expected and how to fix it. Each class
also derives from the built-in exception a Python user would catch (``ValueError``/``TypeError``).
"""

from __future__ import annotations

__all__ = ["KanpdeError", "ConfigError", "ShapeError", "DefinitionError", "TrainingError"]


class KanpdeError(Exception):
    """Base class of every kanpde error."""


class ConfigError(KanpdeError, ValueError):
    """A value passed to a constructor, to ``solve()`` or to the CLI is out of range or unknown."""


class ShapeError(KanpdeError, ValueError):
    """A tensor has the wrong shape (points, residuals, exact solutions, network widths)."""


class DefinitionError(KanpdeError, TypeError):
    """A problem, condition or surrogate is defined with the wrong type or is missing a part."""


class TrainingError(KanpdeError, RuntimeError):
    """Training cannot start or continue (for example, nothing finite to roll back to)."""
