"""Poisson's equation ``u_xx + u_yy (+ ...) = f`` on a box with Dirichlet data.

Instances (``kanpde list``):

* ``poisson_sin``: f = -2 pi^2 sin(pi x) sin(pi y) on [-1, 1]^2, u = 0 on the boundary; exact
  u = sin(pi x) sin(pi y). The smoke test: 2,500 interior and 400 boundary points, interior weight
  0.01 (the residual is ~2 pi^2 times u; with weight 1 the boundary is neglected and a KAN ends ~20x
  less accurate after 100 L-BFGS steps).
* ``poisson_kan``: the Poisson problem of the KAN paper (Liu et al., arXiv 2404.19756, sec. 3.4): exact
  u = sin(pi x) sin(pi y^2), f = -pi^2 (1 + 4 y^2) sin(pi x) sin(pi y^2) + 2 pi sin(pi x) cos(pi y^2),
  10,000 interior and 800 boundary points, interior loss weight 0.01.

Both are measured on a 256 x 256 uniform grid including the boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from kanpde.errors import DefinitionError
from kanpde.geometry.box import Box, Grid
from kanpde.pde import ops
from kanpde.pde.conditions import Dirichlet
from kanpde.pde.field import Field
from kanpde.pde.forms import DivergenceForm
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance

__all__ = ["Poisson", "kan_paper_source"]

PI = math.pi


class Poisson(Problem):
    """``laplacian(u) = source`` in a box, ``u = boundary`` on its faces (in divergence form
    ``-div(grad u) = -source``, so ``solve(form="energy")`` applies).

    Args:
        source: f(x) for x: (n, d), returning (n,) or (n, 1).
        exact: the exact solution u(x), if known; it also supplies the boundary values when
            ``boundary`` is not given.
        box: the domain (default [-1, 1]^2).
        boundary: Dirichlet value g (a number or a function of x); default: ``exact`` if given, else 0.
        residual_weight: weight of the interior residual (0.01 with boundary weight 1 is the KAN
            paper's choice and works about 30x better for a KAN than 1).
        n_interior, n_boundary, eval_points: collocation counts and the evaluation grid's points per axis.
    """

    def __init__(
        self,
        *,
        source: Callable[[Tensor], Tensor],
        exact: Callable[[Tensor], Tensor] | None = None,
        box: Box | None = None,
        boundary: float | Callable[[Tensor], Tensor] | None = None,
        residual_weight: float = 1.0,
        n_interior: int = 4096,
        n_boundary: int = 512,
        sampling: str = "sobol",
        eval_points: int | Sequence[int] = 256,
        name: str | None = None,
        params: dict | None = None,
    ) -> None:
        if not callable(source):
            raise DefinitionError(f"Poisson.source must be a function f(x) of the points; got {source!r}")
        self.domain = box if box is not None else Box([-1.0, -1.0], [1.0, 1.0])
        self.source = source
        self.divergence = DivergenceForm(a=1.0, f=lambda x: -self.source(x))  # -lap(u) = -source: the energy form
        self.exact = exact
        if boundary is None:
            boundary = exact if exact is not None else 0.0
        self.conditions = [Dirichlet("boundary", boundary)]
        self.residual_weight = residual_weight
        self.n_interior, self.n_boundary, self.sampling = n_interior, n_boundary, sampling
        self.eval_points = eval_points
        self.name, self.params = name, dict(params or {})

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.laplacian(u, x) - self.source(x)

    def evaluation_grid(self) -> Grid:
        return self.domain.grid(self.eval_points)

    @classmethod
    def sin(cls) -> Poisson:
        """``poisson_sin``: exact u = sin(pi x) sin(pi y) on [-1, 1]^2."""
        return cls(
            source=lambda x: -2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]),
            exact=lambda x: torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]),
            boundary=0.0,
            residual_weight=0.01,
            n_interior=2500,
            n_boundary=400,
            name="poisson_sin",
        )

    @classmethod
    def kan_paper(cls) -> Poisson:
        """``poisson_kan``: the KAN paper's problem, exact u = sin(pi x) sin(pi y^2)."""
        return cls(
            source=kan_paper_source,
            exact=lambda x: torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] ** 2),
            boundary=0.0,
            residual_weight=0.01,
            n_interior=10_000,
            n_boundary=800,
            name="poisson_kan",
        )


def kan_paper_source(x: Tensor) -> Tensor:
    """f of ``poisson_kan``: -pi^2 (1 + 4 y^2) sin(pi x) sin(pi y^2) + 2 pi sin(pi x) cos(pi y^2); x: (n, 2) -> (n,)."""
    sx, y = torch.sin(PI * x[:, 0]), x[:, 1]
    return -(PI**2) * (1 + 4 * y**2) * sx * torch.sin(PI * y**2) + 2 * PI * sx * torch.cos(PI * y**2)


register_instance("poisson_sin", Poisson.sin, "Poisson on [-1,1]^2, exact sin(pi x) sin(pi y): the smoke test")
register_instance(
    "poisson_kan", Poisson.kan_paper, "Poisson from the KAN paper, exact sin(pi x) sin(pi y^2), interior weight 0.01"
)
