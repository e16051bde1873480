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

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

from kanpde.errors import ConfigError

__all__ = ["JetSpec", "seed", "affine", "linear", "elementwise", "quadratic", "product"]

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
    def build(cls, first: Iterable[int] = (), second: Iterable[Iterable[tuple[int, int]]] = ()) -> JetSpec:
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

    def union(self, other: JetSpec) -> JetSpec:
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
    return t * scale + _on_value(shift, t.shape[0])


def linear(t: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``W h + b`` for a jet t: (C, n, in) with weight (out, in) -> (C, n, out)."""
    out = t @ weight.T
    return out if bias is None else out + _on_value(bias, t.shape[0])


def _on_value(v: Tensor, channels: int) -> Tensor:
    """(C, 1, c): v on channel 0 and zeros elsewhere, to add a constant to the value only.

    Adding this (instead of slicing channel 0) keeps the backward free of full-size zero fills.
    """
    pad = v.new_zeros(channels - 1, v.shape[-1])
    return torch.cat([v.reshape(1, -1), pad]).unsqueeze(1)


def quadratic(channels: tuple[Tensor, ...], spec: JetSpec) -> list[Tensor]:
    """For each second-order sum S: ``sum_{(i, j) in S} d_i h d_j h`` from the unbound channels of a jet."""
    rows = []
    for pairs in spec.second:
        q = None
        for i, j in pairs:
            term = channels[spec.first_channel(i)] * channels[spec.first_channel(j)]
            q = term if q is None else q + term
        rows.append(q)
    return rows


def chain(
    d0: Tensor,
    d1: Tensor | None,
    d2: Tensor | None,
    channels: tuple[Tensor, ...],
    spec: JetSpec,
    q: list[Tensor] | None = None,
) -> Tensor:
    """Jet of ``phi(h)`` from phi, phi', phi'' at the values of h, given h's channels (``t.unbind(0)``).

    d0, d1, d2 may have trailing dimensions beyond those of a channel (the k + 1 B-splines of a KAN
    edge); the channels broadcast against them. Returns the stacked jet (C, ...).
    """
    extra = d0.ndim - channels[0].ndim

    def widen(c: Tensor) -> Tensor:
        return c.reshape(*c.shape, *([1] * extra)) if extra else c

    a = len(spec.axes)
    out = [d0]
    out += [d1 * widen(c) for c in channels[1 : 1 + a]]
    if spec.second:
        q = quadratic(channels, spec) if q is None else q
        out += [d1 * widen(c) + d2 * widen(qq) for c, qq in zip(channels[1 + a :], q)]
    return torch.stack(out)


def elementwise(t: Tensor, spec: JetSpec, fn: Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]) -> Tensor:
    """Jet of an elementwise function; ``fn(v)`` returns (phi(v), phi'(v), phi''(v))."""
    channels = t.unbind(0)
    return chain(*fn(channels[0]), channels, spec)


def product(a: Tensor, b: Tensor, spec: JetSpec) -> Tensor:
    """Jet of the product ``a * b`` of two jets (C, n, c) (broadcasting over c): the Leibniz rule,
    ``d_i (ab) = a_i b + a b_i`` and ``d_i d_j (ab) = a_ij b + a b_ij + a_i b_j + a_j b_i``."""
    ac, bc = a.unbind(0), b.unbind(0)
    n_axes = len(spec.axes)
    out = [ac[0] * bc[0]]
    out += [ac[c] * bc[0] + ac[0] * bc[c] for c in range(1, 1 + n_axes)]
    for s, pairs in enumerate(spec.second):
        c = 1 + n_axes + s
        v = ac[c] * bc[0] + ac[0] * bc[c]
        for i, j in pairs:
            ci, cj = spec.first_channel(i), spec.first_channel(j)
            v = v + ac[ci] * bc[cj] + ac[cj] * bc[ci]
        out.append(v)
    return torch.stack(out)


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
