"""Observations of the solution: ``Data`` terms that an inverse problem fits beside its equation.

A problem lists them as ``data = [kanpde.Data(points, values)]``; each adds

    weight * mean_k |u_S(x_k) - v_k|^2

to the loss, where S is the observed part of the solution (``component=``: one component, several, or all).
Points are fixed (never resampled). Read them from arrays or from a file (``Data.read``: ``.npz``,
``.csv``, ``.h5``).

The weight. The residual and the data pull along a valley of the loss (a larger unknown and a larger
field satisfy the equation alike; only the data tell them apart), and how fast training walks it depends
on how strongly the data pull against the equation's stiffness. ``weight="auto"`` (the default) lets
``solve()`` set the weight once before training so that the data term's gradient is as strong as the
residual term's (the gradient-norm rule of ``kanpde.solvers.Balance``; reported in
``sol.info["data_weights"]``). Measured on the built-in inverse problems (README, Results).

A number is used as it is. With noisy values (noise of standard deviation sigma) the data term cannot go
below sigma^2 without the network bending to fit the noise, and the equation resists that bending in
proportion to its weight: keep the automatic weight or lower it when the noise is large, and check that
the root mean square misfit after training, ``sol.info["data_misfit"]["data:<name>"]``, comes out near
sigma (much below it means the noise is being fitted).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_positive, is_int
from kanpde.errors import ConfigError, KanpdeError, ShapeError

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
        name: the term's label in the loss and reports, ``data:<name>`` (default: ``data`` for a problem's
            only set; ``data0``, ``data1``... by place in ``problem.data`` when there are several).

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
            raise ShapeError(
                f"Data.points must have shape (m, d) with m >= 1: one row of d coordinates per observation; "
                f"got shape {self.points.shape}"
            )
        m = self.points.shape[0]
        if values.ndim not in (1, 2) or values.shape[0] != m:
            raise ShapeError(
                f"Data.values must have one row per point: shape ({m},) or ({m}, k) for points of shape "
                f"{self.points.shape}; got shape {values.shape}"
            )
        self.values = values[:, None] if values.ndim == 1 else values
        if self.values.shape[1] == 0:
            raise ShapeError(f"Data.values must hold at least one value per point; got shape {values.shape}")
        for field, a in (("points", self.points), ("values", self.values)):
            bad = ~np.isfinite(a).all(axis=1)
            if bad.any():
                i, count = int(np.flatnonzero(bad)[0]), int(bad.sum())
                rows = "1 row that is" if count == 1 else f"{count} rows that are"
                raise ConfigError(
                    f"Data.{field} holds {rows} not finite (nan or inf), the first at row {i}: {a[i].tolist()}; "
                    "drop those observations"
                )
        self.weight = weight if weight == "auto" else check_positive(weight, "Data.weight (a number > 0 or 'auto')")
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise ConfigError(f"Data.name must be an identifier such as 'sensors'; got {name!r}")
        if component is not None and not _is_component(component):
            if not isinstance(component, (list, tuple)) or not component or not all(map(_is_component, component)):
                raise ConfigError(
                    f"Data.component must be a component's name or column ('u', 0), a non-empty sequence of them, "
                    f"or None for all components; got {component!r}"
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
        where = f"Data.read({str(path)!r})"
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            relative = "" if path.is_absolute() else f" (relative to {str(Path.cwd())!r})"
            raise ConfigError(f"{where}: the file {what}; check the path{relative}")
        for field, key in (("points", points), ("values", values)):
            if not (key is None or isinstance(key, str) or _names(key)):
                raise ConfigError(
                    f"{where}: {field}= must be a name (of an array, or a column of a .csv) or a list of names; "
                    f"got {key!r}"
                )
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".npz", ".h5", ".hdf5"):
            raise ConfigError(f"{where}: Data.read reads .npz, .csv and .h5 files; rename or convert {path.name!r}")
        try:
            if suffix == ".csv":
                x, v = _read_csv(path, points, values, where)
            elif suffix == ".npz":
                with np.load(path) as arrays:
                    x, v = _columns(arrays, points, "points", where), _columns(arrays, values, "values", where)
            else:
                import h5py

                with h5py.File(path, "r") as f:
                    x, v = _columns(f, points, "points", where), _columns(f, values, "values", where)
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            if isinstance(e, KanpdeError):
                raise
            raise ConfigError(f"{where}: the file cannot be read as {suffix}: {e}") from None
        try:
            return cls(x, v, **kwargs)
        except (ConfigError, ShapeError) as e:
            raise type(e)(f"{where}: {e}") from None

    @property
    def factor(self) -> float:
        """The number the term is multiplied by in the loss itself: the given weight, or 1 for ``"auto"``
        (whose weight the solver multiplies in)."""
        return 1.0 if self.weight == "auto" else float(self.weight)

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
                    raise ConfigError(
                        f"Data {self.label!r}: component={c!r} is not a component of the problem; "
                        f"name one of {tuple(components)}"
                    )
                out.append(components.index(c))
            elif not 0 <= c < len(components):
                raise ConfigError(
                    f"Data {self.label!r}: component={c!r} is not a column of the problem's {len(components)} "
                    f"components {tuple(components)}; give a column from 0 to {len(components) - 1} or a name"
                )
            else:
                out.append(int(c))
        if self.values.shape[1] != len(out):
            observed = "component=None (all)" if self.component is None else f"component={self.component!r}"
            names = tuple(components[j] for j in out)
            raise ShapeError(
                f"Data {self.label!r}: values of shape {self.values.shape} hold {self.values.shape[1]} column(s) but "
                f"{observed} observes {len(out)} {names}; give values of shape ({len(self.values)}, {len(out)}) "
                "or set component= to the components they hold"
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
        """JSON-ready: the label, the count, what is observed, the weight and a digest of the points and
        values (so a checkpoint of a run fitted to other observations is not resumed with these)."""
        digest = hashlib.sha256(self.points.tobytes() + self.values.tobytes()).hexdigest()[:16]
        return {
            "name": self.label,
            "points": len(self.points),
            "component": self.component,
            "weight": self.weight,
            "digest": digest,
        }

    def __repr__(self) -> str:
        return f"Data({len(self.points)} points{'' if self.component is None else f', component={self.component!r}'})"


def _is_component(c: Any) -> bool:
    return isinstance(c, str) or is_int(c)


def _array(a: Any, field: str) -> np.ndarray:
    if isinstance(a, Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{field} must be an array of numbers; got {type(a).__name__}") from None


def _names(key: Any) -> bool:
    """A non-empty list or tuple of names."""
    return isinstance(key, (list, tuple)) and len(key) > 0 and all(isinstance(k, str) for k in key)


def _columns(arrays: Any, key: str | Sequence[str] | None, default: str, where: str) -> np.ndarray:
    """The array ``key`` (default: ``default``) of an .npz or .h5 file, or the 1-d arrays of a list of
    names stacked as columns."""
    keys = [key or default] if key is None or isinstance(key, str) else list(key)
    for k in keys:
        if k not in arrays:
            raise ConfigError(
                f"{where} has no array {k!r}; it has {sorted(arrays.keys())}: name the array with {default}="
            )
        if not hasattr(arrays[k], "shape"):
            raise ConfigError(f"{where}: {k!r} is a group, not an array; name an array in it ({k}/...)")
    if len(keys) == 1:
        return np.asarray(arrays[keys[0]])
    return np.stack([np.asarray(arrays[k]).reshape(-1) for k in keys], axis=1)


def _read_csv(path: Path, points: Any, values: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(points, values) of a .csv file with a header line (see ``Data.read``)."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 2:
        raise ConfigError(
            f"{where}: the file holds {'nothing' if not lines else 'a header line only'}; expected a header "
            "line such as 'x,y,u' and one line per observation"
        )
    header = [h.strip().strip("\"'") for h in lines[0].split(",")]
    if len(set(header)) != len(header):
        raise ConfigError(f"{where}: the header {header} repeats a name; give each column its own")
    try:
        table = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    except ValueError as e:
        raise ConfigError(
            f"{where}: {e}; below the header every line must hold {len(header)} numbers separated by commas"
        ) from None
    if table.shape[1] != len(header):
        raise ConfigError(
            f"{where}: the header names {len(header)} columns but the lines hold {table.shape[1]}; "
            "give one header name per column"
        )
    value_cols = [header[-1]] if values is None else [values] if isinstance(values, str) else list(values)
    point_cols = (
        [h for h in header if h not in value_cols]
        if points is None
        else [points]
        if isinstance(points, str)
        else list(points)
    )
    for field, cols in (("values", value_cols), ("points", point_cols)):
        for c in cols:
            if c not in header:
                raise ConfigError(
                    f"{where} has no column {c!r}; its columns are {header}: choose among them with {field}="
                )
    both = [c for c in point_cols if c in value_cols]
    if both:
        raise ConfigError(f"{where}: the column {both[0]!r} is named as a coordinate and as a value; name it once")
    return table[:, [header.index(c) for c in point_cols]], table[:, [header.index(c) for c in value_cols]]
