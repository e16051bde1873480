"""Plots of a solution, written as PNG files: maps of the field, the reference and the error (one row per
component for a system, and one per coefficient field an inverse problem identified); the training
history; the history of identified scalars (inverse problems); a KAN's learned edge functions.

Figures are built with ``matplotlib.figure.Figure`` and saved through its own Agg canvas, so nothing here
needs a display or touches pyplot's global state (the caller's backend and open figures are left
alone). matplotlib is imported on first use. ``solve`` and ``validate`` call :func:`plot_solution_report`
on their output folder::

    from kanpde.io.plots import plot_solution_report
    plot_solution_report(sol, "runs/poisson")   # -> solution.png, history.png, kan.png (KAN only)
                                                # and unknowns.png (an inverse problem's scalars)
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from kanpde.geometry.box import Box
from kanpde.io.export import Sampled, evaluation_grid, export_domain, sample, unknown_fields
from kanpde.io.fields import ComponentArrays, component_arrays, unknown_arrays
from kanpde.io.files import atomic_write
from kanpde.io.solution import Solution

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_solution_report", "plot_solution", "plot_history", "plot_unknowns", "plot_kan", "save_figure"]

EVENT_STYLES = {  # history event -> (colour, line style, label)
    "phase_end": ("0.55", "--", "phase end"),
    "refine": ("tab:red", ":", "refine"),
    "update_grid": ("tab:green", ":", "grid update"),
    "resample": ("tab:purple", "-.", "resample"),
}


def plot_solution_report(
    sol: Solution, folder: str | os.PathLike[str], *, resolution: int | Sequence[int] | None = None
) -> list[Path]:
    """Write ``solution.png``, ``history.png`` (when there is a history), ``unknowns.png`` (when the history
    has identified scalars) and ``kan.png`` (a KAN) into ``folder``.

    Returns the files written (each atomically: a temporary name, then a rename).
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = [save_figure(plot_solution(sol, resolution=resolution), out / "solution.png")]
    history = plot_history(sol)
    if history is not None:
        written.append(save_figure(history, out / "history.png"))
    unknowns = plot_unknowns(sol)
    if unknowns is not None:
        written.append(save_figure(unknowns, out / "unknowns.png"))
    kan = plot_kan(sol)
    if kan is not None:
        written.append(save_figure(kan, out / "kan.png"))
    return written


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Render ``fig`` to PNG and write it atomically; returns the path."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    target = Path(path)
    atomic_write(target, lambda f: f.write(buffer.getvalue()), binary=True)
    return target


