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

from kanpde.pde.field import NO_NAMES, Field, Layout
from kanpde.pde.jet import JetSpec, product

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
    ``("grad", axes)`` the gradient of a scalar surrogate along ``axes``.
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
        layout: Layout = NO_NAMES,
    ) -> None:
        self.jet = t.unbind(0) if isinstance(t, Tensor) else t  # channels (n, c) each
        self.spec, self.index, self.recorder = spec, index, recorder
        if index == ():
            values = self.jet[0]
        elif index[0] == "grad":
            values = torch.cat([self.jet[spec.first_channel(a)] for a in index[1]], dim=1)
        else:
            values = self.jet[spec.first_channel(index[0])]
        super().__init__(values, x, layout)

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
        return Field(values, self.x, self.layout.axes_only())

    def _jet_view(self, index: tuple) -> JetField:
        return JetField(self.jet, self.spec, self.x, index, self.recorder, self.layout.axes_only())

    # --- derivatives ------------------------------------------------------------------------------------
    def partial(self, axis: int | str) -> Field:
        axis = self.axis(axis)
        key = ("partial", axis)
        if key in self._cache:
            return self._cache[key]
        if self.index == ():
            if self._first(axis) is not None:
                self._cache[key] = self._jet_view((axis,))
                return self._cache[key]
        elif self.index[0] != "grad":
            found = self._second(((self.index[0], axis),))
            if found is not None:
                self._cache[key] = self._view(found)
                return self._cache[key]
        else:  # d/dx_axis of the gradient: a Hessian column
            cols = [self._second(((i, axis),)) for i in self.index[1]]
            if all(c is not None for c in cols):
                self._cache[key] = self._view(torch.cat(cols, dim=1))
                return self._cache[key]
        self._miss(f"partial along axis {axis} of {self._describe()}")
        return super().partial(axis)

    def grad(self, axes: Any = None) -> Field:
        axes = self.axes_of(axes)
        if self.index == () and self.values.shape[1] == 1 and all(self._first(i) is not None for i in axes):
            return self._jet_view(("grad", axes))
        self._miss(f"the gradient of {self._describe()}")
        return super().grad(axes)

    def laplacian(self, axes: Any = None) -> Field:
        axes = self.axes_of(axes)
        if self.index == ():
            found = self._second(tuple((a, a) for a in axes))
            if found is not None:
                return self._view(found)
        self._miss(f"the Laplacian of {self._describe()}")
        return super().laplacian(axes)

    def hessian(self, axes: Any = None) -> Field:
        axes = self.axes_of(axes)
        if self.index == () and self.values.shape[1] == 1:
            rows = [[self._second(((i, j),)) for j in axes] for i in axes]
            if all(v is not None for row in rows for v in row):
                return self._view(torch.stack([torch.cat(row, dim=1) for row in rows], dim=1))
        self._miss(f"the Hessian of {self._describe()}")
        return super().hessian(axes)

    def divergence(self, axes: Any = None) -> Field:
        axes = self.axes_of(axes)
        if self.index and self.index[0] == "grad" and self.index[1] == axes:
            found = self._second(tuple((a, a) for a in axes))
            if found is not None:
                return self._view(found)
        elif self.index == () and self.values.shape[1] == len(axes):
            cols = [self._first(a) for a in axes]
            if all(c is not None for c in cols):
                return self._view(sum(c[:, i : i + 1] for i, c in enumerate(cols)))
        self._miss(f"the divergence of {self._describe()}")
        return super().divergence(axes)

    def __getitem__(self, index: Any) -> Field:
        if isinstance(index, int) and self.index == () and self.values.ndim == 2:
            c = self.values.shape[1]
            if -c <= index < c:
                index %= c
                jet = tuple(c[:, index : index + 1] for c in self.jet)
                return JetField(jet, self.spec, self.x, (), self.recorder, self.layout.axes_only())
        return super().__getitem__(index)

    def _jet_partial(self, axis: int) -> Field | None:
        """d/dx_axis from the jet alone (a JetField for the surrogate, a plain field for a first
        derivative), or None where the jet does not hold it."""
        if self.index == ():
            return self._jet_view((axis,)) if self.spec.first_channel(axis) is not None else None
        if self.index[0] == "grad":
            return None
        found = self._second(((self.index[0], axis),))
        return None if found is None else self._view(found)

    def _binary(self, other: Any, op: Callable[[Tensor, Tensor], Tensor], symbol: str, reverse: bool = False) -> Field:
        """Arithmetic that keeps what the jet can give: sums, differences and constant multiples of the
        surrogate's components and their first derivatives (``v_x - u_y``, whose derivatives are second
        derivatives in the jet); products of components (``u * v``, by the Leibniz rule on the jet); and
        ``a * grad(u)`` with a per-point coefficient a for its divergence (Darcy's
        ``div(a grad u) = a lap(u) + grad(a) . grad(u)``). Other arithmetic leaves the jet behind."""
        kept = _keep_jet(self, other, op, reverse)
        if kept is not None:
            return kept
        out = super()._binary(other, op, symbol, reverse)
        if self.index and self.index[0] == "grad" and op is torch.mul and out is not NotImplemented:
            coef = other.values if isinstance(other, Field) else other
            if isinstance(coef, Tensor) and coef.numel() == self.x.shape[0]:
                return _ScaledGradient(out.values, self.x, self, coef.reshape(-1, 1))
        return out

    def __neg__(self) -> Field:
        return self._binary(-1.0, torch.mul, "*")

    def _derived(self, values: Tensor) -> Field:
        """Arithmetic leaves the jet behind: derivatives of the result use autograd (and are recorded)."""
        if self.recorder is None:
            return Field(values, self.x, self.layout.axes_only())
        return _Watched(values, self.x, self.recorder, self.layout.axes_only())

    def _describe(self) -> str:
        if not self.index:
            return "the surrogate"
        return "its gradient" if self.index[0] == "grad" else f"its derivative along axis {self.index[0]}"


