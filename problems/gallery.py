"""A gallery of problems written the way a user writes them, and the suite the general recipe is tuned on.

Each class is a plain ``Problem`` subclass as the README's "Your own problem" teaches it: class
attributes ``domain`` and ``conditions``, a ``residual(self, u, x)`` written with ``ops`` and an
``exact(self, x)``, with the source term derived by hand (no sympy). None of them sets
``residual_weight``, point counts or sampling: what a user leaves out, the solver's recipe must choose.
They import ``Box``, the conditions and ``ops`` from ``kanpde.geometry`` and ``kanpde.pde``, the modules
``kanpde`` re-exports them from (a module inside the package may not import its front, ``import kanpde``).

Together they cover what users bring and the built-in problems do not: Helmholtz with a fast mode, 3-D,
1-D, variable coefficients with non-zero data, a nonlinear reaction, advection-diffusion, Robin and
Neumann sides with a different datum face by face, periodic axes, and first-order evolutions in time
(heat with fast and slow modes, Dirichlet and Neumann walls, Fisher-KPP, periodic advection-diffusion,
heat in 2-D + t). Every exact solution is closed-form, O(1), and zeroes its residual and conditions to
round-off (``tests/problems/test_gallery.py`` checks it on the autograd path).

``kanpde validate gallery`` runs them all (``suites/gallery.toml`` of ``kanpde.validation.batch``: a KAN
[d, 10, 1] G = 5 with three seeds and an MLP [d, 100, 100, 100, 1] with one, 120 s each), each case naming
its class as ``"kanpde.problems.gallery:Helmholtz"``; a user's own module works the same way.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from kanpde.geometry import Box, Interval
from kanpde.pde import Dirichlet, Field, Initial, Neumann, Periodic, Problem, Robin, ops

__all__ = [
    "Helmholtz",
    "Poisson3D",
    "Reaction1D",
    "VariableCoefficient",
    "CubicReaction",
    "AdvectionDiffusion",
    "MixedBox",
    "Ramp",
    "FacesDirichlet",
    "PeriodicChannel",
    "HeatFastMode",
    "HeatWalls",
    "HeatNeumann",
    "FisherKPP",
    "AdvectionDiffusionPeriodic",
    "Heat2D",
]

PI = math.pi


class Helmholtz(Problem):
    """u_xx + u_yy + 16 u = f on [0,1]^2, u = 0 on the boundary; exact u = sin(pi x) sin(4 pi y)."""

    domain = Box([0, 0], [1, 1])
    conditions = [Dirichlet("boundary", 0.0)]
    k = 4.0

    def residual(self, u: Field, x: Tensor) -> Field:
        f = (self.k**2 - 17 * PI**2) * self.exact(x)
        return ops.laplacian(u, x) + self.k**2 * u - f

    def exact(self, x: Tensor) -> Tensor:
        return torch.sin(PI * x[:, 0]) * torch.sin(4 * PI * x[:, 1])


class Poisson3D(Problem):
    """-(u_xx + u_yy + u_zz) = 3 pi^2 u* on [0,1]^3, u = 0 on the boundary; exact u* = sin(pi x) sin(pi y) sin(pi z)."""

    domain = Box([0, 0, 0], [1, 1, 1])
    conditions = [Dirichlet("boundary", 0.0)]

    def residual(self, u: Field, x: Tensor) -> Field:
        return -ops.laplacian(u, x) - 3 * PI**2 * self.exact(x)

    def exact(self, x: Tensor) -> Tensor:
        return torch.sin(PI * x).prod(dim=1)


class Reaction1D(Problem):
    """-u'' + u = e^x (9 sin 3x - 6 cos 3x) on [0,1], u = u* at both ends; exact u* = e^x sin(3x)."""

    domain = Interval(0, 1)
    conditions = [Dirichlet("boundary", lambda x: torch.exp(x[:, 0]) * torch.sin(3 * x[:, 0]))]

    def residual(self, u: Field, x: Tensor) -> Field:
        s = x[:, 0]
        f = torch.exp(s) * (9 * torch.sin(3 * s) - 6 * torch.cos(3 * s))
        return -ops.partial(u, x, 0, 0) + u - f

    def exact(self, x: Tensor) -> Tensor:
        return torch.exp(x[:, 0]) * torch.sin(3 * x[:, 0])


def _wave_cosh(x: Tensor) -> Tensor:
    """sin(2x + 1) cosh(y), the exact solution of ``VariableCoefficient`` (and its boundary datum)."""
    return torch.sin(2 * x[:, 0] + 1) * torch.cosh(x[:, 1])


class VariableCoefficient(Problem):
    """-div(a grad u) = f, a = 1 + x^2 + y^2/2, on [0,1]^2, u = u* on the boundary; exact u* = sin(2x + 1) cosh(y)."""

    domain = Box([0, 0], [1, 1])
    conditions = [Dirichlet("boundary", _wave_cosh)]

    def residual(self, u: Field, x: Tensor) -> Field:
        a = 1 + x[:, 0] ** 2 + x[:, 1] ** 2 / 2
        return -ops.div(a * ops.grad(u, x), x) - self.source(x)

    def source(self, x: Tensor) -> Tensor:
        s, c = torch.sin(2 * x[:, 0] + 1), torch.cos(2 * x[:, 0] + 1)
        ch, sh = torch.cosh(x[:, 1]), torch.sinh(x[:, 1])
        a = 1 + x[:, 0] ** 2 + x[:, 1] ** 2 / 2
        # -(a lap u + a_x u_x + a_y u_y), lap u = -3 s ch, a_x = 2x, a_y = y
        return 3 * a * s * ch - 4 * x[:, 0] * c * ch - x[:, 1] * s * sh

    def exact(self, x: Tensor) -> Tensor:
        return _wave_cosh(x)


class CubicReaction(Problem):
    """u_xx + u_yy - u^3 = f on [0,1]^2, u = u* on the boundary; exact u* = e^x sin(pi y)."""

    domain = Box([0, 0], [1, 1])
    conditions = [Dirichlet("boundary", lambda x: torch.exp(x[:, 0]) * torch.sin(PI * x[:, 1]))]

    def residual(self, u: Field, x: Tensor) -> Field:
        v = self.exact(x)
        return ops.laplacian(u, x) - u**3 - ((1 - PI**2) * v - v**3)

    def exact(self, x: Tensor) -> Tensor:
        return torch.exp(x[:, 0]) * torch.sin(PI * x[:, 1])


class AdvectionDiffusion(Problem):
    """-0.1 (u_xx + u_yy) + u_x + 0.5 u_y = f on [0,1]^2, u = 0 on the boundary; exact u = e^x sin(pi x) sin(pi y)."""

    domain = Box([0, 0], [1, 1])
    conditions = [Dirichlet("boundary", 0.0)]
    eps, b = 0.1, (1.0, 0.5)

    def residual(self, u: Field, x: Tensor) -> Field:
        du = ops.grad(u, x)
        return -self.eps * ops.laplacian(u, x) + self.b[0] * du[:, 0] + self.b[1] * du[:, 1] - self.source(x)

    def source(self, x: Tensor) -> Tensor:
        e, s, c = torch.exp(x[:, 0]), torch.sin(PI * x[:, 0]), torch.cos(PI * x[:, 0])
        t, d = torch.sin(PI * x[:, 1]), torch.cos(PI * x[:, 1])
        lap = e * t * ((1 - 2 * PI**2) * s + 2 * PI * c)
        u_x, u_y = e * t * (s + PI * c), PI * e * s * d
        return -self.eps * lap + self.b[0] * u_x + self.b[1] * u_y

    def exact(self, x: Tensor) -> Tensor:
        return torch.exp(x[:, 0]) * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


class MixedBox(Problem):
    """-(u_xx + u_yy) = f on [0,2]x[0,1]; u = cos(pi y) left, u = e^(-x/2) bottom, u + u_x = e^-1 cos(pi y)/2 + 2y right,
    u_y = x^2/4 top; exact u = e^(-x/2) cos(pi y) + x^2 y / 4."""

    domain = Box([0, 0], [2, 1])
    conditions = [
        Dirichlet("left", lambda x: torch.cos(PI * x[:, 1])),
        Dirichlet("bottom", lambda x: torch.exp(-x[:, 0] / 2)),
        Robin("right", lambda x: math.exp(-1) / 2 * torch.cos(PI * x[:, 1]) + 2 * x[:, 1], alpha=1.0, beta=1.0),
        Neumann("top", lambda x: x[:, 0] ** 2 / 4),
    ]

    def residual(self, u: Field, x: Tensor) -> Field:
        lap = (0.25 - PI**2) * torch.exp(-x[:, 0] / 2) * torch.cos(PI * x[:, 1]) + x[:, 1] / 2
        return -ops.laplacian(u, x) + lap

    def exact(self, x: Tensor) -> Tensor:
        return torch.exp(-x[:, 0] / 2) * torch.cos(PI * x[:, 1]) + x[:, 0] ** 2 * x[:, 1] / 4


class Ramp(Problem):
    """-(u_xx + u_yy) = pi^2 sin(pi x) cos(pi y) on [0,1]^2; u = 1 left, u = 3 right, du/dn = 0 top and bottom;
    exact u = 1 + 2x + sin(pi x) cos(pi y) / 2."""

    domain = Box([0, 0], [1, 1])
    conditions = [Dirichlet("left", 1.0), Dirichlet("right", 3.0), Neumann("top", 0.0), Neumann("bottom", 0.0)]

    def residual(self, u: Field, x: Tensor) -> Field:
        return -ops.laplacian(u, x) - PI**2 * torch.sin(PI * x[:, 0]) * torch.cos(PI * x[:, 1])

    def exact(self, x: Tensor) -> Tensor:
        return 1 + 2 * x[:, 0] + torch.sin(PI * x[:, 0]) * torch.cos(PI * x[:, 1]) / 2


class FacesDirichlet(Problem):
    """-(u_xx + u_yy) = f on [0,1]^2; u = y^2 left, 1 + y^2 right, x bottom, x + 1 top;
    exact u = x + y^2 + sin(pi x) sin(pi y)."""

    domain = Box([0, 0], [1, 1])
    conditions = [
        Dirichlet("left", lambda x: x[:, 1] ** 2),
        Dirichlet("right", lambda x: 1 + x[:, 1] ** 2),
        Dirichlet("bottom", lambda x: x[:, 0]),
        Dirichlet("top", lambda x: x[:, 0] + 1),
    ]

    def residual(self, u: Field, x: Tensor) -> Field:
        f = 2 * PI**2 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1]) - 2
        return -ops.laplacian(u, x) - f

    def exact(self, x: Tensor) -> Tensor:
        return x[:, 0] + x[:, 1] ** 2 + torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])


class PeriodicChannel(Problem):
    """-(u_xx + u_yy) = f on [0,2pi]x[0,1], periodic in x, u = 0 bottom, u = cos(2x) top;
    exact u = sin(x) sin(pi y) + y cos(2x)."""

    domain = Box([0, 0], [2 * PI, 1])
    conditions = [Periodic("x"), Dirichlet("bottom", 0.0), Dirichlet("top", lambda x: torch.cos(2 * x[:, 0]))]

    def residual(self, u: Field, x: Tensor) -> Field:
        f = (1 + PI**2) * torch.sin(x[:, 0]) * torch.sin(PI * x[:, 1]) + 4 * x[:, 1] * torch.cos(2 * x[:, 0])
        return -ops.laplacian(u, x) - f

    def exact(self, x: Tensor) -> Tensor:
        return torch.sin(x[:, 0]) * torch.sin(PI * x[:, 1]) + x[:, 1] * torch.cos(2 * x[:, 0])


class HeatFastMode(Problem):
    """u_t = 0.05 u_xx on [0,1]x[0,1] (x, t), u = 0 at x = 0, 1, u(x, 0) = sin(pi x) + sin(4 pi x) / 2;
    exact u = e^(-0.05 pi^2 t) sin(pi x) + e^(-0.8 pi^2 t) sin(4 pi x) / 2."""

    domain = Box([0, 0], [1, 1], axes=("x", "t"))
    conditions = [
        Dirichlet("x_min", 0.0),
        Dirichlet("x_max", 0.0),
        Initial(lambda x: torch.sin(PI * x[:, 0]) + torch.sin(4 * PI * x[:, 0]) / 2),
    ]
    alpha = 0.05

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.dt(u, x) - self.alpha * ops.partial(u, x, 0, 0)

    def exact(self, x: Tensor) -> Tensor:
        s, t = x[:, 0], x[:, 1]
        slow = torch.exp(-self.alpha * PI**2 * t) * torch.sin(PI * s)
        fast = torch.exp(-16 * self.alpha * PI**2 * t) * torch.sin(4 * PI * s) / 2
        return slow + fast


class HeatWalls(Problem):
    """u_t = 0.5 u_xx on [0,1]x[0,1] (x, t), u = 1 at x = 0, u = 2 + e^(-pi^2 t / 8) at x = 1,
    u(x, 0) = 1 + x + sin(pi x / 2); exact u = 1 + x + e^(-pi^2 t / 8) sin(pi x / 2)."""

    domain = Box([0, 0], [1, 1], axes=("x", "t"))
    conditions = [
        Dirichlet("x_min", 1.0),
        Dirichlet("x_max", lambda x: 2 + torch.exp(-(PI**2) * x[:, 1] / 8)),
        Initial(lambda x: 1 + x[:, 0] + torch.sin(PI * x[:, 0] / 2)),
    ]
    alpha = 0.5

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.dt(u, x) - self.alpha * ops.partial(u, x, 0, 0)

    def exact(self, x: Tensor) -> Tensor:
        return 1 + x[:, 0] + torch.exp(-(PI**2) * x[:, 1] / 8) * torch.sin(PI * x[:, 0] / 2)


class HeatNeumann(Problem):
    """u_t = 0.1 u_xx on [0,1]x[0,1] (x, t), du/dn = 0 at x = 0, du/dn = 2 at x = 1, u(x, 0) = x^2 + cos(pi x);
    exact u = x^2 + 0.2 t + e^(-0.1 pi^2 t) cos(pi x)."""

    domain = Box([0, 0], [1, 1], axes=("x", "t"))
    conditions = [
        Neumann("x_min", 0.0),
        Neumann("x_max", 2.0),
        Initial(lambda x: x[:, 0] ** 2 + torch.cos(PI * x[:, 0])),
    ]
    alpha = 0.1

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.dt(u, x) - self.alpha * ops.partial(u, x, 0, 0)

    def exact(self, x: Tensor) -> Tensor:
        s, t = x[:, 0], x[:, 1]
        return s**2 + 2 * self.alpha * t + torch.exp(-self.alpha * PI**2 * t) * torch.cos(PI * s)


def _kpp_front(x: Tensor) -> Tensor:
    """The travelling front of ``FisherKPP``: (1 + exp(k (x + 1/2) - 25 t / 6))^-2, k = sqrt(100 / 6)."""
    k = math.sqrt(5 / 0.05 / 6)
    return (1 + torch.exp(k * (x[:, 0] + 0.5) - 25 * x[:, -1] / 6)) ** -2


class FisherKPP(Problem):
    """u_t = 0.05 u_xx + 5 u (1 - u) on [-1,1]x[0,1] (x, t), u = u* at x = -1, 1 and t = 0;
    exact u* = (1 + exp(k (x + 1/2) - 25 t / 6))^-2, k = sqrt(50 / 3) (Ablowitz and Zeppetella, 1979)."""

    domain = Box([-1, 0], [1, 1], axes=("x", "t"))
    conditions = [Dirichlet("x_min", _kpp_front), Dirichlet("x_max", _kpp_front), Initial(_kpp_front)]

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.dt(u, x) - 0.05 * ops.partial(u, x, 0, 0) - 5 * u * (1 - u)

    def exact(self, x: Tensor) -> Tensor:
        return _kpp_front(x)


class AdvectionDiffusionPeriodic(Problem):
    """u_t + u_x = 0.1 u_xx on [0,2pi]x[0,1] (x, t), periodic in x, u(x, 0) = sin(x) + cos(2x) / 2;
    exact u = e^(-0.1 t) sin(x - t) + e^(-0.4 t) cos(2 (x - t)) / 2."""

    domain = Box([0, 0], [2 * PI, 1], axes=("x", "t"))
    conditions = [Periodic("x"), Initial(lambda x: torch.sin(x[:, 0]) + torch.cos(2 * x[:, 0]) / 2)]
    c, nu = 1.0, 0.1

    def residual(self, u: Field, x: Tensor) -> Field:
        return ops.dt(u, x) + self.c * ops.partial(u, x, 0) - self.nu * ops.partial(u, x, 0, 0)

    def exact(self, x: Tensor) -> Tensor:
        s, t = x[:, 0] - self.c * x[:, 1], x[:, 1]
        return torch.exp(-self.nu * t) * torch.sin(s) + torch.exp(-4 * self.nu * t) * torch.cos(2 * s) / 2


class Heat2D(Problem):
    """u_t = 0.1 (u_xx + u_yy) + f on [0,1]^2 x [0,1] (x, y, t), u = 0 on the walls, u(x, y, 0) = sin(pi x) sin(2 pi y);
    exact u = e^-t sin(pi x) sin(2 pi y)."""

    domain = Box([0, 0, 0], [1, 1, 1], axes=("x", "y", "t"))
    conditions = [
        *(Dirichlet(face, 0.0) for face in ("x_min", "x_max", "y_min", "y_max")),
        Initial(lambda x: torch.sin(PI * x[:, 0]) * torch.sin(2 * PI * x[:, 1])),
    ]
    alpha = 0.1

    def residual(self, u: Field, x: Tensor) -> Field:
        f = (5 * self.alpha * PI**2 - 1) * self.exact(x)
        return ops.dt(u, x) - self.alpha * ops.laplacian(u, x, axes=(0, 1)) - f

    def exact(self, x: Tensor) -> Tensor:
        return torch.exp(-x[:, 2]) * torch.sin(PI * x[:, 0]) * torch.sin(2 * PI * x[:, 1])
