"""The files of a saved run folder, read and checked: ``model.json`` (the description the surrogate is
rebuilt from), ``model.pt`` (weights, read with ``weights_only=True``) and ``report.json`` (the record of
the run). :func:`kanpde.io.solution.load` puts them together into a ``Solution``.

A damaged ``model.json`` or ``model.pt`` is refused with one ``ConfigError`` line naming the file and the
fix; a damaged ``report.json`` only loses the record (a warning says so), since it holds no weights.
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from kanpde._version import __version__
from kanpde.errors import ConfigError, KanpdeError
from kanpde.pde.problem import Problem
from kanpde.pinn.surrogate import Surrogate

__all__ = [
    "FORMAT_VERSION",
    "check_format",
    "is_error_key",
    "read_description",
    "rebuild",
    "load_weights",
    "read_report",
]

FORMAT_VERSION = 1
"""The layout of a saved run (model.json, model.pt, report.json). 1: this layout with ``format`` written;
0: runs saved before, which have the same layout and load unchanged."""


def check_format(description: dict[str, Any], folder: Path) -> int:
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


def is_error_key(key: str) -> bool:
    """``rel_l2``, ``max_abs``, their per-component (and per unknown field) forms ``rel_l2_<name>``,
    ``max_abs_<name>``, and the relative error of an unknown scalar ``rel_err_<name>``."""
    return key in ("rel_l2", "max_abs") or key.startswith(("rel_l2_", "max_abs_", "rel_err_"))


_DAMAGED = "restore the run folder from a copy, or solve again"


def _read_json(path: Path) -> tuple[Any, str | None]:
    """The content of a JSON file, or None and why it could not be read."""
    try:
        return json.loads(path.read_text()), None
    except json.JSONDecodeError as err:
        return None, f"is not valid JSON ({err})"
    except UnicodeDecodeError:
        return None, "is not a text file"


def read_description(folder: Path, where: str) -> dict[str, Any]:
    """model.json as a dict with its format checked; a ConfigError naming the file otherwise."""
    description, why = _read_json(folder / "model.json")
    if why is None and not isinstance(description, dict):
        why = f"holds a JSON {type(description).__name__}, not the object Solution.save writes"
    if why is None:
        check_format(description, folder)  # a newer format is told to upgrade, not called damaged
        problem_desc = description.get("problem") or {}
        if not isinstance(problem_desc, dict) or not isinstance(problem_desc.get("params", {}), dict):
            why = f"has a 'problem' entry that is not a problem description ({problem_desc!r:.60})"
        elif description.get("dtype", "float64") not in ("float32", "float64"):
            why = f"has dtype {description.get('dtype')!r}; expected 'float32' or 'float64'"
    if why is not None:
        raise ConfigError(f"{where}: model.json {why}; the file is damaged or not from kanpde: {_DAMAGED}")
    return description


def rebuild(description: dict[str, Any], problem: Problem | None, where: str) -> Surrogate:
    """The surrogate model.json describes, in its dtype, with fresh weights."""
    try:
        model = Surrogate.from_description(description["surrogate"], problem)
    except KeyError as err:
        raise ConfigError(
            f"{where}: model.json has no {err.args[0]!r} entry, which the surrogate is rebuilt from; "
            f"the file is damaged or not from kanpde: {_DAMAGED}"
        ) from None
    except KanpdeError as err:
        raise type(err)(f"{where}: model.json: {err}") from None
    except (TypeError, ValueError, AttributeError, IndexError) as err:
        raise ConfigError(
            f"{where}: model.json does not describe a surrogate kanpde can rebuild ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no detail'}); {_DAMAGED}"
        ) from None
    return model.to(dtype=getattr(torch, description.get("dtype", "float64")))


def load_weights(model: Surrogate, path: Path, description: dict[str, Any], where: str) -> None:
    """Read model.pt as plain tensors (never running code from it) into ``model``, which must fit them."""
    try:
        with warnings.catch_warnings():  # torch's notes on the pickle protocol: the outcome is said below
            warnings.simplefilter("ignore")
            state = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as err:
        raise ConfigError(f"{where}: model.pt {_unreadable(path, str(err))}") from None
    except Exception:  # torch raises KeyError, EOFError, RuntimeError, ... on a file that is not its own
        raise ConfigError(f"{where}: model.pt is not a torch file (truncated or damaged); {_DAMAGED}") from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ConfigError(
            f"{where}: model.pt holds a {type(state).__name__}, not the dict of tensors Solution.save writes; "
            + _DAMAGED
        )
    mismatch = _weights_mismatch(model.state_dict(), state)
    if mismatch:
        net = description["surrogate"].get("net", {})
        name = f"{str(net.get('kind', '?')).upper()} {net.get('width')}" + (
            f" grid {net['grid']}" if net.get("grid") else ""
        )
        raise ConfigError(
            f"{where}: model.pt does not fit the {name} model.json describes ({mismatch}); the two files come "
            "from different runs or one was damaged: restore the pair one save wrote, or solve again"
        )
    model.load_state_dict(state)


def _unreadable(path: Path, message: str) -> str:
    """Why torch's weights-only reader refused a file, in kanpde's words (never torch's hint to disable it)."""
    found = re.search(r"GLOBAL ([\w.]+)", message)
    with open(path, "rb") as f:
        head = f.read(1)
    if found:
        what = f"holds pickled Python objects ({found.group(1)})"
    elif head in (b"\x80", b"P"):  # a pickle's protocol mark, or a torch (zip) file
        what = "is a Python pickle"
    else:
        return f"is not a torch file (truncated or damaged); {_DAMAGED}"
    return (
        f"{what}, not the plain tensors Solution.save writes; kanpde reads weights only and never runs code "
        f"from a file: pass a folder written by kanpde, or {_DAMAGED}"
    )


def _weights_mismatch(expected: Mapping[str, Tensor], found: Mapping[str, Tensor]) -> str:
    """What differs between two state dicts (missing, unexpected, shapes), or "" when they fit."""

    def some(names: list[str]) -> str:
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [
        f"{k} is {tuple(found[k].shape)} where {tuple(expected[k].shape)} is expected"
        for k in expected
        if k in found and found[k].shape != expected[k].shape
    ]
    parts = [f"missing {some(missing)}"] if missing else []
    parts += [f"unexpected {some(unexpected)}"] if unexpected else []
    parts += [some(shapes)] if shapes else []
    return "; ".join(parts)


def read_report(path: Path, where: str) -> dict[str, Any]:
    """report.json, or {} when there is none; a damaged one is left out with a warning (it holds no weights)."""
    if not path.is_file():
        return {}
    report, why = _read_json(path)
    if why is None:
        why = _report_problem(report)
    if why is None:
        return report
    warnings.warn(
        f"{where}: report.json {why}; loaded without it (status unknown, no history or saved errors)",
        stacklevel=3,
    )
    return {"status": f"unknown: report.json {why}"}


def _report_problem(report: Any) -> str | None:
    """Why a parsed report.json cannot be used, or None."""
    if not isinstance(report, dict):
        return f"holds a JSON {type(report).__name__}, not an object"
    for key in ("history", "phases"):
        if not isinstance(report.get(key, []), list) or not all(isinstance(h, dict) for h in report.get(key, [])):
            return f"has a {key!r} entry that is not a list of objects"
    for key in ("status", "status_kind", "stop_reason", "problem"):
        if report.get(key) is not None and not isinstance(report[key], str):
            return f"has a {key!r} entry that is not a string"
    for key in filter(is_error_key, report):
        if report[key] is not None and not isinstance(report[key], (int, float)):
            return f"has a {key!r} entry that is not a number"
    return None
