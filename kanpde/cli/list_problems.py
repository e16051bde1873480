"""``kanpde list``: the built-in problems, one line each."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("list", help="list the built-in problems")


def run(args: argparse.Namespace) -> int:
    from kanpde.pde.registry import instances

    items = instances()
    width = max(len(n) for n in items)
    for name, summary in items.items():
        print(f"{name:<{width}}  {summary}")
    return 0
