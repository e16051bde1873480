"""Problems written from the kanpde README only, each with a closed-form exact solution: six from
2026-12-01, and two with second-order time from 2026-12-03 (``DampedString``, ``CoupledStrings``)."""

import math

import torch

import kanpde
from kanpde import ops


# ---------------------------------------------------------------------------
# 1. Steady 2-D reaction-diffusion on the non-square box [0, 3] x [-1, 1],
#    Dirichlet data given face by face (four different functions, equal at the corners).
# ---------------------------------------------------------------------------
def _p1_exact(x):
    return torch.exp(x[:, 0] / 3) * torch.sin(x[:, 1] + 0.5) + 0.2 * x[:, 0] ** 2 * x[:, 1]


class ReactionBoxFaces(kanpde.Problem):
    """-u_xx - u_yy + 2 u = f on [0, 3] x [-1, 1];
    exact u = exp(x/3) sin(y + 1/2) + x^2 y / 5, Dirichlet face by face."""

    domain = kanpde.Box([0, -1], [3, 1])
    conditions = [
        kanpde.Dirichlet("left", lambda x: torch.sin(x[:, 1] + 0.5)),  # x = 0
        kanpde.Dirichlet("right", lambda x: math.e * torch.sin(x[:, 1] + 0.5) + 1.8 * x[:, 1]),  # x = 3
        kanpde.Dirichlet("bottom", lambda x: -math.sin(0.5) * torch.exp(x[:, 0] / 3) - 0.2 * x[:, 0] ** 2),  # y = -1
        kanpde.Dirichlet("top", lambda x: math.sin(1.5) * torch.exp(x[:, 0] / 3) + 0.2 * x[:, 0] ** 2),  # y = 1
    ]

    def residual(self, u, x):
        return -ops.laplacian(u, x) + 2 * u - self.source(x)

    def source(self, x):
        # lap u = (1/9 - 1) exp(x/3) sin(y + 1/2) + 2 y / 5
        e = torch.exp(x[:, 0] / 3) * torch.sin(x[:, 1] + 0.5)
        lap = -8 / 9 * e + 0.4 * x[:, 1]
        return -lap + 2 * _p1_exact(x)

    def exact(self, x):
        return _p1_exact(x)


# ---------------------------------------------------------------------------
# 2. Variable coefficient on [0, 2] x [0, 1]: Neumann on the bottom face,
#    Dirichlet (one function) on left, right and top.
# ---------------------------------------------------------------------------
def _p2_exact(x):
    return torch.cos(x[:, 0]) * torch.exp(x[:, 1] / 2)


class CoefficientNeumannBottom(kanpde.Problem):
    """-div((1 + x y / 2) grad u) = f on [0, 2] x [0, 1]; exact u = cos(x) exp(y/2);
    outward normal derivative -u_y = -cos(x)/2 on y = 0, u = exact on the other faces."""

    domain = kanpde.Box([0, 0], [2, 1])
    conditions = [
        kanpde.Neumann("bottom", lambda x: -0.5 * torch.cos(x[:, 0])),
        kanpde.Dirichlet("left", _p2_exact),
        kanpde.Dirichlet("right", _p2_exact),
        kanpde.Dirichlet("top", _p2_exact),
    ]

    def residual(self, u, x):
        a = 1 + 0.5 * x[:, 0] * x[:, 1]
        return -ops.div(a * ops.grad(u, x), x) - self.source(x)

    def source(self, x):
        # -div(a grad u) = -(a lap u + grad a . grad u), lap u = -3/4 u,
        # grad a = (y/2, x/2), grad u = (-sin x e^{y/2}, cos x e^{y/2} / 2)
        a = 1 + 0.5 * x[:, 0] * x[:, 1]
        ey = torch.exp(x[:, 1] / 2)
        c, s = torch.cos(x[:, 0]), torch.sin(x[:, 0])
        return 0.75 * a * c * ey + 0.5 * x[:, 1] * s * ey - 0.25 * x[:, 0] * c * ey

    def exact(self, x):
        return _p2_exact(x)


# ---------------------------------------------------------------------------
# 3. 1-D steady nonlinear: u'' = u^2 + f on [-1, 2], u(-1) = 0, u(2) = 3.
# ---------------------------------------------------------------------------
class QuadraticBVP(kanpde.Problem):
    """u'' = u^2 + f on [-1, 2]; exact u = x + 1 + sin(pi x) / 2; u(-1) = 0, u(2) = 3."""

    domain = kanpde.Interval(-1, 2)
    conditions = [kanpde.Dirichlet("x_min", 0.0), kanpde.Dirichlet("x_max", 3.0)]

    def residual(self, u, x):
        return ops.partial(u, x, 0, 0) - u**2 - self.source(x)

    def source(self, x):
        ue = self.exact(x)
        upp = -0.5 * math.pi**2 * torch.sin(math.pi * x[:, 0])
        return upp - ue**2

    def exact(self, x):
        return x[:, 0] + 1 + 0.5 * torch.sin(math.pi * x[:, 0])


