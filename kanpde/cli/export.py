"""``kanpde export DIR --format ...``, and the exports and plots of ``kanpde solve ... --export``.

Every check runs before anything is written (for ``solve``, before training), and a failed check is a
``ConfigError`` that names the flag, the value and the fix.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kanpde.errors import ConfigError, KanpdeError, ShapeError

if TYPE_CHECKING:
    from kanpde.io.solution import Solution
    from kanpde.pde.problem import Problem

__all__ = ["add_parser", "run", "parse_formats", "check_solve_exports", "export_after_solve"]

NAMES = ("vtu", "vti", "xdmf", "h5")
STEM = "solution"


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="export a saved run to .vtu, .vti, .xdmf (+ .h5) or .h5 for ParaView")
    e.add_argument("run", metavar="DIR", help="a run folder written by `kanpde solve --out DIR`")
    e.add_argument("--format", required=True, metavar="FORMAT", help="vtu, vti, xdmf or h5 (several: comma-separated)")
    e.add_argument(
        "--resolution",
        type=int,
        metavar="N",
        help="N points per axis of a uniform grid (default: the problem's evaluation grid)",
    )
    e.add_argument(
        "--mesh", metavar="FILE", help="evaluate at the nodes of this mesh (.msh, .vtu, ... read with meshio)"
    )
    e.add_argument("--out", metavar="PATH", help="the file to write, or a folder (default: DIR/solution.FORMAT)")


def parse_formats(values: list[str] | str | None, flag: str) -> list[str]:
    """``["vtu,h5", "xdmf"]`` -> ``[".vtu", ".h5", ".xdmf"]`` (order kept, duplicates dropped)."""
    if values is None:
        return []
    found: list[str] = []
    for value in [values] if isinstance(values, str) else values:
        for item in value.split(","):
            name = item.strip().lower().lstrip(".")
            if name not in NAMES:
                raise ConfigError(
                    f"{flag} must be one of {', '.join(NAMES)} (several: comma-separated); got {item.strip()!r}"
                )
            if f".{name}" not in found:
                found.append(f".{name}")
    if ".xdmf" in found and ".h5" in found:
        found.remove(".h5")  # the .xdmf export writes solution.h5 itself, in the same layout
    return found


def check_solve_exports(problem: Problem, suffixes: list[str]) -> None:
    """Before training: every ``--export`` format fits the problem's evaluation grid (off a box: the mesh of
    its shape, or for ``vti`` the grid of its bounding box), and the arrays exports and plots write have
    distinct names (a system's components and vectors, an inverse problem's unknown fields)."""
    from kanpde.io.fields import check_names
    from kanpde.io.layouts import check_points

    check_names(problem.components, problem.vectors, [u.name for u in problem.unknowns if u.kind == "field"])
    for suffix in suffixes:
        try:
            check_points(problem.domain, suffix, problem=problem)
        except ConfigError as err:
            raise ConfigError(f"--export {suffix[1:]}: {err}") from None


def export_after_solve(sol: Solution, out: Path, suffixes: list[str], plots: bool) -> list[Path]:
    """The exports and plots ``solve`` writes into its run folder after saving."""
    from kanpde.io.export import sample_formats, write

    data = sample_formats(sol, suffixes)  # once per layout, not once per format
    written = [p for suffix in suffixes for p in write(data[suffix], out / f"{STEM}{suffix}")]
    if plots:
        from kanpde.io.plots import plot_solution_report

        written += plot_solution_report(sol, out)
    return written


def run(args: argparse.Namespace) -> int:
    """``kanpde export DIR --format ...``: load the run, check every flag, then write."""
    from kanpde.io.export import FORMATS, check_export, sample_formats, write
    from kanpde.io.solution import load

    suffixes = parse_formats(args.format, "--format")
    if args.resolution is not None and args.resolution < 2:
        raise ConfigError(
            f"--resolution must be an int >= 2 (points per axis, boundary included); got {args.resolution}"
        )
    if args.mesh is not None:
        if args.resolution is not None:
            raise ConfigError("--mesh replaces the grid that --resolution sets; pass one of them")
        if not Path(args.mesh).is_file():
            raise ConfigError(
                f"--mesh {args.mesh!r} does not exist; pass a mesh file meshio reads (.msh, .vtu, .xdmf, ...)"
            )
    run = Path(args.run)
    targets = [run / f"{STEM}{s}" for s in suffixes]
    if args.out is not None:
        out = Path(args.out)
        if out.suffix.lower() in FORMATS:
            if len(suffixes) != 1 or out.suffix.lower() != suffixes[0]:
                raise ConfigError(
                    f"--out {args.out!r} is a {out.suffix} file but --format asks for {', '.join(s[1:] for s in suffixes)}; "
                    "give --out the suffix of the one format, or a folder"
                )
            targets = [out]
        elif out.exists() and not out.is_dir():
            raise ConfigError(
                f"--out {args.out!r} is a file without an export suffix; end it in {', '.join(FORMATS)} or pass a folder"
            )
        else:
            targets = [out / f"{STEM}{s}" for s in suffixes]
    sol = load(run)
    for target in targets:  # all checks first, so bad input writes nothing
        try:
            check_export(sol, target, resolution=args.resolution, mesh=args.mesh)
        except KanpdeError as err:
            about_mesh = isinstance(err, ShapeError) or str(err).startswith("mesh file")
            flag = f"--mesh {args.mesh}" if args.mesh and about_mesh else f"--format {target.suffix[1:]}"
            raise type(err)(f"{flag}: {err}") from None
    data = sample_formats(sol, [t.suffix.lower() for t in targets], resolution=args.resolution, mesh=args.mesh)
    written = [p for target in targets for p in write(data[target.suffix.lower()], target)]
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
