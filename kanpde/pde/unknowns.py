"""Unknowns of an inverse problem: scalars and coefficient fields that ``solve()`` identifies with the field.

Declare them on a problem and use them in its residual and conditions as if they were known::

    class Identify(kanpde.Problem):
        domain = kanpde.Box([0, 0], [1, 1])
        conditions = [kanpde.Dirichlet("boundary", 0.0)]
        c = kanpde.Unknown("c", init=1.0, lower=0.0)                   # a number
        a = kanpde.UnknownField("a", init=1.0, positive=True)          # a function of x
        data = [kanpde.Data(points, values)]                           # what pins them down

        def residual(self, u, x):
            return ops.div(self.a(x) * ops.grad(u, x), x) + self.c * f(x)

``self.c`` reads as a 0-d tensor and ``self.a(x)`` as an (n,) tensor, both differentiable in the values
being trained, so either optimizer and the one-pass derivative path train them with the network. The
values themselves live in the surrogate (``kanpde.pinn.unknowns``), which binds itself to the problem
(:func:`bind`); an unbound unknown reads as its ``init``.

Bounds go through smooth maps of an unconstrained parameter r, chosen so that r = 0 gives ``init``:
``lower + (upper - lower) sigmoid(r + r0)`` with both bounds, ``lower + s softplus(r + r0)`` (or
``upper - ...``) with one, and ``init + s r`` with none, where s = |init - bound| (or |init|, or 1) keeps
a step of the optimizer a relative change of the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import Tensor

from kanpde.checks import is_real
from kanpde.errors import ConfigError, DefinitionError

__all__ = ["Unknown", "UnknownField", "Bounds", "bind", "bound_source", "declared_unknowns", "Source"]


class Source(Protocol):
    """Where a bound problem reads its unknowns: the trained values (``kanpde.pinn.unknowns.UnknownSet``)."""

    def value(self, name: str) -> Tensor: ...

    def field(self, name: str) -> Callable[[Tensor], Tensor]: ...


class Bounds:
    """The map from an unconstrained parameter r to a value within ``[lower, upper]``, r = 0 giving ``init``.

    ``owner`` names the declaration in error messages (``Unknown('c')``).
    """

    def __init__(self, init: Any, lower: Any, upper: Any, owner: str, *, positive: bool = False) -> None:
        for field, value in (("init", init), ("lower", lower), ("upper", upper)):
            if not (value is None and field != "init") and not is_real(value):
                raise ConfigError(
                    f"{owner}.{field} must be a finite number{' or None' * (field != 'init')}; got {value!r}"
                )
        if positive:
            if lower is not None or upper is not None:
                raise ConfigError(f"{owner}: give positive=True or bounds (lower=, upper=), not both")
            lower = 0.0
        if lower is not None and upper is not None and not lower < upper:
            raise ConfigError(f"{owner}: lower={lower!r} must be below upper={upper!r}")
        inside = (lower is None or init > lower) and (upper is None or init < upper)
        if not inside:
            span = f"[{'-inf' if lower is None else lower}, {'inf' if upper is None else upper}]"
            raise ConfigError(
                f"{owner}.init={init!r} lies outside its bounds {span}; give an init strictly inside them"
            )
        self.init, self.lower, self.upper = float(init), lower, upper
        if lower is not None and upper is not None:
            p = (self.init - lower) / (upper - lower)
            self.scale, self.shift = float(upper - lower), math.log(p / (1 - p))
        elif lower is not None or upper is not None:
            bound = lower if lower is not None else upper
            self.scale, self.shift = abs(self.init - bound), math.log(math.expm1(1.0))  # softplus(shift) = 1
        else:
            self.scale, self.shift = abs(self.init) or 1.0, 0.0

    def value(self, r: Tensor) -> Tensor:
        """The bounded value for the parameter r (any shape)."""
        lower, upper = self.lower, self.upper
        if lower is not None and upper is not None:
            return lower + self.scale * torch.sigmoid(r + self.shift)
        if lower is not None:
            return lower + self.scale * torch.nn.functional.softplus(r + self.shift)
        if upper is not None:
            return upper - self.scale * torch.nn.functional.softplus(r + self.shift)
        return self.init + self.scale * r

    def describe(self) -> dict[str, Any]:
        return {"init": self.init, "lower": self.lower, "upper": self.upper}


class _Declared:
    """What ``Unknown`` and ``UnknownField`` share: a name (the attribute's, by default), bounds, a truth."""

    kind = ""

    def __init__(self, name: str | None, init: Any, lower: Any, upper: Any, positive: bool, exact: Any) -> None:
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise ConfigError(f"{type(self).__name__} name must be an identifier such as 'c'; got {name!r}")
        self.name = name
        self.bounds = Bounds(init, lower, upper, self._owner(), positive=positive)
        self.exact = exact

    def _owner(self) -> str:
        return f"{type(self).__name__}({self.name!r})" if self.name else type(self).__name__

    def __set_name__(self, owner: type, attr: str) -> None:
        if self.name is None:
            self.name = attr

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else self.read(obj)

    def read(self, problem: Any) -> Any:
        """The value a residual of ``problem`` sees: the bound source's, or ``init`` when unbound."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, **self.bounds.describe()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, init={self.bounds.init:g})"


class Unknown(_Declared):
    """A scalar of a problem to identify: ``c = kanpde.Unknown("c", init=1.0, lower=0.0)``.

    Args:
        name: how reports and ``sol.unknowns`` call it (default: the attribute's name).
        init: the first guess (strictly inside the bounds).
        lower, upper: bounds (either, both or neither), kept by a smooth map (see the module doc).
        exact: the true value, when known (a built-in inverse problem): ``sol.errors`` then holds
            ``rel_err_<name>`` = |c - exact| / |exact|.

    In ``residual`` (and in functions a condition calls) ``self.c`` is a 0-d tensor to be used like a number.
    """

    kind = "scalar"

    def __init__(
        self,
        name: str | None = None,
        init: float = 1.0,
        *,
        lower: float | None = None,
        upper: float | None = None,
        exact: float | None = None,
    ) -> None:
        super().__init__(name, init, lower, upper, False, exact)
        if exact is not None and not is_real(exact):
            raise ConfigError(f"{self._owner()}.exact must be a finite number or None; got {exact!r}")

    def read(self, problem: Any) -> Any:
        source = bound_source(problem)
        return self.bounds.init if source is None else source.value(self.name)


class UnknownField(_Declared):
    """A coefficient field of a problem to identify: ``a = kanpde.UnknownField("a", positive=True)``.

    It is trained as its own small network (``kanpde.pinn.unknowns``) of the coordinates in ``axes``.

    Args:
        name: how reports, exports and ``sol.unknowns`` call it (default: the attribute's name).
        init: the value everywhere at the start.
        positive: keep it > 0 (a softplus of the network's output); or give ``lower``/``upper`` bounds
            (a sigmoid between both, a softplus above or below one).
        axes: the coordinates it depends on, by name or column (default: all of the domain's; a
            conductivity of a heat problem: ``axes=("x",)``).
        model: the network: ``"mlp"`` (default: ``MLP([k, 20, 20, 1])``, tanh), ``"kan"``
            (``KAN([k, 5, 1], grid=5)``) or a ``kanpde.KAN``/``kanpde.MLP`` with k inputs and 1 output.
        exact: the true field, a function of the points x: (n, d) -> (n,), when known: ``sol.errors``
            then holds ``rel_l2_<name>`` and ``max_abs_<name>`` on the evaluation grid.

    In ``residual``, ``self.a(x)`` is the field at x: (n, d) as an (n,) tensor, differentiable in x, so
    ``ops.div(self.a(x) * ops.grad(u, x), x)`` works on both derivative paths.
    """

    kind = "field"

    def __init__(
        self,
        name: str | None = None,
        init: float = 1.0,
        *,
        positive: bool = False,
        lower: float | None = None,
        upper: float | None = None,
        axes: Sequence[str | int] | None = None,
        model: Any = "mlp",
        exact: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        if not isinstance(positive, bool):
            raise ConfigError(f"UnknownField.positive must be True or False; got {positive!r}")
        super().__init__(name, init, lower, upper, positive, exact)
        if exact is not None and not callable(exact):
            raise ConfigError(f"{self._owner()}.exact must be a function of x: (n, d) -> (n,) or None; got {exact!r}")
        if axes is not None and (isinstance(axes, (str, int)) or not all(isinstance(a, (str, int)) for a in axes)):
            raise ConfigError(f"{self._owner()}.axes must be a sequence of axis names or columns; got {axes!r}")
        if not (model in ("mlp", "kan") or hasattr(model, "width")):
            raise ConfigError(f"{self._owner()}.model must be 'mlp', 'kan' or a kanpde.KAN/MLP; got {model!r}")
        self.axes, self.model = (None if axes is None else tuple(axes)), model

    def columns(self, axes: Sequence[str]) -> tuple[int, ...]:
        """The columns of x the field depends on, for a domain with these ``axes`` names."""
        if self.axes is None:
            return tuple(range(len(axes)))
        out = []
        for a in self.axes:
            if isinstance(a, str):
                if a not in axes:
                    raise ConfigError(f"{self._owner()}.axes names {a!r}; the domain's axes are {tuple(axes)}")
                out.append(axes.index(a))
            elif not 0 <= a < len(axes):
                raise ConfigError(f"{self._owner()}.axes has column {a}; the domain has {len(axes)} coordinates")
            else:
                out.append(int(a))
        if not out or len(set(out)) != len(out):
            raise ConfigError(f"{self._owner()}.axes must name distinct axes, at least one; got {self.axes!r}")
        return tuple(out)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "axes": None if self.axes is None else list(self.axes)}

    def read(self, problem: Any) -> Callable[[Tensor], Tensor]:
        source = bound_source(problem)
        if source is not None:
            return source.field(self.name)
        init = self.bounds.init
        return lambda x: torch.full((x.shape[0],), init, dtype=x.dtype, device=x.device)


_SOURCE = "_kanpde_unknown_source"
_DECLARED = "_kanpde_unknowns"


def bind(problem: Any, source: Source | None) -> None:
    """Make ``problem``'s unknowns read from ``source`` (None: read as their ``init`` again)."""
    object.__setattr__(problem, _SOURCE, source)


def bound_source(problem: Any) -> Source | None:
    """The source ``problem``'s unknowns read from, or None."""
    return problem.__dict__.get(_SOURCE)


def keep_instance_declaration(problem: Any, attr: str, value: Any) -> bool:
    """Store an unknown assigned on an instance (``self.c = Unknown(...)`` in ``__init__``) where
    :func:`read_instance_declaration` finds it; False for any other value."""
    if not isinstance(value, _Declared):
        return False
    if value.name is None:
        value.name = attr
    problem.__dict__.setdefault(_DECLARED, {})[attr] = value
    problem.__dict__.pop(attr, None)
    return True


def read_instance_declaration(problem: Any, attr: str) -> Any:
    """The value of an unknown assigned on the instance as ``attr``; AttributeError when there is none."""
    declared = problem.__dict__.get(_DECLARED, {})
    if attr in declared:
        return declared[attr].read(problem)
    raise AttributeError(f"{type(problem).__name__!r} object has no attribute {attr!r}")


def declared_unknowns(problem: Any) -> tuple[Unknown | UnknownField, ...]:
    """The unknowns declared on ``problem`` (class attributes, base classes first, then the instance's), by name."""
    found: dict[str, _Declared] = {}
    for cls in reversed(type(problem).__mro__):
        for value in vars(cls).values():
            if isinstance(value, _Declared):
                found[value.name] = value
    for value in problem.__dict__.get(_DECLARED, {}).values():
        found[value.name] = value
    for name, value in found.items():
        if name is None:
            raise DefinitionError(f"{type(problem).__name__} has an unknown without a name: {value!r}")
    return tuple(found.values())