# --- solution, reference, error ----------------------------------------------------------------------------
def plot_solution(sol: Solution, *, resolution: int | Sequence[int] | None = None) -> Figure:
    """Maps of u, the reference and |u - reference| on the evaluation grid (a line plot in 1-D); a system
    gets one row per component (its map, its reference and its error, each pair on one colour scale), and
    an inverse problem one more row per identified coefficient field (it, the true field and the error,
    where the problem declares the truth; panels without data are left blank).

    A time-dependent problem in one space dimension gives space-time maps (x across, t up); with more
    axes the maps are slices through the first two (at the final time, and the middle of other axes).
    Off a box the maps cover its bounding box and are blank (NaN) outside the domain: a disk is drawn as
    a disk, and a disk in time as a disk at the final time.
    """
    data = sample(sol, resolution=resolution, residual=False, masked=True)
    grid = data.grid
    rows = component_arrays(data.metadata.get("components") or ["u"])
    system = len(rows) > 1
    found = unknown_arrays(unknown_fields(sol))
    rows += found
    kinds = ["value", "reference", "error"] if any(r.reference in data.fields for r in rows) else ["value"]
    fig = _figure()
    title = _title(data)
    if grid.dim == 1:
        _line_plots(fig, data, rows, system, found)
    else:
        index, where = _slice(data)
        axes = fig.subplots(len(rows), len(kinds), squeeze=False)
        fig.set_size_inches(4.2 * len(kinds), 3.6 * len(rows))
        x, y = grid.axes[0], grid.axes[1]
        for r, arrays in enumerate(rows):
            limits = _limits([data.fields[n][:, 0] for n in (arrays.value, arrays.reference) if n in data.fields])
            for j, kind in enumerate(kinds):  # one colour scale for u and reference
                if getattr(arrays, kind) not in data.fields:  # an unknown field without its truth, or u
                    axes[r][j].set_axis_off()
                    continue
                values = data.fields[getattr(arrays, kind)][:, 0].reshape(grid.shape)[index]
                error = kind == "error"
                label = _label(arrays, kind, system or arrays in found, data.metadata["errors"], arrays in found)
                _map(
                    fig,
                    axes[r][j],
                    np.abs(values) if error else values,
                    x,
                    y,
                    data.axes[:2],
                    label,
                    None if error else limits,
                )
        title += where
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _label(
    arrays: ComponentArrays,
    kind: str,
    system: bool,
    errors: dict[str, float] | None = None,
    unknown: bool = False,
) -> str:
    """A panel's title: ``u``, ``reference``, ``|u - reference|``; for a system ``v``, ``v: reference``,
    ``|v - reference|`` with the component's relative L2 error when ``errors`` has it; for an identified
    unknown field ``a (identified)``, ``a: exact``, ``|a - exact|`` with its relative L2 error."""
    name = arrays.component
    truth = "exact" if unknown else "reference"
    if kind == "error":
        rel = (errors or {}).get(f"rel_l2_{name}") if system else None
        return f"|{name} - {truth}|" + (f", rel L2 {rel:.2e}" if rel is not None else "")
    if kind == "reference":
        return f"{name}: {truth}" if system else truth
    return f"{name} (identified)" if unknown else name


