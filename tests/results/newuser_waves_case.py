"""One run of a second-order-time problem written from the README (``newuser_problems.WAVES``):
``python newuser_waves_case.py ClassName BUDGET SEED [saturating|linear] [HIDDEN]`` prints one JSON line.

``linear`` builds the initial rate in with the linear time factor (tau = None, what kanpde did before
2026-12-03), to measure the saturating factor against it on problems it was not tuned on. HIDDEN: the
KAN's hidden width (default: solve()'s network). Records: ``2026-12-03-newuser-waves.jsonl``.
"""

import json
import sys

import newuser_problems as problems

import kanpde
from kanpde.pinn import hard_constraints


def main(argv):
    name, budget, seed = argv[0], float(argv[1]), int(argv[2])
    factor = argv[3] if len(argv) > 3 else "saturating"
    if factor not in ("saturating", "linear"):
        sys.exit(f"factor must be saturating or linear; got {factor!r}")
    if factor == "linear":
        hard_constraints.rate_time_scale = lambda problem, rate, n=256: None
    problem = getattr(problems, name)()
    kwargs = {}
    if len(argv) > 4:
        kwargs["model"] = kanpde.KAN([2, int(argv[4]), problem.out_dim], seed=seed)
    sol = kanpde.solve(problem, budget=budget, seed=seed, progress=False, **kwargs)
    print(
        json.dumps(
            {
                "problem": name,
                "factor": factor,
                "hidden": int(argv[4]) if len(argv) > 4 else 10,
                "seed": seed,
                "budget": budget,
                "errors": {k: v for k, v in sol.errors.items() if k.startswith("rel_l2")},
                "steps": sol.info["steps"],
                "constraints": sol.info["constraints"],
                "status": str(sol.status),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
