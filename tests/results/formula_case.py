"""One run of ``kanpde solve --symbolic``'s recipe, for issue 20's formula targets:
``python formula_case.py NAME WIDTH SEED BUDGET`` prints one JSON line: the network's and the formula's
relative L2 errors, the simplified formula, whether it matches the network (its evidence, measured
without the reference), the structure search's outcome and every phase's words.

NAME: a built-in problem, or ``exp_sin`` (the manufactured Poisson problem -lap u = f on [-1, 1]^2 with
exact u = exp(sin(pi x) + y^2)). WIDTH: e.g. ``2,2,1``, or ``default`` (the CLI's [d, 5, 1]).
"""

import json
import sys
import time

import sympy

from kanpde import KAN
from kanpde.interpret.formulas import read_formula
from kanpde.pde.registry import instance
from kanpde.problems.manufactured import Manufactured
from kanpde.solvers import solve, symbolic_recipe

name, width, seed, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if name == "exp_sin":
    x, y = sympy.symbols("x y")
    problem = Manufactured(
        lambda u: -(u.diff(x, 2) + u.diff(y, 2)), exact="exp(sin(pi*x) + y**2)", residual_weight=0.01, name="exp_sin"
    )
else:
    problem = instance(name)
dims = [problem.domain.dim, 5, problem.out_dim] if width == "default" else [int(w) for w in width.split(",")]
net = KAN(dims, seed=seed)
t0 = time.time()
sol = solve(
    problem,
    net,
    schedule=symbolic_recipe(problem, net).schedule,
    budget=budget,
    seed=seed,
    constraints="soft",
    form="strong",
    progress=False,
)
formula, short, seconds = read_formula(sol)
phases = [(p["phase"], p["end_step"] - p["start_step"], p["status"]) for p in sol.phases]
search = next((p.get("search") for p in sol.phases if "search" in p), None)
print(
    json.dumps(
        {
            "case": name,
            "width": dims,
            "seed": seed,
            "budget": budget,
            "network_rel_l2": sol.rel_l2,
            "final_width": list(sol.model.net.width),
            "formula_rel_l2": formula.rel_l2,
            "simplified": str(short.expr),
            "simplified_rel_l2": short.rel_l2,
            "matches": formula.matches,
            "exact": formula.exact,
            "verdict": formula.evidence.get("verdict"),
            "search": search,
            "steps": sol.info["steps"],
            "train_s": sol.info["train_s"],
            "formula_s": seconds,
            "phases": phases,
            "wall": round(time.time() - t0, 1),
        }
    )
)
