"""``Sampled``: a solution's fields at export points, the one thing every writer takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kanpde.geometry.box import Grid

__all__ = ["Sampled"]


@dataclass(frozen=True)
class Sampled:
    """A solution's fields at the export points, ready for the writers.

    points: (N, d) float64, columns in ``axes`` order (space first, time last).
    fields: name -> (N, c) float64 (``u``, and where known ``reference``, ``error``, ``residual``; for a
        system one array per component and vector, see :mod:`kanpde.io.fields`).
    grid: the tensor-product grid the points come from (``grid.points()`` order), or None for a mesh.
    cells: cell blocks ``[(meshio type, (m, k) int32 connectivity)]`` over all N points (space-time
        cells for a time-dependent grid), or None where there are none (a mesh in time, d > 3).
    space_points: (ns, ds) the spatial nodes; space_cells: cell blocks over them (None for ds > 3).
    times: (nt,) the time slices of a time-dependent export, else None (then ns = N).
    metadata: JSON-ready description: problem, surrogate, errors, status, version, components, vectors,
        notes.
    """

    points: np.ndarray
    fields: dict[str, np.ndarray]
    axes: tuple[str, ...]
    grid: Grid | None
    cells: list[tuple[str, np.ndarray]] | None
    space_points: np.ndarray
    space_cells: list[tuple[str, np.ndarray]] | None
    times: np.ndarray | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def time_dependent(self) -> bool:
        return self.times is not None

    def step(self, name: str, k: int) -> np.ndarray:
        """Field ``name`` at time slice k: (ns, c)."""
        values = self.fields[name]
        return values.reshape(self.space_points.shape[0], self.times.size, values.shape[1])[:, k]
