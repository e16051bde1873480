"""Boundary and initial conditions, declared once and attached to named parts of a problem's domain.

``Dirichlet("boundary", 0.0)`` asks for u = 0 on every face; ``Neumann("right", g)`` for du/dn = g with
the outward normal n; ``Robin("top", g, alpha=1, beta=2)`` for alpha u + beta du/dn = g;
``Initial(g)`` for u = g at the start of a space-time domain (its face ``t_min``); ``Periodic("x")`` for
u and du/dx equal on the faces ``x_min`` and ``x_max``. A value is a number or a function ``g(x)`` of the
points x: (n, d) returning (n,) or (n, c). Each condition adds ``weight * mean(|residual|^2)`` to the
loss, unless ``solve(constraints="hard")`` builds it into the surrogate.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_positive, is_real
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde import ops
from kanpde.pde.field import Field

if TYPE_CHECKING:
    from kanpde.geometry.domain import BoundarySample, Domain

__all__ = [
    "Condition",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Initial",
    "Periodic",
    "PointValue",
    "MeanValue",
    "Value",
    "sets_value",
]

Value = float | Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Condition(ABC):
    """Base of the declared conditions: a boundary part name ``on``, a value and a loss weight."""

    on: str
    value: Value = 0.0
    _: KW_ONLY
    weight: float = 1.0
    component: str | int | None = None

    def __post_init__(self) -> None:
        kind = type(self).__name__
        if not isinstance(self.on, str) or not self.on:
            raise DefinitionError(f"{kind}.on must name a boundary part (a string such as 'boundary'); got {self.on!r}")
        if not callable(self.value) and not is_real(self.value):
            raise DefinitionError(
                f"{kind}({self.on!r}).value must be a number or a function g(x) of the points; got {self.value!r}"
            )
        check_positive(self.weight, f"{kind}({self.on!r}).weight")
        c = self.component
        if c is not None and (isinstance(c, bool) or not isinstance(c, (str, int))):
            raise DefinitionError(
                f"{kind}({self.on!r}).component must name one of the problem's outputs (a string such as 'u') "
                f"or give its index; got {c!r}"
            )

    @property
    def label(self) -> str:
        """A short name for logs and loss terms, e.g. ``dirichlet:boundary`` or ``dirichlet:lid[u]``."""
        return f"{type(self).__name__.lower()}:{self.on}{self._component_suffix()}"

    def _component_suffix(self) -> str:
        return "" if self.component is None else f"[{self.component}]"

    def check_component(self, components: tuple[str, ...], owner: str) -> None:
        """Raise unless ``component`` names one of ``components`` (or indexes one)."""
        c = self.component
        if c is None:
            return
        ok = c in components if isinstance(c, str) else -len(components) <= c < len(components)
        if not ok:
            raise ConfigError(
                f"{owner}: {type(self).__name__}({self.on!r}, component={c!r}) names no component of the "
                f"solution; its components are {', '.join(map(repr, components))} (set outputs on the problem)"
            )

    def index(self, components: tuple[str, ...]) -> int | None:
        """The column this condition sets, or None for all of them."""
        c = self.component
        if c is None:
            return None
        return components.index(c) if isinstance(c, str) else c % len(components)

    def select(self, u: Field) -> Field:
        """The part of u the condition constrains: one component, or all of u."""
        c = self.component
        if c is None:
            return u
        return u.component(c) if isinstance(c, str) else u[c]

    #: rows that belong together in a boundary set (a mini-batch keeps them together)
    group: ClassVar[int] = 1

    def needs_derivatives(self) -> bool:
        return False

    def check_domain(self, domain: Domain, owner: str) -> None:
        """Raise if the condition's part does not exist on ``domain``."""
        if self.on not in domain.parts:
            raise ConfigError(
                f"{owner}: unknown condition target {self.on!r} in {type(self).__name__}; "
                f"the domain has parts {', '.join(domain.parts)}"
            )
        domain.check_part(self.on)

    def sample(self, domain: Domain, n: int, method: str, rng: np.random.Generator) -> BoundarySample:
        """About ``n`` points where the condition applies, with outward normals."""
        return domain.sample_boundary(self.on, n, method=method, seed=rng)

    def target(self, x: Tensor, channels: int) -> Tensor:
        """The prescribed value at boundary points x: (n, d), as (n, channels)."""
        if not callable(self.value):
            return torch.full((x.shape[0], channels), float(self.value), dtype=x.dtype, device=x.device)
        g = self.value(x)
        if not isinstance(g, Tensor):
            g = torch.as_tensor(g, dtype=x.dtype, device=x.device)
        if g.ndim == 1 and g.shape[0] == x.shape[0]:
            g = g.reshape(-1, 1)
        if g.ndim == 0:
            g = g.expand(x.shape[0], channels)
        if g.shape != (x.shape[0], channels) and g.shape != (x.shape[0], 1):
            raise ShapeError(
                f"{type(self).__name__}({self.on!r}).value(x) must return shape ({x.shape[0]},) or "
                f"({x.shape[0]}, {channels}) for x of shape {tuple(x.shape)}; got {tuple(g.shape)}"
            )
        return g.to(dtype=x.dtype)

    @abstractmethod
    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        """(n, c) residual of the condition at boundary points x: (n, d) with outward normals (n, d)."""


