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
from abc import ABC, abstractmethod
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
                raise ConfigError(
                    f"{owner}: positive=True already bounds it below by 0; got also lower={lower!r}, "
                    f"upper={upper!r}: give positive=True or the bounds, not both"
                )
            lower = 0.0
        if lower is not None and upper is not None and not lower < upper:
            raise ConfigError(f"{owner}: lower={lower!r} must be below upper={upper!r}; give lower < upper")
        inside = (lower is None or init > lower) and (upper is None or init < upper)
        if not inside:
            span = f"({'-inf' if lower is None else lower}, {'inf' if upper is None else upper})"
            raise ConfigError(
                f"{owner}.init={init!r} lies outside its bounds {span}{' (positive=True)' * positive}; "
                "give an init strictly inside them"
            )
        self.init = float(init)
        self.lower = None if lower is None else float(lower)
        self.upper = None if upper is None else float(upper)
        lower, upper = self.lower, self.upper
        if lower is not None and upper is not None:
            # sigmoid(shift) = (init - lower) / (upper - lower), written to keep digits near either bound
            self.scale, self.shift = upper - lower, math.log((self.init - lower) / (upper - self.init))
        elif lower is not None or upper is not None:
            bound = lower if lower is not None else upper
            self.scale, self.shift = abs(self.init - bound), math.log(math.expm1(1.0))  # softplus(shift) = 1
        else:
            self.scale, self.shift = abs(self.init) or 1.0, 0.0

    def value(self, r: Tensor) -> Tensor:
        """The bounded value for the parameter r (any shape): ``init`` at r = 0, within the bounds.

        Each map is written from the bound nearest ``init`` (the sigmoid's upper half as ``upper - s
        sigmoid(-(r + r0))``), where its digits are: a value close to a bound keeps its distance from it
        (a positive field stays > 0 for any r > -700).
        """
        lower, upper, z = self.lower, self.upper, r + self.shift
        softplus = torch.nn.functional.softplus
        if lower is not None and upper is not None:
            if self.shift <= 0:
                return (lower + self.scale * torch.sigmoid(z)).clamp(max=upper)
            return (upper - self.scale * torch.sigmoid(-z)).clamp(min=lower)
        if lower is not None:
            return lower + self.scale * softplus(z)
        if upper is not None:
            return upper - self.scale * softplus(z)
        return self.init + self.scale * r

    def describe(self) -> dict[str, Any]:
        return {"init": self.init, "lower": self.lower, "upper": self.upper}


class _Declared(ABC):
    """What ``Unknown`` and ``UnknownField`` share: a name (the attribute's, by default), bounds, a truth."""

    kind = ""

    def __init__(self, name: str | None, init: Any, lower: Any, upper: Any, positive: bool, exact: Any) -> None:
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise ConfigError(
                f"{type(self).__name__} name must be an identifier such as 'c'; got {name!r} (the name comes "
                f"first: {type(self).__name__}('c', init=1.0), or leave it out to take the attribute's)"
            )
        self.name = name
        self.bounds = Bounds(init, lower, upper, self._owner(), positive=positive)
        self.exact = exact

    def _owner(self) -> str:
        return f"{type(self).__name__}({self.name!r})" if self.name else type(self).__name__

    def __set_name__(self, owner: type, attr: str) -> None:
        self._attr = attr
        if self.name is None:
            self.name = attr

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        mine = obj.__dict__.get(_DECLARED, {}).get(getattr(self, "_attr", None), self)  # redeclared in __init__
        return mine.read(obj)

    @abstractmethod
    def read(self, problem: Any) -> Any:
        """The value a residual of ``problem`` sees: the bound source's, or ``init`` when unbound."""

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
        lower, upper = self.bounds.lower, self.bounds.upper
        if exact is not None and not ((lower is None or exact >= lower) and (upper is None or exact <= upper)):
            raise ConfigError(
                f"{self._owner()}.exact={exact!r} lies outside its bounds [{'-inf' if lower is None else lower}, "
                f"{'inf' if upper is None else upper}], where the identified "
                "value can never go; widen the bounds or correct exact"
            )

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
        model: the network: ``"kan"`` (default: ``KAN([k, 5, 1], grid=20)``), ``"mlp"``
            (``MLP([k, 20, 20, 1])``, tanh) or a ``kanpde.KAN``/``kanpde.MLP`` with k inputs and 1 output.
            Measured on ``darcy_inverse`` with the solution fixed to the exact one, 200 L-BFGS iterations
            recovered a to 3.4e-3 with a KAN [2, 5, 1] G = 5 and 1.9e-2 with the MLP; jointly, 2.3e-2
            against 0.18. Why the default KAN is on G = 20, and when to declare a coarser one (noisy
            data): ``kanpde.pinn.unknowns.FIELD_GRID``.
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
        model: Any = "kan",
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
_MISSING = object()
_DECLARED = "_kanpde_unknowns"


