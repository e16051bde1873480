"""Derivatives carried forward through a network in one pass ("jets").

A residual needs a few derivatives of the surrogate with respect to its inputs: the value, some first
derivatives, and some second-order sums such as the Laplacian. Nested autograd gets them with one
extra backward pass per order, through a graph that the training backward then has to differentiate
again. Carrying them forward instead needs only the chain rule for each layer kind:

* linear map ``z = W h + b``: every derivative maps by ``W`` (the bias only touches the value);
* elementwise ``y = phi(z)``: ``d_i y = phi'(z) d_i z`` and, for a second-order sum
  ``S = sum_{(i, j)} d_i d_j``, ``S y = phi'(z) S z + phi''(z) sum_{(i, j)} d_i z d_j z``;
* a KAN edge ``psi(x_i)`` of one input: the same rule with psi', psi'' from B-spline derivatives.

All carried quantities live in one tensor ``t`` of shape (C, n, c): channel 0 is the value, channels
``1 .. A`` the first derivatives along ``spec.axes``, then one channel per second-order sum. A linear
map is one matmul over all channels. The training backward is then first order only, which also lets
``torch.compile`` handle the loss (it cannot compile double backward).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import Tensor

from .errors import ConfigError

__all__ = ["JetSpec", "seed", "affine", "linear", "elementwise", "quadratic"]

Pairs = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class JetSpec:
    """Which derivatives to carry.

    axes: coordinates whose first derivatives are carried (every axis a second-order sum uses is
    included). second: the second-order sums, each a tuple of (i, j) pairs with i <= j; the Laplacian
    over axes 0 and 1 is ``((0, 0), (1, 1))``, u_xy is ``((0, 1),)``.
    """

    axes: tuple[int, ...] = ()
    second: tuple[Pairs, ...] = ()

    @classmethod
    def build(cls, first: Iterable[int] = (), second: Iterable[Iterable[tuple[int, int]]] = ()) -> "JetSpec":
        sums = tuple(dict.fromkeys(tuple(sorted((min(i, j), max(i, j)) for i, j in s)) for s in second))
        axes = set(first) | {i for s in sums for pair in s for i in pair}
        return cls(tuple(sorted(axes)), sums)

    @property
    def channels(self) -> int:
        return 1 + len(self.axes) + len(self.second)

    def first_channel(self, axis: int) -> int | None:
        return 1 + self.axes.index(axis) if axis in self.axes else None

    def second_channel(self, pairs: Iterable[tuple[int, int]]) -> int | None:
        key = tuple(sorted((min(i, j), max(i, j)) for i, j in pairs))
        return 1 + len(self.axes) + self.second.index(key) if key in self.second else None

    def union(self, other: "JetSpec") -> "JetSpec":
        return JetSpec.build(self.axes + other.axes, self.second + other.second)

    def describe(self) -> str:
        parts = [f"d/dx{a}" for a in self.axes] + ["+".join(f"d2/dx{i}dx{j}" for i, j in s) for s in self.second]
        return ", ".join(parts) or "values only"


def seed(x: Tensor, spec: JetSpec) -> Tensor:
    """The jet of the coordinates themselves: x: (n, d) -> (C, n, d)."""
    n, d = x.shape
    if spec.axes and max(spec.axes) >= d:
        raise ConfigError(f"the derivatives asked for use axis {max(spec.axes)} but the points have {d} coordinates")
    t = x.new_zeros(spec.channels, n, d)
    t[0] = x
    for a, axis in enumerate(spec.axes):
        t[1 + a, :, axis] = 1.0
    return t


def affine(t: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """``scale * h + shift`` per channel of h: scale, shift (c,)."""
    out = t * scale
    return torch.cat([out[:1] + shift, out[1:]]) if shift is not None else out


def linear(t: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``W h + b`` for a jet t: (C, n, in) with weight (out, in) -> (C, n, out)."""
    out = t @ weight.T
    if bias is None:
        return out
    return torch.cat([out[:1] + bias, out[1:]])


def quadratic(t: Tensor, spec: JetSpec) -> Tensor:
    """For each second-order sum S: ``sum_{(i, j) in S} d_i h d_j h``, shape (F, n, c)."""
    rows = []
    for pairs in spec.second:
        q = None
        for i, j in pairs:
            ci, cj = spec.first_channel(i), spec.first_channel(j)
            term = t[ci] * t[cj]
            q = term if q is None else q + term
        rows.append(q)
    return torch.stack(rows) if rows else t[:0]


def chain(d0: Tensor, d1: Tensor | None, d2: Tensor | None, t: Tensor, spec: JetSpec, q: Tensor | None = None) -> Tensor:
    """Jet of ``phi(h)`` from phi, phi', phi'' at the values (each shaped like ``t[0]`` plus any trailing dims).

    Trailing dimensions of d0/d1/d2 beyond those of ``t[0]`` (for example the k + 1 B-splines of a
    KAN edge) are broadcast against ``t``'s channels.
    """
    extra = d0.ndim - t[0].ndim
    tt = t.reshape(*t.shape, *([1] * extra))
    a = len(spec.axes)
    parts = [d0.unsqueeze(0)]
    if a:
        parts.append(d1 * tt[1 : 1 + a])
    if spec.second:
        q = quadratic(t, spec) if q is None else q
        qq = q.reshape(*q.shape, *([1] * extra))
        parts.append(d1 * tt[1 + a :] + d2 * qq)
    return torch.cat(parts)


def elementwise(t: Tensor, spec: JetSpec, fn: Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]) -> Tensor:
    """Jet of an elementwise function; ``fn(v)`` returns (phi(v), phi'(v), phi''(v))."""
    d0, d1, d2 = fn(t[0])
    return chain(d0, d1, d2, t, spec)


def tanh3(v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    y = torch.tanh(v)
    d1 = 1 - y * y
    return y, d1, -2 * y * d1


def sin3(v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sin(v)
    return s, torch.cos(v), -s


def silu3(v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(v)
    ds = s * (1 - s)
    return v * s, s + v * ds, ds * (2 + v * (1 - 2 * s))
