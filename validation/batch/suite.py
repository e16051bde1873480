"""Validation suites: a TOML file of cases (problem x surrogate x seed x budget, each with a tolerance).

A suite is read and checked in full before any case runs; a mistake is a ``ConfigError`` that names the
file, the case, the field, the value and the fix, and nothing is written. The schema::

    [suite]                       # optional
    name = "smoke"

    [defaults]                    # optional: any case field except problem and name
    model = "kan"                 # "kan" or "mlp"
    hidden = [10]                 # hidden layer widths; inputs and outputs come from the problem
    grid = 5                      # KAN only (a default grid or k is ignored by MLP cases): grid intervals G
    k = 3                         # KAN only: spline order
    seeds = [0, 1]                # or seed = 0; a list expands into one case per seed
    budget = 60                   # training seconds, and/or
    steps = 2000                  # optimizer iterations (whichever ends first)
    tol = 1e-2                    # a case passes when its relative L2 error is <= tol
    tol_unknowns = 1e-2           # optional, inverse problems: and each identified unknown's error is <=
                                  # this (rel_err_<name> of a scalar, rel_l2_<name> of a field); a
                                  # default one is ignored by problems without unknowns
    dtype = "float64"             # or "float32"
    device = "cpu"                # optional: "cpu" or "cuda"; default: the worker's device

    [[case]]
    problem = "poisson_sin"       # a built-in instance (`kanpde list`), or "package.module:Class"
    model = "mlp"
    tol = 5e-2
    name = "sin-mlp"              # optional; the case id is NAME-sSEED (default: problem-model-width-gG-sSEED)

A problem is a built-in name or a problem class of one's own, ``"package.module:Class"``: the module is
imported (it must be importable where the cases run: ``kanpde validate`` puts the current folder on the
import path, and local workers inherit it; Dask workers need it installed) and ``Class()`` is built with
no arguments, once here to check it and again in the worker. Its default case id starts with the class
name. A bare suite name (``load_suite("gallery")``) is a suite shipped in ``suites/``
(:func:`shipped_suites`).

The network width is ``[inputs, *hidden, outputs]`` where inputs is
``kanpde.solvers.network_inputs(problem, model)`` (3 for ``allen_cahn``, whose periodic x enters as cos
and sin) and outputs the problem's number of components, so one ``hidden`` fits every problem.
Without ``hidden`` a KAN gets [10] and an MLP [100, 100, 100], as in ``kanpde solve``.
"""

from __future__ import annotations

import importlib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kanpde.checks import is_int
from kanpde.errors import ConfigError
from kanpde.pde.problem import Problem
from kanpde.solvers.recipes import DEFAULT_HIDDEN

__all__ = [
    "Case",
    "Suite",
    "load_suite",
    "parse_suite",
    "default_suite_path",
    "shipped_suites",
    "build_problem",
    "DEFAULT_HIDDEN",
]

CASE_FIELDS = {
    "problem",
    "name",
    "model",
    "hidden",
    "grid",
    "k",
    "seed",
    "seeds",
    "budget",
    "steps",
    "tol",
    "tol_unknowns",
    "dtype",
    "device",
}
KAN_ONLY = ("grid", "k")
_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
_CLASS_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