@dataclass(frozen=True)
class Dirichlet(Condition):
    """u = g on the part."""

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        return u.values - self.target(x, u.values.shape[1])


def _normal_derivative(u: Field, x: Tensor, normal: Tensor) -> Tensor:
    """du/dn per component: (n, c)."""
    columns = [(ops.grad(u[j], x).values * normal).sum(dim=1, keepdim=True) for j in range(u.values.shape[1])]
    return torch.cat(columns, dim=1)


@dataclass(frozen=True)
class Neumann(Condition):
    """du/dn = g on the part, with n the outward unit normal."""

    def needs_derivatives(self) -> bool:
        return True

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        return _normal_derivative(u, x, normal) - self.target(x, u.values.shape[1])


@dataclass(frozen=True)
class Robin(Condition):
    """alpha u + beta du/dn = g on the part (alpha, beta not both zero)."""

    _: KW_ONLY
    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("alpha", "beta"):
            if not is_real(getattr(self, name)):
                raise DefinitionError(f"Robin({self.on!r}).{name} must be a finite number; got {getattr(self, name)!r}")
        if self.alpha == 0 and self.beta == 0:
            raise ConfigError(f"Robin({self.on!r}) needs alpha or beta non-zero; got alpha=0, beta=0")

    def needs_derivatives(self) -> bool:
        return self.beta != 0

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        out = self.alpha * u.values - self.target(x, u.values.shape[1])
        if self.beta != 0:
            out = out + self.beta * _normal_derivative(u, x, normal)
        return out


@dataclass(frozen=True, init=False)
class Initial(Dirichlet):
    """u(x, t0) = g(x) at the start of a space-time domain, whose last axis is named ``t``; with
    ``derivative=1``, the initial rate du/dt(x, t0) = g(x) (a wave's initial velocity).

    ``Initial(lambda x: x[:, 0] ** 2 * torch.cos(math.pi * x[:, 0]))``; g receives the space-time
    points of the face ``t_min`` (x: (n, d + 1)). A second-order-in-time equation (u_tt = c^2 u_xx)
    takes both: ``Initial(g0), Initial(g1, derivative=1)``.
    """

    derivative: int = 0

    def __init__(
        self, value: Value = 0.0, *, derivative: int = 0, weight: float = 1.0, component: str | int | None = None
    ) -> None:
        object.__setattr__(self, "on", "t_min")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "component", component)
        object.__setattr__(self, "derivative", derivative)
        self.__post_init__()
        if derivative not in (0, 1) or isinstance(derivative, bool):
            raise DefinitionError(
                f"Initial(...).derivative must be 0 (the value) or 1 (the rate du/dt); got {derivative!r}"
            )

    @property
    def label(self) -> str:
        kind = "initial" if self.derivative == 0 else "initial_rate"
        return f"{kind}:{self.on}{self._component_suffix()}"

    def needs_derivatives(self) -> bool:
        return self.derivative == 1

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        v = ops.dt(u, x).values if self.derivative == 1 else u.values
        return v - self.target(x, u.values.shape[1])

    def check_domain(self, domain: Domain, owner: str) -> None:
        if domain.axes[-1] != "t":
            raise ConfigError(
                f"{owner}: Initial needs a space-time domain whose last axis is named 't'; got axes {domain.axes}. "
                "Declare it as kanpde.Box([x0, t0], [x1, t1], axes=('x', 't')), or a shape times "
                "kanpde.Interval(t0, t1, axis='t')"
            )


def sets_value(c: Condition) -> bool:
    """Whether ``c`` prescribes values on its part (a Dirichlet condition or an initial value), which a
    hard constraint can build in; an initial rate or a flux cannot be built in that way."""
    return isinstance(c, Dirichlet) and getattr(c, "derivative", 0) == 0


