"""The ``kanpde`` command line: ``kanpde solve PROBLEM ... --out DIR``, ``kanpde validate``, ``kanpde export``, ``kanpde list`` and ``kanpde bench``.

Bad input ends with one line on stderr that names the flag, the value and the fix, exit status 2, and
nothing written to ``--out``: every check runs before training, and the run folder is written only
after training, file by file, each atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from kanpde.cli.export import (
    add_export_parser,
    add_solve_flags,
    check_solve_exports,
    export_after_solve,
    export_run,
    parse_formats,
)
from kanpde.errors import ConfigError, KanpdeError

if TYPE_CHECKING:
    from kanpde.io.solution import Solution

__all__ = ["main", "build_parser"]

logger = logging.getLogger("kanpde")

SYMBOLIC_HIDDEN = (5,)  # hidden layers of --symbolic (a formula reads best from few edges); in/out come from the problem


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kanpde", description="Physics-informed PDE solving with KANs and MLPs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("solve", help="solve a built-in problem and write a run folder")
    s.add_argument("problem", metavar="PROBLEM", help="a built-in problem (see `kanpde list`)")
    s.add_argument("--model", choices=("kan", "mlp"), default="kan", help="surrogate kind (default: kan)")
    s.add_argument("--width", help="node counts, e.g. 2,10,1 (default: kan d,10,out; mlp d,100,100,100,out)")
    s.add_argument("--grid", type=int, help="initial KAN grid intervals G (default: 5)")
    s.add_argument("--k", type=int, help="KAN spline order (default: 3, cubic)")
    limit = s.add_mutually_exclusive_group()
    limit.add_argument("--budget", type=float, metavar="SECONDS", help="training time in seconds (default: 60)")
    limit.add_argument("--steps", type=int, metavar="N", help="a budget in optimizer iterations instead")
    s.add_argument("--seed", type=int, default=0, help="seed of the weights and collocation points (default: 0)")
    s.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    s.add_argument("--dtype", choices=("float32", "float64"), default="float64", help="default: float64")
    s.add_argument("--derivatives", choices=("auto", "jet", "autograd"), default="auto",
                   help="one-pass derivatives where they apply (auto, default), always (jet), or nested autograd")
    s.add_argument("--constraints", choices=("soft", "hard"),
                   help="Dirichlet conditions built into the surrogate (hard) or penalised (soft); default: the problem's recipe")
    s.add_argument("--out", required=True, metavar="DIR", help="run folder for report.json, model.pt, model.json")
    s.add_argument("--quiet", action="store_true", help="no progress display")
    s.add_argument("--symbolic", action="store_true",
                   help="KAN only: train with sparsity, prune and fix edges to symbols (default width d,5,out); "
                        "writes the formula and its rel_l2 to report.json and formula.tex")
    add_solve_flags(s)

    sub.add_parser("list", help="list the built-in problems")
    v = sub.add_parser("validate", help="run a validation suite (problems x surrogates x seeds) and write a report")
    v.add_argument("suite", nargs="?", metavar="SUITE.toml", help="the suite file (default: the shipped suite, every built-in problem with KAN and MLP)")
    v.add_argument("--out", required=True, metavar="DIR", help="folder for report.{md,json,csv}, summary.png and cases/<id>/; rerun to resume")
    v.add_argument("--workers", type=int, metavar="N", help="parallel processes (default: one per core, or one per GPU)")
    where = v.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run the cases on this Dask scheduler (tcp://host:8786); needs kanpde[cluster]")
    where.add_argument("--dask", action="store_true", help="run the cases on a local Dask cluster of --workers processes")
    v.add_argument("--no-plots", action="store_true", help="skip the per-case plots and summary.png")
    add_export_parser(sub)

    b = sub.add_parser("bench", help="benchmarks: ms per training step side by side, peak step memory, time to accuracy, symbolic formulas")
    bsub = b.add_subparsers(dest="bench", required=True, metavar="BENCH")
    st = bsub.add_parser("step", help="ms per poisson_sin training step: KAN one-pass, KAN autograd, MLP, pykan")
    st.add_argument("--width", help="a KAN width such as 2,32,32,1 (default: 2,10,1 and 2,32,32,1)")
    st.add_argument("--grid", type=int, default=10, help="KAN grid intervals (default: 10)")
    st.add_argument("--points", type=int, default=4096, help="interior points (default: 4096; boundary: points/8)")
    st.add_argument("--dtype", choices=("float32", "float64"), help="default: both")
    st.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    st.add_argument("--impl", help="comma-separated subset of kan,kan-autograd,kan-compiled,mlp,mlp-autograd,pykan")
    st.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default: 5)")
    st.add_argument("--json", action="store_true", help="print the rows as JSON")
    me = bsub.add_parser("memory", help="peak memory of a poisson_sin training step, KAN vs MLP, at several point counts")
    me.add_argument("--width", default="2,32,32,1", help="the KAN width (default: 2,32,32,1)")
    me.add_argument("--grid", type=int, default=10, help="KAN grid intervals (default: 10)")
    me.add_argument("--points", default="4096,16384,65536", help="comma-separated interior point counts (default: 4096,16384,65536)")
    me.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    me.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    me.add_argument("--impl", default="kan,mlp", help="comma-separated subset of kan,kan-autograd,mlp,mlp-autograd (default: kan,mlp)")
    me.add_argument("--json", action="store_true", help="print the rows as JSON")
    ac = bsub.add_parser("accuracy", help="seconds to reach relative L2 1e-2, 1e-3, 1e-4 on poisson_kan, KAN vs MLP")
    ac.add_argument("--budget", type=float, default=300.0, help="training seconds per model (default: 300)")
    ac.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ac.add_argument("--json", action="store_true", help="print the rows as JSON")
    sy = bsub.add_parser("symbolic", help="formulas read from a KAN [2,5,1] (solve --symbolic) on poisson_sin and poisson_kan, with step times")
    sy.add_argument("--budget", type=float, default=60.0, help="training seconds per case (default: 60)")
    sy.add_argument("--seed", type=int, default=0, help="seed of the weights and points (default: 0)")
    sy.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    sy.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not logger.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s kanpde: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    try:
        if args.command == "list":
            return _list()
        if args.command == "export":
            return export_run(args)
        if args.command == "bench":
            return _bench(args)
        if args.command == "validate":
            return _validate(args)
        return _solve(args)
    except KanpdeError as err:
        print(f"kanpde {args.command}: error: {err}", file=sys.stderr)
        return 2


def _list() -> int:
    from kanpde.pde.registry import instances

    items = instances()
    width = max(len(n) for n in items)
    for name, summary in items.items():
        print(f"{name:<{width}}  {summary}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import json

    from kanpde.validation.batch import bench

    if args.bench in ("accuracy", "symbolic"):
        if not args.budget > 0:
            raise ConfigError(f"--budget must be a number of seconds > 0; got {args.budget:g}")
        if args.bench == "symbolic":
            rows = bench.symbolic_cases(budget=args.budget, seed=args.seed, device=args.device)
            print(json.dumps(rows, indent=1) if args.json else bench.format_symbolic(rows))
            return 0
        rows = bench.time_to_accuracy(budget=args.budget, device=args.device)
        print(json.dumps(rows, indent=1) if args.json else bench.format_accuracy(rows))
        return 0
    if args.bench == "memory":
        counts = parse_width(args.points, flag="--points")
        if min(counts) < 8 or args.grid < 1:
            raise ConfigError(f"--points must all be >= 8 and --grid >= 1; got {args.points}, {args.grid}")
        rows = bench.step_memory(impls=args.impl.split(","), points=counts, width=parse_width(args.width), grid=args.grid, dtype=args.dtype, device=args.device)
        print(json.dumps(bench.rows_as_dicts(rows), indent=1) if args.json else bench.format_memory(rows))
        return 0
    if args.points < 8 or args.grid < 1 or args.rounds < 1:
        raise ConfigError(f"--points must be >= 8, --grid and --rounds >= 1; got {args.points}, {args.grid}, {args.rounds}")
    rows = bench.step_matrix(
        widths=[parse_width(args.width)] if args.width else ((2, 10, 1), (2, 32, 32, 1)),
        grid=args.grid,
        points=args.points,
        dtypes=[args.dtype] if args.dtype else ("float32", "float64"),
        device=args.device,
        impls=args.impl.split(",") if args.impl else None,
        rounds=args.rounds,
    )
    print(json.dumps(bench.rows_as_dicts(rows), indent=1) if args.json else bench.format_steps(rows))
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Exit status 0 when every case passed, 1 when one did not, 2 on bad input (nothing written)."""
    from kanpde.validation.batch.runner import run_suite
    from kanpde.validation.batch.suite import load_suite

    suite = load_suite(args.suite)
    scheduler = args.scheduler or ("local" if args.dask else None)
    results = run_suite(suite, args.out, workers=args.workers, scheduler=scheduler, plots=not args.no_plots)
    passed = sum(r["passed"] for r in results)
    print(f"{suite.name}: {passed} of {len(results)} cases passed -> {Path(args.out) / 'report.md'}")
    return 0 if passed == len(results) else 1


