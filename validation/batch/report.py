"""The batch validation report: ``report.md``, ``report.json``, ``report.csv`` and ``summary.png``.

All four say the same thing, one row per case in suite order: its settings, ``rel_l2`` against its
``tol``, the outcome (``pass``, ``fail``: above tol, ``diverged``: a non-finite loss, ``error``: an
exception, with its reason, or ``pending``: not run yet) and timings. A suite with systems adds the
errors of each component: columns ``rel_l2_<name>`` and ``max_abs_<name>`` in the CSV (empty for
scalar problems, whose ``rel_l2`` is their one component's, and for systems without that component), a
column of them in the table, and a dot per component in the chart. A suite with inverse problems adds
what each case identified: per unknown scalar ``unknown_<name>`` (its value) and ``rel_err_<name>``, per
unknown field ``rel_l2_<name>`` and ``max_abs_<name>`` (CSV columns after the components', empty for
cases without that unknown), ``tol_unknowns`` where a case sets it, a column ``unknowns`` in the table
(``c = 2.0003 (rel err 1.5e-04)``, ``a: rel L2 3.2e-03``), and a diamond per unknown's error in the chart.
Each file is written atomically, so a reader (or an interrupted run) never sees half of one.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kanpde.io.files import atomic_write, jsonable
from kanpde.validation.batch.suite import Suite

__all__ = ["write_reports", "report_rows", "csv_columns", "CSV_COLUMNS"]

CSV_COLUMNS = (
    "id",
    "problem",
    "model",
    "hidden",
    "grid",
    "seed",
    "budget_s",
    "max_steps",
    "dtype",
    "tol",
    "rel_l2",
    "max_abs",
    "passed",
    "outcome",
    "steps",
    "train_s",
    "wall_s",
    "reason",
)


def report_rows(suite: Suite, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per case (the CSV columns), pending where there is no result yet."""
    rows = []
    for case in suite.cases:
        r = results.get(case.id, {})
        rows.append(
            {
                "id": case.id,
                "problem": case.problem,
                "model": case.model,
                "hidden": list(case.hidden),
                "grid": case.grid,
                "seed": case.seed,
                "budget_s": case.budget,
                "max_steps": case.steps,
                "dtype": case.dtype,
                "tol": case.tol,
                "rel_l2": r.get("rel_l2"),
                "max_abs": r.get("max_abs"),
                "components": r.get("components"),
                **_component_errors(r),
                "unknowns": r.get("unknowns"),
                **_unknown_columns(r),
                **({"tol_unknowns": case.tol_unknowns} if case.tol_unknowns is not None else {}),
                "passed": bool(r.get("passed", False)),
                "outcome": r.get("outcome", "pending"),
                "steps": r.get("steps"),
                "train_s": r.get("train_s"),
                "wall_s": r.get("wall_s"),
                "reason": r.get("reason", "not run yet"),
            }
        )
    return rows


def _component_errors(result: Mapping[str, Any]) -> dict[str, Any]:
    """``rel_l2_<name>``, ``max_abs_<name>`` of a system's result, in the order of its components."""
    names = result.get("components") or []
    return {f"{k}_{n}": result.get(f"{k}_{n}") for n in names for k in ("rel_l2", "max_abs") if f"{k}_{n}" in result}


def _unknown_columns(result: Mapping[str, Any]) -> dict[str, Any]:
    """An inverse problem's columns, in the order of its unknowns: ``unknown_<name>`` (the identified value)
    and ``rel_err_<name>`` for a scalar, ``rel_l2_<name>`` and ``max_abs_<name>`` for a field."""
    out: dict[str, Any] = {}
    for name, value in (result.get("unknowns") or {}).items():
        if value == "field":
            out |= {f"{k}_{name}": result.get(f"{k}_{name}") for k in ("rel_l2", "max_abs")}
        else:
            out |= {f"unknown_{name}": value, f"rel_err_{name}": result.get(f"rel_err_{name}")}
    return out


