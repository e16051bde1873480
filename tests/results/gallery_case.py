"""One problem with solve()'s defaults: ``python gallery_case.py NAME BUDGET [kan|mlp] [SEED]`` prints one JSON
line (rel_l2, max_abs, steps, constraints, status, wall; for a system also every component's errors and
each declared vector's stacked rel_l2). NAME is a built-in instance (``kanpde list``) or
a class of ``kanpde.problems.gallery``; KAN [d, 10, 1] G = 5, MLP [d, 100, 100, 100, 1], or the hidden widths in
the environment's HIDDEN (``HIDDEN=20`` for a KAN [d, 20, 1]; the row then records them); DTYPE=float32 trains
in single precision (solve()'s ``dtype``; the row records it); N_INTERIOR=16384 sets solve()'s ``n_interior`` (the
row records it); EXTRA_GRID=80 EXTRA_SHARE=0.2 ends the default recipe's last L-BFGS phase after that share of the
budget (or 2000 iterations) and refines the KAN once more, to that grid, for the rest (the row records them)."""

import json
import os
import sys
import time

import torch

import kanpde
from kanpde.pde.registry import instance, instances
from kanpde.problems import gallery

name, budget = sys.argv[1], float(sys.argv[2])
kind = sys.argv[3] if len(sys.argv) > 3 else "kan"
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
problem = instance(name) if name in instances() else getattr(gallery, name)()
hidden = [int(w) for w in os.environ["HIDDEN"].split(",")] if os.environ.get("HIDDEN") else None
model = kanpde.solvers.default_model(problem, kind, seed=seed, hidden=hidden)
dtype = os.environ.get("DTYPE") or None
n_interior = int(os.environ["N_INTERIOR"]) if os.environ.get("N_INTERIOR") else None
extra_grid = int(os.environ["EXTRA_GRID"]) if os.environ.get("EXTRA_GRID") else None
schedule = None
if extra_grid is not None:
    schedule = list(kanpde.solvers.recipes.default_recipe(problem, model).schedule)
    last = schedule.pop()
    share = float(os.environ.get("EXTRA_SHARE") or 0.2)
    schedule += [kanpde.LBFGS(steps=2000, share=share, history=last.history), kanpde.Refine(grid=extra_grid), last]
t0 = time.time()
sol = kanpde.solve(
    problem,
    model=model,
    budget=budget,
    seed=seed,
    progress=False,
    dtype=dtype,
    n_interior=n_interior,
    schedule=schedule,
)
row = {
    "case": name,
    "kind": kind,
    "seed": seed,
    "budget": budget,
    "rel_l2": sol.errors["rel_l2"],
    "max_abs": sol.errors["max_abs"],
    "steps": sol.info.get("steps"),
    "constraints": sol.info.get("constraints"),
    "status": str(sol.status),
    "wall": round(time.time() - t0, 1),
}
if hidden is not None:
    row["hidden"] = hidden
if dtype is not None:
    row["dtype"] = dtype
if n_interior is not None:
    row["n_interior"] = n_interior
if extra_grid is not None:
    row["extra_grid"], row["extra_share"] = extra_grid, share
if problem.out_dim > 1:  # a system: every component's errors, each declared vector's stacked error
    row["errors"] = sol.errors
    x = torch.as_tensor(problem.evaluation_grid().points(), dtype=torch.float64)
    pred, ref = sol(x), problem.reference_values(x)
    for vec, parts in problem.vectors.items():
        cols = [problem.components.index(c) for c in parts]
        row[f"rel_l2_{vec}"] = float((pred[:, cols] - ref[:, cols]).norm() / ref[:, cols].norm())
    if hasattr(problem, "away_from_corners"):
        row["away_from_corners"] = problem.away_from_corners(sol)
print(json.dumps(row))
