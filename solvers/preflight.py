"""Checks that run before any training: a bad problem or model fails at once, in one line that says why.

``solve()`` calls :func:`preflight` once the surrogate is built and the points are drawn, and
:func:`check_reference` once the reference on the evaluation grid is computed; both run before the first
optimizer step and before anything is written. ``preflight`` evaluates every term of the loss once on the
first ``PREFLIGHT_POINTS`` points of its set and checks, in this order (after ``Problem.validate`` once
more, for what was set on the problem after it was built, such as ``problem.data = [...]``):

1. the problem holds no trainable values (an ``nn.Parameter``, a module with trainable parameters, a tensor
   with ``requires_grad=True``): ``solve()`` trains the network only, so such a value would stay as it is;
2. a function-valued Dirichlet value built into the surrogate (``constraints="hard"``) is finite in the box,
   the model's weights are finite, and so is the network's output u(x);
3. the PDE residual has one row per point and is finite (where u is, a non-finite residual comes from the
   problem: its source terms or coefficients);
4. each soft condition's value g(x) is finite on all of its points (g is cheap), and its residual has one row
   per point, a column per component, and is finite;
5. every declared unknown (``kanpde.Unknown``, ``kanpde.UnknownField``) reaches the loss;
6. the exact solution is finite at the first interior points.

``check_reference`` then checks that the reference errors are measured against (the exact solution, or a
numerical reference) is finite on the whole evaluation grid, which training points need not touch.

Each failure is a kanpde error that names the term, how many of the points it fails at, the first such
point and what to check: ``DefinitionError`` for the problem and its conditions, ``ConfigError`` for the
model, ``ShapeError`` for a wrong shape. Practical hint: a term that is only undefined on part of the
domain (``log(x - 0.5)``) is caught as long as one of the first points falls there; a single bad point
(``1 / x`` at x = 0) shows up in training as a non-finite loss instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from kanpde.errors import ConfigError, DefinitionError, ShapeError, TrainingError
from kanpde.pde.conditions import Condition, Dirichlet, Initial, Neumann, Robin
from kanpde.pde.field import Field, as_tensor
from kanpde.pde.problem import FunctionProblem, Problem
from kanpde.pinn.loss import BoundarySet, Collocation, Form, check_residual, loss_terms, residual_values, total_loss

__all__ = ["preflight", "check_reference", "check_problem_attributes", "PREFLIGHT_POINTS"]

PREFLIGHT_POINTS = 32
"""How many of the first points of each set every term is evaluated on before training (a few: each costs
derivatives of the network, and the first points of a Sobol set already spread over the box)."""


def preflight(
    problem: Problem, model: nn.Module, colloc: Collocation, *, points: int = PREFLIGHT_POINTS, form: Form = Form.STRONG
) -> None:
    """Evaluate each term of the loss once on the first ``points`` points and raise if one cannot train.

    Args:
        problem: the problem to be solved.
        model: the surrogate as it will be trained (input map, hard constraints, network).
        colloc: the training points: interior (n, d) and one set per soft condition.
        points: how many of the first points of each set to evaluate the terms on.
    """
    problem.validate()  # again: data, unknowns or conditions may have been set after construction
    check_problem_attributes(problem)
    x = colloc.interior[:points].detach().requires_grad_(True)
    _check_hard_value(problem, model, colloc, x)
    _check_network(model, x)
    _check_residual(problem, model, x, form)
    for s in colloc.boundary:
        _check_condition(problem, model, s, points, form)
    _check_unknowns_used(problem, model, colloc, points, form)
    if problem.exact is not None:
        exact = problem.exact_values(x.detach())  # also checks its shape
        _refuse(exact, x, DefinitionError, f"{_kind(problem)}.exact(x)", "interior points", "check exact() there")


def check_reference(problem: Problem, eval_x: Tensor | None, eval_ref: Tensor | None) -> None:
    """The reference errors are measured against, eval_ref: (N, out_dim) at the evaluation grid
    eval_x: (N, d), is finite everywhere (nothing to check when the problem has none)."""
    if eval_ref is None or eval_x is None:
        return
    if problem.exact is not None:
        what, fix = f"{_kind(problem)}.exact(x)", "check exact() there"
    else:
        what, fix = f"{_kind(problem)}.reference_values(x)", "check the numerical reference it returns there"
    _refuse(eval_ref, eval_x, DefinitionError, what, "points of the evaluation grid", fix, first=False)


def check_problem_attributes(problem: Problem) -> None:
    """Refuse trainable values on a problem (instance or class attributes, also inside lists and dicts).

    ``solve()`` trains the network's weights only; an ``nn.Parameter`` on the problem (a coefficient a
    user hopes to learn) would keep its first value, silently.
    """
    for name, value in _attributes(problem):
        what, fix = _trainable(value)
        if what:
            raise DefinitionError(
                f"{_kind(problem)}.{name} is {what}, which solve() would not train (the problem's attributes "
                f"are constants); {fix}; to identify a coefficient, declare it as kanpde.Unknown or kanpde.UnknownField"
            )


def _attributes(problem: Problem) -> Iterator[tuple[str, Any]]:
    """(name, value) of the instance's attributes, then of its classes' up to ``Problem``; items of
    lists, tuples and dicts as ``name[i]``."""
    seen: set[str] = set()
    owners: list[Mapping[str, Any]] = [vars(problem)]
    owners += [vars(c) for c in type(problem).__mro__ if c not in (Problem, FunctionProblem, object)]
    for owner in owners:
        for name, value in owner.items():
            if name in seen or name.startswith(("__", "_kanpde_")):  # kanpde's own: the bound unknowns
                continue
            seen.add(name)
            yield name, value
            if isinstance(value, (list, tuple)):
                yield from ((f"{name}[{i}]", v) for i, v in enumerate(value))
            elif isinstance(value, dict):
                yield from ((f"{name}[{k!r}]", v) for k, v in value.items())


def _trainable(value: Any) -> tuple[str, str]:
    """What a trainable value is and what to write instead; ("", "") for anything else."""
    constant = "use a number or a tensor without requires_grad"
    if isinstance(value, nn.Parameter):
        return "a torch.nn.Parameter", constant
    if isinstance(value, nn.Module) and any(p.requires_grad for p in value.parameters()):
        return (
            f"a torch.nn.Module ({type(value).__name__}) with trainable parameters",
            "freeze it with .requires_grad_(False) to use it as a fixed coefficient",
        )
    if isinstance(value, Tensor) and value.requires_grad:
        return "a tensor with requires_grad=True", f"{constant} (.detach() it)"
    return "", ""


def _check_hard_value(problem: Problem, model: nn.Module, colloc: Collocation, x: Tensor) -> None:
    """A function-valued Dirichlet value built into the surrogate is evaluated in the whole box: finite there."""
    constraint = getattr(model, "constraint", None)
    g = getattr(constraint, "value", None)
    if not callable(g):
        return
    soft = {id(c) for c in colloc.conditions}
    hard = [c for c in problem.conditions if isinstance(c, Dirichlet) and id(c) not in soft]
    names = " / ".join(_condition_name(c) for c in hard) or "the hard Dirichlet condition"
    with torch.no_grad():
        values = torch.as_tensor(g(x.detach()), device=x.device)
    if values.ndim == 0:  # a constant: the transform broadcasts it
        values = values.expand(x.shape[0])
    _refuse(
        values,
        x,
        DefinitionError,
        f"{names}.value(x)",
        "interior points",
        "built into the surrogate (constraints='hard'), it is evaluated in the whole box: "
        "check the function given as its value there, or pass constraints='soft'",
    )


def _check_network(model: nn.Module, x: Tensor) -> None:
    """Finite weights, and a finite output on the first points."""
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if t.is_floating_point() and not torch.isfinite(t).all():
            bad = int((~torch.isfinite(t)).sum())
            raise ConfigError(
                f"solve(model=...): the model's {name} holds {bad} NaN or infinite values of {t.numel()}; "
                "pass a freshly built kanpde.KAN or kanpde.MLP, or the model of a run that ended finite"
            )
    with torch.no_grad():
        u = model(x.detach())
    _refuse(
        u,
        x,
        ConfigError,
        "solve(model=...): the network output",
        "interior points",
        "its weights are too large for these inputs; pass a freshly built kanpde.KAN or kanpde.MLP",
    )


def _check_residual(problem: Problem, model: nn.Module, x: Tensor, form: Form) -> None:
    """The residual (or under the energy form the energy density): one row per point, finite."""
    if form is Form.ENERGY:
        r, what = (
            check_residual(problem.energy(Field(model(x), x, problem.layout), x), x.shape[0], _kind(problem)),
            "energy",
        )
    else:
        r, what = residual_values(problem, model, x), "residual"  # checks its shape: one row per point
    _refuse(
        r.detach(),
        x,
        DefinitionError,
        f"{_kind(problem)}.{what}",
        "interior points",
        "check its source terms and coefficients there (and any log, sqrt or division of u)",
    )


def _check_unknowns_used(problem: Problem, model: nn.Module, colloc: Collocation, points: int, form: Form) -> None:
    """Every declared unknown reaches the loss (through the residual or a condition): one that does not
    would keep its first value, and a user would read it as identified."""
    found = getattr(model, "unknowns", None)
    if found is None:
        return
    total = total_loss(loss_terms(problem, model, colloc.head(points), form=form))
    for name in found.names:
        params = [found.scalars[name]] if name in found.scalars else list(found.fields[name].parameters())
        grads = torch.autograd.grad(total, params, retain_graph=True, allow_unused=True)
        if all(g is None for g in grads):
            raise DefinitionError(
                f"{_kind(problem)}: the unknown {name!r} is used neither in residual() nor in a condition, so "
                f"nothing would identify it; use it (self.{name}{'(x)' if name in found.fields else ''}) or remove it"
            )


def _check_condition(problem: Problem, model: nn.Module, s: BoundarySet, points: int, form: Form) -> None:
    """A soft condition: its value on all of its points, its residual's shape and values on the first ones."""
    c, name = s.condition, _condition_name(s.condition)
    channels = problem.out_dim if c.component is None else 1
    if callable(c.value):
        g = c.target(s.x.detach(), channels)  # also checks its shape
        fix = "check the function given as its value there"
        _refuse(g, s.x, DefinitionError, f"{name}.value(x)", f"points on {c.on!r}", fix, first=False)
    xb, nb = s.head(points)
    xb = xb.detach().requires_grad_(s.x.requires_grad)
    if form is Form.ENERGY and isinstance(c, (Neumann, Robin)):
        out = as_tensor(problem.boundary_energy(c, Field(model(xb), xb, problem.layout), xb))
        out = out.reshape(-1, 1) if out.ndim == 1 else out
    else:
        out = c.residual(Field(model(xb), xb, problem.layout), xb, nb)
    if out.ndim != 2 or out.shape[0] not in (xb.shape[0], 1) or out.shape[1] != channels:
        which = f"component {c.component!r}" if c.component is not None else f"a column per component ({channels})"
        raise ShapeError(
            f"{name} residual has shape {tuple(out.shape)}; expected ({xb.shape[0]}, {channels}): "
            f"its value must give one row per point and {which}"
        )
    _refuse(
        out.detach(),
        xb,
        TrainingError,
        f"{name} residual",
        f"points on {c.on!r}",
        "its value is finite, so the network's values or derivatives there are not: pass a freshly built model",
    )


def _refuse(
    values: Tensor, x: Tensor, error: type[Exception], what: str, where: str, fix: str, *, first: bool = True
) -> None:
    """Raise ``error`` when ``values`` (one row per point of x) is not finite somewhere, with how many
    points, the first of them and ``fix``."""
    bad = ~torch.isfinite(values.reshape(values.shape[0], -1)).all(dim=1)
    if not bad.any():
        return
    at = x[bad.nonzero()[0, 0]].detach().cpu().tolist()
    point = ", ".join(f"{v:.4g}" for v in at)
    some = f"the first {x.shape[0]}" if first else f"the {x.shape[0]}"
    raise error(f"{what} is not finite at {int(bad.sum())} of {some} {where} (first at x = [{point}]); {fix}")


def _kind(problem: Problem) -> str:
    return type(problem).__name__


def _condition_name(c: Condition) -> str:
    """How a user wrote the condition: ``Dirichlet('left')``, ``Initial``."""
    comp = "" if c.component is None else f", component={c.component!r}"
    if isinstance(c, Initial):
        rate = ", derivative=1" if c.derivative else ""
        return f"Initial(...{rate}{comp})" if rate or comp else "Initial"
    return f"{type(c).__name__}({c.on!r}{comp})"
