"""One run of a built-in problem with solve()'s defaults, under a chosen form:
``python energy_case.py NAME BUDGET [kan|mlp] [SEED] [strong|energy|default]`` prints one JSON line with the
errors, steps, the form and quadrature that ran, the recipe, the status and wall time. KAN [d, 10, 1] G = 5
(plus one input per interface under the energy form), MLP [d, 100, 100, 100, 1].

``python energy_case.py reference`` prints the error of the darcy_piecewise finite-volume reference at
1024^2 cells against one at 2048^2, on the evaluation grid (the cell centres of 256^2 cells).
"""

import json
import sys
import time

import torch

import kanpde
from kanpde.pde.registry import instance

if sys.argv[1] == "reference":
    from kanpde.validation.reference.cache import reference

    problem = instance("darcy_piecewise")
    x = torch.as_tensor(problem.evaluation_grid().points(), dtype=torch.float64)
    t0 = time.time()
    coarse = reference("darcy_piecewise", x, resolution=1024, cache=False)
    t1 = time.time()
    fine = reference("darcy_piecewise", x, resolution=2048, cache=False)
    t2 = time.time()
    rel = float((coarse - fine).norm() / fine.norm())
    print(json.dumps({"case": "reference", "rel_l2_1024_vs_2048": rel, "s_1024": t1 - t0, "s_2048": t2 - t1}))
    sys.exit()

name, budget = sys.argv[1], float(sys.argv[2])
kind = sys.argv[3] if len(sys.argv) > 3 else "kan"
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
form = sys.argv[5] if len(sys.argv) > 5 else "default"
problem = instance(name)
asked = None if form == "default" else form
model = kanpde.solvers.default_model(problem, kind, seed=seed, form=asked)
t0 = time.time()
sol = kanpde.solve(problem, model=model, budget=budget, seed=seed, progress=False, form=asked)
print(
    json.dumps(
        {
            "case": name,
            "kind": kind,
            "width": list(sol.model.net.width),
            "seed": seed,
            "budget": budget,
            "form": sol.info["form"],
            "recipe": sol.info["recipe"]["name"],
            "quadrature": sol.info.get("quadrature"),
            "points": sol.info["collocation"],
            "errors": sol.errors,
            "steps": sol.info["steps"],
            "status": str(sol.status),
            "wall": round(time.time() - t0, 1),
        }
    )
)
