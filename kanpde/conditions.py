"""Boundary conditions, declared once and attached to named parts of a problem's domain.

``Dirichlet("boundary", 0.0)`` asks for u = 0 on every face; ``Neumann("right", g)`` for du/dn = g with
the outward normal n; ``Robin("top", g, alpha=1, beta=2)`` for alpha u + beta du/dn = g. A value is a
number or a function ``g(x)`` of the boundary points x: (n, d) returning (n,) or (n, c). Each condition
adds ``weight * mean(|residual|^2)`` to the loss.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import KW_ONLY, dataclass
from typing import Callable, Union

import torch
from torch import Tensor

from . import ops
from .errors import ConfigError, DefinitionError, ShapeError
from .field import Field

__all__ = ["Condition", "Dirichlet", "Neumann", "Robin", "Value"]

Value = Union[float, Callable[[Tensor], Tensor]]


@dataclass(frozen=True)
class Condition(ABC):
    """Base of the declared conditions: a boundary part name ``on``, a value and a loss weight."""

    on: str
    value: Value = 0.0
    _: KW_ONLY
    weight: float = 1.0

    def __post_init__(self) -> None:
        kind = type(self).__name__
        if not isinstance(self.on, str) or not self.on:
            raise DefinitionError(f"{kind}.on must name a boundary part (a string such as 'boundary'); got {self.on!r}")
        if not callable(self.value) and not _is_real(self.value):
            raise DefinitionError(
                f"{kind}({self.on!r}).value must be a number or a function g(x) of the points; got {self.value!r}"
            )
        _check_positive(self.weight, f"{kind}({self.on!r}).weight")

    @property
    def label(self) -> str:
        """A short name for logs and loss terms, e.g. ``dirichlet:boundary``."""
        return f"{type(self).__name__.lower()}:{self.on}"

    def needs_derivatives(self) -> bool:
        return False

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
            if not _is_real(getattr(self, name)):
                raise DefinitionError(f"Robin({self.on!r}).{name} must be a finite number; got {getattr(self, name)!r}")
        if self.alpha == 0 and self.beta == 0:
            raise ConfigError(f"Robin({self.on!r}) needs alpha or beta non-zero; got alpha=0, beta=0")

    def needs_derivatives(self) -> bool:
        return self.beta != 0

    def residual(self, u: Field, x: Tensor, normal: Tensor) -> Tensor:
        out = self.alpha * u.values - self.target(x, u.values.shape[1])
        if self.beta != 0:
            out = out + self.beta * _normal_derivative(u, x, normal)
        return out


def _is_real(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_positive(value: object, field: str) -> None:
    if not _is_real(value) or value <= 0:  # type: ignore[operator]
        raise ConfigError(f"{field} must be a finite number > 0; got {value!r}")
