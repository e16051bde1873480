"""Constructive solid geometry: union, intersection and difference of domains (``a | b``, ``a & b``, ``a - b``).

The result's boundary is made of its operands' pieces, each trimmed to where it bounds the result: for
``a - b`` the pieces of ``a`` outside ``b`` and those of ``b`` inside ``a`` (turned into a hole's boundary:
normals and distances change sign). Part names carry over, so ``Box(..., name="outer") - Disk(...,
name="hole")`` has parts ``outer`` and ``hole``. Sampling, distance functions and evaluation points come
from ``Domain``.
"""

from __future__ import annotations

import numpy as np

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry.domain import Domain, register_combination
from kanpde.geometry.pieces import Piece

__all__ = ["CSG"]

_OPS = ("union", "intersection", "difference")


class CSG(Domain):
    """``op`` (``"union"``, ``"intersection"``, ``"difference"``) of two domains of one dimension."""

    def __init__(self, op: str, a: Domain, b: Domain) -> None:
        if op not in _OPS:
            raise ConfigError(f"CSG.op must be one of {', '.join(_OPS)}; got {op!r}")
        for side, operand in (("left", a), ("right", b)):
            if not isinstance(operand, Domain):
                raise ConfigError(f"the {side} operand of a CSG {op} must be a kanpde domain; got {operand!r}")
            if operand.spacetime:
                raise ConfigError(
                    f"CSG combines spatial shapes; the {side} operand {operand!r} has a time axis. Combine the shapes "
                    "first, then multiply by the time interval: (a - b) * Interval(0, 1, axis='t')"
                )
        if a.dim != b.dim:
            raise ShapeError(f"CSG {op} needs two domains of one dimension; got {a.dim}-D {a!r} and {b.dim}-D {b!r}")
        self.op, self.a, self.b = op, a, b
        self.axes = a.axes
        self.name = None
        if op == "union":
            self.lower, self.upper = np.minimum(a.lower, b.lower), np.maximum(a.upper, b.upper)
        elif op == "intersection":
            self.lower, self.upper = np.maximum(a.lower, b.lower), np.minimum(a.upper, b.upper)
        else:
            self.lower, self.upper = a.lower.copy(), a.upper.copy()
        if np.any(self.lower >= self.upper) or self.volume(4096, method="random") <= 0:
            raise ConfigError(f"the CSG {op} of {a!r} and {b!r} is empty: the shapes do not overlap as needed")
        flip = op == "difference"
        self._pieces = tuple(a.pieces()) + tuple(p.flipped() if flip else p for p in b.pieces())
        self._split = len(a.pieces())

    def inside(self, x: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        ina = self.a.inside(x, margin=margin)
        if self.op == "union":
            return ina | self.b.inside(x, margin=margin)
        if self.op == "intersection":
            return ina & self.b.inside(x, margin=margin)
        return ina & ~self.b.inside(x, margin=-margin)

    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    def keep(self, index: int, x: np.ndarray) -> np.ndarray:
        own, other = (self.a, self.b) if index < self._split else (self.b, self.a)
        mask = own.keep(index if index < self._split else index - self._split, x)
        tol = 1e-9 * self.diameter
        if self.op == "union":
            return mask & ~other.inside(x, margin=tol)
        if self.op == "intersection":
            return mask & other.inside(x, margin=-tol)
        # difference: a's pieces outside b, b's pieces inside a
        return mask & (~other.inside(x, margin=tol) if index < self._split else other.inside(x, margin=-tol))

    def describe(self) -> dict:
        return {"kind": "csg", "op": self.op, "a": self.a.describe(), "b": self.b.describe()}

    def __repr__(self) -> str:
        symbol = {"union": "|", "intersection": "&", "difference": "-"}[self.op]
        return f"({self.a!r} {symbol} {self.b!r})"


for _op in _OPS:
    register_combination(_op, lambda a, b, op=_op: CSG(op, a, b))
