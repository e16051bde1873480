"""Hard conditions for a system: one output constraint per component.

A system's conditions name the component they set (``Dirichlet("lid", 1.0, component="u")``), so the
walls of a cavity pin the velocity and leave the pressure free. ``split_conditions`` builds the transform
of each component from the conditions on it, as if the component were a scalar problem of its own
(``component_view``), and ``Componentwise`` applies them column by column:

    u_j(x) = G_j(x) + D_j(x) N_j(x)     (or N_j(x) for a component without a hard condition).

A condition without ``component`` sets every component; its value is then a number or a function
returning one column per component, of which each component's transform takes its own.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from kanpde.pde import jet
from kanpde.pde.conditions import Condition
from kanpde.pde.problem import Problem

__all__ = ["Componentwise", "ComponentView", "component_view", "Column"]


@dataclass(frozen=True)
class Column:
    """Column ``j`` of a function-valued condition's data: ``value(x)[:, j]`` as (n, 1) (a function that
    returns one column serves every component)."""

    value: Any
    j: int

    def __call__(self, x: Tensor) -> Tensor:
        g = self.value(x)
        g = torch.as_tensor(g, dtype=x.dtype, device=x.device)
        if g.ndim == 2 and g.shape[1] > 1:
            return g[:, self.j : self.j + 1]
        return g


@dataclass(frozen=True, eq=False)
class ComponentView:
    """One component of a problem seen as a scalar problem: its domain and the value conditions that set
    it (copied with ``component=None`` and the component's column of their data), for building a transform.

    originals maps each copied condition (by id) back to the problem's condition.
    """

    problem: Problem
    name: str
    conditions: tuple[Condition, ...]
    originals: dict[int, Condition]
    out_dim: int = 1

    @property
    def domain(self) -> Any:
        return self.problem.domain

    def __repr__(self) -> str:
        return f"{self.problem!r} (component {self.name!r})"


def component_view(problem: Problem, j: int, conditions: Sequence[Condition]) -> ComponentView:
    """The conditions among ``conditions`` that set component j of ``problem``, as a scalar view."""
    names = problem.components
    mine, originals = [], {}
    for c in conditions:
        index = c.index(names)
        if index is not None and index != j:
            continue
        view = copy.copy(c)
        object.__setattr__(view, "component", None)
        if index is None and callable(c.value) and len(names) > 1:
            object.__setattr__(view, "value", Column(c.value, j))
        mine.append(view)
        originals[id(view)] = c
    return ComponentView(problem, names[j], tuple(mine), originals)


@dataclass(frozen=True)
class Componentwise:
    """Output constraints applied per component: ``parts[j]`` (a ``HardDirichlet``, ``ShapeDirichlet``, or
    None for a free component) acts on column j of the network's output."""

    parts: tuple[Any, ...]
    names: tuple[str, ...]

    def apply(self, x: Tensor, t: Tensor, out: Tensor) -> Tensor:
        """The constrained output (n, c) at points x: (n, d), network inputs t, network outputs out: (n, c)."""
        cols = [out[:, j : j + 1] if p is None else p.apply(x, t, out[:, j : j + 1]) for j, p in enumerate(self.parts)]
        return torch.cat(cols, dim=1)

    def apply_jet(self, x: Tensor, t: Tensor, out: Tensor, spec: jet.JetSpec) -> Tensor:
        """The same on jets: out (C, n, c) -> (C, n, c)."""
        cols = [
            out[..., j : j + 1] if p is None else p.apply_jet(x, t, out[..., j : j + 1], spec)
            for j, p in enumerate(self.parts)
        ]
        return torch.cat(cols, dim=-1)

    @property
    def has_formula(self) -> bool:
        return False

    def summary(self) -> str:
        """What is built in, per component: ``"u: dirichlet on 4 faces; v: dirichlet on 4 faces"``."""
        return "; ".join(f"{n}: {p.summary()}" for n, p in zip(self.names, self.parts) if p is not None)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "componentwise",
            "names": list(self.names),
            "parts": [None if p is None else p.describe() for p in self.parts],
        }
