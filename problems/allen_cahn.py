"""The Allen-Cahn equation ``u_t - eps u_xx + r (u^3 - u) = 0``, periodic in space: a stiff space-time problem.

Instance ``allen_cahn`` (``kanpde list``): eps = 1e-4, r = 5, x in [-1, 1] periodic (u and u_x),
t in [0, 1], u(x, 0) = x^2 cos(pi x). Errors are measured on t_j = j / 200 (j = 0..200) and
x_k = -1 + 2 k / 511 (k = 0..510) against the Fourier pseudo-spectral reference of
``kanpde.validation.reference.spectral`` (registered below). Plain MLP PINNs stall near 0.5 relative L2 here: the solution sharpens into
interfaces of width ~sqrt(eps / r) and a network that fits late times first settles on a wrong state.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import DefinitionError
from kanpde.geometry.box import Box, Grid
from kanpde.pde import ops
from kanpde.pde.conditions import Initial, Periodic
from kanpde.pde.field import Field
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance
from kanpde.validation.reference.cache import Reference, register_reference
from kanpde.validation.reference.spectral import allen_cahn_spectral

__all__ = ["AllenCahn", "allen_cahn_initial"]


def allen_cahn_initial(x: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """u(x, 0) = x^2 cos(pi x); x: (n,) or (n, d) (the first column is x) -> (n,)."""
    ns = torch if isinstance(x, Tensor) else np
    s = x if x.ndim == 1 else x[:, 0]
    return s**2 * ns.cos(math.pi * s)


class AllenCahn(Problem):
    """``u_t - eps u_xx + reaction (u^3 - u) = 0`` on [x0, x1] x [0, t_end], periodic in x.

    Args:
        eps: diffusion coefficient (> 0). reaction: the coefficient r of u^3 - u (> 0).
        initial: u(x, 0) as a function of the space-time points of the initial face x: (n, 2).
        x_range, t_end: the space interval and the final time.
        initial_weight: weight of the initial condition when it is a soft penalty.
        n_interior, n_boundary: collocation counts; eval_x, eval_t: evaluation points per axis (the x
            points exclude the right end, which periodicity makes a copy of the left).
    """

    def __init__(
        self,
        *,
        eps: float = 1e-4,
        reaction: float = 5.0,
        initial: Callable[[Tensor], Tensor] = allen_cahn_initial,
        x_range: tuple[float, float] = (-1.0, 1.0),
        t_end: float = 1.0,
        initial_weight: float = 100.0,
        n_interior: int = 8192,
        n_boundary: int = 512,
        eval_x: int = 511,
        eval_t: int = 201,
        name: str | None = None,
        params: dict | None = None,
    ) -> None:
        for field, value in (("eps", eps), ("reaction", reaction), ("t_end", t_end)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise DefinitionError(f"AllenCahn.{field} must be a number > 0; got {value!r}")
        if not callable(initial):
            raise DefinitionError(f"AllenCahn.initial must be a function of the points; got {initial!r}")
        self.eps, self.reaction, self.t_end = float(eps), float(reaction), float(t_end)
        self.domain = Box([x_range[0], 0.0], [x_range[1], t_end], axes=("x", "t"))
        self.conditions = [Periodic("x"), Initial(initial, weight=initial_weight)]
        self.n_interior, self.n_boundary = n_interior, n_boundary
        self.eval_x, self.eval_t = eval_x, eval_t
        self.name, self.params = name, dict(params or {})

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.dt(u, x) - self.eps * ops.partial(u, x, 0, 0) + self.reaction * (u**3 - u)

    def evaluation_grid(self) -> Grid:
        lo, hi = self.domain.lower, self.domain.upper
        xs = lo[0] + (hi[0] - lo[0]) * np.arange(self.eval_x) / self.eval_x
        return Grid((xs, np.linspace(lo[1], hi[1], self.eval_t)))

    @classmethod
    def standard(cls) -> AllenCahn:
        """``allen_cahn``: eps = 1e-4, r = 5, u(x, 0) = x^2 cos(pi x) on [-1, 1] x [0, 1]."""
        return _ReferencedAllenCahn(name="allen_cahn")


class _ReferencedAllenCahn(AllenCahn):
    """``allen_cahn``, measured against the spectral reference."""

    def reference_values(self, x: Tensor) -> Tensor | None:
        from kanpde.validation.reference.cache import reference

        return reference("allen_cahn", x).to(device=x.device, dtype=x.dtype)


register_instance(
    "allen_cahn",
    AllenCahn.standard,
    "Allen-Cahn u_t = 1e-4 u_xx - 5(u^3 - u) on [-1,1] x [0,1], periodic; spectral reference",
)


def _spectral_reference(
    resolution: int, *, device: str | torch.device | None = None, eps: float, reaction: float
) -> Reference:
    sol = allen_cahn_spectral(
        eps=eps,
        reaction=reaction,
        u0=allen_cahn_initial,
        n=resolution,
        substeps=max(1, resolution // 512),
        device=device,
    )
    return Reference.from_periodic(sol.x, sol.t, sol.values, method=sol.method, wall_s=sol.wall_s)


register_reference(
    "allen_cahn",
    _spectral_reference,
    resolution=4096,
    min_resolution=64,
    params={"eps": 1e-4, "reaction": 5.0},
    initial=allen_cahn_initial,
    summary="Fourier pseudo-spectral + ETDRK4, 4096 modes, dt = 1/1600, stored at t = j/200",
)
