"""One ``burgers`` run of the deep MLP [2, 20 x 8, 1] with solve()'s MLP recipe and one option changed:
``python burgers_options_case.py BUDGET SEED [causal=0] [n=4096] [dtype=float32] [hidden=20,20,...]`` prints
one JSON line (rel_l2, steps, status). ``causal=0`` drops the recipe's causal weights, ``n`` sets the
interior collocation points, ``dtype`` the precision. Records: ``2026-12-03-burgers-float32.jsonl`` (the rows
with ``opts``: seed 0, 300 s, two runs at a time with one thread each on a quiet machine).
"""

import json
import sys
import time

import kanpde
from kanpde.pde.registry import instance

budget, seed = float(sys.argv[1]), int(sys.argv[2])
opts = dict(a.split("=", 1) for a in sys.argv[3:])
problem = instance("burgers")
hidden = [int(w) for w in opts.get("hidden", ",".join(["20"] * 8)).split(",")]
model = kanpde.solvers.default_model(problem, "mlp", seed=seed, hidden=hidden)
kw: dict = {}
if "causal" in opts:
    kw["causal"] = opts["causal"] == "1"
if "n" in opts:
    kw["n_interior"] = int(opts["n"])
if "dtype" in opts:
    kw["dtype"] = opts["dtype"]
t0 = time.time()
sol = kanpde.solve(problem, model=model, budget=budget, seed=seed, progress=False, **kw)
row = {
    "case": "burgers",
    "opts": opts,
    "seed": seed,
    "budget": budget,
    "rel_l2": sol.errors["rel_l2"],
    "steps": sol.info.get("steps"),
    "status": str(sol.status)[:90],
    "wall": round(time.time() - t0, 1),
}
print(json.dumps(row))