@dataclass(frozen=True, kw_only=True)
class Case:
    """One validation run: ``solve(build_problem(problem), model, budget=, steps=, seed=)``, passed when
    ``rel_l2 <= tol`` (and, with ``tol_unknowns``, when the error of every unknown the problem identifies
    is at most that); ``problem`` is a built-in name or ``"package.module:Class"`` (a string, so a case
    travels to worker processes as plain data). Built by :func:`parse_suite`, which checks every field."""

    id: str
    problem: str
    model: str
    hidden: tuple[int, ...]
    grid: int | None
    k: int | None
    seed: int
    budget: float | None
    steps: int | None
    tol: float
    dtype: str = "float64"
    device: str | None = None
    tol_unknowns: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        if self.tol_unknowns is None:  # the settings of a case without it read as they always did (resume)
            del out["tol_unknowns"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Case:
        return cls(**{**data, "hidden": tuple(data["hidden"])})


@dataclass(frozen=True, kw_only=True)
class Suite:
    """A named list of cases with unique ids; ``source`` is the file it was read from."""

    name: str
    cases: tuple[Case, ...]
    source: str = ""


def default_suite_path() -> Path:
    """The suite ``kanpde validate`` runs without a SUITE argument (shipped as package data)."""
    return Path(str(resources.files("kanpde.validation.batch").joinpath("suites", "default.toml")))


def shipped_suites() -> dict[str, Path]:
    """The suites shipped with kanpde (``suites/*.toml`` beside this module), by name: ``default``,
    ``gallery`` (the problems of ``kanpde.problems.gallery``), ..."""
    folder = Path(str(resources.files("kanpde.validation.batch").joinpath("suites")))
    return {f.stem: f for f in sorted(folder.glob("*.toml"))}


def load_suite(path: str | os.PathLike[str] | None = None) -> Suite:
    """Read and check a suite: a TOML file, or the name of a shipped suite (``"gallery"``: a bare name
    with no suffix that is not an existing path; see :func:`shipped_suites`). Default:
    :func:`default_suite_path`."""
    file = _suite_file(path)
    if not file.is_file():
        raise ConfigError(
            f"suite file {str(file)!r} does not exist; pass a TOML suite file (see kanpde.validation.batch.suite for the schema) "
            f"or the name of a shipped suite ({', '.join(shipped_suites())})"
        )
    toml = _toml()
    try:
        data = toml.loads(file.read_text())
    except (toml.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: not valid TOML ({err}); fix the syntax") from None
    return parse_suite(data, source=str(file), default_name=file.stem)


def _suite_file(path: str | os.PathLike[str] | None) -> Path:
    """The file ``load_suite(path)`` reads: a path as given, or for a bare name a shipped suite."""
    if path is None:
        return default_suite_path()
    file = Path(path)
    if file.exists() or file.suffix or len(file.parts) != 1:
        return file
    shipped = shipped_suites()
    if file.name not in shipped:
        raise ConfigError(
            f"unknown suite {str(path)!r}: no such file, and no shipped suite has that name; the shipped suites are "
            f"{', '.join(shipped)}; or pass the path of a TOML suite file"
        )
    return shipped[file.name]


def build_problem(name: str) -> Problem:
    """The problem a case names: a built-in instance (``"poisson_sin"``) or, for ``"package.module:Class"``,
    ``Class()`` from that module. Raises a ``ConfigError`` that says what is wrong and how to fix it."""
    if ":" in name:
        return _class_problem(name, f"problem {name!r}")
    from kanpde.pde.registry import instance

    return instance(name)


def _class_problem(path: str, where: str) -> Problem:
    """``Class()`` for ``path = "package.module:Class"``; ``where`` starts each error message."""
    if not _CLASS_PATH.match(path):
        raise ConfigError(
            f'{where}: a problem class is named "package.module:Class" (a dotted module path, one colon, a class name); got {path!r}'
        )
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # ImportError, or the module's own code failing as it runs
        raise ConfigError(
            f"{where}: cannot import module {module_name!r} ({type(err).__name__}: {err}); check the name, and that "
            "the module is importable where the cases run (from the current folder, or an installed package)"
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        found = sorted(
            name
            for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, Problem) and value.__module__ == module.__name__
        )
        classes = f"its Problem classes are {', '.join(found)}" if found else "it defines no kanpde.Problem subclass"
        raise ConfigError(f"{where}: module {module_name!r} has no {class_name!r}; {classes}")
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        what = f"the class {cls.__qualname__}" if isinstance(cls, type) else f"an object of type {type(cls).__name__}"
        raise ConfigError(
            f"{where}: {module_name}.{class_name} is {what}, not a kanpde.Problem subclass; name a class that "
            "subclasses kanpde.Problem"
        )
    try:
        problem = cls()
    except Exception as err:  # the user's constructor or the checks of Problem.validate
        raise ConfigError(
            f"{where}: {class_name}() raised {type(err).__name__}: {err}; a suite builds the class with no "
            "arguments: give every argument of its __init__ a default, or fix what the error names"
        ) from None
    if not isinstance(problem, Problem):  # a __new__ that returns something else
        raise ConfigError(f"{where}: {class_name}() returned a {type(problem).__name__}, not a kanpde.Problem")
    return problem


def parse_suite(data: Mapping[str, Any], *, source: str = "suite", default_name: str = "suite") -> Suite:
    """Check a suite given as parsed TOML and expand it into cases (one per seed)."""
    from kanpde.pde.registry import instances

    unknown = set(data) - {"suite", "defaults", "case"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown table(s) {', '.join(sorted(unknown))}; a suite has [suite], [defaults] and [[case]] tables"
        )
    meta = _table(data.get("suite", {}), "[suite]", source)
    if set(meta) - {"name"}:
        raise ConfigError(f"{source}: [suite] takes only name; got {', '.join(sorted(set(meta) - {'name'}))}")
    name = meta.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: [suite] name must be a non-empty string; got {name!r}")
    defaults = _table(data.get("defaults", {}), "[defaults]", source)
    for key in ("problem", "name"):
        if key in defaults:
            raise ConfigError(f"{source}: [defaults] cannot set {key!r} (it is per case); move it into each [[case]]")
    _check_keys(defaults, "[defaults]", source)
    raw_cases = data.get("case")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise ConfigError(
            f'{source}: no cases; add at least one [[case]] table with problem = "poisson_sin" (a `kanpde list` name)'
        )
    known = instances()
    cases: list[Case] = []
    for i, raw in enumerate(raw_cases, start=1):
        raw = _table(raw, f"[[case]] {i}", source)
        where = f"{source}: [[case]] {i}" + (f" ({raw['problem']})" if isinstance(raw.get("problem"), str) else "")
        _check_keys(raw, where, "")
        merged = {**defaults, **raw}
        if "seed" in raw and "seeds" in defaults:
            merged.pop("seeds")
        if "seeds" in raw and "seed" in defaults:
            merged.pop("seed")
        cases.extend(_expand(merged, raw, where, known))
    ids: dict[str, int] = {}
    for c in cases:
        if c.id in ids:
            raise ConfigError(
                f'{source}: case id {c.id!r} appears twice; give the cases distinct names (name = "...") or seeds'
            )
        ids[c.id] = 1
    return Suite(name=name, cases=tuple(cases), source=source)


def _expand(m: dict[str, Any], raw: Mapping[str, Any], where: str, known: Mapping[str, str]) -> list[Case]:
    problem = m.get("problem")
    if not isinstance(problem, str):
        raise ConfigError(
            f'{where}: problem is required, a built-in name such as "poisson_sin" or a class "package.module:Class"; got {problem!r}'
        )
    if ":" in problem:
        _class_problem(problem, where)  # importable, a Problem, built with no arguments: checked before any case runs
    elif problem not in known:
        raise ConfigError(
            f"{where}: problem {problem!r} is unknown; the built-in problems are: {', '.join(known)} (see `kanpde list`), "
            'or name a problem class of your own as "package.module:Class"'
        )
    model = m.get("model", "kan")
    if model not in DEFAULT_HIDDEN:
        raise ConfigError(f'{where}: model must be "kan" or "mlp"; got {model!r}')
    hidden = m.get("hidden", list(DEFAULT_HIDDEN[model]))
    if not isinstance(hidden, list) or not hidden or not all(is_int(h) and h >= 1 for h in hidden):
        raise ConfigError(
            f"{where}: hidden must be a non-empty list of ints >= 1 (hidden layer widths, e.g. [10]); got {hidden!r}"
        )
    grid, k = m.get("grid"), m.get("k")
    if model == "mlp":
        for key in KAN_ONLY:
            if key in raw:
                raise ConfigError(f'{where}: {key} applies to model = "kan" only; drop it or use model = "kan"')
        grid = k = None
    else:
        grid, k = (5 if grid is None else grid), (3 if k is None else k)
        for key, value in (("grid", grid), ("k", k)):
            if not is_int(value) or value < 1:
                raise ConfigError(f"{where}: {key} must be an int >= 1; got {value!r}")
    if "seed" in m and "seeds" in m:
        raise ConfigError(f"{where}: give seed or seeds, not both")
    seeds = m.get("seeds", [m.get("seed", 0)])
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(is_int(s) and s >= 0 for s in seeds)
        or len(set(seeds)) != len(seeds)
    ):
        raise ConfigError(
            f"{where}: seeds must be a non-empty list of distinct ints >= 0 (seed: one int >= 0); got {seeds!r}"
        )
    budget, steps = m.get("budget"), m.get("steps")
    if budget is None and steps is None:
        raise ConfigError(
            f"{where}: no budget; set budget (training seconds, e.g. 60) or steps (optimizer iterations), here or in [defaults]"
        )
    if budget is not None and (not _is_number(budget) or not math.isfinite(budget) or budget <= 0):
        raise ConfigError(f"{where}: budget must be a number of seconds > 0; got {budget!r}")
    if steps is not None and (not is_int(steps) or steps < 1):
        raise ConfigError(f"{where}: steps must be an int >= 1; got {steps!r}")
    tol = m.get("tol")
    if not _is_number(tol) or not math.isfinite(tol) or tol <= 0:
        raise ConfigError(
            f"{where}: tol must be a relative L2 error > 0 such as 1e-2, here or in [defaults]; got {tol!r}"
        )
    tol_unknowns = m.get("tol_unknowns")
    if tol_unknowns is not None:
        tol_unknowns = _check_tol_unknowns(tol_unknowns, problem, where, given="tol_unknowns" in raw)
    dtype = m.get("dtype", "float64")
    if dtype not in ("float32", "float64"):
        raise ConfigError(f'{where}: dtype must be "float32" or "float64"; got {dtype!r}')
    device = m.get("device")
    if device is not None and (not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda")):
        raise ConfigError(
            f'{where}: device must be "cpu" or "cuda" (or "cuda:N"), or left out for the worker\'s device; got {device!r}'
        )
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not _ID.match(name)):
        raise ConfigError(
            f"{where}: name must be letters, digits, '_', '-' or '.' (it names the case folder); got {name!r}"
        )
    label = problem.rpartition(":")[2]  # a class's name, or the built-in name
    stem = name or f"{label}-{model}-{'x'.join(map(str, hidden))}" + (f"-g{grid}" if grid is not None else "")
    return [
        Case(
            id=f"{stem}-s{s}",
            problem=problem,
            model=model,
            hidden=tuple(hidden),
            grid=grid,
            k=k,
            seed=s,
            budget=None if budget is None else float(budget),
            steps=steps,
            tol=float(tol),
            dtype=dtype,
            device=device,
            tol_unknowns=tol_unknowns,
        )
        for s in seeds
    ]


def _check_tol_unknowns(tol: Any, problem: str, where: str, *, given: bool) -> float | None:
    """``tol_unknowns`` as a float: a number > 0, for a problem with unknowns, each with a truth to judge
    against. One from [defaults] (not ``given`` in the case) is None for a problem without unknowns."""
    if not _is_number(tol) or not math.isfinite(tol) or tol <= 0:
        raise ConfigError(
            f"{where}: tol_unknowns must be a relative error > 0 such as 1e-2 (for each identified unknown); got {tol!r}"
        )
    declared = build_problem(problem).unknowns
    if not declared and not given:
        return None
    if not declared:
        raise ConfigError(
            f"{where}: tol_unknowns judges the unknowns of an inverse problem, and {problem} has none; drop tol_unknowns"
        )
    unjudged = [u.name for u in declared if u.exact is None]
    if unjudged:
        raise ConfigError(
            f"{where}: tol_unknowns needs the true value of each unknown, and {problem} declares none for "
            f"{', '.join(unjudged)}; give them exact=..., or drop tol_unknowns"
        )
    return float(tol)


def _check_keys(table: Mapping[str, Any], where: str, source: str) -> None:
    unknown = set(table) - CASE_FIELDS
    if unknown:
        prefix = f"{source}: " if source else ""
        hint = (
            " (give hidden layers only: hidden = [10]; inputs and outputs come from the problem)"
            if "width" in unknown
            else ""
        )
        raise ConfigError(
            f"{prefix}{where}: unknown field(s) {', '.join(sorted(unknown))}{hint}; the fields are {', '.join(sorted(CASE_FIELDS))}"
        )


def _table(value: Any, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {where} must be a table; got {value!r}")
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _toml() -> Any:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:
        import tomli as tomllib  # the backport, a dependency on Python 3.10
    return tomllib