def parse_width(text: str, *, flag: str = "--width") -> list[int]:
    """``"2,10,1"`` -> ``[2, 10, 1]`` (``--points 4096,16384`` is read the same way, one entry allowed)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"{flag} must be comma-separated ints such as {'2,10,1' if flag == '--width' else '4096,16384'}; got {text!r}") from None
    if flag == "--width" and (len(values) < 2 or min(values) < 1):
        raise ConfigError(f"--width needs at least two entries >= 1 (inputs, ..., outputs); got {text!r}")
    return values


def _solve(args: argparse.Namespace) -> int:
    from kanpde.solvers import default_model, make_network, solve, symbolic_recipe
    from kanpde.pde.registry import instance

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out must be a folder; {args.out!r} is a file. Choose another name")
    if args.budget is not None and not args.budget > 0:
        raise ConfigError(f"--budget must be a number of seconds > 0; got {args.budget:g}")
    if args.symbolic and args.model != "kan":
        raise ConfigError("--symbolic reads a formula from a KAN's edges; use it with --model kan")
    problem = instance(args.problem)
    exports = parse_formats(args.export, "--export")
    check_solve_exports(problem, exports)
    constraints = args.constraints or ("soft" if args.symbolic else None)
    if args.model != "kan":
        for flag in ("grid", "k"):
            if getattr(args, flag) is not None:
                raise ConfigError(f"--{flag} applies to --model kan only; drop it or use --model kan")
    if args.width:
        net = make_network(args.model, parse_width(args.width), grid=args.grid, k=args.k, seed=args.seed)
    else:
        hidden = SYMBOLIC_HIDDEN if args.symbolic else None
        net = default_model(problem, args.model, hidden=hidden, grid=args.grid, k=args.k, seed=args.seed, constraints=constraints)
    schedule = symbolic_recipe(problem, net).schedule if args.symbolic else None
    sol = solve(
        problem, net, schedule=schedule, budget=args.budget, steps=args.steps, seed=args.seed,
        device=args.device, dtype=args.dtype, derivatives=args.derivatives, constraints=constraints,
        progress=False if args.quiet else None,
    )
    if args.symbolic:
        sol = with_formula(sol, out)
    sol.save(out)
    err = ", ".join(f"{k}={v:.3e}" for k, v in sol.errors.items()) or "no reference"
    print(f"{args.problem}: {err}; {sol.info['steps']} steps in {sol.info['train_s']:.1f} s ({sol.status}) -> {out / 'report.json'}")
    if args.symbolic:
        print(f"formula (rel_l2 {_fmt(sol.info['formula_rel_l2'])}): {sol.info['formula_simplified']}")
    written = export_after_solve(sol, out, exports, plots=not args.no_plots)
    if written:
        print("wrote " + ", ".join(p.name for p in written))
    return 0


def with_formula(sol: "Solution", out: Path) -> "Solution":
    """The solution with its formula in ``info`` (for report.json), and ``out/formula.tex`` written."""
    import dataclasses

    from kanpde.io.files import atomic_write
    from kanpde.interpret.formulas import read_formula

    formula, short, seconds = read_formula(sol)
    info = {
        **sol.info,
        "formula": str(formula.expr), "formula_rel_l2": formula.rel_l2, "formula_max_abs": formula.errors.get("max_abs"),
        "formula_simplified": str(short.expr), "formula_simplified_rel_l2": short.rel_l2,
        "formula_edges": [c.as_dict() for c in formula.edges],
        "formula_s": seconds["formula_s"], "formula_simplify_s": seconds["simplify_s"],
    }
    names = ", ".join(str(v) for v in formula.variables)
    tex = (
        f"% kanpde solve --symbolic: the trained KAN as a formula (6 significant digits), rel_l2 {_fmt(formula.rel_l2)}\n"
        f"u({names}) = {formula.latex()}\n"
        f"% simplified (constants within 1e-6 identified), rel_l2 {_fmt(short.rel_l2)}\n"
        f"u({names}) = {short.latex()}\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "formula.tex", lambda f: f.write(tex))
    return dataclasses.replace(sol, info=info)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3e}"


if __name__ == "__main__":
    sys.exit(main())
