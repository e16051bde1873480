"""The ``kanpde`` command line: ``kanpde solve PROBLEM ... --out DIR``, ``kanpde validate``, ``kanpde export``, ``kanpde list`` and ``kanpde bench``.

Bad input ends with one line on stderr that names the flag, the value and the fix, exit status 2, and
nothing written to ``--out``: every check runs before training, and the run folder is written only
after training, file by file, each atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from kanpde.cli import bench, export, list_problems, solve, validate
from kanpde.errors import KanpdeError

__all__ = ["main", "build_parser"]

logger = logging.getLogger("kanpde")

SUBCOMMANDS = {"solve": solve, "list": list_problems, "validate": validate, "export": export, "bench": bench}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kanpde", description="Physics-informed PDE solving with KANs and MLPs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not logger.handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s kanpde: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
        )
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line  # one log line, not Python's file:line and source echo
            return SUBCOMMANDS[args.command].run(args)
    except KanpdeError as err:
        print(f"kanpde {args.command}: error: {err}", file=sys.stderr)
        return 2


def _warning_line(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    logger.warning("%s: %s", category.__name__, message)


if __name__ == "__main__":
    sys.exit(main())
