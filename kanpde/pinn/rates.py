"""An initial rate built into the surrogate: u(x, t0) = g0(x) and du/dt(x, t0) = g1(x) exactly.

A second-order-in-time equation (a wave, u_tt = c^2 u_xx) takes an initial value and an initial rate.
Given a transform ``u = G + D N`` that already builds in the walls and the initial value (``HardDirichlet``
on a box, ``ShapeDirichlet`` on a shape; D vanishes on the walls and at t = t0), the field

    u(x, t) = G(x, t) + (t - t0) [g1(x) - dG/dt(x, t0)] + D(x, t) s(t) N(x, t),   s = (t - t0) / (t1 - t0) * 2,

keeps u(x, t0) = G(x, t0) = g0 and has du/dt(x, t0) = dG/dt(x, t0) + g1 - dG/dt(x, t0) = g1 (D s N has a
double zero at t0). On a wall, where G is the wall data g_w, the middle term is (t - t0)(g1 - g_w'(t0)),
which vanishes when the data are compatible (the walls move at the initial rate where they meet t0);
``rate_fits`` checks this before the rate is built in (else it stays a loss term). This is the
time-derivative analogue of the initial condition's factor in Lagaris, Likas and Fotiadis (IEEE TNN 9(5),
1998), the construction used for hard initial velocities in PINN wave solvers.

**The time factor.** With the linear s above, D s ~ (t - t0)^2 near t0, so N must carry
(u - G) / (t - t0)^2: for a wave whose fast mode has u_tt = -(k pi c)^2 u at t0 that is a function a
hundred times larger near t0 than later (measured on ``wave``: 0.73 relative L2 at 150 s). ``tau`` (a
time scale, in the network's time input, whose range is 2) makes the factor saturate instead:

    s(z) = 4 (1 - exp(-z / tau))^2 / (z (1 - exp(-2 / tau))^2),   z = 2 (t - t0) / (t1 - t0),

so D s still has its double zero at t0, reaches its full size after about tau and equals the linear
factor at t1; as tau grows s tends to z, the linear factor. ``rate_time_scale`` (in
``kanpde.pinn.hard_constraints``) sets tau from the problem: the time over which the lifted field's own
residual changes it by its own size, sqrt(rms(G) / rms(r[G])) for a second-order equation (about
1 / (k pi c) for a wave whose fast mode dominates the residual).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from kanpde.pde import jet
from kanpde.pinn.lifts import Lift, cached_jet, lift_values, remembered

__all__ = ["InitialRate", "saturating_factor3"]


@dataclass(frozen=True)
class InitialRate:
    """``base`` (a transform with the initial value built in) with the initial rate ``rate`` built in too.

    t0: the start time (the domain's ``t_min``); rate: a number or a function g1(x) of the space-time
    points x: (n, d) returning (n,) or (n, c) (read at the points themselves; it should not depend on t);
    tau: the time factor's scale in network time units (see the module docstring; None: the linear factor).
    """

    base: Any
    rate: Lift
    t0: float
    tau: float | None = None
    _jets: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def constant(self) -> bool:
        return False

    @property
    def has_formula(self) -> bool:
        return False

    def summary(self) -> str:
        return f"{self.base.summary()}, initial rate"

    def correction(self, x: Tensor, channels: int) -> Tensor:
        """(t - t0) [g1(x) - dG/dt(x, t0)] at points x: (n, d) -> (n, channels), differentiable in x."""
        start = torch.cat([x[:, :-1], torch.full_like(x[:, -1:], self.t0)], dim=1)
        rate = lift_values(self.rate, x, channels) if callable(self.rate) else float(self.rate)
        return (x[:, -1:] - self.t0) * (rate - self._lift_rate(start, channels))

    def _lift_rate(self, y: Tensor, channels: int) -> Tensor:
        """dG/dt at points y: (n, d) (all at t0), one column per channel, keeping the graph to y."""
        if getattr(self.base, "constant", False):
            return torch.zeros(y.shape[0], channels, dtype=y.dtype, device=y.device)
        with torch.enable_grad():
            leaf = y if y.requires_grad else y.detach().requires_grad_(True)
            g = self.base.lift(leaf, channels)
            cols = []
            for j in range(channels):
                (d,) = torch.autograd.grad(g[:, j].sum(), leaf, create_graph=y.requires_grad, allow_unused=True)
                cols.append(torch.zeros_like(y[:, -1:]) if d is None else d[:, -1:])
        out = torch.cat(cols, dim=1)
        return out if y.requires_grad else out.detach()

    def factor3(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The time factor s and its first two derivatives at the network's time input t (z = 1 + t)."""
        z = 1 + t
        if self.tau is None:
            return z, torch.ones_like(z), torch.zeros_like(z)
        return saturating_factor3(z, self.tau)

    def apply(self, x: Tensor, t: Tensor, out: Tensor) -> Tensor:
        """The constrained output at points x: (n, d), network inputs t: (n, d), network outputs out: (n, c)."""
        u = self.base.apply(x, t, self.factor3(t[:, -1:])[0] * out)
        return u + self.correction(x, out.shape[1])

    def apply_jet(self, x: Tensor, t: Tensor, out: Tensor, spec: jet.JetSpec) -> Tensor:
        """The same on jets: x (n, d), t (C, n, d), out (C, n, c) -> (C, n, c)."""
        u = self.base.apply_jet(x, t, jet.product(self._factor_jet(x, t, spec), out, spec), spec)
        channels = out.shape[-1]
        return u + cached_jet(self._jets, "rate", lambda y: self.correction(y, channels), x, spec, channels)

    def _factor_jet(self, x: Tensor, t: Tensor, spec: jet.JetSpec) -> Tensor:
        """The time factor's jet (C, n, 1) from the network inputs' jet t. The factor does not train and t
        is the points' own (affine) map, so a saturating factor is taken once per point set; a mini-batch
        of a set, drawn afresh at every step, takes it anew."""
        if self.tau is None:
            return jet.affine(t[..., -1:], t.new_ones(1), t.new_ones(1))
        if getattr(x, "rows_of", None) is not None:
            return jet.elementwise(t[..., -1:], spec, self.factor3)
        return remembered(
            self._jets, ("factor", spec), x, lambda: jet.elementwise(t[..., -1:].detach(), spec, self.factor3)
        )

    def describe(self) -> dict[str, Any]:
        desc = {
            "kind": "initial_rate",
            "base": self.base.describe(),
            "rate": "problem" if callable(self.rate) else float(self.rate),
            "t0": self.t0,
        }
        return desc if self.tau is None else desc | {"tau": self.tau}


SERIES_BELOW = 1e-2
"""Below this a = z / tau the factor is taken from its Taylor series (the closed forms cancel there)."""


def saturating_factor3(z: Tensor, tau: float) -> tuple[Tensor, Tensor, Tensor]:
    """s(z) = c h(z / tau) with h(a) = (1 - e^-a)^2 / a and c = 4 / (tau (1 - e^(-2 / tau))^2), and its
    first two derivatives in z (the module docstring's factor; ``z`` >= 0)."""
    a = z.clamp_min(0) / tau
    c = 4 / (tau * math.expm1(-2 / tau) ** 2)
    small = a < SERIES_BELOW
    big = torch.where(small, torch.ones_like(a), a)  # the closed forms, kept away from a = 0
    w, e = -torch.expm1(-big), torch.exp(-big)
    h = w * w / big
    h1 = 2 * w * e / big - w * w / big**2
    h2 = (2 * e * e - 2 * w * e) / big - 4 * w * e / big**2 + 2 * w * w / big**3
    h = torch.where(small, a * (1 - a * (1 - a * (7 / 12 - a / 4))), h)
    h1 = torch.where(small, 1 - a * (2 - a * (7 / 4 - a)), h1)
    h2 = torch.where(small, -2 + a * (7 / 2 - a * (3 - a * 31 / 18)), h2)
    return c * h, c / tau * h1, c / tau**2 * h2