def _limits(values: list[np.ndarray]) -> tuple[float, float] | None:
    """The smallest and largest finite value of several arrays (NaN marks points outside the domain);
    None when none is finite."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    return (float(finite.min()), float(finite.max())) if finite.size else None


def _slice(data: Sampled) -> tuple[tuple[Any, ...], str]:
    """Index of the 2-D slice through the first two axes, and its description for the title."""
    index: list[Any] = [slice(None), slice(None)]
    parts = []
    for k, (name, axis) in enumerate(zip(data.axes[2:], data.grid.axes[2:]), start=2):
        i = axis.size - 1 if data.time_dependent and k == len(data.axes) - 1 else axis.size // 2
        index.append(i)
        parts.append(f"{name} = {axis[i]:.3g}")
    return tuple(index), f" ({', '.join(parts)})" if parts else ""


def _map(
    fig: Figure,
    ax: Axes,
    values: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    title: str,
    limits: tuple[float, float] | None,
) -> None:
    """values: (nx, ny) on the grid x (nx,), y (ny,), drawn with x across and y up; limits: colour range."""
    vmin, vmax = limits if limits is not None else (None, None)
    cmap = "magma" if title.startswith("|") else "viridis"
    image = ax.imshow(
        values.T,
        origin="lower",
        extent=(x[0], x[-1], y[0], y[-1]),
        aspect="auto",
        cmap=cmap,
        interpolation="nearest",
        vmin=vmin,
        vmax=vmax,
    )
    fig.colorbar(image, ax=ax, format="%.2e" if title.startswith("|") else None)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title, fontsize=10)


def _line_plots(
    fig: Figure, data: Sampled, rows: list[ComponentArrays], system: bool, unknown: list[ComponentArrays]
) -> None:
    """One row per component (and identified unknown field): the field and its reference (left), |error|
    on a log scale (right)."""
    axes = fig.subplots(len(rows), 2, squeeze=False)
    fig.set_size_inches(9, 3.6 * len(rows))
    x = data.grid.axes[0]
    errors = data.metadata["errors"]
    for (left, right), arrays in zip(axes, rows):
        found = arrays in unknown
        for kind in ("value", "reference"):
            name = getattr(arrays, kind)
            if name in data.fields:
                label = _label(arrays, kind, system or found, errors, found)
                left.plot(x, data.fields[name], "--" if kind == "reference" else "-", label=label)
        left.set_xlabel(data.axes[0])
        left.legend()
        if arrays.error in data.fields:
            right.semilogy(x, np.maximum(np.abs(data.fields[arrays.error]), 1e-300))
            right.set_title(_label(arrays, "error", system or found, errors, found), fontsize=10)
        right.set_xlabel(data.axes[0])


def _title(data: Sampled) -> str:
    meta = data.metadata
    shown = {k: v for k, v in meta["errors"].items() if k in ("rel_l2", "max_abs") and v is not None}
    errors = ", ".join(f"{k} = {v:.2e}" for k, v in shown.items())  # a system's per-component ones: in the panels
    kind = meta["surrogate"]["net"]["kind"].upper()
    return f"{meta['problem']}: {kind} {meta['surrogate']['net']['width']}" + (f"; {errors}" if errors else "")


# --- history ---------------------------------------------------------------------------------------------
def plot_history(sol: Solution) -> Figure | None:
    """Loss and relative L2 error against optimizer steps, with phase ends, refinements, grid updates and
    resamplings marked by vertical lines. None when the solution has no history."""
    entries = [h for h in sol.history if "loss" in h and h["loss"] is not None]
    if not entries:
        return None
    errs = [h for h in sol.history if h.get("rel_l2") is not None]
    fig = _figure()
    axes = fig.subplots(2 if errs else 1, 1, sharex=True, squeeze=False)[:, 0]
    fig.set_size_inches(8, 5.5 if errs else 3.5)
    axes[0].semilogy([h["step"] for h in entries], [h["loss"] for h in entries], color="tab:blue", lw=1)
    axes[0].set_ylabel("loss")
    if errs:
        axes[1].semilogy([h["step"] for h in errs], [h["rel_l2"] for h in errs], "o-", color="tab:orange", ms=3, lw=1)
        axes[1].set_ylabel("relative L2 error")
    axes[-1].set_xlabel("optimizer step")
    if _mark_events(axes, sol.history):
        axes[0].legend(fontsize=8, loc="upper right")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(f"training history: {sol.status}", fontsize=10)
    fig.tight_layout()
    return fig


def _mark_events(axes: Sequence[Axes], history: Sequence[dict[str, Any]]) -> set[str]:
    """Vertical lines at the history's phase ends, refinements, grid updates and resamplings on every
    panel (labelled once, refinements with their grid on the first); returns the kinds drawn."""
    seen: set[str] = set()
    for event in (h for h in history if h.get("event") in EVENT_STYLES):
        colour, style, label = EVENT_STYLES[event["event"]]
        for ax in axes:
            ax.axvline(event["step"], color=colour, ls=style, lw=1, label=None if event["event"] in seen else label)
        seen.add(event["event"])
        if event["event"] == "refine" and event.get("grid") is not None:
            axes[0].annotate(
                f"G={event['grid']}",
                (event["step"], 1.0),
                xycoords=("data", "axes fraction"),
                fontsize=7,
                color=colour,
                ha="left",
                va="top",
                rotation=90,
            )
    return seen


def plot_unknowns(sol: Solution) -> Figure | None:
    """An inverse problem's identified scalars against optimizer steps, one panel each, with the true
    value as a dashed line where the problem declares it (``kanpde.Unknown(..., exact=)``) and the
    history's events marked as in :func:`plot_history`. None when the history records no scalars."""
    entries = [h for h in sol.history if isinstance(h.get("unknowns"), dict) and h["unknowns"]]
    names = list(dict.fromkeys(n for h in entries for n in h["unknowns"]))
    if not names:
        return None
    declared = {} if sol.problem is None else {u.name: u.exact for u in sol.problem.unknowns}
    final = sol.unknowns
    fig = _figure()
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    fig.set_size_inches(8, 1.2 + 2.4 * len(names))
    for ax, name in zip(axes, names):
        steps = [h["step"] for h in entries if name in h["unknowns"]]
        ax.plot(steps, [h["unknowns"][name] for h in entries if name in h["unknowns"]], color="tab:blue", lw=1.2)
        ax.set_ylabel(name)
        about = f"{name} = {final[name]:.6g}" if isinstance(final.get(name), float) else name
        exact = declared.get(name)
        if exact is not None:
            ax.axhline(float(exact), color="black", ls="--", lw=1, label=f"true {name} = {float(exact):g}")
            rel = sol.errors.get(f"rel_err_{name}")
            about += f" (true {float(exact):g}" + (f", rel err {rel:.2e})" if rel is not None else ")")
        ax.set_title(about, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    _mark_events(axes, sol.history)
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
    axes[-1].set_xlabel("optimizer step")
    fig.suptitle("identified scalars during training", fontsize=10)
    fig.tight_layout()
    return fig


# --- a KAN's edge functions --------------------------------------------------------------------------------
def plot_kan(sol: Solution, *, points: int = 200) -> Figure | None:
    """The learned edge functions phi_oi(x) = w_oi silu(x) + spline_oi(x) of every KAN layer: one panel per
    (layer, input), one curve per output, over the range the layer's inputs take on the evaluation grid
    (grid knots marked; off a box, at the grid nodes in the domain). None for an MLP. (With hard constraints
    the field is a transform of the KAN's output.)
    """
    from kanpde.nets.kan import KAN

    net = sol.model.net
    if not isinstance(net, KAN):
        return None
    p = next(net.parameters())
    nodes = evaluation_grid(sol).points()
    domain = export_domain(sol)
    if not isinstance(domain, Box):
        nodes = nodes[domain.contains(nodes)]
    x = torch.as_tensor(nodes, dtype=p.dtype, device=p.device)
    inputs = net.layer_inputs(sol.model.features(x))
    columns = max(net.width[:-1])
    fig = _figure()
    axes = fig.subplots(len(net.layers), columns, squeeze=False)
    fig.set_size_inches(min(2.4 * columns, 24), 2.1 * len(net.layers) + 0.6)
    with torch.no_grad():
        for l, (layer, h) in enumerate(zip(net.layers, inputs)):
            ranges = layer.grid_range()
            for i in range(columns):
                ax = axes[l][i]
                if i >= layer.in_dim:
                    ax.set_axis_off()
                    continue
                lo, hi = float(h[:, i].min()), float(h[:, i].max())
                if hi <= lo:
                    lo, hi = float(ranges[i, 0]), float(ranges[i, 1])
                t = torch.linspace(lo, hi, points, dtype=p.dtype, device=p.device)
                grid_in = t[:, None].expand(points, layer.in_dim)
                phi = layer.edge_values(grid_in)[:, i, :]
                ax.plot(t.cpu().numpy(), phi.cpu().numpy(), lw=0.9)
                fixed = (
                    sorted({row[i] for row in layer.fixed.names if row[i] is not None})
                    if layer.fixed is not None
                    else []
                )
                knots = layer.knots[i, layer.k : layer.k + layer.grid + 1].cpu().numpy()
                for knot in knots[(knots >= lo) & (knots <= hi)]:
                    ax.axvline(knot, color="0.8", lw=0.6, zorder=0)
                ax.set_title(f"layer {l}, input {i}" + (f" ({', '.join(fixed)})" if fixed else ""), fontsize=8)
                ax.tick_params(labelsize=7)
    fig.suptitle(
        f"KAN {net.width}, G = {net.grid}: edges (a curve per output node; grey: knots; fixed symbols in brackets)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def _figure() -> Figure:
    from matplotlib.figure import Figure

    return Figure()
