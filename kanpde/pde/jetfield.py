"""A field whose derivatives were carried through the network in one pass (see ``kanpde.pde.jet``).

``JetField`` answers ``ops.partial``, ``grad``, ``laplacian``, ``hessian`` and ``div`` from the channels of
its jet. Anything the jet does not hold (a third derivative, the derivative of an expression such as
``a(x) * grad(u)``) falls back to autograd on the field's values, which are ordinary differentiable
functions of x, so the result is always correct; it is only slower.

``discover_spec`` runs a residual once on a jet that carries every first and second derivative and
records what the residual looked up: the minimal ``JetSpec`` for training, or None when the residual
needs autograd somewhere (then the whole residual uses autograd, which is cheaper than mixing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from kanpde.pde.field import Field
from kanpde.pde.jet import JetSpec

__all__ = ["JetField", "Recorder", "discover_spec", "full_spec"]

logger = logging.getLogger("kanpde")


@dataclass
class Recorder:
    """What a residual asked a JetField for: first-derivative axes, second-order sums, and misses."""

    first: set[int] = field(default_factory=set)
    second: list[tuple[tuple[int, int], ...]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def spec(self) -> JetSpec:
        return JetSpec.build(self.first, self.second)


class JetField(Field):
    """Values and derivatives from a jet t: (C, n, c) computed at x (n, d) for ``spec``.

    ``index`` says what this field is: ``()`` the surrogate itself, ``(i,)`` its derivative along x_i,
    ``("grad",)`` the gradient of a scalar surrogate.
    """

    __slots__ = ("jet", "spec", "index", "recorder")
    _priority = 1

    def __init__(
        self,
        t: Tensor | tuple[Tensor, ...],
        spec: JetSpec,
        x: Tensor,
        index: tuple = (),
        recorder: Recorder | None = None,
    ) -> None:
        self.jet = t.unbind(0) if isinstance(t, Tensor) else t  # channels (n, c) each
        self.spec, self.index, self.recorder = spec, index, recorder
        if index == ():
            values = self.jet[0]
        elif index == ("grad",):
            values = torch.cat([self.jet[spec.first_channel(a)] for a in range(x.shape[1])], dim=1)
        else:
            values = self.jet[spec.first_channel(index[0])]
        super().__init__(values, x)

    # --- lookups --------------------------------------------------------------------------------------
    def _first(self, axis: int) -> Tensor | None:
        c = self.spec.first_channel(axis)
        if c is not None and self.recorder is not None:
            self.recorder.first.add(axis)
        return None if c is None else self.jet[c]

    def _second(self, pairs: tuple[tuple[int, int], ...]) -> Tensor | None:
        """A second-order sum from its own channel, or from the channels of its pairs."""
        c = self.spec.second_channel(pairs)
        if c is not None:
            found = self.jet[c]
        else:
            parts = [self.spec.second_channel((p,)) for p in pairs]
            if any(p is None for p in parts):
                return None
            found = self.jet[parts[0]]
            for p in parts[1:]:
                found = found + self.jet[p]
        if self.recorder is not None:
            self.recorder.second.append(pairs)
        return found

    def _miss(self, what: str) -> None:
        if self.recorder is not None:
            self.recorder.misses.append(what)
        else:
            logger.debug("one-pass derivatives do not hold %s; using autograd for it", what)

    def _view(self, values: Tensor) -> Field:
        return Field(values, self.x)

    # --- derivatives ------------------------------------------------------------------------------------
    def partial(self, axis: int) -> Field:
        d = self.x.shape[1]
        if -d <= axis < d:
            axis %= d
            key = ("partial", axis)
            if key in self._cache:
                return self._cache[key]
            if self.index == ():
                if self._first(axis) is not None:
                    self._cache[key] = JetField(self.jet, self.spec, self.x, (axis,), self.recorder)
                    return self._cache[key]
            elif self.index != ("grad",):
                found = self._second(((self.index[0], axis),))
                if found is not None:
                    self._cache[key] = self._view(found)
                    return self._cache[key]
            elif self.values.shape[1] == d:  # d/dx_axis of the gradient: a Hessian column
                cols = [self._second(((i, axis),)) for i in range(d)]
                if all(c is not None for c in cols):
                    self._cache[key] = self._view(torch.cat(cols, dim=1))
                    return self._cache[key]
            self._miss(f"partial along axis {axis} of {self._describe()}")
        return super().partial(axis)

    def grad(self) -> Field:
        d = self.x.shape[1]
        if self.index == () and self.values.shape[1] == 1 and all(self._first(i) is not None for i in range(d)):
            return JetField(self.jet, self.spec, self.x, ("grad",), self.recorder)
        self._miss(f"the gradient of {self._describe()}")
        return super().grad()

    def laplacian(self, axes: tuple[int, ...] | None = None) -> Field:
        d = self.x.shape[1]
        axes = tuple(range(d)) if axes is None else tuple(a % d for a in axes)
        if self.index == () and axes:
            found = self._second(tuple((a, a) for a in axes))
            if found is not None:
                return self._view(found)
        self._miss(f"the Laplacian of {self._describe()}")
        return super().laplacian(axes)

    def hessian(self) -> Field:
        d = self.x.shape[1]
        if self.index == () and self.values.shape[1] == 1:
            rows = [[self._second(((i, j),)) for j in range(d)] for i in range(d)]
            if all(v is not None for row in rows for v in row):
                return self._view(torch.stack([torch.cat(row, dim=1) for row in rows], dim=1))
        self._miss(f"the Hessian of {self._describe()}")
        return super().hessian()

    def divergence(self) -> Field:
        d = self.x.shape[1]
        if self.index == ("grad",):
            found = self._second(tuple((a, a) for a in range(d)))
            if found is not None:
                return self._view(found)
        elif self.index == () and self.values.shape[1] == d:
            cols = [self._first(i) for i in range(d)]
            if all(c is not None for c in cols):
                return self._view(sum(c[:, i : i + 1] for i, c in enumerate(cols)))
        self._miss(f"the divergence of {self._describe()}")
        return super().divergence()

    def __getitem__(self, index: Any) -> Field:
        if isinstance(index, int) and self.index == () and self.values.ndim == 2:
            c = self.values.shape[1]
            if -c <= index < c:
                index %= c
                return JetField(tuple(c[:, index : index + 1] for c in self.jet), self.spec, self.x, (), self.recorder)
        return super().__getitem__(index)

    def _binary(self, other: Any, op: Callable[[Tensor, Tensor], Tensor], symbol: str, reverse: bool = False) -> Field:
        """``a * grad(u)`` with a per-point coefficient a keeps the jet for its divergence (Darcy's
        ``div(a grad u) = a lap(u) + grad(a) . grad(u)``); other arithmetic leaves the jet behind."""
        out = super()._binary(other, op, symbol, reverse)
        if self.index == ("grad",) and op is torch.mul and out is not NotImplemented:
            coef = other.values if isinstance(other, Field) else other
            if isinstance(coef, Tensor) and coef.numel() == self.x.shape[0]:
                return _ScaledGradient(out.values, self.x, self, coef.reshape(-1, 1))
        return out

    def _derived(self, values: Tensor) -> Field:
        """Arithmetic leaves the jet behind: derivatives of the result use autograd (and are recorded)."""
        if self.recorder is None:
            return Field(values, self.x)
        return _Watched(values, self.x, self.recorder)

    def _describe(self) -> str:
        return {(): "the surrogate", ("grad",): "its gradient"}.get(
            self.index, f"its derivative along axis {self.index[0] if self.index else '?'}"
        )


class _ScaledGradient(Field):
    """``a(x) * grad(u)`` for a jet field u: its divergence comes from u's jet and one backward of a."""

    __slots__ = ("gradient", "coef")

    def __init__(self, values: Tensor, x: Tensor, gradient: JetField, coef: Tensor) -> None:
        super().__init__(values, x)
        self.gradient, self.coef = gradient, coef

    def divergence(self) -> Field:
        d = self.x.shape[1]
        lap = self.gradient._second(tuple((a, a) for a in range(d)))
        if lap is None:
            return super().divergence()
        grad_a = torch.zeros_like(self.x)
        if self.coef.requires_grad:
            (g,) = torch.autograd.grad(self.coef.sum(), self.x, create_graph=True, allow_unused=True)
            grad_a = grad_a if g is None else g
        return self.gradient._derived(self.coef * lap + (grad_a * self.gradient.values).sum(dim=1, keepdim=True))

    def _derived(self, values: Tensor) -> Field:
        return self.gradient._derived(values)