def _terms(obj: Any) -> list[tuple[float, JetField]] | None:
    """``obj`` as a linear combination of jet fields (the surrogate or a first derivative), or None."""
    if isinstance(obj, JetField) and (not obj.index or obj.index[0] != "grad"):
        return [(1.0, obj)]
    if isinstance(obj, _Linear):
        return list(obj.terms)
    return None


def _keep_jet(a: JetField | _Linear, other: Any, op: Callable, reverse: bool) -> Field | None:
    """The jet-keeping result of ``a op other`` (``other op a`` when reverse), or None."""
    number = isinstance(other, (int, float)) and not isinstance(other, bool)
    mine, theirs = _terms(a), _terms(other)
    if mine is None:
        return None
    if number and (op is torch.mul or (op is torch.div and not reverse)):
        k = float(other) if op is torch.mul else 1.0 / float(other)
        return _combine([(k * c, f) for c, f in mine])
    if theirs is None or other.x is not a.x or _shape(mine) != _shape(theirs):
        return None
    if op in (torch.add, torch.sub):
        sign = -1.0 if op is torch.sub else 1.0
        left, right = (theirs, mine) if reverse else (mine, theirs)
        return _combine(left + [(sign * c, f) for c, f in right])
    if op is torch.mul and len(mine) == 1 and len(theirs) == 1 and not mine[0][1].index and not theirs[0][1].index:
        (ca, fa), (cb, fb) = mine[0], theirs[0]
        if fa.spec != fb.spec:
            return None
        jet = product(torch.stack(fa.jet), torch.stack(fb.jet), fa.spec) * (ca * cb)
        return JetField(jet, fa.spec, fa.x, (), fa.recorder, fa.layout.axes_only())
    return None


def _shape(terms: list[tuple[float, JetField]]) -> torch.Size:
    return terms[0][1].values.shape


def _combine(terms: list[tuple[float, JetField]]) -> Field:
    """A single unscaled term is that field; anything else a ``_Linear``."""
    if len(terms) == 1 and terms[0][0] == 1.0:
        return terms[0][1]
    values = sum(c * f.values for c, f in terms)
    return _Linear(values, terms[0][1].x, tuple(terms))


