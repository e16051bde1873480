"""One inverse problem with solve()'s defaults: ``python inverse_case.py NAME BUDGET [kan|mlp] [SEED]`` prints one
JSON line: the errors of the solution and of every unknown with a truth (``rel_err_<c>``, ``rel_l2_<a>``), the
identified scalars, steps, the data weights and misfits, wall time. For a problem with one scalar unknown c
whose class takes ``c_true`` (``poisson_inverse``, ``heat_inverse``), also the least-squares estimate of c from
the same observations with the exact forward model, and with noise the statistical floor (the spread of that
estimate over 20 noise draws, ``kanpde.validation.inverse``). KAN [d, 10, 1] G = 5, MLP [d, 100, 100, 100, 1].
"""

import json
import sys
import time

import numpy as np
import torch

import kanpde
from kanpde.pde.registry import instance
from kanpde.validation.inverse import least_squares_estimate, statistical_floor

name, budget = sys.argv[1], float(sys.argv[2])
kind = sys.argv[3] if len(sys.argv) > 3 else "kan"
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
problem = instance(name)
model = kanpde.solvers.default_model(problem, kind, seed=seed)
t0 = time.time()
sol = kanpde.solve(problem, model=model, budget=budget, seed=seed, progress=False)
row = {
    "case": name,
    "kind": kind,
    "seed": seed,
    "budget": budget,
    "errors": sol.errors,
    "unknowns": {k: v for k, v in sol.unknowns.items() if isinstance(v, float)},
    "steps": sol.info.get("steps"),
    "data_weights": sol.info.get("data_weights"),
    "data_misfit": sol.info.get("data_misfit"),
    "status": str(sol.status),
    "wall": round(time.time() - t0, 1),
}
scalars = [u for u in problem.unknowns if u.kind == "scalar"]
if len(scalars) == 1 and len(problem.data) == 1:
    u = scalars[0]
    truth = float(u.exact)
    data = problem.data[0]
    params = {k: v for k, v in problem.params.items() if k != f"{u.name}_true"}
    pts = torch.as_tensor(data.points, dtype=torch.float64)

    def forward(theta):
        return type(problem)(**params, **{f"{u.name}_true": float(theta[0])}).exact(pts).reshape(-1).numpy()

    clean = forward([truth])
    noisy = not np.allclose(data.values[:, 0], clean)
    estimate = float(least_squares_estimate(forward, data.values[:, 0], [truth])[0])
    row["least_squares"] = {"estimate": estimate, "rel_err": abs(estimate - truth) / abs(truth)}
    if noisy:
        sigma = float(np.std(data.values[:, 0] - clean, ddof=1))  # the drawn noise's spread (nominal: 1 % of max |u|)
        floor = statistical_floor(forward, [truth], sigma=sigma, draws=20, seed=seed)
        row["least_squares"].update(sigma=sigma, floor_rel=float(floor.relative[0]))
        pinn = sol.unknowns[u.name]
        row["least_squares"]["pinn_over_floor"] = abs(pinn - truth) / abs(truth) / float(floor.relative[0])
print(json.dumps(row))
