"""Benchmarks: ms per training step side by side, and time to accuracy.

``step_matrix`` times one physics-informed training step (forward pass, the residual's derivatives, the
loss, backward, Adam update) of ``poisson_sin`` on the same points for each implementation:

* ``kan``: kanpde's KAN on the default path (one-pass derivatives, each layer one fused step with a
  hand-written backward);
* ``kan-composed``: the same one-pass jet composed from torch operations and differentiated by autograd
  (the path before the fused layer, ``KAN.forward_jet(fused=False)``);
* ``kan-autograd``: the same KAN with nested autograd;
* ``kan-compiled``: the one-pass KAN with ``torch.compile`` (only when asked for; its compile time is
  logged apart and not in ms/step);
* ``mlp`` / ``mlp-autograd``: kanpde's MLP [2, 100, 100, 100, 1] on each path;
* ``pykan``: pykan's KAN of the same width and grid, in its fastest mode (``model.speed()``: no
  recorded activations, no symbolic branch), with nested autograd, when pykan is installed
  (``pip install -e .[bench]``).

The process keeps freed memory for reuse, as ``solve()`` has it (``kanpde.solvers.allocator``).
Implementations are timed round-robin, a few steps each per round, and the median is reported, so the
load of a shared machine falls on all of them alike. Compare ratios from one run, not absolute times
across runs.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch

from kanpde.errors import ConfigError
from kanpde.nets.kan import KAN
from kanpde.nets.mlp import MLP
from kanpde.pde.problem import Problem
from kanpde.pde.registry import instance
from kanpde.pinn.loss import Collocation, loss_terms, plan_derivatives, total_loss
from kanpde.pinn.surrogate import Surrogate

__all__ = ["StepRow", "MemoryRow", "step_matrix", "step_memory", "time_to_accuracy", "MLP_WIDTH", "IMPLS"]

logger = logging.getLogger("kanpde")

MLP_WIDTH = [2, 100, 100, 100, 1]
IMPLS = ("kan", "kan-composed", "kan-autograd", "kan-compiled", "mlp", "mlp-autograd", "pykan")
DEFAULT_IMPLS = (
    "kan",
    "kan-composed",
    "kan-autograd",
    "mlp",
    "mlp-autograd",
    "pykan",
)  # kan-compiled compiles for ~40 s per case


@dataclass(frozen=True)
class StepRow:
    """One measured configuration (``--json`` prints these)."""

    impl: str
    width: list[int]
    grid: int | None
    dtype: str
    points: int
    ms_per_step: float


def pykan_available() -> bool:
    try:
        import kan  # noqa: F401
    except Exception:  # pykan missing or broken: its rows are left out
        return False
    return True


def _kanpde_step(
    impl: str,
    width: list[int],
    grid: int,
    dtype: torch.dtype,
    device: torch.device,
    colloc: Collocation,
    problem: Problem,
) -> Callable[[], None]:
    net = MLP(width) if impl.startswith("mlp") else KAN(width, grid=grid)
    model = Surrogate(net, problem.domain.lower, problem.domain.upper).to(device=device, dtype=dtype)
    mode = "autograd" if impl.endswith("autograd") else "jet"
    if impl == "kan-composed":
        net.forward_jet = partial(net.forward_jet, fused=False)  # type: ignore[method-assign]
    plan = plan_derivatives(problem, model, colloc, mode)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    if impl == "kan-compiled":
        model.forward_jet = torch.compile(model.forward_jet, dynamic=False)  # type: ignore[method-assign]
        t0 = time.perf_counter()
        torch.autograd.grad(total_loss(loss_terms(problem, model, colloc, plan)), params)
        logger.info("kan-compiled %s %s: compiled in %.1f s", width, dtype, time.perf_counter() - t0)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = total_loss(loss_terms(problem, model, colloc, plan))
        loss.backward(inputs=params)
        opt.step()

    return step


def _pykan_step(
    width: list[int], grid: int, dtype: torch.dtype, device: torch.device, colloc: Collocation, problem: Problem
) -> Callable[[], None]:
    """pykan's KAN on the same loss: interior Laplacian residual and Dirichlet term, nested autograd."""
    import kan as pykan

    torch_dtype = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # pykan builds its grids in the default dtype
    try:
        model = pykan.KAN(width=width, grid=grid, k=3, seed=0, device=str(device), auto_save=False)
    except TypeError:  # older pykan without auto_save
        model = pykan.KAN(width=width, grid=grid, k=3, seed=0, device=str(device))
    finally:
        torch.set_default_dtype(torch_dtype)
    model = model.to(dtype)
    if hasattr(model, "speed"):  # pykan's own fast mode: no activation recording, no symbolic branch
        model = model.speed()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = colloc.interior
    boundary = [(s.x.detach(), s.condition) for s in colloc.boundary]
    w = problem.residual_weight

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        u = model(x)
        g = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
        lap = sum(torch.autograd.grad(g[:, i].sum(), x, create_graph=True)[0][:, i] for i in range(x.shape[1]))
        loss = w * (lap - problem.source(x)).pow(2).mean()
        for xb, cond in boundary:
            loss = loss + cond.weight * (model(xb) - cond.target(xb, 1)).pow(2).mean()
        loss.backward(inputs=params)
        opt.step()

    return step