class _Linear(Field):
    """A linear combination ``sum c_k f_k`` of the surrogate's components and first derivatives (jet
    fields): its first derivatives are combinations of jet channels, so ``ops.partial(v_x - u_y, x, 0)``
    (a vorticity's gradient) stays on the one-pass path."""

    __slots__ = ("terms",)
    _priority = 1

    def __init__(self, values: Tensor, x: Tensor, terms: tuple[tuple[float, JetField], ...]) -> None:
        super().__init__(values, x, terms[0][1].layout.axes_only())
        self.terms = terms

    def partial(self, axis: int | str) -> Field:
        axis = self.axis(axis)
        key = ("partial", axis)
        if key not in self._cache:
            parts = [(c, f._jet_partial(axis)) for c, f in self.terms]
            if any(p is None for _, p in parts):
                self.terms[0][1]._miss(f"a derivative along axis {axis} of a combination of fields")
                return super().partial(axis)
            if all(isinstance(p, JetField) for _, p in parts):
                self._cache[key] = _combine(parts)
            else:
                self._cache[key] = self._derived(sum(c * p.values for c, p in parts))
        return self._cache[key]

    def laplacian(self, axes: Any = None) -> Field:
        axes = self.axes_of(axes)
        return self._derived(sum(self.partial(a).partial(a).values for a in axes))

    def _binary(self, other: Any, op: Callable[[Tensor, Tensor], Tensor], symbol: str, reverse: bool = False) -> Field:
        kept = _keep_jet(self, other, op, reverse)
        return kept if kept is not None else super()._binary(other, op, symbol, reverse)

    def __neg__(self) -> Field:
        return self._binary(-1.0, torch.mul, "*")

    def _derived(self, values: Tensor) -> Field:
        return self.terms[0][1]._derived(values)


class _ScaledGradient(Field):
    """``a(x) * grad(u)`` for a jet field u: its divergence comes from u's jet and one backward of a."""

    __slots__ = ("gradient", "coef")

    def __init__(self, values: Tensor, x: Tensor, gradient: JetField, coef: Tensor) -> None:
        super().__init__(values, x, gradient.layout)
        self.gradient, self.coef = gradient, coef

    def divergence(self, axes: Any = None) -> Field:
        axes = self.axes_of(axes)
        lap = self.gradient._second(tuple((a, a) for a in axes)) if axes == self.gradient.index[1] else None
        if lap is None:
            return super().divergence(axes)
        grad_a = torch.zeros_like(self.x)
        if self.coef.requires_grad:
            (g,) = torch.autograd.grad(self.coef.sum(), self.x, create_graph=True, allow_unused=True)
            grad_a = grad_a if g is None else g
        flux = (grad_a[:, list(axes)] * self.gradient.values).sum(dim=1, keepdim=True)
        return self.gradient._derived(self.coef * lap + flux)

    def _derived(self, values: Tensor) -> Field:
        return self.gradient._derived(values)


class _Watched(Field):
    """A field derived by arithmetic during discovery: any derivative taken of it is a miss."""

    __slots__ = ("recorder",)

    def __init__(self, values: Tensor, x: Tensor, recorder: Recorder, layout: Layout = NO_NAMES) -> None:
        super().__init__(values, x, layout)
        self.recorder = recorder

    def _derived(self, values: Tensor) -> Field:
        return _Watched(values, self.x, self.recorder, self.layout.axes_only())

    def _jacobian(self) -> Tensor:
        self.recorder.misses.append("a derivative of an expression of the surrogate")
        return super()._jacobian()


def full_spec(d: int) -> JetSpec:
    """Every first derivative and every single second derivative in d dimensions."""
    return JetSpec.build(range(d), [((i, j),) for i in range(d) for j in range(i, d)])


def discover_spec(
    evaluate: Callable[[Field, Tensor], Any], model: Any, x: Tensor, layout: Layout = NO_NAMES
) -> tuple[JetSpec | None, list[str]]:
    """Run ``evaluate(u, x)`` on a jet field carrying everything; return (minimal spec or None, misses).

    model must provide ``forward_jet(x, spec)``; x: (n, d) a few points.
    """
    recorder = Recorder()
    spec = full_spec(x.shape[1])
    x = x.detach().requires_grad_(True)
    u = JetField(model.forward_jet(x, spec), spec, x, (), recorder, layout)
    evaluate(u, x)
    if recorder.misses:
        return None, recorder.misses
    return recorder.spec(), []
