"""``kanpde solve PROBLEM ... --out DIR``: train a surrogate for a built-in problem and write a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kanpde.cli.args import parse_width
from kanpde.cli.export import check_solve_exports, export_after_solve, parse_formats
from kanpde.errors import ConfigError
from kanpde.io.files import check_output_folder
from kanpde.pinn.hard_constraints import CONSTRAINT_MODES, Constraints
from kanpde.pinn.loss import DERIVATIVE_MODES, FORMS, Derivatives
from kanpde.solvers.checkpoint import CHECKPOINT, check_resumable

if TYPE_CHECKING:
    from kanpde.io.solution import Solution

__all__ = ["add_parser", "run", "with_formula", "identified"]

# hidden layers of --symbolic (a formula reads best from few edges); in/out come from the problem
SYMBOLIC_HIDDEN = (5,)


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    s.add_argument(
        "--derivatives",
        choices=DERIVATIVE_MODES,
        default=Derivatives.AUTO.value,
        help="one-pass derivatives where they apply (auto, default), always (jet), or nested autograd",
    )
    s.add_argument(
        "--constraints",
        choices=CONSTRAINT_MODES,
        help="Dirichlet conditions built into the surrogate (hard) or penalised (soft); default: the problem's recipe",
    )
    s.add_argument(
        "--form",
        choices=FORMS,
        help="the loss: squared residuals (strong) or the integral of the problem's energy (energy); "
        "default: the problem's recipe (energy where a coefficient jumps)",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="run folder for report.json, model.pt, model.json")
    s.add_argument("--quiet", action="store_true", help="no progress display")
    s.add_argument(
        "--resume",
        action="store_true",
        help="continue the run that was writing to --out (killed, say) from its checkpoint.pt, with the same flags",
    )
    s.add_argument(
        "--checkpoint-every",
        type=float,
        metavar="SECONDS",
        help="seconds between checkpoints in --out (default: a tenth of --budget, at least 10; 30 with --steps)",
    )
    s.add_argument(
        "--symbolic",
        action="store_true",
        help="KAN only: train with sparsity, prune and fix edges to symbols (default width d,5,out); "
        "writes the formula and its rel_l2 to report.json and formula.tex",
    )
    s.add_argument(
        "--export",
        action="append",
        metavar="FORMAT",
        help="also export DIR/solution.FORMAT: vtu, vti, xdmf or h5 (repeat or comma-separate)",
    )
    s.add_argument(
        "--no-plots", action="store_true", help="do not write solution.png, history.png and kan.png into --out"
    )


def run(args: argparse.Namespace) -> int:
    """Check every flag, train, then write the run folder (report.json, model.pt, model.json, exports, plots)."""
    from kanpde.pde.registry import instance
    from kanpde.solvers import default_model, make_network, network_inputs, solve, symbolic_recipe

    out = check_output_folder(args.out, "--out")
    if args.steps is not None and args.steps < 1:
        raise ConfigError(f"--steps must be an int >= 1 (optimizer iterations); got {args.steps}")
    if args.resume:
        check_resumable(out, "--resume")
    if args.checkpoint_every is not None and not args.checkpoint_every >= 0:
        raise ConfigError(f"--checkpoint-every must be a number of seconds >= 0; got {args.checkpoint_every:g}")
    if args.budget is not None and not args.budget > 0:
        raise ConfigError(f"--budget must be a number of seconds > 0; got {args.budget:g}")
    if args.symbolic and args.model != "kan":
        raise ConfigError("--symbolic reads a formula from a KAN's edges; use it with --model kan")
    problem = instance(args.problem)
    exports = parse_formats(args.export, "--export")
    check_solve_exports(problem, exports)
    constraints = args.constraints or (Constraints.SOFT if args.symbolic else None)
    form = args.form or ("strong" if args.symbolic else None)  # a formula is read from a penalised strong form
    if args.model != "kan":
        for flag in ("grid", "k"):
            if getattr(args, flag) is not None:
                raise ConfigError(f"--{flag} applies to --model kan only; drop it or use --model kan")
    if args.width:
        width = parse_width(args.width)
        fit = [network_inputs(problem, args.model, constraints, form), *width[1:-1], problem.out_dim]
        if width != fit:
            raise ConfigError(
                f"--width {args.width} does not fit {args.problem}: it needs {fit[0]} inputs and {fit[-1]} outputs "
                f"(with its constraints); use --width {','.join(map(str, fit))}"
            )
        net = make_network(args.model, width, grid=args.grid, k=args.k, seed=args.seed)
    else:
        hidden = SYMBOLIC_HIDDEN if args.symbolic else None
        net = default_model(
            problem,
            args.model,
            hidden=hidden,
            grid=args.grid,
            k=args.k,
            seed=args.seed,
            constraints=constraints,
            form=form,
        )
    schedule = symbolic_recipe(problem, net).schedule if args.symbolic else None
    sol = solve(
        problem,
        net,
        schedule=schedule,
        budget=args.budget,
        steps=args.steps,
        seed=args.seed,
        device=args.device,
        dtype=args.dtype,
        derivatives=args.derivatives,
        constraints=constraints,
        progress=False if args.quiet else None,
        checkpoint=out,
        checkpoint_every=args.checkpoint_every,
        resume=out if args.resume else None,
        form=form,
    )
    if args.symbolic:
        sol = with_formula(sol, out)
    sol.save(out)
    err = ", ".join(f"{k}={v:.3e}" for k, v in sol.errors.items()) or "no reference"
    steps, seconds, over = sol.info["steps"], sol.info["train_s"], sol.info.get("budget_overshoot_s")
    past = f", {over:.2g} s past the budget" if over else ""
    print(f"{args.problem}: {err}; {steps} steps in {seconds:.1f} s{past} ({sol.status}) -> {out / 'report.json'}")
    found = identified(sol)
    if found:
        print(f"identified: {found}")
    if args.symbolic:
        short = sol.info["formula_simplified"]
        shown = "; ".join(f"{k} = {v}" for k, v in short.items()) if isinstance(short, dict) else short
        if sol.info.get("formula_matches") is False:
            print(f"{sol.info['formula_verdict']}")
            print(f"closest formula, not an answer (rel_l2 {_fmt(sol.info['formula_rel_l2'])}): {shown}")
        else:
            print(f"formula (rel_l2 {_fmt(sol.info['formula_rel_l2'])}): {shown}")
            if sol.info.get("formula_verdict"):
                print(sol.info["formula_verdict"])
    written = export_after_solve(sol, out, exports, plots=not args.no_plots)
    if written:
        print("wrote " + ", ".join(p.name for p in written))
    (out / CHECKPOINT).unlink(missing_ok=True)  # the run folder is complete: nothing left to resume
    return 0


def with_formula(sol: Solution, out: Path) -> Solution:
    """The solution with its formula in ``info`` (for report.json), and ``out/formula.tex`` written.

    A scalar problem records ``formula`` (a sympy-parsable string), ``formula_rel_l2`` and the
    simplified form; a system records ``formula`` and ``formula_simplified`` as dicts component name ->
    string, the errors of all components together (``formula_rel_l2``) and of each
    (``formula_rel_l2_<name>``, ``formula_simplified_rel_l2_<name>``)."""
    import dataclasses

    from kanpde.interpret.formulas import read_formula
    from kanpde.io.files import atomic_write

    formula, short, seconds = read_formula(sol)
    names = sol.components
    system = len(names) > 1
    info = {
        **sol.info,
        "formula": {n: str(e) for n, e in zip(names, formula.exprs)} if system else str(formula.expr),
        "formula_rel_l2": formula.rel_l2,
        "formula_max_abs": formula.errors.get("max_abs"),
        **{f"formula_rel_l2_{n}": formula.errors.get(f"rel_l2_{n}") for n in names if system},
        "formula_simplified": {n: str(e) for n, e in zip(names, short.exprs)} if system else str(short.expr),
        "formula_simplified_rel_l2": short.rel_l2,
        **{f"formula_simplified_rel_l2_{n}": short.errors.get(f"rel_l2_{n}") for n in names if system},
        "formula_edges": [c.as_dict() for c in formula.edges],
        "formula_matches": formula.matches,
        "formula_exact": formula.exact,
        "formula_verdict": formula.evidence.get("verdict"),
        "formula_evidence": {k: v for k, v in formula.evidence.items() if k not in ("matches", "verdict")},
        "formula_s": seconds["formula_s"],
        "formula_simplify_s": seconds["simplify_s"],
    }
    variables = ", ".join(str(v) for v in formula.variables)
    lines = [
        f"% kanpde solve --symbolic: the trained KAN as a formula (6 significant digits), rel_l2 {_fmt(formula.rel_l2)}"
    ]
    if formula.matches is False:
        lines.insert(0, f"% NOT AN ANSWER: {formula.evidence['verdict']}")
    lines += [f"{n}({variables}) = {formula.component(j).latex()}" for j, n in enumerate(names)]
    lines.append(f"% simplified (constants within 1e-6 identified), rel_l2 {_fmt(short.rel_l2)}")
    lines += [f"{n}({variables}) = {short.component(j).latex()}" for j, n in enumerate(names)]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "formula.tex", lambda f: f.write("\n".join(lines) + "\n"))
    return dataclasses.replace(sol, info=info)


def identified(sol: Solution) -> str:
    """What an inverse problem identified, for the summary: ``c = 1.99871 (true 2, rel_err_c = 6.450e-04)``
    per scalar, ``a: a field (rel_l2_a = ..., max_abs_a = ...; array 'a' in the exports)`` per field;
    "" without unknowns."""
    exact = {} if sol.problem is None else {u.name: u.exact for u in sol.problem.unknowns}
    parts = []
    for name, value in sol.unknowns.items():
        if isinstance(value, float):
            truth = exact.get(name)
            about = [f"true {float(truth):g}"] if truth is not None else []
            if f"rel_err_{name}" in sol.errors:
                about.append(f"rel_err_{name} = {_fmt(sol.errors[f'rel_err_{name}'])}")
            parts.append(f"{name} = {value:.6g}" + (f" ({', '.join(about)})" if about else ""))
        else:
            keys = [f"{k}_{name}" for k in ("rel_l2", "max_abs") if f"{k}_{name}" in sol.errors]
            errs = "".join(f"{k} = {_fmt(sol.errors[k])}, " for k in keys)
            parts.append(f"{name}: a field ({errs}array {name!r} in the exports)")
    return "; ".join(parts)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3e}"
