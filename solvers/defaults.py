"""Recommended training schedules, keyed by problem class and network kind.

``solve()`` asks this registry when the caller passes no schedule. A problem does not know its
optimizer; the recipes live here, found by measurement (see the README's benchmark section), and are
looked up along the problem's class hierarchy so a subclass of ``Poisson`` gets the Poisson recipe.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from kanpde.problem import Problem

from .phases import LBFGS, Adam, Phase, Refine

__all__ = ["register_schedule", "default_schedule"]

ScheduleFactory = Callable[[Problem, nn.Module], list[Phase]]
_REGISTRY: dict[tuple[type, str], ScheduleFactory] = {}


def register_schedule(problem_cls: type, kind: str, factory: ScheduleFactory) -> None:
    """Register ``factory(problem, net) -> schedule`` for problems of ``problem_cls`` and a network kind."""
    _REGISTRY[(problem_cls, kind)] = factory


def default_schedule(problem: Problem, net: nn.Module) -> list[Phase]:
    """The recommended schedule for this problem and network (most specific class first)."""
    for cls in type(problem).__mro__:
        factory = _REGISTRY.get((cls, net.kind))
        if factory is not None:
            return factory(problem, net)
    return _REGISTRY[(Problem, net.kind)](problem, net)


def kan_refinement(grids: tuple[int, ...], steps_per_grid: int = 300) -> ScheduleFactory:
    """L-BFGS on each grid until it stalls (or ``steps_per_grid``), refining through ``grids``; the
    last grid trains until the budget ends."""

    def factory(problem: Problem, net: nn.Module) -> list[Phase]:
        schedule: list[Phase] = [LBFGS(steps=steps_per_grid)]
        for g in (g for g in grids if g > net.grid):
            schedule += [Refine(grid=g), LBFGS(steps=steps_per_grid)]
        last = schedule[-1]
        schedule[-1] = LBFGS(steps=None, history=last.history, stall_tol=0.0)
        return schedule

    return factory


def mlp_adam_lbfgs(problem: Problem, net: nn.Module) -> list[Phase]:
    """Mini-batch Adam to leave the initial plateau, then full-batch L-BFGS until the budget ends."""
    batch = min(1000, problem.n_interior)
    return [Adam(steps=1000, lr=2e-3, batch=batch), LBFGS(steps=None, stall_tol=0.0)]


register_schedule(Problem, "kan", kan_refinement((10, 20)))
register_schedule(Problem, "mlp", mlp_adam_lbfgs)
