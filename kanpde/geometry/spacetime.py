"""Space-time domains: a spatial shape times a time interval, time last (``Disk([0, 0], 1) * Interval(0, 1, axis="t")``).

Parts: each spatial part, swept over all times (so ``Dirichlet("circle", 0.0)`` holds the wall for every
t), ``space_boundary`` (every spatial part together), ``t_min`` (where ``Initial`` applies), ``t_max`` and
``boundary``. A box times an interval is simply a bigger ``Box``; this class serves every other shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.geometry.domain import Domain, register_combination
from kanpde.geometry.pieces import Piece, Plane, Sphere
from kanpde.geometry.sampling import unit_samples

__all__ = ["SpaceTime", "Swept"]

SPACE_BOUNDARY = "space_boundary"


@dataclass(frozen=True)
class Swept(Piece):
    """A spatial piece swept over the time interval ``[t0, t1]`` (the last coordinate)."""

    base: Piece = field(default_factory=lambda: Sphere(frozenset()))
    t0: float = 0.0
    t1: float = 1.0

    @property
    def measure(self) -> float:
        return self.base.measure * (self.t1 - self.t0)

    def sample(self, n: int, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, normal = self.base.sample(n, method, rng)
        t = self.t0 + (self.t1 - self.t0) * unit_samples(n, 1, "random" if method == "grid" else method, rng)
        return np.concatenate([x, t], axis=1), np.concatenate([normal, np.zeros((n, 1))], axis=1)

    def plain(self, x: Tensor) -> Tensor:
        return self.base.plain(x[:, :-1])

    def trimmed(self, x: Tensor) -> Tensor | None:
        return self.base.trimmed(x[:, :-1])

    def carrier(self, n: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        x = self.base.carrier(n, lower[:-1], upper[:-1])
        t = np.linspace(lower[-1], upper[-1], len(x))[:, None]
        return np.concatenate([x, t], axis=1)

    def describe(self) -> dict:
        return {"kind": "swept", "base": self.base.describe(), "t0": self.t0, "t1": self.t1}


class SpaceTime(Domain):
    """``space`` (a spatial domain) times ``time`` (a 1-D box whose axis is named ``t``)."""

    def __init__(self, space: Domain, time: Domain) -> None:
        if not isinstance(space, Domain) or not isinstance(time, Domain):
            raise ConfigError(f"a space-time domain is a shape times a time Interval; got {space!r} * {time!r}")
        if time.dim != 1 or time.axes != ("t",):
            raise ConfigError(
                f"the right factor of a space-time domain must be Interval(t0, t1, axis='t'); got {time!r} with "
                f"axes {time.axes}"
            )
        if space.spacetime or "t" in space.axes:
            raise ConfigError(f"{space!r} already has a time axis; multiply a spatial shape by the time interval")
        self.space, self.time = space, time
        self.axes = (*space.axes, "t")
        self.name = None
        t0, t1 = float(time.lower[0]), float(time.upper[0])
        self.lower = np.append(space.lower, t0)
        self.upper = np.append(space.upper, t1)
        swept = tuple(Swept(p.names | {SPACE_BOUNDARY}, 1.0, p, t0, t1) for p in space.pieces())
        lo, hi = tuple(self.lower.tolist()), tuple(self.upper.tolist())
        d = space.dim
        ends = (
            Plane(frozenset({"t_min"}), 1.0, d, t0, 1.0, lo, hi),
            Plane(frozenset({"t_max"}), 1.0, d, t1, -1.0, lo, hi),
        )
        self._pieces = swept + ends

    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        t = x[:, -1]
        in_time = (t > self.lower[-1] + margin) & (t < self.upper[-1] - margin)
        return in_time & self.space.inside(x[:, :-1], margin=margin)

    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    def reentrant_corners(self) -> tuple[tuple[np.ndarray, tuple[int, ...]], ...]:
        return self.space.reentrant_corners()  # swept into edges; the piece indices are the same

    def keep(self, index: int, x: np.ndarray) -> np.ndarray:
        n_space = len(self._pieces) - 2
        if index < n_space:
            return self.space.keep(index, x[:, :-1])
        return self.space.contains(x[:, :-1])

    def describe(self) -> dict:
        return {"kind": "spacetime", "space": self.space.describe(), "time": self.time.describe()}

    def __repr__(self) -> str:
        return f"{self.space!r} * [{self.lower[-1]}, {self.upper[-1]}]"


register_combination("product", SpaceTime)
