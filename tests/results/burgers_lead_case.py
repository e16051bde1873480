"""One burgers-like run for issue 16's leads: ``[SCHED=radknots|radknots2] python burgers_lead_case.py NAME BUDGET SEED MODE``
with MODE ``default`` (the evolution recipe's causal weights), ``nocausal`` or ``tolX`` (causal tolerance X);
SCHED=radknots replaces the schedule by the KAN evolution schedule with residual-based resampling (RAD,
k = 1, c = 1; radknots2: k = 2, c = 0) and knots moved to the samples (``UpdateGrid``) before each finer
grid. Prints one JSON line: errors, steps, status, the last causal minimum weights and the error history.
Records: ``2026-12-02-burgers-leads.jsonl`` (one thread per run, two runs at a time).
"""

import json
import os
import sys

import kanpde
from kanpde.pde.registry import instance
from kanpde.solvers import LBFGS, Causal, Refine, Resample, UpdateGrid
from kanpde.solvers.recipes import kan_refinement, space_time_kan

name, budget, seed, mode = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
problem = instance(name)
hidden = int(os.environ.get("HIDDEN", "0"))  # a KAN [d, HIDDEN, 1] G = 5 instead of the default
dim = len(problem.domain.axes)
model = (
    kanpde.KAN([dim, hidden, 1], grid=5, seed=seed)
    if hidden
    else kanpde.solvers.default_model(problem, "kan", seed=seed)
)
start = space_time_kan(problem, model)[0]  # the evolution recipe's Adam phase, which every variant keeps
kw = {}
if mode == "nocausal":
    kw["causal"] = False
elif mode.startswith("tol"):
    kw["causal"] = Causal(chunks=32, tol=float(mode[3:]))
mode2 = os.environ.get("SCHED", "")
if mode2 == "g80":  # the evolution recipe's KAN schedule with one more grid, G = 80, last
    kw["schedule"] = [
        start,
        *kan_refinement((10, 20, 40, 80), steps_per_grid=2000, share=(0.05, 0.1, 0.15, 0.2))(problem, model),
    ]
if mode2.startswith("radknots"):
    R = (lambda: Resample(adaptive=True, k=2.0, c=0.0)) if mode2 == "radknots2" else (lambda: Resample(adaptive=True))
    kw["schedule"] = [
        start,
        LBFGS(steps=2000, share=0.05),
        Refine(grid=10),
        LBFGS(steps=2000, share=0.1),
        R(),
        UpdateGrid(),
        LBFGS(steps=2000, share=0.1),
        R(),
        UpdateGrid(),
        Refine(grid=20),
        LBFGS(steps=2000, share=0.2),
        R(),
        UpdateGrid(),
        Refine(grid=40),
        LBFGS(steps=None, stall_tol=0.0),
    ]
sol = kanpde.solve(problem, model=model, budget=budget, seed=seed, progress=False, **kw)
mins = [h.get("causal_min_weight") for h in sol.history if "causal_min_weight" in h]
print(
    json.dumps(
        {
            "case": name,
            "mode": mode,
            "sched": mode2,
            "hidden": hidden,
            "seed": seed,
            "budget": budget,
            "threads": os.environ.get("OMP_NUM_THREADS"),
            "errors": sol.errors,
            "steps": sol.info["steps"],
            "status": str(sol.status),
            "min_w": mins[-5:] if mins else None,
            "hist": [(h["step"], h["t"], h.get("rel_l2")) for h in sol.history if h.get("rel_l2") is not None][-8:],
        }
    )
)
