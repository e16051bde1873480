"""The arrays an export writes, by name: one per component, one per declared vector, with their references
and errors.

A scalar problem writes ``u`` (its component's name), ``reference``, ``error`` (``u - reference``) and
``residual``, as it always has. A system (``outputs = ("u", "v", "p")``) writes each component as a named
scalar array (``u``, ``v``, ``p``), each vector of ``Problem.vectors`` as a 3-component array (``velocity``:
(N, 3), zero-padded in 2-D, which VTK and ParaView read as a vector: glyphs, streamlines), and where a
reference is known ``reference_<name>`` and ``error_<name>`` for every component and vector; a residual
with several equations becomes ``residual_0``, ``residual_1``, ... (one per equation, in the order the
residual returns them).

An inverse problem's identified coefficient fields (``kanpde.UnknownField``) are written beside the
solution under their own names (``a``), with ``reference_<name>`` (the true field, where the problem
declares it with ``exact=``) and ``error_<name>`` (identified - true), in every format and layout.

A component defined up to a constant (``Problem.up_to_constant``, a pressure) has its reference shifted
by a constant to the mean of the trained component over the exported points, so ``error = value -
reference`` shows the error without the arbitrary offset (what ``rel_l2_<name>`` measures); the
export's notes say so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from torch import Tensor

from kanpde.errors import ConfigError

__all__ = [
    "ComponentArrays",
    "component_arrays",
    "vector_arrays",
    "unknown_arrays",
    "check_names",
    "named_fields",
]

VECTOR_WIDTH = 3  # VTK vectors have three components; a 2-D vector is padded with zeros


class ComponentArrays(NamedTuple):
    """A component's (or vector's) name and the names of its arrays."""

    component: str
    value: str
    reference: str
    error: str


def component_arrays(components: Sequence[str]) -> list[ComponentArrays]:
    """The array names of each component: ``[("u", "u", "reference", "error")]`` for one component,
    ``("v", "v", "reference_v", "error_v")`` and so on for a system."""
    if len(components) == 1:
        return [ComponentArrays(components[0], components[0], "reference", "error")]
    return [ComponentArrays(c, c, f"reference_{c}", f"error_{c}") for c in components]


def vector_arrays(vectors: Mapping[str, Sequence[str]]) -> list[ComponentArrays]:
    """The array names of each vector, as for a system's components."""
    return [ComponentArrays(v, v, f"reference_{v}", f"error_{v}") for v in vectors]


def unknown_arrays(fields: Sequence[str]) -> list[ComponentArrays]:
    """The array names of each identified unknown field: ``("a", "a", "reference_a", "error_a")``."""
    return [ComponentArrays(f, f, f"reference_{f}", f"error_{f}") for f in fields]


def check_names(
    components: Sequence[str], vectors: Mapping[str, Sequence[str]], unknown_fields: Sequence[str] = ()
) -> None:
    """A ConfigError, before anything is evaluated, when two exported arrays would have the same name
    (components, vectors and the problem's unknown fields)."""
    seen: dict[str, str] = {"inside": "the mask of a .vti export off a box", "residual": "the residual"}
    entries = [(a, f"component {a.component!r}") for a in component_arrays(components)]
    entries += [(a, f"vector {a.component!r}") for a in vector_arrays(vectors)]
    entries += [(a, f"unknown field {a.component!r}") for a in unknown_arrays(unknown_fields)]
    for arrays, what in entries:
        for name in arrays[1:]:
            clash = seen.get(name) or ("a residual equation" if re.fullmatch(r"residual_\d+", name) else None)
            if clash is not None:
                raise ConfigError(
                    f"export: the array {name!r} of {what} has the name of {clash}; rename the component "
                    "(Problem.outputs), the vector (Problem.vectors) or the unknown field (kanpde.UnknownField's name) "
                    "so every exported array has its own name"
                )
            seen[name] = what


def named_fields(
    u: Tensor,
    ref: Tensor | None,
    residual: Tensor | None,
    components: Sequence[str],
    vectors: Mapping[str, Sequence[str]],
    centered: Sequence[int] = (),
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The exported arrays, name -> (N, c) float64, and notes on what was done to them.

    u: (N, m) the trained field; ref: (N, m) its reference or None; residual: (N, k) or None;
    centered: the columns compared up to a constant (their reference is shifted to u's mean).
    """
    notes: list[str] = []
    u = _numpy(u)
    ref = None if ref is None else _numpy(ref)
    if ref is not None and centered and u.shape[0]:
        ref = ref.copy()
        for j in centered:
            ref[:, j] += u[:, j].mean() - ref[:, j].mean()
        names = ", ".join(components[j] for j in centered)
        notes.append(
            f"{names}: defined up to a constant; the reference is shifted by a constant to the mean of the "
            "solution over these points, so the error holds no offset"
        )
    err = None if ref is None else u - ref
    arrays = component_arrays(components)
    fields: dict[str, np.ndarray] = {}
    for j, a in enumerate(arrays):
        fields[a.value] = u[:, j : j + 1] if len(arrays) > 1 else u
    for a, parts in zip(vector_arrays(vectors), vectors.values()):
        fields[a.value] = _vector(u, parts, components)
    if ref is not None:
        for source, key in ((ref, "reference"), (err, "error")):
            for j, a in enumerate(arrays):
                fields[getattr(a, key)] = source[:, j : j + 1] if len(arrays) > 1 else source
            for a, parts in zip(vector_arrays(vectors), vectors.values()):
                fields[getattr(a, key)] = _vector(source, parts, components)
    if residual is not None:
        r = _numpy(residual)
        if len(arrays) > 1 and r.shape[1] > 1:
            fields.update({f"residual_{k}": r[:, k : k + 1] for k in range(r.shape[1])})
        else:
            fields["residual"] = r
    return fields, notes


def _vector(values: np.ndarray, parts: Sequence[str], components: Sequence[str]) -> np.ndarray:
    """The columns of ``parts`` (N, k), zero-padded to 3 columns when k < 3 (VTK's vectors)."""
    cols = values[:, [components.index(p) for p in parts]]
    if cols.shape[1] >= VECTOR_WIDTH:
        return cols
    return np.concatenate([cols, np.zeros((cols.shape[0], VECTOR_WIDTH - cols.shape[1]))], axis=1)


def _numpy(values: Tensor) -> np.ndarray:
    return values.detach().cpu().double().numpy().reshape(values.shape[0], -1)