# ---------------------------------------------------------------------------
# 4. Heat equation on x in [0, 2], t in [0, 0.5], time-dependent Dirichlet walls.
# ---------------------------------------------------------------------------
_D4 = 0.5
_K4 = math.pi / 2  # decay rate of the cosine mode: D K^2
_L4 = 0.7  # growth mode exp(L x + D L^2 t)


def _p4_exact(x):
    xs, t = x[:, 0], x[:, 1]
    return torch.exp(-_D4 * _K4**2 * t) * torch.cos(_K4 * xs + 0.3) + 0.4 * torch.exp(_L4 * xs + _D4 * _L4**2 * t)


class HeatMovingWalls(kanpde.Problem):
    """u_t = 0.5 u_xx on [0, 2] x [0, 0.5];
    exact u = exp(-pi^2 t / 8) cos(pi x / 2 + 0.3) + 0.4 exp(0.7 x + 0.245 t);
    walls differ in time and from each other, initial data at t = 0."""

    domain = kanpde.Box([0, 0], [2, 0.5], axes=("x", "t"))
    conditions = [
        kanpde.Dirichlet(
            "x_min",
            lambda x: math.cos(0.3) * torch.exp(-_D4 * _K4**2 * x[:, 1]) + 0.4 * torch.exp(_D4 * _L4**2 * x[:, 1]),
        ),
        kanpde.Dirichlet(
            "x_max",
            lambda x: (
                -math.cos(0.3) * torch.exp(-_D4 * _K4**2 * x[:, 1])
                + 0.4 * math.exp(2 * _L4) * torch.exp(_D4 * _L4**2 * x[:, 1])
            ),
        ),
        kanpde.Initial(lambda x: torch.cos(_K4 * x[:, 0] + 0.3) + 0.4 * torch.exp(_L4 * x[:, 0])),
    ]

    def residual(self, u, x):
        return ops.dt(u, x) - _D4 * ops.partial(u, x, 0, 0)

    def exact(self, x):
        return _p4_exact(x)


# ---------------------------------------------------------------------------
# 5. Nonlinear reaction-diffusion, periodic in x: u_t = D u_xx - u^3 + f.
# ---------------------------------------------------------------------------
_D5 = 0.05


class CubicDampedWave(kanpde.Problem):
    """u_t = 0.05 u_xx - u^3 + f on x in [-1, 1] (periodic), t in [0, 1];
    exact u = sin(pi x - 2 t) / 2 + cos(2 pi x) exp(-t) / 4."""

    domain = kanpde.Box([-1, 0], [1, 1], axes=("x", "t"))
    conditions = [
        kanpde.Initial(lambda x: 0.5 * torch.sin(math.pi * x[:, 0]) + 0.25 * torch.cos(2 * math.pi * x[:, 0])),
        kanpde.Periodic("x"),
    ]

    def residual(self, u, x):
        return ops.dt(u, x) - _D5 * ops.partial(u, x, 0, 0) + u**3 - self.source(x)

    def source(self, x):
        xs, t = x[:, 0], x[:, 1]
        wave, mode = math.pi * xs - 2 * t, torch.cos(2 * math.pi * xs) * torch.exp(-t)
        u_t = -torch.cos(wave) - 0.25 * mode
        u_xx = -0.5 * math.pi**2 * torch.sin(wave) - math.pi**2 * mode
        return u_t - _D5 * u_xx + self.exact(x) ** 3

    def exact(self, x):
        xs, t = x[:, 0], x[:, 1]
        return 0.5 * torch.sin(math.pi * xs - 2 * t) + 0.25 * torch.cos(2 * math.pi * xs) * torch.exp(-t)


# ---------------------------------------------------------------------------
# 6. Steady 3-D Poisson on [0, 1] x [0, 2] x [0, 1] with Dirichlet data.
# ---------------------------------------------------------------------------
def _p6_exact(x):
    return (
        torch.exp(0.5 * x[:, 0] - 0.3 * x[:, 1]) * torch.sin(0.5 * math.pi * x[:, 2] + 0.2)
        + x[:, 0] * x[:, 1] * x[:, 2] ** 2
    )


class Poisson3DSlab(kanpde.Problem):
    """-lap u = f on [0, 1] x [0, 2] x [0, 1];
    exact u = exp(x/2 - 3y/10) sin(pi z / 2 + 1/5) + x y z^2, u = exact on the boundary."""

    domain = kanpde.Box([0, 0, 0], [1, 2, 1])
    conditions = [kanpde.Dirichlet("boundary", _p6_exact)]

    def residual(self, u, x):
        return -ops.laplacian(u, x) - self.source(x)

    def source(self, x):
        # lap of the first term: (1/4 + 9/100 - pi^2/4) times itself; lap of x y z^2: 2 x y
        e = torch.exp(0.5 * x[:, 0] - 0.3 * x[:, 1]) * torch.sin(0.5 * math.pi * x[:, 2] + 0.2)
        return -((0.25 + 0.09 - math.pi**2 / 4) * e + 2 * x[:, 0] * x[:, 1])

    def exact(self, x):
        return _p6_exact(x)