def csv_columns(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """``CSV_COLUMNS`` with the per-component error columns of the suite's systems after ``max_abs``, then
    the columns of the unknowns of its inverse problems (each first seen first), and ``tol_unknowns``
    after ``tol`` where a case sets it; a suite of scalar problems has none of them."""
    extra: list[str] = []
    unknown: list[str] = []
    for row in rows:
        own = list(_unknown_columns(row))
        extra += [k for k in row if k.startswith(("rel_l2_", "max_abs_")) and k not in own and k not in extra]
        unknown += [k for k in own if k not in unknown]
    at = CSV_COLUMNS.index("max_abs") + 1
    columns = CSV_COLUMNS[:at] + tuple(extra) + tuple(unknown) + CSV_COLUMNS[at:]
    if any(row.get("tol_unknowns") is not None for row in rows):
        at = columns.index("tol") + 1
        columns = columns[:at] + ("tol_unknowns",) + columns[at:]
    return columns


def write_reports(
    suite: Suite, results: Mapping[str, Mapping[str, Any]], folder: Path, *, chart: bool = True
) -> list[Path]:
    """(Re)write the four report files in ``folder`` from the results so far."""
    rows = report_rows(suite, results)
    counts = {k: sum(r["outcome"] == k for r in rows) for k in ("pass", "fail", "diverged", "error", "pending")}
    summary = {
        "suite": suite.name,
        "source": suite.source,
        "cases": len(rows),
        **counts,
        "all_passed": counts["pass"] == len(rows),
    }
    document = {"summary": summary, "cases": [{**row, "result": results.get(row["id"])} for row in rows]}
    paths = [folder / "report.json", folder / "report.csv", folder / "report.md"]
    atomic_write(paths[0], lambda f: json.dump(jsonable(document), f, indent=1))
    atomic_write(paths[1], lambda f: f.write(_csv(rows)))
    atomic_write(paths[2], lambda f: f.write(_markdown(summary, rows, chart)))
    if chart:
        from kanpde.io.plots import save_figure

        paths.append(save_figure(summary_chart(rows, suite.name), folder / "summary.png"))
    return paths


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = csv_columns(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "x".join(map(str, value))
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return value


def _markdown(summary: Mapping[str, Any], rows: list[dict[str, Any]], chart: bool) -> str:
    def num(v: Any, fmt: str = ".3e") -> str:
        return "" if v is None else format(v, fmt)

    lines = [
        f"# Validation: {summary['suite']}",
        "",
        f"{summary['pass']} of {summary['cases']} cases passed ({summary['fail']} above tolerance, {summary['diverged']} diverged, "
        f"{summary['error']} errors, {summary['pending']} pending). Suite: `{summary['source']}`.",
        "",
    ]
    if chart:
        lines += ["![relative L2 per case against its tolerance](summary.png)", ""]
    systems = any(_per_component(r) for r in rows)  # a column of per-component errors only where there are some
    inverse = any(r.get("unknowns") for r in rows)  # and of the identified unknowns only where there are some
    lines += [
        "| case | problem | model | width | seed | budget | rel L2 | "
        + ("rel L2 per component | " if systems else "")
        + ("unknowns | " if inverse else "")
        + "tol | outcome | steps | wall s | reason |",
        "| --- " * (12 + systems + inverse) + "|",
    ]
    for r in rows:
        budget = " / ".join(
            b
            for b in (
                f"{r['budget_s']:g} s" if r["budget_s"] is not None else "",
                f"{r['max_steps']} steps" if r["max_steps"] is not None else "",
            )
            if b
        )
        width = "x".join(map(str, r["hidden"])) + (f", G={r['grid']}" if r["grid"] is not None else "")
        outcome = "**PASS**" if r["passed"] else r["outcome"].upper()
        reason = str(r["reason"]).replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| [{r['id']}](cases/{r['id']}/) | {r['problem']} | {r['model']} | {width} | {r['seed']} | {budget} | "
            f"{num(r['rel_l2'])} | "
            + (f"{_per_component(r)} | " if systems else "")
            + (f"{_identified(r)} | " if inverse else "")
            + f"{r['tol']:g}{_tol_unknowns(r)} | {outcome} | "
            f"{num(r['steps'], 'd')} | {num(r['wall_s'], '.1f')} | {reason} |"
        )
    return "\n".join(lines) + "\n"


def _tol_unknowns(row: Mapping[str, Any]) -> str:
    """`` (unknowns 0.01)`` after a row's tol where its case sets tol_unknowns, else ""."""
    tol = row.get("tol_unknowns")
    return "" if tol is None else f" (unknowns {tol:g})"


def _per_component(row: Mapping[str, Any]) -> str:
    """``u 1.2e-03, v 3.4e-03, p 5.0e-02``: a row's relative L2 error per component ("" for a scalar)."""
    return ", ".join(f"{name} {v:.1e}" for name, v in _component_values(row))


def _component_values(row: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(name, rel_l2_<name>) of a row's components that have one (a system's)."""
    names = row.get("components") or []
    return [(n, row[f"rel_l2_{n}"]) for n in names if row.get(f"rel_l2_{n}") is not None]


def _unknown_values(row: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(name, error) of a row's identified unknowns that have one: a scalar's ``rel_err``, a field's ``rel_l2``."""
    out = []
    for name, value in (row.get("unknowns") or {}).items():
        err = row.get(f"rel_l2_{name}" if value == "field" else f"rel_err_{name}")
        if err is not None:
            out.append((name, err))
    return out


def _identified(row: Mapping[str, Any]) -> str:
    """``c = 2.0003 (rel err 1.5e-04); a: rel L2 3.2e-03``: what a row's case identified ("" for none)."""
    parts = []
    for name, value in (row.get("unknowns") or {}).items():
        if value == "field":
            rel = row.get(f"rel_l2_{name}")
            parts.append(f"{name}: " + ("field" if rel is None else f"rel L2 {rel:.1e}"))
        else:
            rel = row.get(f"rel_err_{name}")
            parts.append(f"{name} = {value:.5g}" + ("" if rel is None else f" (rel err {rel:.1e})"))
    return "; ".join(parts)


def summary_chart(rows: list[dict[str, Any]], title: str) -> Any:
    """rel L2 per case (log scale) as bars, each case's tolerance as a black tick; green passed, red
    failed, grey pending; a case without an error value is an x at the top; a system's components as
    labelled dots on its bar, an inverse problem's unknowns (their relative errors) as labelled diamonds."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.0, 0.45 * len(rows) + 2), 4.5), layout="constrained")
    ax = fig.add_subplot()
    x = range(len(rows))
    values = [r["rel_l2"] if r["rel_l2"] is not None and r["rel_l2"] > 0 else None for r in rows]
    parts = [[(name, v) for name, v in _component_values(r) if v > 0] for r in rows]
    found = [[(name, v) for name, v in _unknown_values(r) if v > 0] for r in rows]
    known = [v for v in values if v is not None] + [r["tol"] for r in rows]
    known += [v for p in parts + found for _, v in p]
    top, bottom = max(known) * 10, min(known) / 10
    colours = {"pass": "tab:green", "pending": "0.7"}
    ax.bar(
        [i for i in x if values[i] is not None],
        [v - bottom for v in values if v is not None],
        bottom=bottom,
        color=[colours.get(rows[i]["outcome"], "tab:red") for i in x if values[i] is not None],
    )
    ax.scatter(
        [i for i in x if values[i] is None],
        [top / 2] * sum(v is None for v in values),
        marker="x",
        color=[colours.get(rows[i]["outcome"], "tab:red") for i in x if values[i] is None],
        zorder=3,
    )
    ax.scatter(list(x), [r["tol"] for r in rows], marker="_", s=400, color="black", zorder=3, label="tolerance")
    dots = [(i, name, v) for i in x for name, v in parts[i]]
    if dots:
        ax.scatter(
            [i for i, _, _ in dots], [v for _, _, v in dots], marker="o", s=12, color="0.2", zorder=4, label="component"
        )
        for i, name, v in dots:
            ax.annotate(name, (i, v), xytext=(4, 0), textcoords="offset points", fontsize=6, va="center")
    diamonds = [(i, name, v) for i in x for name, v in found[i]]
    if diamonds:
        ax.scatter(
            [i for i, _, _ in diamonds],
            [v for _, _, v in diamonds],
            marker="D",
            s=16,
            color="tab:blue",
            zorder=4,
            label="unknown (relative error)",
        )
        for i, name, v in diamonds:
            ax.annotate(name, (i, v), xytext=(4, 0), textcoords="offset points", fontsize=6, va="center")
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    ax.set_xticks(list(x), [r["id"] for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("relative L2 error")
    ax.set_title(f"{title}: {sum(r['passed'] for r in rows)} of {len(rows)} passed")
    ax.legend(loc="upper left", fontsize=8)
    return fig
