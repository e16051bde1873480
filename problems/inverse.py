"""Inverse problems with a known truth: an unknown scalar or coefficient field identified from observations.

Instances (``kanpde list``); observations are the exact solution at points drawn uniformly at random in
the open domain (``seed``), plus, with ``noise`` > 0, Gaussian noise of standard deviation ``noise`` times
max |u| (drawn from ``seed + 1``):

* ``poisson_inverse``: ``laplacian(u) = c f`` on [-1, 1]^2 with u = 0 on the boundary, f the source of
  ``poisson_kan``; the unknown c (true 2, first guess 1, c > 0), so u = 2 sin(pi x) sin(pi y^2); 200
  observations of u. ``poisson_inverse_noisy``: the same with 1 % noise.
* ``darcy_inverse``: ``darcy_smooth`` with the coefficient a(x) unknown (a field, a > 0, first guess 1,
  true 1 + 0.5 sin(2 pi x) sin(2 pi y)), from 500 observations of u. ``darcy_inverse_noisy``: 1 % noise.
* ``heat_inverse``: ``u_t = k u_xx`` on x in [0, 1], t in [0, 1], u = 0 at both ends, u(x, 0) =
  sin(pi x) + 0.5 sin(3 pi x); the diffusivity k unknown (true 0.1, first guess 0.05, k > 0), from 5
  sensors at x = 1/6, ..., 5/6 read at 40 times each (200 observations).
  Exact u = exp(-k pi^2 t) sin(pi x) + 0.5 exp(-9 k pi^2 t) sin(3 pi x).

Each declares its truth (``Unknown(..., exact=)``), so ``sol.errors`` holds ``rel_err_c`` / ``rel_l2_a``
beside the solution's ``rel_l2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_int
from kanpde.errors import ConfigError
from kanpde.geometry.box import Box, Grid
from kanpde.pde import ops
from kanpde.pde.conditions import Dirichlet, Initial
from kanpde.pde.data import Data
from kanpde.pde.field import Field
from kanpde.pde.problem import Problem
from kanpde.pde.registry import register_instance
from kanpde.pde.unknowns import Unknown, UnknownField
from kanpde.problems.darcy import Darcy, darcy_smooth_coefficient, darcy_smooth_exact, darcy_smooth_source
from kanpde.problems.poisson import kan_paper_source

__all__ = ["PoissonInverse", "HeatInverse", "darcy_inverse", "observations"]

PI = math.pi


def observations(
    exact: Callable[[Tensor], Tensor],
    points: np.ndarray,
    *,
    noise: float = 0.0,
    scale: float = 1.0,
    seed: int = 0,
    name: str | None = None,
) -> Data:
    """``Data`` of ``exact`` at ``points`` (m, d), with Gaussian noise of standard deviation ``noise * scale``
    (drawn from ``seed``) when ``noise`` > 0."""
    _check_noise(noise)
    values = exact(torch.as_tensor(points, dtype=torch.float64)).reshape(-1).numpy()
    if noise > 0:
        values = values + noise * scale * np.random.default_rng(seed).standard_normal(values.shape)
    return Data(points, values, name=name)


def _uniform_points(box: Box, count: int, seed: int) -> np.ndarray:
    lower, upper = np.asarray(box.lower), np.asarray(box.upper)
    return lower + (upper - lower) * np.random.default_rng(seed).uniform(size=(count, box.dim))


def _check_noise(noise: float) -> None:
    if not (isinstance(noise, (int, float)) and not isinstance(noise, bool) and noise >= 0):
        raise ConfigError(f"noise must be a number >= 0 (a fraction of max |u|); got {noise!r}")


def _check(noise: float, points: int, seed: int) -> int:
    _check_noise(noise)
    check_int(seed, "seed", 0)
    return check_int(points, "points", 1)


def _params(given: dict, defaults: dict) -> dict:
    """The parameters that differ from their defaults (what ``Problem.params`` records)."""
    return {k: v for k, v in given.items() if v != defaults[k]}


class PoissonInverse(Problem):
    """``laplacian(u) = c f`` on [-1, 1]^2, u = 0 on the boundary, with the scalar c unknown (see the module doc).

    Args:
        c_true: the value the observations are made with. noise: the noise's standard deviation as a
            fraction of max |u|. points: how many observations. seed: draws their points (and the noise).
    """

    def __init__(
        self, *, c_true: float = 2.0, noise: float = 0.0, points: int = 200, seed: int = 0, name: str | None = None
    ) -> None:
        points = _check(noise, points, seed)
        self.domain = Box([-1.0, -1.0], [1.0, 1.0])
        self.conditions = [Dirichlet("boundary", 0.0)]
        self.c_true = float(c_true)
        self.c = Unknown("c", init=1.0, lower=0.0, exact=self.c_true)
        self.residual_weight = 0.01
        self.n_interior, self.n_boundary = 10_000, 800
        at = _uniform_points(self.domain, points, seed)
        self.data = [observations(self.exact, at, noise=noise, scale=self.c_true, seed=seed + 1)]
        self.name = name or ("poisson_inverse_noisy" if noise else "poisson_inverse")
        quiet = 0.01 if self.name.endswith("_noisy") else 0.0
        self.params = _params(
            {"noise": noise, "points": points, "seed": seed, "c_true": c_true},
            {"noise": quiet, "points": 200, "seed": 0, "c_true": 2.0},
        )

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.laplacian(u, x) - self.c * kan_paper_source(x)

    def exact(self, x: Tensor) -> Tensor:
        return self.c_true * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] ** 2)

    def evaluation_grid(self) -> Grid:
        return self.domain.grid(256)


def darcy_inverse(*, noise: float = 0.0, points: int = 500, seed: int = 0, name: str | None = None) -> Darcy:
    """``darcy_smooth`` with its coefficient a unknown (a positive field), observed u at ``points`` points."""
    points = _check(noise, points, seed)
    box = Box([0.0, 0.0], [1.0, 1.0])
    a = UnknownField("a", init=1.0, positive=True, exact=darcy_smooth_coefficient)
    name = name or ("darcy_inverse_noisy" if noise else "darcy_inverse")
    quiet = 0.01 if name.endswith("_noisy") else 0.0
    problem = Darcy(
        a=a,
        f=darcy_smooth_source,
        box=box,
        exact=darcy_smooth_exact,
        name=name,
        params=_params({"noise": noise, "points": points, "seed": seed}, {"noise": quiet, "points": 500, "seed": 0}),
    )
    problem.data = [observations(darcy_smooth_exact, _uniform_points(box, points, seed), noise=noise, seed=seed + 1)]
    return problem


class HeatInverse(Problem):
    """``u_t = k u_xx`` on [0, 1] x [0, 1] with the diffusivity k unknown, from sensors (see the module doc).

    Args:
        k_true: the diffusivity of the observations. sensors: how many equally spaced sensor positions;
        times: readings per sensor (equally spaced in (0, 1]). noise: the noise's standard deviation as a
        fraction of max |u|; seed: draws the noise.
    """

    def __init__(
        self,
        *,
        k_true: float = 0.1,
        sensors: int = 5,
        times: int = 40,
        noise: float = 0.0,
        seed: int = 0,
        name: str | None = None,
    ) -> None:
        sensors, times = check_int(sensors, "sensors", 1), check_int(times, "times", 1)
        _check(noise, 1, seed)
        self.domain = Box([0.0, 0.0], [1.0, 1.0], axes=("x", "t"))
        self.conditions = [Dirichlet("x_min", 0.0), Dirichlet("x_max", 0.0), Initial(self._initial)]
        self.k_true = float(k_true)
        self.k = Unknown("k", init=0.05, lower=0.0, exact=self.k_true)
        xs = np.arange(1, sensors + 1) / (sensors + 1)
        ts = np.arange(1, times + 1) / times
        at = np.stack(np.meshgrid(xs, ts, indexing="ij"), axis=-1).reshape(-1, 2)
        self.data = [observations(self.exact, at, noise=noise, scale=1.0, seed=seed, name="sensors")]
        self.n_interior, self.n_boundary = 4096, 256
        self.name = name or "heat_inverse"
        given = {"k_true": k_true, "sensors": sensors, "times": times, "noise": noise, "seed": seed}
        defaults = {"k_true": 0.1, "sensors": 5, "times": 40, "noise": 0.0, "seed": 0}
        self.params = _params(given, defaults)

    @staticmethod
    def _initial(x: Tensor) -> Tensor:
        return torch.sin(PI * x[:, 0]) + 0.5 * torch.sin(3 * PI * x[:, 0])

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.partial(u, x, "t") - self.k * ops.partial(u, x, "x", "x")

    def exact(self, x: Tensor) -> Tensor:
        k, s, t = self.k_true, x[:, 0], x[:, 1]
        return torch.exp(-k * PI**2 * t) * torch.sin(PI * s) + 0.5 * torch.exp(-9 * k * PI**2 * t) * torch.sin(
            3 * PI * s
        )

    def evaluation_grid(self) -> Grid:
        return self.domain.grid(201)


register_instance(
    "poisson_inverse",
    PoissonInverse,
    "inverse: the scalar c in laplacian(u) = c f (poisson_kan's f) from 200 observations of u; true c = 2",
)
register_instance(
    "poisson_inverse_noisy",
    lambda **p: PoissonInverse(**({"noise": 0.01} | p), name="poisson_inverse_noisy"),
    "inverse: poisson_inverse with 1 % noise on the observations",
)
register_instance(
    "darcy_inverse",
    darcy_inverse,
    "inverse: the coefficient field a(x) of darcy_smooth (a > 0) from 500 observations of u",
)
register_instance(
    "darcy_inverse_noisy",
    lambda **p: darcy_inverse(**({"noise": 0.01} | p), name="darcy_inverse_noisy"),
    "inverse: darcy_inverse with 1 % noise on the observations",
)
register_instance(
    "heat_inverse",
    HeatInverse,
    "inverse: the diffusivity k of u_t = k u_xx from 5 sensors x 40 times; true k = 0.1",
)