def step_matrix(
    widths: Sequence[Sequence[int]] = ((2, 10, 1), (2, 32, 32, 1)),
    grid: int = 10,
    points: int = 4096,
    dtypes: Sequence[str] = ("float32", "float64"),
    device: str = "cpu",
    impls: Sequence[str] | None = None,
    rounds: int = 5,
    steps_per_round: int = 3,
    seed: int = 0,
) -> list[StepRow]:
    """ms per training step for each implementation, width and dtype (see the module docstring)."""
    impls = list(impls) if impls is not None else [i for i in DEFAULT_IMPLS if i != "pykan" or pykan_available()]
    unknown = [i for i in impls if i not in IMPLS]
    if unknown:
        raise ConfigError(f"unknown implementation {unknown[0]!r}; choose from {', '.join(IMPLS)}")
    if "pykan" in impls and not pykan_available():
        raise ConfigError(
            "pykan is not installed; install the bench extra (pip install -e .[bench]) or leave out 'pykan'"
        )
    from kanpde.solvers.allocator import keep_freed_memory

    keep_freed_memory()  # as solve() trains
    dev = torch.device(device)
    rows: list[StepRow] = []
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        problem = instance("poisson_sin")
        colloc = Collocation.sample(
            problem, seed=seed, dtype=dtype, device=dev, n_interior=points, n_boundary=max(4, points // 8)
        )
        cases: list[tuple[str, list[int], Callable[[], None]]] = []
        for width in widths:
            for impl in impls:
                if impl.startswith("mlp"):
                    continue
                make = _pykan_step if impl == "pykan" else lambda *a, impl=impl: _kanpde_step(impl, *a)
                cases.append((impl, list(width), make(list(width), grid, dtype, dev, colloc, problem)))
        for impl in impls:
            if impl.startswith("mlp"):
                cases.append((impl, MLP_WIDTH, _kanpde_step(impl, MLP_WIDTH, grid, dtype, dev, colloc, problem)))
        times = _round_robin([c[2] for c in cases], rounds, steps_per_round, dev)
        for (impl, width, _), t in zip(cases, times):
            rows.append(
                StepRow(impl, width, None if impl.startswith("mlp") else grid, dtype_name, points, round(1000 * t, 3))
            )
    return rows


def _round_robin(steps: list[Callable[[], None]], rounds: int, per_round: int, device: torch.device) -> list[float]:
    """Median seconds per call of each step function, timed in interleaved rounds after a warm-up."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for step in steps:
        step()
        step()
    samples: list[list[float]] = [[] for _ in steps]
    for _ in range(rounds):
        for i, step in enumerate(steps):
            sync()
            t0 = time.perf_counter()
            for _ in range(per_round):
                step()
            sync()
            samples[i].append((time.perf_counter() - t0) / per_round)
    return [statistics.median(s) for s in samples]


@dataclass(frozen=True)
class MemoryRow:
    """Peak memory of one training step above what the process held before it (model, points and
    optimizer state excluded; autograd graphs, jets and gradients included)."""

    impl: str
    width: list[int]
    grid: int | None
    dtype: str
    points: int
    device: str
    peak_mb: float


def step_memory(
    impls: Sequence[str] = ("kan", "mlp"),
    points: Sequence[int] = (4096, 16384, 65536),
    width: Sequence[int] = (2, 32, 32, 1),
    grid: int = 10,
    dtype: str = "float64",
    device: str = "cpu",
) -> list[MemoryRow]:
    """Peak memory of a ``poisson_sin`` training step for each implementation and number of points.

    Each case runs in a fresh process (so one case's cached allocations cannot hide another's): on the
    CPU the peak resident set is reset just before the step (``/proc/self/clear_refs``) and read after
    it, with large allocations served by mmap so that freed memory leaves the resident set; on CUDA
    ``torch.cuda.max_memory_allocated`` is used.
    """
    import multiprocessing

    unknown = [i for i in impls if i not in IMPLS or i in ("pykan", "kan-compiled")]
    if unknown:
        raise ConfigError(
            f"unknown implementation {unknown[0]!r} for the memory benchmark; choose from kan, kan-composed, kan-autograd, mlp, mlp-autograd"
        )
    ctx = multiprocessing.get_context("spawn")
    rows = []
    # Large blocks straight from mmap in the children, so freed memory leaves the resident set and the
    # peak counts live tensors only (glibc reads this when a process starts).
    saved = os.environ.get("MALLOC_MMAP_THRESHOLD_")
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    try:
        with ctx.Pool(1, maxtasksperchild=1) as pool:  # a fresh process per case
            for n in points:
                for impl in impls:
                    w = MLP_WIDTH if impl.startswith("mlp") else list(width)
                    peak = pool.apply(_measure_step_memory, (impl, w, grid, dtype, device, n))
                    rows.append(
                        MemoryRow(
                            impl, w, None if impl.startswith("mlp") else grid, dtype, n, device, round(peak / 2**20, 1)
                        )
                    )
    finally:
        if saved is None:
            os.environ.pop("MALLOC_MMAP_THRESHOLD_", None)
        else:
            os.environ["MALLOC_MMAP_THRESHOLD_"] = saved
    return rows


def _measure_step_memory(impl: str, width: list[int], grid: int, dtype_name: str, device: str, points: int) -> int:
    """Bytes above the pre-step level at the peak of one training step (runs in a child process)."""
    torch.set_num_threads(1)
    dev, dtype = torch.device(device), getattr(torch, dtype_name)
    problem = instance("poisson_sin")
    colloc = Collocation.sample(
        problem, seed=0, dtype=dtype, device=dev, n_interior=points, n_boundary=max(4, points // 8)
    )
    step = _kanpde_step(impl, width, grid, dtype, dev, colloc, problem)
    step()  # optimizer state and allocator caches exist from here on
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    before = _rss_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak resident set (VmHWM) to the current one
    step()
    return _rss_bytes("VmHWM") - before


def _rss_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise ConfigError(f"/proc/self/status has no {field}; the CPU memory benchmark needs Linux")


def format_memory(rows: list[MemoryRow]) -> str:
    """A table with the ratio to the MLP at the same number of points and the growth per point count."""
    lines = [f"{'impl':<14}{'width':<20}{'points':>8}{'peak MB':>10}{'vs mlp':>9}{'MB/1k pts':>11}"]
    by = {(r.impl, r.points): r for r in rows}
    for r in rows:
        mlp = by.get(("mlp", r.points))
        ratio = f"{r.peak_mb / mlp.peak_mb:.2f}x" if mlp and mlp.peak_mb > 0 else "-"
        lines.append(
            f"{r.impl:<14}{str(r.width):<20}{r.points:>8}{r.peak_mb:>10.1f}{ratio:>9}{1000 * r.peak_mb / r.points:>11.2f}"
        )
    return "\n".join(lines)


def format_steps(rows: list[StepRow]) -> str:
    """A table with ratios to the MLP (same path and dtype) and pykan's ratio to kanpde's KAN."""
    lines = [
        f"{'impl':<14}{'width':<16}{'grid':>5}{'dtype':>9}{'points':>8}{'ms/step':>10}{'vs mlp':>9}{'pykan/this':>12}"
    ]
    by = {(r.impl, tuple(r.width), r.dtype): r for r in rows}
    for r in rows:
        mlp = by.get(("mlp", tuple(MLP_WIDTH), r.dtype))
        pyk = by.get(("pykan", tuple(r.width), r.dtype))
        vs_mlp = f"{r.ms_per_step / mlp.ms_per_step:.2f}x" if mlp else "-"
        vs_pykan = f"{pyk.ms_per_step / r.ms_per_step:.1f}x" if pyk and r.impl.startswith("kan") else "-"
        grid = "-" if r.grid is None else str(r.grid)
        lines.append(
            f"{r.impl:<14}{str(r.width):<16}{grid:>5}{r.dtype:>9}{r.points:>8}{r.ms_per_step:>10.1f}{vs_mlp:>9}{vs_pykan:>12}"
        )
    return "\n".join(lines)


def time_to_accuracy(
    budget: float = 300.0,
    targets: Sequence[float] = (1e-2, 1e-3, 1e-4),
    models: Sequence[str] = ("kan", "mlp"),
    eval_every: float = 2.0,
    seed: int = 0,
    device: str = "cpu",
) -> list[dict[str, Any]]:
    """Seconds of training until ``poisson_kan``'s relative L2 first reaches each target (None: not within
    the budget), for KAN [2, 10, 1] and MLP [2, 100, 100, 100, 1] with their default schedules."""
    from kanpde.solvers import solve

    out = []
    for kind in models:
        net = KAN([2, 10, 1], grid=5, seed=seed) if kind == "kan" else MLP(MLP_WIDTH, seed=seed)
        sol = solve(
            instance("poisson_kan"), net, budget=budget, seed=seed, device=device, eval_every=eval_every, progress=False
        )
        logged = [(h["t"], h["rel_l2"]) for h in sol.history if "rel_l2" in h]
        reached = {f"{t:g}": next((round(s, 1) for s, e in logged if e <= t), None) for t in targets}
        out.append(
            {
                "model": kind,
                "budget_s": budget,
                "final_rel_l2": sol.errors["rel_l2"],
                "seconds_to": reached,
                "steps": sol.info["steps"],
            }
        )
    return out


def format_accuracy(rows: list[dict[str, Any]]) -> str:
    targets = list(rows[0]["seconds_to"]) if rows else []
    lines = [f"{'model':<6}{'budget':>8}{'final rel_l2':>14}" + "".join(f"{'t(' + t + ')':>12}" for t in targets)]
    for r in rows:
        cells = "".join(f"{('-' if v is None else f'{v:.1f} s'):>12}" for v in r["seconds_to"].values())
        lines.append(f"{r['model']:<6}{r['budget_s']:>7.0f}s{r['final_rel_l2']:>14.3e}{cells}")
    return "\n".join(lines)


def rows_as_dicts(rows: Sequence[StepRow | MemoryRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def symbolic_cases(budget: float = 60.0, seed: int = 0, device: str = "cpu") -> list[dict[str, Any]]:
    """``kanpde solve --symbolic`` measured: the formula read from a KAN (the CLI's [2, 5, 1], and [2, 2, 1])
    with the default library, whether it is exact by its own evidence, and the seconds each step takes,
    on ``poisson_sin`` and ``poisson_kan``."""
    from kanpde.interpret.formulas import read_formula
    from kanpde.solvers import solve, symbolic_recipe

    cases = [
        ("poisson_sin", "default", [2, 5, 1]),
        ("poisson_sin", "default", [2, 2, 1]),
        ("poisson_kan", "default", [2, 5, 1]),
    ]
    out = []
    for name, library, width in cases:
        problem, net = instance(name), KAN(width, grid=5, seed=seed)
        recipe = symbolic_recipe(problem, net)
        sol = solve(
            problem,
            net,
            schedule=recipe.schedule,
            constraints=recipe.constraints,
            budget=budget,
            seed=seed,
            device=device,
            progress=False,
        )
        formula, short, seconds = read_formula(sol)
        out.append(
            {
                "problem": name,
                "library": library,
                "start_width": width,
                "budget_s": budget,
                "rel_l2": sol.errors["rel_l2"],
                "width": sol.model.net.width,
                "formula_rel_l2": formula.rel_l2,
                "simplified": str(short.rounded(5)),
                "simplified_rel_l2": short.rel_l2,
                "exact": formula.exact,
                "verdict": formula.evidence.get("verdict"),
                "phase_s": [(p["phase"], round(p["end_t"] - p["start_t"], 2)) for p in sol.phases],
                **seconds,
            }
        )
    return out


def format_symbolic(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        phases = ", ".join(f"{p} {s:.2f} s" for p, s in r["phase_s"])
        lines += [
            f"{r['problem']} ({r['library']} library, KAN {r['start_width']}, {r['budget_s']:g} s): solution {r['rel_l2']:.2e}, width {r['width']}, formula {r['formula_rel_l2']:.2e}, simplified {r['simplified_rel_l2']:.2e}",
            f"  u = {r['simplified']}",
            f"  {r['verdict']}",
            f"  steps: {phases}; formula {r['formula_s']:.2f} s, simplify {r['simplify_s']:.2f} s",
        ]
    return "\n".join(lines)
