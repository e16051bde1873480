"""One run of a built-in problem with solve()'s defaults, for issue 19's accuracy ceilings:
``python speed_case.py NAME BUDGET [kan|mlp] [SEED]`` prints one JSON line with the errors, steps, wall time,
the recipe, and every phase with the words it stopped with (an L-BFGS phase that "found no decrease"
ended early), and where a jump of the loss switched the KAN to C^2 (``c2_from``). KAN [d, 10, 1] G = 5 (the default model), MLP [d, 100, 100, 100, 1]. ``FADE=1/32`` in the
environment continues the KAN's splines C^2 past their grids (``KAN(curvature_fade=...)``; the row records it);
``RAD=1`` draws fresh points where the residual is large before each refinement (``Resample(adaptive=True)``);
``N_INTERIOR=16384`` sets solve()'s ``n_interior``; ``COVER=1`` makes the recipe's refinements widen the grids to the activations (``Refine(cover=True)``);
``DTYPE=float32`` trains in single precision (solve()'s ``dtype``; the row records it);
``GRIDS=10,20,40 SHARES=0.25,0.25,none`` gives a KAN the L-BFGS refinement through those grids with
those shares of the budget (``kan_refinement``, 2000 iterations per grid; the row records them);
``RESAMPLE_EVERY=1500`` splits the last L-BFGS phase into phases of that many iterations with a fresh
draw of the collocation points (``Resample()``) between them.
"""

import json
import os
import sys
import time
from dataclasses import replace
from fractions import Fraction

import kanpde
from kanpde.pde.registry import instance

name, budget = sys.argv[1], float(sys.argv[2])
kind = sys.argv[3] if len(sys.argv) > 3 else "kan"
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
problem = instance(name)
model = kanpde.solvers.default_model(problem, kind, seed=seed)
fade = float(Fraction(os.environ["FADE"])) if os.environ.get("FADE") else 0.0
if fade:
    model = kanpde.KAN(list(model.width), grid=model.grid, k=model.k, seed=seed, curvature_fade=fade)
dtype = os.environ.get("DTYPE") or None
cover = os.environ.get("COVER") == "1"
rad = os.environ.get("RAD") == "1"
n_interior = int(os.environ["N_INTERIOR"]) if os.environ.get("N_INTERIOR") else None
grids = os.environ.get("GRIDS")
if grids:  # the L-BFGS refinement through the given grids and shares
    shares = tuple(None if v == "none" else float(v) for v in os.environ["SHARES"].split(","))
    refine = kanpde.solvers.recipes.kan_refinement(tuple(int(g) for g in grids.split(",")), 2000, share=shares)
    schedule = refine(problem, model)
else:
    schedule = list(kanpde.solvers.recipes.default_recipe(problem, model).schedule)
if cover or rad:  # the refinements widen the grids (Refine(cover=True)) / follow the residual (RAD)
    plain, schedule = schedule, []
    for p in plain:
        if isinstance(p, kanpde.Refine):
            schedule += [kanpde.Resample(adaptive=True)] if rad else []
            p = replace(p, cover=cover)
        schedule.append(p)
every = int(os.environ.get("RESAMPLE_EVERY") or 0)
if every:  # the last L-BFGS phase in pieces of that many iterations, fresh points between them
    last = schedule.pop()
    schedule += [kanpde.LBFGS(steps=every, history=last.history), kanpde.Resample()] * 20 + [last]
if not (grids or cover or rad or every):
    schedule = None  # solve()'s own recipe, recorded by its name
t0 = time.time()
sol = kanpde.solve(
    problem,
    model=model,
    budget=budget,
    seed=seed,
    progress=False,
    eval_every=budget / 20,
    dtype=dtype,
    schedule=schedule,
    n_interior=n_interior,
)
phases = [(p["phase"], p.get("grid"), p["end_step"] - p["start_step"], p["status"]) for p in sol.phases]
switched = [(i, p["curvature_fade"]["step"]) for i, p in enumerate(sol.phases) if "curvature_fade" in p]
print(
    json.dumps(
        {
            "case": name,
            "kind": kind,
            "width": list(sol.model.net.width),
            "seed": seed,
            "budget": budget,
            "recipe": sol.info["recipe"]["name"],
            "points": sol.info["collocation"],
            "errors": sol.errors,
            "steps": sol.info["steps"],
            "status": str(sol.status),
            "early": sum("no decrease" in p[3] for p in phases),
            "curvature_fade": fade,
            "cover": cover,
            "rad": rad,
            "c2_from": switched,  # (phase, step) where a jump of the loss switched the KAN to C^2
            "dtype": dtype or "float64",
            "grids": grids,
            "resample_every": every,
            "shares": os.environ.get("SHARES") if grids else None,
            "history": [(round(h["t"]), h["step"], f"{h['rel_l2']:.2e}") for h in sol.history if "rel_l2" in h],
            "phases": phases,
            "lbfgs": [{k: p[k] for k in ("evals", "restarts", "skipped_pairs") if k in p} for p in sol.phases],
            "wall": round(time.time() - t0, 1),
        }
    )
)
