"""Equations in divergence form, and the energy they minimise.

A scalar problem that reads ``-div(a grad u) + c u = f`` declares it with ``divergence =
DivergenceForm(a=..., f=..., c=...)``; from that one declaration come

* the strong residual ``-div(a grad u) + c u - f`` (``residual``, where the problem writes none), and
* the energy density ``e(u) = 1/2 a |grad u|^2 + 1/2 c u^2 - f u`` (``energy``), whose integral the
  solution minimises over fields that meet the Dirichlet conditions (for a > 0, c >= 0). Neumann and
  Robin parts add boundary integrals (``boundary_energy``): the minimiser then meets them as natural
  conditions, with no penalty.

The energy needs first derivatives only, and the flux condition ``[a du/dn] = 0`` across a jump of ``a``
is part of its minimisation: nothing has to see the jump's delta (the strong form does). With a
coefficient that jumps along a known interface, declare the interface too (``Problem.interface``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import is_real
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde import ops
from kanpde.pde.conditions import Condition, Neumann, Robin
from kanpde.pde.field import Field

__all__ = ["DivergenceForm", "Coefficient"]

Coefficient = float | Callable[[Tensor], Tensor]
"""A number, or a function of the points x: (n, d) returning (n,) or (n, 1) values."""


@dataclass(frozen=True)
class DivergenceForm:
    """``-div(a grad u) + c u = f`` for a scalar field u.

    Args:
        a: the diffusion coefficient (a number > 0 or a function of x); it may jump (declare where with
            ``Problem.interface``). For the strong form it must be differentiable where points lie.
        f: the source (a number or a function of x).
        c: the reaction coefficient (a number >= 0 or a function of x; default 0).
    """

    a: Coefficient = 1.0
    f: Coefficient = 0.0
    c: Coefficient = 0.0

    def __post_init__(self) -> None:
        for name, low, strict in (("a", 0.0, True), ("f", None, False), ("c", 0.0, False)):
            value = getattr(self, name)
            if callable(value):
                continue
            if not is_real(value):
                raise DefinitionError(f"DivergenceForm.{name} must be a number or a function of x; got {value!r}")
            if low is not None and (value <= low if strict else value < low):
                bound = "> 0" if strict else ">= 0"
                raise DefinitionError(
                    f"DivergenceForm.{name} must be {bound} for the energy to have a minimum; got {value!r}"
                )

    def coefficient(self, name: str, x: Tensor) -> Tensor | float:
        """Coefficient ``name`` (``"a"``, ``"f"`` or ``"c"``) at x: (n, d) as (n, 1), or the number."""
        value = getattr(self, name)
        if not callable(value):
            return float(value)
        out = value(x)
        if isinstance(out, Field):
            out = out.values
        if not isinstance(out, Tensor):
            out = torch.as_tensor(out, dtype=x.dtype, device=x.device)
        if out.ndim == 1:
            out = out.reshape(-1, 1)
        if out.shape != (x.shape[0], 1):
            raise ShapeError(
                f"DivergenceForm.{name}(x) must return ({x.shape[0]},) or ({x.shape[0]}, 1) values; got {tuple(out.shape)}"
            )
        return out

    def residual(self, u: Field, x: Tensor) -> Field:
        """``-div(a grad u) + c u - f`` at interior points x."""
        r = -ops.div(self.coefficient("a", x) * ops.grad(u, x), x) - self.coefficient("f", x)
        return r if self.c == 0 else r + self.coefficient("c", x) * u

    def energy(self, u: Field, x: Tensor) -> Field:
        """The energy density ``1/2 a |grad u|^2 + 1/2 c u^2 - f u`` at x: (n, 1)."""
        slope = sum(ops.partial(u, x, i) ** 2 for i in range(x.shape[1]))
        e = 0.5 * self.coefficient("a", x) * slope - self.coefficient("f", x) * u
        return e if self.c == 0 else e + 0.5 * self.coefficient("c", x) * u**2

    def boundary_energy(self, condition: Condition, u: Field, x: Tensor) -> Tensor:
        """The boundary density whose integral over a Neumann or Robin part makes it a natural condition
        of the energy, at its points x: (n, 1).

        ``Neumann`` (du/dn = g): ``-a g u``. ``Robin`` (alpha u + beta du/dn = g, beta != 0):
        ``a (alpha / (2 beta) u^2 - g / beta u)``. Minimising then gives ``a du/dn = a g`` and
        ``a (alpha u + beta du/dn - g) / beta = 0``.
        """
        a = self.coefficient("a", x)
        g = condition.target(x, 1)
        values = condition.select(u).values
        if isinstance(condition, Neumann):
            return -a * g * values
        if isinstance(condition, Robin):
            if condition.beta == 0:
                raise ConfigError(
                    f"{condition.label}: a Robin condition with beta = 0 sets values (a Dirichlet condition); "
                    "declare it as kanpde.Dirichlet so the energy form can build it in"
                )
            return a * (condition.alpha / (2 * condition.beta) * values**2 - g / condition.beta * values)
        raise ConfigError(
            f"{condition.label}: the energy form takes Neumann and Robin conditions as boundary integrals and "
            "builds Dirichlet conditions into the surrogate; it has no term for this condition. Use form='strong'"
        )

    def jumps(self, domain: Any, n: int = 4096, seed: int = 3) -> bool:
        """Whether a coefficient (a or c) jumps somewhere in ``domain``: at ``n`` Sobol points and a partner
        each a thousandth of the domain's diameter away, some pair differs by more than a tenth of their
        size (a smooth coefficient would need a relative gradient of ~100 per diameter to do so)."""
        rng = np.random.default_rng(seed)
        x = domain.sample(n, method="sobol", seed=rng)
        step = rng.normal(size=x.shape)
        y = x + 1e-3 * domain.diameter * step / np.linalg.norm(step, axis=1, keepdims=True)
        keep = domain.contains(y)
        xt, yt = (torch.as_tensor(p[keep], dtype=torch.float64) for p in (x, y))
        with torch.no_grad():
            for name in ("a", "c"):
                if not callable(getattr(self, name)):
                    continue
                u, v = self.coefficient(name, xt), self.coefficient(name, yt)
                if bool(((u - v).abs() > 0.1 * (u.abs() + v.abs()).clamp_min(1e-300) / 2).any()):
                    return True
        return False

    def describe(self) -> dict[str, Any]:
        def say(v: Coefficient) -> Any:
            return "function" if callable(v) else float(v)

        return {"a": say(self.a), "f": say(self.f), "c": say(self.c)}
