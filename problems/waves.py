"""Evolution problems beyond first order and scalar diffusion: viscous Burgers (a shock) and the wave
equation (second order in time).

* ``burgers``: ``u_t + u u_x = nu u_xx``, nu = 0.01/pi, on [-1, 1] x [0, 1], ``u(x, 0) = -sin(pi x)``,
  ``u(+-1, t) = 0``; exact by the Cole-Hopf transform (``kanpde.validation.reference.burgers``, accurate
  to round-off). A shock of width ~2 nu forms at x = 0 near t = 1/pi.
* ``wave``: ``u_tt = c^2 u_xx`` with c = 1 on [0, 1] x [0, 1], fixed ends, ``u(x, 0) = sin(pi x) +
  0.5 sin(8 pi x)`` (the second mode has 4 periods in x and 4 in t), ``u_t(x, 0) = 0``; exact by
  d'Alembert, ``u = (F(x - ct) + F(x + ct)) / 2`` with F the odd 2-periodic extension of the initial data
  (the sine series is that extension already). Both initial conditions are built in (``InitialRate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_positive
from kanpde.errors import DefinitionError
from kanpde.geometry.box import Box, Grid
from kanpde.pde import ops
from kanpde.pde.conditions import Dirichlet, Initial
from kanpde.pde.field import Field
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance
from kanpde.validation.reference.burgers import BURGERS_NU, burgers_cole_hopf

__all__ = ["Burgers", "Wave", "burgers_initial"]


def burgers_initial(x: Tensor) -> Tensor:
    """u(x, 0) = -sin(pi x)."""
    return -torch.sin(math.pi * x[:, 0])


class Burgers(Problem):
    """``u_t + u u_x = nu u_xx`` on [-1, 1] x [0, t_end] with u(x, 0) = -sin(pi x) and u(+-1, t) = 0.

    Args: nu: viscosity (> 0; default 0.01/pi); t_end: final time; eval_x, eval_t: evaluation nodes per
    axis (ends included); n_interior: collocation points.
    """

    def __init__(
        self,
        *,
        nu: float = BURGERS_NU,
        t_end: float = 1.0,
        eval_x: int = 256,
        eval_t: int = 101,
        n_interior: int = 8192,
        name: str | None = None,
    ) -> None:
        self.nu, self.t_end = check_positive(nu, "Burgers.nu"), check_positive(t_end, "Burgers.t_end")
        self.domain = Box([-1.0, 0.0], [1.0, self.t_end], axes=("x", "t"))
        self.conditions = [Dirichlet("x_min", 0.0), Dirichlet("x_max", 0.0), Initial(burgers_initial)]
        self.eval_x, self.eval_t, self.n_interior = eval_x, eval_t, n_interior
        self.name, self.params = name, {"nu": self.nu, "t_end": self.t_end}

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.partial(u, x, "t") + u * ops.partial(u, x, "x") - self.nu * ops.partial(u, x, "x", "x")

    def exact(self, x: Tensor) -> Tensor:
        return burgers_cole_hopf(x[:, 0], x[:, 1], self.nu)

    def evaluation_grid(self) -> Grid:
        return Grid((np.linspace(-1.0, 1.0, self.eval_x), np.linspace(0.0, self.t_end, self.eval_t)))


class Wave(Problem):
    """``u_tt = c^2 u_xx`` on [0, 1] x [0, t_end], u = 0 at both ends, ``u(x, 0) = sum_k a_k sin(k pi x)``
    and ``u_t(x, 0) = 0``; exact by d'Alembert: ``u = sum_k a_k sin(k pi x) cos(k pi c t)``.

    Args: c: wave speed; modes: (k, a_k) pairs (default (1, 1) and (8, 0.5)); t_end; eval_x, eval_t:
    evaluation nodes per axis; n_interior: collocation points.
    """

    def __init__(
        self,
        *,
        c: float = 1.0,
        modes: Sequence[tuple[int, float]] = ((1, 1.0), (8, 0.5)),
        t_end: float = 1.0,
        eval_x: int = 256,
        eval_t: int = 201,
        n_interior: int = 8192,
        name: str | None = None,
    ) -> None:
        if not modes or any(int(k) != k or k < 1 for k, _ in modes):
            raise DefinitionError(f"Wave.modes must be (k, amplitude) pairs with integer k >= 1; got {modes!r}")
        self.c, self.t_end = check_positive(c, "Wave.c"), check_positive(t_end, "Wave.t_end")
        self.modes = tuple((int(k), float(a)) for k, a in modes)
        self.domain = Box([0.0, 0.0], [1.0, self.t_end], axes=("x", "t"))
        self.conditions = [
            Dirichlet("x_min", 0.0),
            Dirichlet("x_max", 0.0),
            Initial(self.initial),
            Initial(0.0, derivative=1),
        ]
        self.eval_x, self.eval_t, self.n_interior = eval_x, eval_t, n_interior
        self.name = name
        self.params = {"c": self.c, "modes": [list(m) for m in self.modes], "t_end": self.t_end}

    def initial(self, x: Tensor) -> Tensor:
        """u(x, 0) = sum_k a_k sin(k pi x) at space-time points x: (n, 2) (it is also F, the odd
        2-periodic extension d'Alembert's formula uses, when evaluated off [0, 1])."""
        return sum(a * torch.sin(k * math.pi * x[:, 0]) for k, a in self.modes)

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.partial(u, x, "t", "t") - self.c**2 * ops.partial(u, x, "x", "x")

    def exact(self, x: Tensor) -> Tensor:
        """d'Alembert: (F(x - c t) + F(x + c t)) / 2."""
        shift = self.c * x[:, 1:2]
        left = torch.cat([x[:, :1] - shift, x[:, 1:]], dim=1)
        right = torch.cat([x[:, :1] + shift, x[:, 1:]], dim=1)
        return 0.5 * (self.initial(left) + self.initial(right))

    def evaluation_grid(self) -> Grid:
        return Grid((np.linspace(0.0, 1.0, self.eval_x), np.linspace(0.0, self.t_end, self.eval_t)))


register_instance(
    "burgers",
    lambda **params: Burgers(name="burgers", **params),
    "viscous Burgers, nu = 0.01/pi, shock at x = 0; Cole-Hopf exact",
)
register_instance(
    "wave",
    lambda **params: Wave(name="wave", **params),
    "wave u_tt = u_xx, modes sin(pi x) + 0.5 sin(8 pi x), at rest; d'Alembert exact",
)
