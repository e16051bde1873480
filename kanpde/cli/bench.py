"""``kanpde bench step | memory | accuracy | symbolic``: benchmarks, side by side in one process."""

from __future__ import annotations

import argparse

from kanpde.cli.args import parse_width
from kanpde.errors import ConfigError

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "bench",
        help="benchmarks: ms per training step side by side, peak step memory, time to accuracy, symbolic formulas",
    )
    bsub = b.add_subparsers(dest="bench", required=True, metavar="BENCH")
    st = bsub.add_parser("step", help="ms per poisson_sin training step: KAN one-pass, KAN autograd, MLP, pykan")
    st.add_argument("--width", help="a KAN width such as 2,32,32,1 (default: 2,10,1 and 2,32,32,1)")
    st.add_argument("--grid", type=int, default=10, help="KAN grid intervals (default: 10)")
    st.add_argument("--points", type=int, default=4096, help="interior points (default: 4096; boundary: points/8)")
    st.add_argument("--dtype", choices=("float32", "float64"), help="default: both")
    st.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    st.add_argument(
        "--impl", help="comma-separated subset of kan,kan-composed,kan-autograd,kan-compiled,mlp,mlp-autograd,pykan"
    )
    st.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default: 5)")
    st.add_argument("--json", action="store_true", help="print the rows as JSON")
    me = bsub.add_parser(
        "memory", help="peak memory of a poisson_sin training step, KAN vs MLP, at several point counts"
    )
    me.add_argument("--width", default="2,32,32,1", help="the KAN width (default: 2,32,32,1)")
    me.add_argument("--grid", type=int, default=10, help="KAN grid intervals (default: 10)")
    me.add_argument(
        "--points", default="4096,16384,65536", help="comma-separated interior point counts (default: 4096,16384,65536)"
    )
    me.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    me.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    me.add_argument(
        "--impl",
        default="kan,mlp",
        help="comma-separated subset of kan,kan-autograd,mlp,mlp-autograd (default: kan,mlp)",
    )
    me.add_argument("--json", action="store_true", help="print the rows as JSON")
    ac = bsub.add_parser("accuracy", help="seconds to reach relative L2 1e-2, 1e-3, 1e-4 on poisson_kan, KAN vs MLP")
    ac.add_argument("--budget", type=float, default=300.0, help="training seconds per model (default: 300)")
    ac.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ac.add_argument("--json", action="store_true", help="print the rows as JSON")
    sy = bsub.add_parser(
        "symbolic",
        help="formulas read from a KAN [2,5,1] (solve --symbolic) on poisson_sin and poisson_kan, with step times",
    )
    sy.add_argument("--budget", type=float, default=60.0, help="training seconds per case (default: 60)")
    sy.add_argument("--seed", type=int, default=0, help="seed of the weights and points (default: 0)")
    sy.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    sy.add_argument("--json", action="store_true", help="print the rows as JSON")


def run(args: argparse.Namespace) -> int:
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
        rows = bench.step_memory(
            impls=args.impl.split(","),
            points=counts,
            width=parse_width(args.width),
            grid=args.grid,
            dtype=args.dtype,
            device=args.device,
        )
        print(json.dumps(bench.rows_as_dicts(rows), indent=1) if args.json else bench.format_memory(rows))
        return 0
    if args.points < 8 or args.grid < 1 or args.rounds < 1:
        raise ConfigError(
            f"--points must be >= 8, --grid and --rounds >= 1; got {args.points}, {args.grid}, {args.rounds}"
        )
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
