"""python run.py ClassName BUDGET_SECONDS SEED [kan|mlp] -> one JSON line."""

import json
import sys

import newuser_problems as problems

import kanpde


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit("usage: python run.py ClassName BUDGET_SECONDS SEED [kan|mlp]")
    name, budget, seed = argv[0], float(argv[1]), int(argv[2])
    kind = argv[3] if len(argv) == 4 else "kan"
    if kind not in ("kan", "mlp"):
        sys.exit(f"model must be kan or mlp; got {kind!r}")
    problem = getattr(problems, name)()
    kwargs = {}
    if kind == "mlp":
        # The README documents no `kanpde.solvers.default_model`, so, as the brief says, mlp is skipped
        # unless the function is there after all.
        if not hasattr(kanpde.solvers, "default_model"):
            print(json.dumps({"problem": name, "model": kind, "skipped": "README documents no default_model"}))
            return
        kwargs["model"] = kanpde.solvers.default_model(problem, "mlp", seed=seed)
    sol = kanpde.solve(problem, budget=budget, seed=seed, progress=False, **kwargs)
    print(
        json.dumps(
            {
                "problem": name,
                "model": kind,
                "seed": seed,
                "budget": budget,
                "rel_l2": sol.errors["rel_l2"],
                "steps": sol.info["steps"],
                "constraints": sol.info["constraints"],
                "recipe": sol.info.get("recipe"),
                "status": str(sol.status),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