class _Watched(Field):
    """A field derived by arithmetic during discovery: any derivative taken of it is a miss."""

    __slots__ = ("recorder",)

    def __init__(self, values: Tensor, x: Tensor, recorder: Recorder) -> None:
        super().__init__(values, x)
        self.recorder = recorder

    def _derived(self, values: Tensor) -> Field:
        return _Watched(values, self.x, self.recorder)

    def _jacobian(self) -> Tensor:
        self.recorder.misses.append("a derivative of an expression of the surrogate")
        return super()._jacobian()


def full_spec(d: int) -> JetSpec:
    """Every first derivative and every single second derivative in d dimensions."""
    return JetSpec.build(range(d), [((i, j),) for i in range(d) for j in range(i, d)])


def discover_spec(evaluate: Callable[[Field, Tensor], Any], model: Any, x: Tensor) -> tuple[JetSpec | None, list[str]]:
    """Run ``evaluate(u, x)`` on a jet field carrying everything; return (minimal spec or None, misses).

    model must provide ``forward_jet(x, spec)``; x: (n, d) a few points.
    """
    recorder = Recorder()
    spec = full_spec(x.shape[1])
    x = x.detach().requires_grad_(True)
    u = JetField(model.forward_jet(x, spec), spec, x, (), recorder)
    evaluate(u, x)
    if recorder.misses:
        return None, recorder.misses
    return recorder.spec(), []
