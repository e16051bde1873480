"""``kanpde validate [SUITE] --out DIR``: a batch of cases, each judged against its reference.

SUITE is a TOML file or the name of a shipped suite (``kanpde validate gallery``); without it, the default
suite. A case may name a problem class of one's own as ``"package.module:Class"``; modules in the current
folder are importable (the folder is searched after the installed packages).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="run a validation suite (problems x surrogates x seeds) and write a report")
    v.add_argument(
        "suite",
        nargs="?",
        metavar="SUITE",
        help="a suite file (.toml), or the name of a shipped suite such as 'gallery' "
        "(default: the shipped default suite, every built-in problem with KAN and MLP)",
    )
    v.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for report.{md,json,csv}, summary.png and cases/<id>/; rerun to resume",
    )
    v.add_argument(
        "--workers", type=int, metavar="N", help="parallel processes (default: one per core, or one per GPU)"
    )
    where = v.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the cases on this Dask scheduler (tcp://host:8786); needs kanpde[cluster]",
    )
    where.add_argument(
        "--dask", action="store_true", help="run the cases on a local Dask cluster of --workers processes"
    )
    v.add_argument("--no-plots", action="store_true", help="skip the per-case plots and summary.png")


def run(args: argparse.Namespace) -> int:
    """Exit status 0 when every case passed, 1 when one did not, 2 on bad input (nothing written)."""
    from kanpde.validation.batch.runner import run_suite
    from kanpde.validation.batch.suite import load_suite

    saved = list(sys.path)
    # "mymodule:MyProblem" from the current folder; last, so that no file there shadows an installed module.
    # Spawned local workers inherit sys.path.
    sys.path.append(os.getcwd())
    try:
        suite = load_suite(args.suite)
        scheduler = args.scheduler or ("local" if args.dask else None)
        results = run_suite(suite, args.out, workers=args.workers, scheduler=scheduler, plots=not args.no_plots)
    finally:
        sys.path[:] = saved
    passed = sum(r["passed"] for r in results)
    print(f"{suite.name}: {passed} of {len(results)} cases passed -> {Path(args.out) / 'report.md'}")
    return 0 if passed == len(results) else 1