@dataclass(frozen=True)
class Periodic(Condition):
    """u and its derivative along axis ``on`` (an axis name such as ``"x"``) agree on the opposite faces.

    Points come in pairs (one on each face, same other coordinates), stored interleaved; the residual
    stacks the value differences over the derivative differences. ``solve(constraints="hard")`` makes it
    exact instead, through a periodic input embedding (cos and sin of the coordinate).
    """

    group: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.value != 0.0:
            raise DefinitionError(
                f"Periodic({self.on!r}) takes no value (u matches itself across the faces); got value={self.value!r}"
            )

    @property
    def label(self) -> str:
        return f"periodic:{self.on}"

    def needs_derivatives(self) -> bool:
        return True

    def check_domain(self, domain: Domain, owner: str) -> None:
        from kanpde.geometry.box import Box

        if not isinstance(domain, Box):
            raise ConfigError(
                f"{owner}: Periodic({self.on!r}) needs a box domain (opposite faces to match); got {domain!r}. "
                "Declare the domain as a kanpde.Box, or use Dirichlet/Neumann conditions on its parts"
            )
        if self.on not in domain.axes:
            raise ConfigError(
                f"{owner}: Periodic({self.on!r}) names no axis of the domain; its axes are {', '.join(domain.axes)}"
            )
        if self.on == "t" and domain.axes[-1] == "t":
            raise ConfigError(
                f"{owner}: Periodic('t') is not supported on the time axis; periodicity applies to space axes"
            )

    def axis(self, domain_axes: tuple[str, ...]) -> int:
        return domain_axes.index(self.on)

    def sample(self, domain: Domain, n: int, method: str, rng: np.random.Generator) -> BoundarySample:
        from kanpde.geometry.domain import BoundarySample

        axis = self.axis(domain.axes)
        lo = domain.sample_boundary(f"{self.on}_min", max(1, n // 2), method=method, seed=rng)
        hi = lo.x.copy()
        hi[:, axis] = domain.upper[axis]
        x = np.empty((2 * lo.x.shape[0], lo.x.shape[1]))
        x[0::2], x[1::2] = lo.x, hi
        normal = np.zeros_like(x)
        normal[0::2, axis], normal[1::2, axis] = -1.0, 1.0
        return BoundarySample(x, normal)

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        axis = int(normal[0].abs().argmax())
        v, dv = u.values, ops.partial(u, x, axis).values
        return torch.cat([v[0::2] - v[1::2], dv[0::2] - dv[1::2]], dim=0)


@dataclass(frozen=True, init=False)
class PointValue(Condition):
    """u(x0) = value at one point x0 of the domain (its closure): a gauge that fixes a pressure defined
    up to a constant, ``PointValue((0, 0), 0.0, component="p")``. Its term is ``weight * |u(x0) - value|^2``."""

    point: tuple[float, ...] = ()

    def __init__(
        self, point: Any, value: Value = 0.0, *, component: str | int | None = None, weight: float = 1.0
    ) -> None:
        try:
            coords = tuple(float(v) for v in np.asarray(point, dtype=np.float64).reshape(-1))
        except (TypeError, ValueError):
            raise DefinitionError(f"PointValue.point must be the coordinates of one point; got {point!r}") from None
        if not coords or not all(math.isfinite(v) for v in coords):
            raise DefinitionError(f"PointValue.point must be finite coordinates such as (0.0, 0.0); got {point!r}")
        for name, v in (("on", "point"), ("value", value), ("weight", weight), ("component", component)):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "point", coords)
        self.__post_init__()

    @property
    def label(self) -> str:
        return f"point:{','.join(f'{v:g}' for v in self.point)}{self._component_suffix()}"

    def check_domain(self, domain: Domain, owner: str) -> None:
        x = np.asarray([self.point])
        if x.shape[1] != domain.dim or not domain.contains(x, tol=1e-9)[0]:
            raise ConfigError(
                f"{owner}: PointValue point {list(self.point)} is not a point of the domain {domain!r} "
                f"(dimension {domain.dim}); give coordinates inside it or on its boundary"
            )

    def sample(self, domain: Domain, n: int, method: str, rng: np.random.Generator) -> BoundarySample:
        from kanpde.geometry.domain import BoundarySample

        x = np.asarray([self.point])
        return BoundarySample(x, np.zeros_like(x))

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        return u.values - self.target(x, u.values.shape[1])


@dataclass(frozen=True, init=False)
class MeanValue(Condition):
    """The mean of u over the domain equals ``value`` (a number): the other gauge for a pressure,
    ``MeanValue(0.0, component="p")``. The mean is taken over ``n`` points sampled in the domain
    (Sobol); its term is ``weight * |mean(u) - value|^2``."""

    n: int = 1024

    def __init__(
        self, value: float = 0.0, *, component: str | int | None = None, weight: float = 1.0, n: int = 1024
    ) -> None:
        for name, v in (("on", "domain"), ("value", value), ("weight", weight), ("component", component)):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "n", n)
        self.__post_init__()
        if callable(value):
            raise DefinitionError(f"MeanValue.value must be a number (the mean); got {value!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"MeanValue.n must be an int >= 1 (points the mean is taken over); got {n!r}")

    @property
    def label(self) -> str:
        return f"mean{self._component_suffix()}"

    @property
    def group(self) -> int:  # type: ignore[override]
        return self.n  # a mini-batch keeps the whole set: a mean over a subset is another mean

    def check_domain(self, domain: Domain, owner: str) -> None:
        return None

    def sample(self, domain: Domain, n: int, method: str, rng: np.random.Generator) -> BoundarySample:
        from kanpde.geometry.domain import BoundarySample

        x = domain.sample(self.n, method="sobol", seed=rng)
        return BoundarySample(x, np.zeros_like(x))

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        u = self.select(u)
        return u.values.mean(dim=0, keepdim=True) - float(self.value)