def bind(problem: Any, source: Source | None) -> None:
    """Make ``problem``'s unknowns read from ``source`` (None: read as their ``init`` again)."""
    object.__setattr__(problem, _SOURCE, source)


def bound_source(problem: Any) -> Source | None:
    """The source ``problem``'s unknowns read from, or None."""
    return problem.__dict__.get(_SOURCE)


def keep_instance_declaration(problem: Any, attr: str, value: Any) -> bool:
    """Store an unknown assigned on an instance (``self.c = Unknown(...)`` in ``__init__``) where
    :func:`read_instance_declaration` finds it; False for any other value (which also drops an unknown
    assigned as ``attr`` before: ``self.c = 2.0`` makes c a constant again)."""
    declared = problem.__dict__.setdefault(_DECLARED, {})
    if not isinstance(value, _Declared):
        declared.pop(attr, None)
        return False
    if value.name is None:
        value.name = attr
    hidden = getattr(type(problem), attr, _MISSING)
    if hidden is not _MISSING and not isinstance(hidden, _Declared):
        kind = type(problem).__name__
        raise DefinitionError(
            f"{kind}.{attr} is set to {value!r} in __init__, but the class attribute {kind}.{attr} = {hidden!r} "
            f"would hide it (self.{attr} would read the class's); declare the unknown on the class "
            f"({attr} = {type(value).__name__}(...)) or rename one of them"
        )
    declared[attr] = value
    problem.__dict__.pop(attr, None)
    return True


def read_instance_declaration(problem: Any, attr: str) -> Any:
    """The value of an unknown assigned on the instance as ``attr``; AttributeError when there is none."""
    declared = problem.__dict__.get(_DECLARED, {})
    if attr in declared:
        return declared[attr].read(problem)
    raise AttributeError(f"{type(problem).__name__!r} object has no attribute {attr!r}")


def declared_unknowns(problem: Any) -> tuple[Unknown | UnknownField, ...]:
    """The unknowns declared on ``problem``: class attributes (a subclass's replacing its bases' of the same
    attribute), then the instance's, in that order. Two attributes that declare one name are an error."""
    by_attr: dict[str, _Declared] = {}
    for cls in reversed(type(problem).__mro__):
        for attr, value in vars(cls).items():
            if isinstance(value, _Declared):
                by_attr[attr] = value
            else:
                by_attr.pop(attr, None)  # a subclass set the attribute to something else
    for attr in problem.__dict__:
        by_attr.pop(attr, None)  # the instance set it to a value: a constant now
    by_attr.update(problem.__dict__.get(_DECLARED, {}))
    found: dict[str, str] = {}
    for attr, value in by_attr.items():
        if value.name is None:
            raise DefinitionError(f"{type(problem).__name__}.{attr} is an unknown without a name: {value!r}")
        if value.name in found and found[value.name] != attr:
            raise DefinitionError(
                f"{type(problem).__name__}.{found[value.name]} and .{attr} both declare the unknown "
                f"{value.name!r}; give each its own name"
            )
        found[value.name] = attr
    return tuple(by_attr.values())
