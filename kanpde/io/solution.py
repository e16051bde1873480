"""The result of a solve: the trained field, its errors, its history; saved to and loaded from a folder.

A saved run folder holds ``model.pt`` (weights and grids, loaded with ``weights_only=True``),
``model.json`` (the description the surrogate is rebuilt from, and the problem's name and parameters
when it is a built-in instance) and ``report.json`` (errors, timings, status, history). Every file is
written under a temporary name and renamed, so an interrupted save leaves no half-written file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from kanpde._version import __version__
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.io.files import atomic_write, check_output_folder, jsonable
from kanpde.io.run_folder import (
    FORMAT_VERSION,
    is_error_key,
    load_weights,
    read_description,
    read_report,
    rebuild,
)
from kanpde.io.status import Status
from kanpde.metrics import errors as error_metrics
from kanpde.metrics import max_abs, rel_err, rel_l2
from kanpde.pde.field import Field, Layout
from kanpde.pde.problem import Problem
from kanpde.pde.registry import instance, instances
from kanpde.pde.unknowns import UnknownField, bind
from kanpde.pinn.loss import field_at
from kanpde.pinn.surrogate import Surrogate, count_parameters

if TYPE_CHECKING:
    from kanpde.interpret.formulas import Formula

__all__ = ["Solution", "load", "evaluate_errors", "unknown_errors", "RecoveredField", "FORMAT_VERSION"]


def evaluate_errors(model: Surrogate, problem: Problem) -> dict[str, float]:
    """``{"rel_l2", "max_abs"}`` of the model against the problem's reference (its exact solution, or a
    numerical reference) on its evaluation grid (empty when it has neither), and for each identified
    unknown with a known truth (``exact=``) its error: ``rel_err_<name>`` for a scalar, ``rel_l2_<name>``
    and ``max_abs_<name>`` for a field on the same grid.
    """
    p = next(model.parameters())
    x = torch.as_tensor(problem.evaluation_grid().points(), dtype=p.dtype, device=p.device)
    ref = problem.reference_values(x)
    out = {} if ref is None else error_metrics(_predict(model, x), ref, problem.components, problem.centered_columns)
    return out | unknown_errors(model, problem, x)


def unknown_errors(model: Surrogate, problem: Problem, x: Tensor) -> dict[str, float]:
    """The errors of the identified unknowns whose truth the problem declares (``exact=``), at points x."""
    found = model.unknowns
    out: dict[str, float] = {}
    if found is None:
        return out
    for u in problem.unknowns:
        if u.exact is None or u.name not in found.names:
            continue
        if isinstance(u, UnknownField):
            with torch.no_grad():
                pred = torch.cat([found.field(u.name)(c) for c in torch.split(x, 16384)])
                truth = torch.as_tensor(u.exact(x), dtype=pred.dtype, device=pred.device).reshape(-1)
            out[f"rel_l2_{u.name}"], out[f"max_abs_{u.name}"] = rel_l2(pred, truth), max_abs(pred, truth)
        else:
            out[f"rel_err_{u.name}"] = rel_err(found.scalar_values()[u.name], float(u.exact))
    return out


def _predict(model: Surrogate, x: Tensor, chunk: int = 16384) -> Tensor:
    with torch.no_grad():
        return torch.cat([model(c) for c in torch.split(x, chunk)]) if x.shape[0] else model(x)


@dataclass(frozen=True, eq=False)
class Solution:
    """A trained field and how it was obtained.

    Attributes:
        model: the trained surrogate (input map + KAN/MLP).
        problem: the problem it solves, or None for a run loaded without one.
        status: why training stopped: a ``Status`` whose ``kind`` code can branch on and whose message
            (``str(status)``) says it in words.
        errors: ``{"rel_l2", "max_abs"}`` on the problem's evaluation grid (empty without a reference); for
            a system also ``rel_l2_<name>`` and ``max_abs_<name>`` per component.
        history: entries ``{step, t, loss, phase, grid, rel_l2?}`` and events (``"event"`` key).
        phases: one dict per phase: its kind, steps, times and the status it ended with.
        info: steps, timings (``train_s``, and ``budget_overshoot_s``: training seconds past a time
            budget), device, dtype, seed, parameter count, budget.
    """

    model: Surrogate
    problem: Problem | None
    status: Status
    errors: Mapping[str, float]
    history: tuple[dict[str, Any], ...] = ()
    phases: tuple[dict[str, Any], ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            raise DefinitionError(
                f"Solution.status must be a kanpde.io.status.Status; got {self.status!r}. "
                f"Wrap the words in one, e.g. Status(StatusKind.UNKNOWN, {str(self.status)!r})"
            )

    def __call__(self, x: Tensor | np.ndarray) -> Tensor | np.ndarray:
        """The field at points x: (n, d) -> (n, out). A numpy array in gives a numpy array out."""
        xt = self._points(x, "Solution(x)")
        return _returned(_predict(self.model, xt), x)

    # --- unknowns -------------------------------------------------------------------------------------
    @property
    def unknowns(self) -> dict[str, Any]:
        """What an inverse problem identified: each ``kanpde.Unknown`` scalar as a number and each
        ``kanpde.UnknownField`` as a ``RecoveredField``, evaluated like the solution (``sol.unknowns["a"](x)``:
        (n, d) -> (n, 1)). Empty for a problem without unknowns. A loaded run (``kanpde.load(DIR)``) has them
        too, without the problem."""
        found = self.model.unknowns
        if found is None:
            return {}
        values: dict[str, Any] = found.scalar_values()
        for name in found.fields:
            values[name] = RecoveredField(self, name)
        return {name: values[name] for name in found.names}

    # --- names ----------------------------------------------------------------------------------------
    @property
    def components(self) -> tuple[str, ...]:
        """The names of the field's components, the columns of ``sol(x)``: the problem's ``components``
        (``outputs``), or those the run recorded, so ``kanpde.load(DIR)`` knows them without the problem;
        ``("u",)`` for one component and ``("u0", "u1", ...)`` for a run saved without names."""
        if self.problem is not None:
            return tuple(self.problem.components)
        out = self.model.out_dim
        names = self.info.get("components") or (self.info.get("problem_description") or {}).get("components")
        if _names_fit(names, out):
            return tuple(names)
        return ("u",) if out == 1 else tuple(f"u{i}" for i in range(out))

    @property
    def axes(self) -> tuple[str, ...]:
        """The names of the coordinates, the columns of x (space first, time last): the problem's domain
        axes, or those the run recorded (``x, y, z`` for a run saved without them)."""
        if self.problem is not None:
            return tuple(self.problem.domain.axes)
        d = self.model.in_dim
        domain = (self.info.get("problem_description") or {}).get("domain")
        for names in (self.info.get("axes"), domain.get("axes") if isinstance(domain, dict) else None):
            if _names_fit(names, d):
                return tuple(names)
        return _axis_names(d)

    @property
    def vectors(self) -> dict[str, tuple[str, ...]]:
        """Components that form a vector (``{"velocity": ("u", "v")}``): the problem's ``vectors``, or those
        the run recorded; entries that name no component of this solution are left out."""
        if self.problem is not None:
            saved = self.problem.vectors
        else:
            saved = self.info.get("vectors") or (self.info.get("problem_description") or {}).get("vectors") or {}
        names = self.components
        if not isinstance(saved, Mapping):
            return {}
        return {
            str(k): tuple(v)
            for k, v in saved.items()
            if isinstance(v, (list, tuple)) and v and all(c in names for c in v)
        }

    @property
    def layout(self) -> Layout:
        """The names :meth:`field` gives its field: components and axes."""
        return Layout(self.components, self.axes)

    # --- derivatives ----------------------------------------------------------------------------------
    def field(self, x: Tensor | np.ndarray) -> Field:
        """The trained field at points x: (n, d) as a ``Field``, for post-processing with ``kanpde.ops``::

            f = sol.field(x)
            vorticity = ops.partial(f["v"], x, "x") - ops.partial(f["u"], x, "y")

        ``f["p"]`` is a component by name and the ops take axis names, as in a residual. A tensor x of the
        solution's dtype and device is used as it is and has ``requires_grad`` switched on (as ``solve``
        does for its points), so the ops take that same x; other input (a numpy array, another dtype) is
        copied: then differentiate with respect to ``f.x``. The whole of x is one autograd graph: for
        many points, or just a derivative's values, use :meth:`derivative`, which works in chunks.
        """
        if not torch.is_grad_enabled():
            raise ConfigError(
                "Solution.field(x) builds an autograd graph, and autograd is off here (torch.no_grad()); "
                "call it outside no_grad, or use sol.derivative(x, ...) for values"
            )
        xt = self._points(x, "Solution.field(x)")
        if not xt.requires_grad:
            xt.requires_grad_(True)
        return field_at(self.model, xt, None, self.layout)

    def derivative(
        self, x: Tensor | np.ndarray, *axes: int | str, component: str | int | None = None, chunk: int = 8192
    ) -> Tensor | np.ndarray:
        """A partial derivative of the trained field at points x: (n, d), e.g. u_xx as
        ``sol.derivative(x, "x", "x", component="u")``: (n, 1) for a component, (n, c) for all c of them
        (component=None); no axes gives the values. Axes are names (``sol.axes``) or column indices;
        component a name (``sol.components``) or an index. Evaluated ``chunk`` points at a time and
        detached; a numpy array in gives a numpy array out. Needs no problem: it works after
        ``kanpde.load(DIR)``. For expressions of several derivatives see :meth:`field`.
        """
        call = f"Solution.derivative(x{''.join(f', {a!r}' for a in axes)})"
        xt = self._points(x, call)
        columns = [self._axis(a, call) for a in axes]
        j = None if component is None else self._component(component, "Solution.derivative")
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ConfigError(f"Solution.derivative chunk must be an int >= 1 (points per pass); got {chunk!r}")
        width = self.model.out_dim if j is None else 1
        out = [xt.new_zeros(0, width)]
        layout = self.layout
        with torch.enable_grad():
            for part in torch.split(xt.detach(), chunk) if xt.shape[0] else ():
                y = part.detach().requires_grad_(True)
                f = field_at(self.model, y, None, layout)
                f = f if j is None else f[j]
                for a in columns:
                    f = f.partial(a)
                out.append(f.values.detach())
        return _returned(torch.cat(out), x)

    def _points(self, x: Tensor | np.ndarray, call: str) -> Tensor:
        """x as a tensor of the model's dtype and device (x itself when it is one), shape checked."""
        p = next(self.model.parameters())
        xt = torch.as_tensor(x, dtype=p.dtype, device=p.device)
        if xt.ndim != 2 or xt.shape[1] != self.model.in_dim:
            raise ShapeError(f"{call} needs points of shape (n, {self.model.in_dim}); got {tuple(xt.shape)}")
        return xt

    def _axis(self, axis: Any, call: str) -> int:
        """The column of x for an axis name or index; a ConfigError naming the axes otherwise."""
        d, names = self.model.in_dim, self.axes
        if isinstance(axis, str) and axis not in names:
            raise ConfigError(
                f"{call}: no coordinate axis named {axis!r}; this solution's axes are "
                f"{', '.join(map(repr, names))} (sol.axes), or give a column index in [0, {d})"
            )
        try:
            return self.layout.axis(axis, d)
        except ConfigError as err:
            raise ConfigError(f"{call}: {err}") from None

    def _component(self, component: Any, call: str) -> int:
        """The column of a component name or index; a ConfigError naming the components otherwise."""
        names = self.components
        known = ", ".join(map(repr, names))
        if isinstance(component, str):
            if component not in names:
                raise ConfigError(
                    f"{call}(component={component!r}): no component named {component!r}; "
                    f"this solution's components are {known} (sol.components)"
                )
            return names.index(component)
        if isinstance(component, bool) or not isinstance(component, (int, np.integer)):
            raise ConfigError(f"{call}: component must be a name ({known}) or an index; got {component!r}")
        if not -len(names) <= component < len(names):
            raise ConfigError(
                f"{call}(component={component}): index out of range for {len(names)} components ({known})"
            )
        return int(component) % len(names)

    @property
    def rel_l2(self) -> float | None:
        return self.errors.get("rel_l2")

    def formula(
        self, *, component: str | int | None = None, points: int = 4096, seed: int = 0, **options: Any
    ) -> Formula | dict[str, Formula]:
        """The trained KAN as a closed-form expression (``kanpde.interpret.formulas.Formula``), with its own errors.

        A scalar problem gets one ``Formula``; a system a dict component name -> ``Formula`` (each with
        its own errors against that component's reference), and ``component="u"`` (a name or an index)
        just that one. ``sympy.sympify(formula)`` is the expression.

        A KAN trained with the symbolic phases (``Prune``, ``Symbolize``; ``kanpde solve --symbolic``) is
        composed as it is. Edges that are still splines are first fitted with symbols on ``points``
        uniform random points of the box (``options``: ``library``, ``complexity_weight``, ``r2_floor``
        of ``kanpde.interpret.symbolized``), without further training, so the formula's own ``rel_l2``
        says how well that worked. Without a reference, ``formula.evidence`` (and ``formula.matches``)
        says it: the problem's loss of the formula against the network's, per edge fits, and a verdict.
        """
        from kanpde.interpret.formulas import solution_formula

        if component is not None:
            j = self._component(component, "Solution.formula")
            return solution_formula(self, points=points, seed=seed, components=(j,), **options)
        whole = solution_formula(self, points=points, seed=seed, **options)
        if len(self.components) == 1:
            return whole
        return {name: whole.component(name) for name in self.components}

    def report(self) -> dict[str, Any]:
        """The content of ``report.json``."""
        model = self.model.net.describe()
        model["params"] = count_parameters(self.model)
        if self.problem is not None:
            problem, params = self.problem.name or type(self.problem).__name__, dict(self.problem.params)
        else:
            problem, params = self.info.get("problem"), self.info.get("problem_params", {})
        found = self.model.unknowns
        identified = {} if found is None else {"unknowns": found.scalar_values() | {n: "field" for n in found.fields}}
        return {
            "format": FORMAT_VERSION,
            "kanpde_version": __version__,
            "problem": problem,
            "problem_params": params,
            "model": model,
            **identified,
            "rel_l2": self.errors.get("rel_l2"),
            "max_abs": self.errors.get("max_abs"),
            **{k: v for k, v in self.errors.items() if k not in ("rel_l2", "max_abs")},
            "status": self.status.message,
            "status_kind": self.status.kind.value,
            "stop_reason": self.status.stop_reason,
            **{k: v for k, v in self.info.items() if k not in ("problem", "problem_params")},
            **self._names(),
            "phases": list(self.phases),
            "history": list(self.history),
        }

    def _names(self) -> dict[str, Any]:
        """``components``, ``axes`` and ``vectors``, for model.json and report.json."""
        return {
            "components": list(self.components),
            "axes": list(self.axes),
            "vectors": {k: list(v) for k, v in self.vectors.items()},
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``model.pt``, ``model.json`` and ``report.json`` into the folder ``path`` (created if needed)."""
        folder = check_output_folder(path, "Solution.save path")
        folder.mkdir(parents=True, exist_ok=True)
        description = {
            "format": FORMAT_VERSION,
            "kanpde_version": __version__,
            "surrogate": self.model.describe(),
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "problem": self.problem.describe() if self.problem is not None else self.info.get("problem_description"),
            **self._names(),
        }
        state = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        atomic_write(folder / "model.pt", lambda f: torch.save(state, f), binary=True)
        atomic_write(folder / "model.json", lambda f: json.dump(description, f, indent=1))
        atomic_write(folder / "report.json", lambda f: json.dump(jsonable(self.report()), f, indent=1))
        return folder


class RecoveredField:
    """An identified ``kanpde.UnknownField`` of a solution, evaluated like the solution itself:
    ``field(x)`` for points x: (n, d) gives (n, 1) (numpy in, numpy out)."""

    def __init__(self, solution: Solution, name: str) -> None:
        self.solution, self.name = solution, name

    def __call__(self, x: Tensor | np.ndarray) -> Tensor | np.ndarray:
        xt = self.solution._points(x, f"sol.unknowns[{self.name!r}](x)")
        net = self.solution.model.unknowns.field(self.name)
        with torch.no_grad():
            values = torch.cat([net(c) for c in torch.split(xt, 16384)]) if xt.shape[0] else net(xt)
        return _returned(values.reshape(-1, 1), x)

    def __repr__(self) -> str:
        return f"RecoveredField({self.name!r})"


def _axis_names(d: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{i}" for i in range(d))


def _names_fit(names: Any, count: int) -> bool:
    """Whether saved ``names`` are ``count`` distinct strings (a damaged or foreign entry is not used)."""
    return (
        isinstance(names, (list, tuple))
        and len(names) == count
        and all(isinstance(n, str) and n for n in names)
        and len(set(names)) == count
    )


def _returned(out: Tensor, x: Any) -> Tensor | np.ndarray:
    """``out`` as the caller's kind: numpy for a numpy x, on x's device for a tensor x."""
    if isinstance(x, np.ndarray):
        return out.cpu().numpy()
    return out if not isinstance(x, Tensor) else out.to(x.device)


def load(
    path: str | os.PathLike[str], problem: Problem | None = None, *, device: str | torch.device = "cpu"
) -> Solution:
    """Load a saved run. ``sol(x)`` works without the problem; pass ``problem`` (or save a built-in
    instance) to get what needs it, such as errors recomputed on the evaluation grid.

    A folder that is not a kanpde run, or whose ``model.json`` or ``model.pt`` is damaged (not JSON, an
    entry missing, a truncated file, a pickle of other Python objects, weights of another network) is
    refused with one ``ConfigError`` line naming the file. ``model.pt`` is read with ``weights_only=True``
    whatever it holds, so loading never runs code from the file. A damaged ``report.json`` loses only
    what it recorded: the run loads without it (status unknown, no history) and a ``UserWarning`` says so.
    """
    folder = Path(path)
    where = f"kanpde.load({str(folder)!r})"
    for name in ("model.pt", "model.json"):
        if not (folder / name).is_file():
            raise ConfigError(
                f"{where}: {name} is missing; pass a folder written by Solution.save or `kanpde solve --out`"
            )
    description = read_description(folder, where)
    problem_desc = description.get("problem") or {}
    if problem is None and problem_desc.get("name") in instances():
        problem = instance(problem_desc["name"], **problem_desc.get("params", {}))
    model = rebuild(description, problem, where)
    load_weights(model, folder / "model.pt", description, where)
    model = model.to(device)
    if problem is not None and problem.unknowns:
        bind(problem, model.unknowns)  # its residual reads the identified values
    report = read_report(folder / "report.json", where)
    errors = {k: report[k] for k in report if is_error_key(k) and isinstance(report[k], (int, float))}
    if problem is not None:
        errors = evaluate_errors(model, problem) or errors
    skip = {
        "format",
        "kanpde_version",
        "model",
        "rel_l2",
        "max_abs",
        "status",
        "status_kind",
        "stop_reason",
        "phases",
        "history",
        "problem",
        "problem_params",
    }
    info = {k: v for k, v in report.items() if k not in skip and not is_error_key(k)}
    info.update(
        problem=report.get("problem"),
        problem_params=report.get("problem_params", {}),
        problem_description=problem_desc or None,
    )
    for key in ("components", "axes", "vectors"):  # report.json has them; model.json too (format 1, kanpde >= systems)
        if info.get(key) is None and description.get(key) is not None:
            info[key] = description[key]
    return Solution(
        model=model,
        problem=problem,
        status=Status.read(
            report.get("status") or "unknown: the run folder has no status",
            report.get("status_kind"),
            report.get("stop_reason"),
        ),
        errors=errors,
        history=tuple(report.get("history", ())),
        phases=tuple(report.get("phases", ())),
        info=info,
    )
