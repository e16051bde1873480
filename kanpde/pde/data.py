"""Observations of the solution: ``Data`` terms that an inverse problem fits beside its equation.

A problem lists them as ``data = [kanpde.Data(points, values)]``; each adds

    weight * mean_k |u_S(x_k) - v_k|^2

to the loss, where S is the observed part of the solution (``component=``: one component, several, or all).
Points are fixed (never resampled). Read them from arrays or from a file (``Data.read``: ``.npz``,
``.csv``, ``.h5``).

The weight. The residual and the data pull along a valley of the loss (a larger unknown and a larger
field satisfy the equation alike; only the data tell them apart), and how fast training walks it depends
on how strongly the data pull against the equation's curvature. ``weight="auto"`` (the default) makes the
two terms of one size at the start: ``solve()`` multiplies the data term by R0 / D0, the residual term of
the first model over the mean square of the observed values (reported in ``sol.info["data_weights"]``).
Measured on ``poisson_inverse`` (README, Results), a weight of 1 left the scalar at 2.04 of 2.5 after
30 s where the automatic one (about 66) reached 1e-4.

A number is used as it is. With noisy values (noise of standard deviation sigma) the data term cannot go
below sigma^2 without the network bending to fit the noise, and the equation resists that bending in
proportion to its weight: keep the automatic weight or lower it when the noise is large, and check that
the root mean square misfit after training, ``sol.info["data_misfit"]["data:<name>"]``, comes out near
sigma (much below it means the noise is being fitted).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_positive
from kanpde.errors import ConfigError, ShapeError

__all__ = ["Data"]

Component = str | int | Sequence[str | int] | None


class Data:
    """Observed values of the solution at points: a loss term of an inverse (or data-assisted) problem.

    Args:
        points: (m, d) coordinates, inside the problem's domain (space first, time last).
        values: (m,) for one observed component, or (m, k) for k of them (or all, without ``component``).
        component: which part of the solution is observed: a name or column (``"u"``, ``0``), a sequence
            of them, or None for every component.
        weight: the term's weight: a number, or ``"auto"`` (default) for the scale of the equation over the
            scale of the values (see the module doc, also on noisy values).
        name: the term's label in the loss and reports, ``data:<name>`` (default: ``data``, then ``data1``...).

    Bad input (non-finite values, mismatched shapes) fails here; points outside the domain and unknown
    components fail when the problem is built.
    """

    def __init__(
        self,
        points: Any,
        values: Any,
        *,
        component: Component = None,
        weight: float | str = "auto",
        name: str | None = None,
    ) -> None:
        self.points = _array(points, "Data.points")
        values = _array(values, "Data.values")
        if self.points.ndim != 2 or len(self.points) == 0:
            raise ShapeError(f"Data.points must have shape (m, d) with m >= 1; got {self.points.shape}")
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[0] != self.points.shape[0]:
            raise ShapeError(
                f"Data.values must have one row per point: shape ({self.points.shape[0]},) or "
                f"({self.points.shape[0]}, k) for points of shape {self.points.shape}; got {values.shape}"
            )
        self.values = values
        for field, a in (("points", self.points), ("values", values)):
            bad = ~np.isfinite(a).all(axis=1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ConfigError(
                    f"Data.{field} holds {int(bad.sum())} rows that are not finite (nan or inf), the first at row {i}: "
                    f"{a[i].tolist()}; drop those observations"
                )
        self.weight = weight if weight == "auto" else check_positive(weight, "Data.weight (a number > 0 or 'auto')")
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise ConfigError(f"Data.name must be an identifier such as 'sensors'; got {name!r}")
        if component is not None and not isinstance(component, (str, int)):
            if not isinstance(component, (list, tuple)) or not all(isinstance(c, (str, int)) for c in component):
                raise ConfigError(
                    f"Data.component must be a name, a column, a sequence of them or None; got {component!r}"
                )
            component = tuple(component)
        self.component = component
        self.name = name
        self._cache: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}

    @classmethod
    def read(
        cls,
        path: str | os.PathLike[str],
        *,
        points: str | Sequence[str] | None = None,
        values: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Data:
        """Observations from a file: ``.npz`` or ``.h5`` with arrays ``points`` (m, d) and ``values`` (m,)
        or (m, k) (other names through ``points=``/``values=``; a list of names stacks 1-d arrays as
        columns), or a ``.csv`` with a header line, whose ``values`` columns (default: the last) hold the
        values and whose ``points`` columns (default: all the others) the coordinates. Other keyword
        arguments go to ``Data`` (``component``, ``weight``, ``name``)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"Data.read: no file at {str(path)!r}")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            x, v = _read_csv(path, points, values)
        elif suffix == ".npz":
            with np.load(path) as arrays:
                x, v = (
                    _columns(arrays, key, default, path) for key, default in ((points, "points"), (values, "values"))
                )
        elif suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                x, v = (_columns(f, key, default, path) for key, default in ((points, "points"), (values, "values")))
        else:
            raise ConfigError(f"Data.read reads .npz, .csv and .h5 files; got {str(path)!r}")
        return cls(x, v, **kwargs)

    @property
    def label(self) -> str:
        """The term's name in the loss: ``data:<name>``."""
        return f"data:{self.name or 'data'}"

    def columns(self, components: Sequence[str]) -> list[int]:
        """The solution columns the values observe, for a problem with these component names."""
        chosen = (
            list(range(len(components)))
            if self.component is None
            else [self.component]
            if isinstance(self.component, (str, int))
            else list(self.component)
        )
        out = []
        for c in chosen:
            if isinstance(c, str):
                if c not in components:
                    raise ConfigError(f"{self.label}: component {c!r} is not among the problem's {tuple(components)}")
                out.append(components.index(c))
            elif isinstance(c, bool) or not 0 <= c < len(components):
                raise ConfigError(f"{self.label}: component {c!r} is not a column of the {len(components)} components")
            else:
                out.append(int(c))
        if self.values.shape[1] != len(out):
            observed = "all components" if self.component is None else f"component={self.component!r}"
            raise ShapeError(
                f"{self.label}: values have {self.values.shape[1]} columns but {observed} names {len(out)}; "
                f"give values of shape ({len(self.values)}, {len(out)}) or set component="
            )
        return out

    def tensors(self, dtype: torch.dtype, device: torch.device | str) -> tuple[Tensor, Tensor]:
        """(points, values) as tensors (cached per dtype and device)."""
        key = (dtype, torch.device(device))
        if key not in self._cache:
            self._cache[key] = (
                torch.as_tensor(self.points, dtype=dtype, device=device),
                torch.as_tensor(self.values, dtype=dtype, device=device),
            )
        return self._cache[key]

    def describe(self) -> dict[str, Any]:
        return {"name": self.label, "points": len(self.points), "component": self.component, "weight": self.weight}

    def __repr__(self) -> str:
        return f"Data({len(self.points)} points{'' if self.component is None else f', component={self.component!r}'})"


