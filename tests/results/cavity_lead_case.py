"""One lid-driven cavity run for issue 16's leads: ``python cavity_lead_case.py MODE BUDGET [SEED]`` prints one
JSON line with the velocity and pressure errors 0.1 away from the lid corners (``away_from_corners``).

MODE:
- ``default``: ``ns_cavity`` with solve()'s defaults (KAN [2, 10, 3] G = 5, the steady recipe);
- ``fitted``: a KAN [2, 10, 3] G = 20 first fitted to the reference (L-BFGS, 2000 iterations, 8000 random
  points, p mean-free), then trained on the PINN loss (soft conditions, L-BFGS) for BUDGET s: does the
  loss keep the reference, or move away from it?
- ``liftedC``: the lid's speed made smooth, ``U(x) = 1 - cosh(C (x - 1/2)) / cosh(C / 2)`` (zero at both
  corners, its edges about 1 / C wide), solved by default and measured against the stream
  function-vorticity reference recomputed with that lid (256^2 intervals).
Records: ``2026-12-03-cavity-leads.jsonl`` (one thread per run, two runs at a time, quiet machine).
"""

import json
import math
import sys

import numpy as np
import torch
from reference_fit import fit_to_reference
from scipy.interpolate import RegularGridInterpolator

import kanpde
from kanpde.pde.conditions import Dirichlet
from kanpde.problems import LidDrivenCavity
from kanpde.solvers import LBFGS
from kanpde.validation.reference import cavity

mode, budget = sys.argv[1], float(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
problem = LidDrivenCavity()
row: dict = {"mode": mode, "budget": budget, "seed": seed}


class SmoothLid:
    """The lid speed U(x) = 1 - cosh(C (x - 1/2)) / cosh(C / 2) as a condition value."""

    def __init__(self, c: float) -> None:
        self.c = c

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return 1 - torch.cosh(self.c * (x[:, 0] - 0.5)) / math.cosh(self.c / 2)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SmoothLid) and other.c == self.c

    def __hash__(self) -> int:
        return hash(self.c)


def smooth_lid_reference(c: float) -> list[RegularGridInterpolator]:
    """The FD reference with the lid speed U(x) instead of 1 (the wall vorticity's lid term and the lid row
    of u scaled by U at each node), as interpolators of u, v, p."""
    speed = SmoothLid(c)
    thom, velocities = cavity._thom, cavity._velocities

    def scaled_thom(n: int, h: float):
        t, lid = thom(n, h)
        nodes = np.arange(1, n)
        lid[nodes * (n + 1) + n] *= speed(torch.as_tensor(np.c_[nodes * h, np.ones(n - 1)])).numpy()
        return t, lid

    def scaled_velocities(ops, psi):
        u, v = velocities(ops, psi)
        n = ops.n
        u = u.reshape(n + 1, n + 1)
        u[:, n] = speed(torch.as_tensor(np.c_[np.linspace(0, 1, n + 1), np.ones(n + 1)])).numpy()
        return u.ravel(), v

    cavity._thom, cavity._velocities = scaled_thom, scaled_velocities
    fd = cavity.cavity_fd(256, problem.re)
    axis = np.linspace(0.0, 1.0, 257)
    return [RegularGridInterpolator((axis, axis), f.numpy()) for f in (fd.u, fd.v, fd.p)]


if mode.startswith("lifted"):
    c = float(mode[len("lifted") :])
    parts = smooth_lid_reference(c)
    problem.conditions = [
        Dirichlet("y_max", SmoothLid(c), component="u"),
        *[cond for cond in problem.conditions if cond.on != "y_max"],
    ]
    problem.reference_values = lambda x: torch.tensor(
        np.stack([f(x.detach().cpu().numpy()) for f in parts], 1), dtype=x.dtype
    )
    row["lid_c"] = c

kw: dict = {}
if mode == "fitted":
    torch.manual_seed(seed)
    model = kanpde.KAN([2, 10, 3], grid=20, seed=seed).double()
    fit_to_reference(lambda y: model(2 * y - 1), model.parameters(), problem, 8000, 2000, 1e-14)
    row["fitted"] = problem.away_from_corners(lambda y: model(2 * y - 1))
    kw = {"constraints": "soft", "schedule": [LBFGS(steps=None, stall_tol=0.0)]}
else:
    model = kanpde.solvers.default_model(problem, "kan", seed=seed)
sol = kanpde.solve(problem, model=model, budget=budget, seed=seed, progress=False, **kw)
row.update(
    steps=sol.info.get("steps"),
    constraints=sol.info.get("constraints"),
    status=str(sol.status),
    **problem.away_from_corners(sol),
)
print(json.dumps(row))
