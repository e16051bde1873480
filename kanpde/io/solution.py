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
from kanpde.io.status import Status
from kanpde.metrics import errors as error_metrics
from kanpde.pde.problem import Problem
from kanpde.pde.registry import instance, instances
from kanpde.pinn.surrogate import Surrogate, count_parameters

if TYPE_CHECKING:
    from kanpde.interpret.formulas import Formula

__all__ = ["Solution", "load", "evaluate_errors", "FORMAT_VERSION"]

FORMAT_VERSION = 1
"""The layout of a saved run (model.json, model.pt, report.json). 1: this layout with ``format`` written;
0: runs saved before, which have the same layout and load unchanged."""


def evaluate_errors(model: Surrogate, problem: Problem) -> dict[str, float]:
    """``{"rel_l2", "max_abs"}`` of the model against the problem's reference (its exact solution, or a
    numerical reference) on its evaluation grid; an empty dict when it has neither.
    """
    p = next(model.parameters())
    x = torch.as_tensor(problem.evaluation_grid().points(), dtype=p.dtype, device=p.device)
    ref = problem.reference_values(x)
    return {} if ref is None else error_metrics(_predict(model, x), ref)


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
        errors: ``{"rel_l2", "max_abs"}`` on the problem's evaluation grid (empty without a reference).
        history: entries ``{step, t, loss, phase, grid, rel_l2?}`` and events (``"event"`` key).
        phases: one dict per phase: its kind, steps, times and the status it ended with.
        info: steps, timings, device, dtype, seed, parameter count, budget.
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
        as_numpy = isinstance(x, np.ndarray)
        p = next(self.model.parameters())
        xt = torch.as_tensor(x, dtype=p.dtype, device=p.device)
        if xt.ndim != 2 or xt.shape[1] != self.model.in_dim:
            raise ShapeError(f"Solution(x) needs points of shape (n, {self.model.in_dim}); got {tuple(xt.shape)}")
        out = _predict(self.model, xt)
        if as_numpy:
            return out.cpu().numpy()
        return out if not isinstance(x, Tensor) else out.to(x.device)

    @property
    def rel_l2(self) -> float | None:
        return self.errors.get("rel_l2")

    def formula(self, *, points: int = 4096, seed: int = 0, **options: Any) -> Formula:
        """The trained KAN as a closed-form expression (``kanpde.interpret.formulas.Formula``), with its own errors.

        A KAN trained with the symbolic phases (``Prune``, ``Symbolize``; ``kanpde solve --symbolic``) is
        composed as it is. Edges that are still splines are first fitted with symbols on ``points``
        uniform random points of the box (``options``: ``library``, ``complexity_weight``, ``r2_floor``
        of ``kanpde.interpret.symbolized``), without further training, so the formula's own ``rel_l2``
        says how well that worked. ``sympy.sympify(formula)`` is the expression.
        """
        from kanpde.interpret.formulas import Formula, surrogate_formula, symbolized
        from kanpde.nets.kan import KAN

        if not isinstance(self.model.net, KAN):
            raise ConfigError(f"formula() needs a KAN; this solution's model is an {type(self.model.net).__name__}")
        model, choices = self.model, []
        if not model.net.symbolic:
            gen = torch.Generator().manual_seed(seed)
            lo, hi = model.lower, model.upper
            x = lo + (hi - lo) * torch.rand(points, lo.numel(), generator=gen, dtype=torch.float64).to(lo)
            model, choices = symbolized(model, x, **options)
        axes = self.problem.domain.axes if self.problem is not None else _axis_names(model.in_dim)
        exprs, variables = surrogate_formula(model, axes)
        return Formula.build(exprs, variables, self.problem, choices)

    def report(self) -> dict[str, Any]:
        """The content of ``report.json``."""
        model = self.model.net.describe()
        model["params"] = count_parameters(self.model)
        if self.problem is not None:
            problem, params = self.problem.name or type(self.problem).__name__, dict(self.problem.params)
        else:
            problem, params = self.info.get("problem"), self.info.get("problem_params", {})
        return {
            "format": FORMAT_VERSION,
            "kanpde_version": __version__,
            "problem": problem,
            "problem_params": params,
            "model": model,
            "rel_l2": self.errors.get("rel_l2"),
            "max_abs": self.errors.get("max_abs"),
            "status": self.status.message,
            "status_kind": self.status.kind.value,
            **{k: v for k, v in self.info.items() if k not in ("problem", "problem_params")},
            "phases": list(self.phases),
            "history": list(self.history),
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
        }
        state = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        atomic_write(folder / "model.pt", lambda f: torch.save(state, f), binary=True)
        atomic_write(folder / "model.json", lambda f: json.dump(description, f, indent=1))
        atomic_write(folder / "report.json", lambda f: json.dump(jsonable(self.report()), f, indent=1))
        return folder


def _check_format(description: dict[str, Any], folder: Path) -> int:
    """The format version of a run folder: 0 for runs saved before versions were written (they load as
    they are), up to ``FORMAT_VERSION``; a newer one is refused with the fix."""
    version = description.get("format", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ConfigError(f"kanpde.load({str(folder)!r}): model.json has format {version!r}; expected an int >= 0")
    if version > FORMAT_VERSION:
        raise ConfigError(
            f"kanpde.load({str(folder)!r}): the run was saved in format {version} by kanpde "
            f"{description.get('kanpde_version', '?')}; this kanpde {__version__} reads formats up to {FORMAT_VERSION}. Upgrade kanpde"
        )
    return version


def _axis_names(d: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{i}" for i in range(d))


def load(
    path: str | os.PathLike[str], problem: Problem | None = None, *, device: str | torch.device = "cpu"
) -> Solution:
    """Load a saved run. ``sol(x)`` works without the problem; pass ``problem`` (or save a built-in
    instance) to get what needs it, such as errors recomputed on the evaluation grid."""
    folder = Path(path)
    for name in ("model.pt", "model.json"):
        if not (folder / name).is_file():
            raise ConfigError(
                f"kanpde.load({str(folder)!r}): {name} is missing; pass a folder written by Solution.save or `kanpde solve --out`"
            )
    description = json.loads((folder / "model.json").read_text())
    _check_format(description, folder)
    problem_desc = description.get("problem") or {}
    if problem is None and problem_desc.get("name") in instances():
        problem = instance(problem_desc["name"], **problem_desc.get("params", {}))
    model = Surrogate.from_description(description["surrogate"], problem)
    model = model.to(dtype=getattr(torch, description.get("dtype", "float64")))
    state = torch.load(folder / "model.pt", weights_only=True, map_location="cpu")
    model.load_state_dict(state)
    model = model.to(device)
    report = json.loads((folder / "report.json").read_text()) if (folder / "report.json").is_file() else {}
    errors = {k: report[k] for k in ("rel_l2", "max_abs") if report.get(k) is not None}
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
        "phases",
        "history",
        "problem",
        "problem_params",
    }
    info = {k: v for k, v in report.items() if k not in skip}
    info.update(
        problem=report.get("problem"),
        problem_params=report.get("problem_params", {}),
        problem_description=problem_desc or None,
    )
    return Solution(
        model=model,
        problem=problem,
        status=Status.read(report.get("status") or "unknown: the run folder has no status", report.get("status_kind")),
        errors=errors,
        history=tuple(report.get("history", ())),
        phases=tuple(report.get("phases", ())),
        info=info,
    )