def _array(a: Any, field: str) -> np.ndarray:
    if isinstance(a, Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{field} must be an array of numbers; got {type(a).__name__}") from None


def _columns(arrays: Any, key: str | Sequence[str] | None, default: str, path: Path) -> np.ndarray:
    keys = [key or default] if key is None or isinstance(key, str) else list(key)
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ConfigError(f"Data.read: {str(path)!r} has no array {missing[0]!r}; it has {sorted(arrays.keys())}")
    if len(keys) == 1:
        return np.asarray(arrays[keys[0]])
    return np.stack([np.asarray(arrays[k]).reshape(-1) for k in keys], axis=1)


def _read_csv(path: Path, points: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
    with path.open() as f:
        header = [h.strip() for h in f.readline().split(",")]
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if table.shape[1] != len(header):
        raise ConfigError(f"Data.read: {str(path)!r} has {len(header)} header names but {table.shape[1]} columns")
    value_cols = [header[-1]] if values is None else [values] if isinstance(values, str) else list(values)
    point_cols = (
        [h for h in header if h not in value_cols]
        if points is None
        else [points]
        if isinstance(points, str)
        else list(points)
    )
    for c in value_cols + point_cols:
        if c not in header:
            raise ConfigError(f"Data.read: {str(path)!r} has no column {c!r}; its columns are {header}")
    return table[:, [header.index(c) for c in point_cols]], table[:, [header.index(c) for c in value_cols]]
