"""Named problem instances: the registry behind ``kanpde list``, ``kanpde solve NAME`` and ``kanpde.load``.

Each built-in problem module (``kanpde.problems``) registers its instances here when it is imported, and
``import kanpde`` imports them; code in lower layers and in ``kanpde.validation`` finds them by name here,
never by importing ``kanpde.problems``. A user registers their own the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kanpde.errors import ConfigError
from kanpde.pde.problem import Problem

__all__ = ["register_instance", "instance", "instances"]

_INSTANCES: dict[str, tuple[Callable[..., Problem], str]] = {}


def register_instance(name: str, factory: Callable[..., Problem], summary: str) -> None:
    """Register a named problem instance for the CLI, ``kanpde list`` and ``kanpde.load``.

    ``factory(**params)`` must build the problem and set its ``name`` and ``params``.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"instance names must be identifiers such as 'poisson_sin'; got {name!r}")
    _INSTANCES[name] = (factory, summary)


def instance(name: str, **params: Any) -> Problem:
    """Build a registered instance by name (``instance("poisson_kan")``)."""
    if name not in _INSTANCES:
        known = ", ".join(sorted(_INSTANCES)) or "none registered"
        raise ConfigError(f"unknown problem {name!r}; the built-in problems are: {known} (see `kanpde list`)")
    return _INSTANCES[name][0](**params)


def instances() -> dict[str, str]:
    """Registered instance names with their one-line summaries, sorted by name."""
    return {name: _INSTANCES[name][1] for name in sorted(_INSTANCES)}
