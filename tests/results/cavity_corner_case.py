"""Issue 16's cavity, the corners ruled in or out: ``python cavity_corner_case.py MODE BUDGET [SEED]`` prints one
JSON line with the velocity and pressure errors 0.1 away from the lid corners.

MODE is ``+``-joined parts (``weight2`` alone, ``lift+weight1``, ``lift+fit``, ...):
- ``weightK``: the momentum residuals (``weightKall``: and continuity) times min(1, r / DELTA)^K, r the
  distance to the nearer lid corner (DELTA in the environment, default 0.1), so the singular corners
  weigh less in the loss;
- ``lift``: Stokes' corner flow subtracted at both lid corners (Taylor's scraper: psi = r f(theta) with the
  lid moving and the wall at rest, f = (-pi^2 sin + 2 pi theta sin + 4 theta cos) / (4 - pi^2), its
  pressure (a cos + b sin) / (Re r) fitted to Stokes' equations to round-off), cut off smoothly by
  r = 0.5: the network learns u - g, whose data are continuous at the corners and whose residual near a
  corner grows like 1 / r instead of 1 / r^2;
- ``fit``: an MLP [2, 64 x 4, 3] first fitted to the reference (L-BFGS, 3000 iterations, 10,000 random
  points), then trained on the PINN loss (soft conditions, L-BFGS) for BUDGET s; without ``fit`` the same
  MLP trains from its initial weights with solve()'s MLP recipe, soft conditions;
- ``kan``: the default KAN and recipe instead of the MLP (not with ``fit``).
``check``: the FD reference's own residual of the equations (central differences on its 256^2 grid, 0.2
or more from the corners) beside the sizes of the terms, then exit.
Records: ``2026-12-03-cavity-corners.jsonl`` (seed 0, 150 s, one thread per run, two at a time, quiet machine).
"""

import json
import math
import os
import sys

import numpy as np
import torch
from reference_fit import fit_to_reference

import kanpde
from kanpde.pinn.lifts import cached_jet, lift_values
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import LidDrivenCavity
from kanpde.solvers import LBFGS

mode, budget = sys.argv[1], float(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
parts = set(mode.split("+"))
CORNERS = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)

if "check" in parts:
    from kanpde.validation.reference import cavity

    re = LidDrivenCavity().re
    fd = cavity.cavity_fd(256, re)
    u, v, p = (f.numpy() for f in (fd.u, fd.v, fd.p))
    h = 1 / 256

    def dx(f):
        return (f[2:, 1:-1] - f[:-2, 1:-1]) / (2 * h)

    def dy(f):
        return (f[1:-1, 2:] - f[1:-1, :-2]) / (2 * h)

    def lap(f):
        return (f[2:, 1:-1] + f[:-2, 1:-1] + f[1:-1, 2:] + f[1:-1, :-2] - 4 * f[1:-1, 1:-1]) / h**2

    c = u[1:-1, 1:-1], v[1:-1, 1:-1]
    nodes = np.arange(1, 256) * h
    X, Y = np.meshgrid(nodes, nodes, indexing="ij")
    far = np.minimum(np.hypot(X, Y - 1), np.hypot(X - 1, Y - 1)) > 0.2
    ms = {
        "momentum_x": c[0] * dx(u) + c[1] * dy(u) + dx(p) - lap(u) / re,
        "momentum_y": c[0] * dx(v) + c[1] * dy(v) + dy(p) - lap(v) / re,
        "continuity": dx(u) + dy(v),
        "term p_x": dx(p),
        "term lap u / Re": lap(u) / re,
        "term u.grad u": c[0] * dx(u) + c[1] * dy(u),
    }
    print(json.dumps({"mode": "check", **{k: float((f[far] ** 2).mean()) for k, f in ms.items()}}))
    sys.exit()

PI = math.pi
_A, _C, _D = -(PI**2) / (4 - PI**2), 2 * PI / (4 - PI**2), 4 / (4 - PI**2)