# ---------------------------------------------------------------------------
# 7. A damped string: u_tt + 2 gamma u_t = c^2 u_xx, fixed ends, two modes, moving at t = 0.
# ---------------------------------------------------------------------------
class DampedString(kanpde.Problem):
    """u_tt + 2 gamma u_t = c^2 u_xx on [0, 1] x [0, 1] (c = 1.2, gamma = 0.5), u = 0 at x = 0, 1,
    u(x, 0) = sin(pi x) + 0.3 sin(3 pi x), u_t(x, 0) = 0.5 sin(pi x) + sin(3 pi x); exact by modes."""

    c, gamma = 1.2, 0.5
    A = {1: 1.0, 3: 0.3}  # initial displacement per mode
    V = {1: 0.5, 3: 1.0}  # initial velocity per mode
    domain = kanpde.Box([0, 0], [1, 1], axes=("x", "t"))

    def __init__(self):
        self.conditions = [
            kanpde.Dirichlet("space_boundary", 0.0),
            kanpde.Initial(self.g0),
            kanpde.Initial(self.g1, derivative=1),
        ]
        super().__init__()

    def g0(self, x):
        return sum(a * torch.sin(n * math.pi * x[:, 0]) for n, a in self.A.items())

    def g1(self, x):
        return sum(v * torch.sin(n * math.pi * x[:, 0]) for n, v in self.V.items())

    def residual(self, u, x):
        u_tt, u_t = ops.partial(u, x, "t", "t"), ops.partial(u, x, "t")
        return u_tt + 2 * self.gamma * u_t - self.c**2 * ops.partial(u, x, "x", "x")

    def exact(self, x):
        xs, t = x[:, 0], x[:, 1]
        out = 0
        for n, a in self.A.items():
            w = math.sqrt((n * math.pi * self.c) ** 2 - self.gamma**2)
            b = (self.V[n] + self.gamma * a) / w
            out = out + torch.exp(-self.gamma * t) * torch.sin(n * math.pi * xs) * (
                a * torch.cos(w * t) + b * torch.sin(w * t)
            )
        return out


# ---------------------------------------------------------------------------
# 8. Two coupled strings, a system with an initial rate per component.
# ---------------------------------------------------------------------------
class CoupledStrings(kanpde.Problem):
    """u_tt = u_xx + k (v - u), v_tt = v_xx + k (u - v) (k = 2), fixed ends. s = u + v solves s_tt = s_xx
    and d = u - v solves d_tt = d_xx - 2 k d: s = sin(pi x) (cos(pi t) + sin(pi t) / 2),
    d = sin(2 pi x) cos(W2 t) / 2 + 0.3 sin(pi x) sin(W1 t), Wn = sqrt((n pi)^2 + 2 k)."""

    k = 2.0
    domain = kanpde.Box([0, 0], [1, 1], axes=("x", "t"))
    outputs = ("u", "v")

    def __init__(self):
        self.w1 = math.sqrt(math.pi**2 + 2 * self.k)
        self.w2 = math.sqrt((2 * math.pi) ** 2 + 2 * self.k)
        self.conditions = [
            kanpde.Dirichlet("space_boundary", 0.0, component="u"),
            kanpde.Dirichlet("space_boundary", 0.0, component="v"),
            kanpde.Initial(lambda x: self._start(x, 1), component="u"),
            kanpde.Initial(lambda x: self._start(x, -1), component="v"),
            kanpde.Initial(lambda x: self._rate(x, 1), derivative=1, component="u"),
            kanpde.Initial(lambda x: self._rate(x, -1), derivative=1, component="v"),
        ]
        super().__init__()

    def _start(self, x, sign):  # s0 = sin(pi x), d0 = sin(2 pi x) / 2
        return 0.5 * (torch.sin(math.pi * x[:, 0]) + sign * 0.5 * torch.sin(2 * math.pi * x[:, 0]))

    def _rate(self, x, sign):  # s1 = pi sin(pi x) / 2, d1 = 0.3 W1 sin(pi x)
        return 0.5 * (0.5 * math.pi + sign * 0.3 * self.w1) * torch.sin(math.pi * x[:, 0])

    def residual(self, u, x):
        a, b = u["u"], u["v"]
        return (
            ops.partial(a, x, "t", "t") - ops.partial(a, x, "x", "x") - self.k * (b - a),
            ops.partial(b, x, "t", "t") - ops.partial(b, x, "x", "x") - self.k * (a - b),
        )

    def exact(self, x):
        xs, t = x[:, 0], x[:, 1]
        s = torch.sin(math.pi * xs) * (torch.cos(math.pi * t) + 0.5 * torch.sin(math.pi * t))
        d = 0.5 * torch.sin(2 * math.pi * xs) * torch.cos(self.w2 * t) + 0.3 * torch.sin(math.pi * xs) * torch.sin(
            self.w1 * t
        )
        return torch.stack([(s + d) / 2, (s - d) / 2], dim=1)


ALL = [ReactionBoxFaces, CoefficientNeumannBottom, QuadraticBVP, HeatMovingWalls, CubicDampedWave, Poisson3DSlab]
WAVES = [DampedString, CoupledStrings]