def _corner_flow(xi, eta, speed, cut, pa, pb):
    """Stokes' flow in the quarter plane xi, eta > 0 with the wall eta = 0 moving at ``speed`` along xi
    and the wall xi = 0 at rest, its stream function cut off by a C^3 step in r from 0 to ``cut``:
    (u_xi, u_eta, p) for unit viscosity."""
    r = torch.sqrt(xi**2 + eta**2).clamp(min=1e-9)
    th = torch.atan2(eta, xi)
    co, si = torch.cos(th), torch.sin(th)
    f = speed * (_A * si + _C * th * si + _D * th * co)
    fp = speed * (_A * co + _C * (si + th * co) + _D * (co - th * si))
    s = (r / cut).clamp(0, 1)
    chi = 1 - (35 * s**4 - 84 * s**5 + 70 * s**6 - 20 * s**7)
    dchi = -(140 * s**3 - 420 * s**4 + 420 * s**5 - 140 * s**6) / cut
    u_xi = chi * (si * f + co * fp) + dchi * eta * f
    u_eta = -(chi * (co * f - si * fp) + dchi * xi * f)
    return u_xi, u_eta, chi * speed * (pa * co + pb * si) / r


def _stokes_pressure() -> tuple[float, float]:
    """The coefficients (a, b) of p = (a cos + b sin) / r with grad p = laplacian u for the corner flow."""
    x = (
        0.05 + 0.4 * torch.rand(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ).requires_grad_()
    u_xi, u_eta, _ = _corner_flow(x[:, 0], x[:, 1], 1.0, 10.0, 0.0, 0.0)
    laps = []
    for comp in (u_xi, u_eta):
        g = torch.autograd.grad(comp.sum(), x, create_graph=True)[0]
        laps.append(sum(torch.autograd.grad(g[:, a].sum(), x, retain_graph=True)[0][:, a] for a in range(2)))
    cols = []
    for pa, pb in ((1.0, 0.0), (0.0, 1.0)):
        grad = torch.autograd.grad(_corner_flow(x[:, 0], x[:, 1], 1.0, 10.0, pa, pb)[2].sum(), x)[0]
        cols.append(torch.cat([grad[:, 0], grad[:, 1]]))
    sol = torch.linalg.lstsq(torch.stack(cols, 1), torch.cat(laps).detach()[:, None]).solution
    return float(sol[0]), float(sol[1])


class CornerFlows:
    """g(x) -> (n, 3): the cut-off corner flows at (0, 1) (lid moving away) and (1, 1) (lid moving towards)."""

    def __init__(self, re: float, cut: float = 0.5) -> None:
        self.re, self.cut = re, cut
        self.pa, self.pb = _stokes_pressure()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = 0
        for x0, sx in ((0.0, 1.0), (1.0, -1.0)):
            u_xi, u_eta, p = _corner_flow(sx * (x[:, 0] - x0), 1 - x[:, 1], sx, self.cut, self.pa, self.pb)
            out = out + torch.stack([sx * u_xi, -u_eta, p / self.re], 1)
        return out


weight = next((p for p in parts if p.startswith("weight")), None)
power = float(weight[len("weight") :].removesuffix("all")) if weight else 0.0
delta = float(os.environ.get("DELTA", "0.1"))


class Cavity(LidDrivenCavity):
    def residual(self, u, x):
        mx, my, c = super().residual(u, x)
        if not power:
            return mx, my, c
        r = torch.cdist(x.detach()[:, :2], CORNERS.to(x.dtype)).min(dim=1).values
        w = (r / delta).clamp(max=1.0).pow(power)
        return mx * w, my * w, c * w if weight.endswith("all") else c


problem = Cavity(name="ns_cavity")
if "lift" in parts:
    known = CornerFlows(problem.re)
    plain, plain_jet = Surrogate.forward, Surrogate.forward_jet
    Surrogate.forward = lambda self, x: plain(self, x) + lift_values(known, x, 3)
    Surrogate.forward_jet = lambda self, x, spec: (
        plain_jet(self, x, spec) + cached_jet(self._jets, "corners", known, x, spec, 3)
    )
row: dict = {"mode": mode, "budget": budget, "seed": seed, "delta": delta if power else None}
kw: dict = {"constraints": "soft"}
if "kan" in parts:
    model = kanpde.solvers.default_model(problem, "kan", seed=seed)
    kw = {}
else:
    model = kanpde.MLP([2, 64, 64, 64, 64, 3], seed=seed).double()
if "fit" in parts:
    torch.manual_seed(seed)
    sur = Surrogate(model, torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    fit_to_reference(sur, sur.parameters(), problem, 10000, 3000, 1e-15)
    row["fitted"] = problem.away_from_corners(sur)
    kw["schedule"] = [LBFGS(steps=None, stall_tol=0.0)]
sol = kanpde.solve(problem, model=model, budget=budget, seed=seed, progress=False, **kw)
row.update(steps=sol.info.get("steps"), status=str(sol.status)[:80], **problem.away_from_corners(sol))
print(json.dumps(row))
