"""Batch validation: run a suite's cases in parallel processes (or on a Dask cluster) and report them.

Each case runs in a worker: ``solve`` on its problem (a built-in instance, or a user's class named
``"package.module:Class"``, which travels as that string and is imported in the worker), then
``sol.save`` and the plots into ``OUT/cases/<id>/``, and last ``result.json``, written atomically. That
file marks the case finished: a rerun of the same suite into the same folder skips it (unless the case's
settings changed), so an interrupted batch resumes where it stopped. A case that raises or diverges (a non-finite loss) is
recorded as failed with the reason, and the batch goes on; one whose worker process dies (killed, out
of memory) is reported as failed but left unfinished, so a rerun tries it again. The reports
(``report.md``, ``report.json``, ``report.csv``, ``summary.png``) are rewritten atomically after each
case and at the end. A system's result also names its ``components`` and has the errors of each,
``rel_l2_<name>`` and ``max_abs_<name>``; the case passes or fails on ``rel_l2`` over all of them. An
inverse problem's result has ``unknowns`` (each identified scalar's value, ``"field"`` for a field) and
their errors where the problem declares the truth: ``rel_err_<name>`` for a scalar, ``rel_l2_<name>`` and
``max_abs_<name>`` for a field; a case with ``tol_unknowns`` also needs each of them (a scalar's
``rel_err``, a field's ``rel_l2``) at most that to pass.

    from kanpde.validation.batch.runner import run_suite
    from kanpde.validation.batch.suite import load_suite

    results = run_suite(load_suite("suite.toml"), "runs/validate", workers=2)

Local workers are spawned processes (``ProcessPoolExecutor``, spawn context: no forked torch state),
one per core, or one per GPU, each with ``torch.set_num_threads`` so that workers x threads <= cores.
``scheduler="tcp://host:8786"`` (or ``scheduler="local"`` for a ``dask.distributed.LocalCluster``) runs
the same cases through Dask; its workers need kanpde installed and ``out`` on a shared filesystem.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import math
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kanpde.errors import ConfigError
from kanpde.io.files import atomic_write, jsonable
from kanpde.io.status import StatusKind
from kanpde.validation.batch.report import write_reports
from kanpde.validation.batch.suite import Case, Suite, build_problem

__all__ = ["run_suite", "run_case", "finished_result", "component_errors", "unknown_results", "RESULT_FILE"]

logger = logging.getLogger("kanpde")

RESULT_FILE = "result.json"
_WORKER: dict[str, Any] = {}  # per worker process: the device it was given


def run_suite(
    suite: Suite,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    plots: bool = True,
) -> list[dict[str, Any]]:
    """Run every unfinished case of ``suite`` into ``out`` and write the reports; returns one result per
    case, in suite order (``passed``, ``outcome`` in pass/fail/diverged/error, ``reason``, ``rel_l2`` ...).

    workers: parallel local processes (default: one per GPU when CUDA is available, else
    ``os.cpu_count()``); 1 runs the cases in this process, one after another. With ``scheduler`` it is
    the size of a local Dask cluster. scheduler: a Dask scheduler address, or ``"local"``.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out must be a folder; {str(folder)!r} is a file. Choose another name")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"--workers must be an int >= 1; got {workers!r}")
    chatty = logging.getLogger("distributed")
    level = chatty.level
    client, cluster = _connect(scheduler, workers, len(suite.cases)) if scheduler is not None else (None, None)
    try:
        return _run(suite, folder, workers, client, plots)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        chatty.setLevel(level)


def _run(suite: Suite, folder: Path, workers: int | None, client: Any, plots: bool) -> list[dict[str, Any]]:
    (folder / "cases").mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    todo: list[Case] = []
    for case in suite.cases:
        done = finished_result(folder / "cases" / case.id, case)
        if done is not None:
            results[case.id] = {**done, "resumed": True}
        else:
            todo.append(case)
    if results:
        logger.info(
            "validate %s: %d of %d cases already finished in %s; running the other %d",
            suite.name,
            len(results),
            len(suite.cases),
            folder,
            len(todo),
        )

    def record(case: Case, result: dict[str, Any]) -> None:
        results[case.id] = result
        logger.info(
            "case %d/%d %s: %s%s",
            len(results),
            len(suite.cases),
            case.id,
            result["outcome"],
            f" rel_l2={result['rel_l2']:.3e} (tol {case.tol:g})"
            if result.get("rel_l2") is not None
            else f" ({result['reason']})",
        )
        write_reports(suite, results, folder, chart=plots)

    write_reports(suite, results, folder, chart=plots)
    if todo:
        if client is not None:
            _run_dask(todo, folder, client, plots, record)
        else:
            _run_local(todo, folder, workers, plots, record)
    write_reports(suite, results, folder, chart=plots)
    return [results[c.id] for c in suite.cases]


def run_case(
    case: Mapping[str, Any], folder: str, *, threads: int | None = None, device: str | None = None, plots: bool = True
) -> dict[str, Any]:
    """Run one case (given as ``Case.as_dict()``) into ``folder`` and return its result, which is also
    written to ``folder/result.json`` last. Never raises for a failure of the case itself: an exception
    becomes ``outcome="error"`` with its reason. Runs in a worker process (local or Dask)."""
    import torch

    spec = Case.from_dict(case)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULT_FILE).unlink(missing_ok=True)  # a result left by other settings: this run is not finished yet
    if threads is not None:
        torch.set_num_threads(threads)
    device = spec.device or device or _WORKER.get("device")
    t0 = time.perf_counter()
    base = {"id": spec.id, "case": spec.as_dict(), "tol": spec.tol, "rel_l2": None, "max_abs": None}
    try:
        sol = _solve(spec, device)
        result = {
            **base,
            **_judge(spec, sol),
            "max_abs": sol.errors.get("max_abs"),
            "components": list(sol.components),
            **component_errors(sol.errors, sol.components),
            **unknown_results(sol),
            "solver_status": sol.status.message,
            "steps": sol.info.get("steps"),
            "train_s": sol.info.get("train_s"),
            "params": sol.info.get("params"),
            "device": sol.info.get("device"),
        }
        sol.save(out)
        if plots:
            from kanpde.io.plots import plot_solution_report

            plot_solution_report(sol, out)
    except Exception as err:  # the case failed, not the batch
        logger.debug("case %s failed", spec.id, exc_info=True)
        result = {
            **base,
            "passed": False,
            "outcome": "error",
            "reason": f"{type(err).__name__}: {err}",
            "traceback": traceback.format_exc(limit=8),
        }
    result["wall_s"] = round(time.perf_counter() - t0, 3)
    result = jsonable(result)
    atomic_write(out / RESULT_FILE, lambda f: json.dump(result, f, indent=1))
    return result


def finished_result(folder: Path, case: Case) -> dict[str, Any] | None:
    """The result of a finished run of ``case`` in ``folder``, or None (no result file, an unreadable one,
    or one written for different settings)."""
    try:
        result = json.loads((folder / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("case") == case.as_dict() else None


def _solve(spec: Case, device: str | None) -> Any:
    from kanpde.solvers import default_model, solve

    problem = build_problem(spec.problem)  # a built-in name, or "package.module:Class" imported here
    net = default_model(problem, spec.model, hidden=spec.hidden, grid=spec.grid, k=spec.k, seed=spec.seed)
    return solve(
        problem,
        net,
        budget=spec.budget,
        steps=spec.steps,
        seed=spec.seed,
        device=device,
        dtype=spec.dtype,
        progress=False,
    )


def component_errors(errors: Mapping[str, float], components: Sequence[str] | None = None) -> dict[str, float]:
    """A system's per-component errors, ``rel_l2_<name>`` and ``max_abs_<name>`` (none for a scalar
    problem); with ``components``, of those components only (not of an inverse problem's unknown fields)."""
    if components is None:
        return {k: v for k, v in errors.items() if k.startswith(("rel_l2_", "max_abs_"))}
    keys = {f"{kind}_{name}" for name in components for kind in ("rel_l2", "max_abs")}
    return {k: v for k, v in errors.items() if k in keys}


def unknown_results(sol: Any) -> dict[str, Any]:
    """An inverse problem's part of a result: ``unknowns`` (name -> a scalar's value, or ``"field"``) and
    the errors of each where the problem knows the truth: ``rel_err_<name>`` of a scalar, ``rel_l2_<name>``
    and ``max_abs_<name>`` of a field. Empty without unknowns."""
    found = sol.unknowns
    if not found:
        return {}
    values = {name: v if isinstance(v, float) else "field" for name, v in found.items()}
    keys = [
        k
        for name, v in values.items()
        for k in ((f"rel_err_{name}",) if v != "field" else (f"rel_l2_{name}", f"max_abs_{name}"))
    ]
    return {"unknowns": values, **{k: sol.errors[k] for k in keys if k in sol.errors}}


def _unknowns_judged(tol: float, result: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether every unknown's error (a scalar's ``rel_err``, a field's ``rel_l2``) is at most ``tol``
    (``tol_unknowns``), and the words for the reason."""
    ok, words = True, []
    for name, v in (result.get("unknowns") or {}).items():
        key = f"rel_l2_{name}" if v == "field" else f"rel_err_{name}"
        err = result.get(key)
        fine = err is not None and math.isfinite(err) and err <= tol
        ok = ok and fine
        shown = "no true value" if err is None else f"{err:.3e}"
        words.append(f"{key} {shown} {'<=' if fine else '>'} {tol:g}")
    if not words:
        return False, "no unknowns identified to judge against tol_unknowns"
    return ok, "; ".join(words)


def _judge(spec: Case, sol: Any) -> dict[str, Any]:
    """pass / fail (error above tol, or an unknown's above tol_unknowns) / diverged (a non-finite loss
    stopped training, ``StatusKind.NON_FINITE``, or a non-finite error)."""
    rel = sol.errors.get("rel_l2")
    if rel is None:
        return {
            "passed": False,
            "outcome": "error",
            "rel_l2": None,
            "reason": f"{spec.problem} has no exact solution or reference to measure against",
        }
    if sol.status.kind is StatusKind.NON_FINITE or not math.isfinite(rel):
        return {"passed": False, "outcome": "diverged", "rel_l2": rel, "reason": str(sol.status)}
    passed = rel <= spec.tol
    reason = f"rel_l2 {rel:.3e} {'<=' if passed else '>'} tol {spec.tol:g}"
    if spec.tol_unknowns is not None:
        fine, words = _unknowns_judged(spec.tol_unknowns, unknown_results(sol))
        passed, reason = passed and fine, f"{reason}; {words}"
    return {
        "passed": passed,
        "outcome": "pass" if passed else "fail",
        "rel_l2": rel,
        "reason": reason,
    }


def _lost(case: Case, err: BaseException) -> dict[str, Any]:
    """The result of a case whose worker process died (killed, out of memory). It is reported but not
    written to the case folder, so a rerun tries the case again."""
    return {
        "id": case.id,
        "case": case.as_dict(),
        "tol": case.tol,
        "rel_l2": None,
        "max_abs": None,
        "passed": False,
        "outcome": "error",
        "reason": f"worker process lost ({type(err).__name__}: {err}); rerun to try the case again",
    }


def _plan(workers: int | None, cases: int) -> tuple[int, int, list[str | None]]:
    """(workers, torch threads per worker, devices) for ``cases`` cases: one worker per GPU, else per
    core, never more than there are cases."""
    import torch

    cores = os.cpu_count() or 1
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    n = max(1, min(workers if workers is not None else (gpus or cores), cases))
    devices: list[str | None] = [f"cuda:{i % gpus}" for i in range(n)] if gpus else [None] * n
    return n, max(1, cores // n), devices


def _init_worker(threads: int, devices: Any) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER["device"] = devices.get()
    logging.basicConfig(level=logging.WARNING)


def _run_local(
    todo: list[Case], folder: Path, workers: int | None, plots: bool, record: Callable[[Case, dict[str, Any]], None]
) -> None:
    n, threads, devices = _plan(workers, len(todo))
    if n == 1:  # in this process: no pool, easy to debug
        for case in todo:
            record(case, run_case(case.as_dict(), str(folder / "cases" / case.id), device=devices[0], plots=plots))
        return
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()  # each worker takes its device from it once
    for d in devices:
        queue.put(d)
    with cf.ProcessPoolExecutor(
        max_workers=n, mp_context=ctx, initializer=_init_worker, initargs=(threads, queue)
    ) as pool:
        futures = {pool.submit(run_case, c.as_dict(), str(folder / "cases" / c.id), plots=plots): c for c in todo}
        try:
            for future in cf.as_completed(futures):
                case = futures[future]
                try:
                    record(case, future.result())
                except cf.process.BrokenProcessPool as err:
                    record(case, _lost(case, err))
        except BaseException:  # ^C: drop the queued cases; a running one ends without its result.json
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _connect(scheduler: str, workers: int | None, cases: int) -> tuple[Any, Any]:
    """A Dask client (and the LocalCluster it owns for ``scheduler="local"``); a scheduler that cannot be
    reached is a ConfigError, raised before anything is written."""
    distributed = _dask()
    logging.getLogger("distributed").setLevel(
        logging.WARNING
    )  # no cluster chatter among the case lines (restored after)
    if scheduler == "local":
        cluster = distributed.LocalCluster(
            n_workers=_plan(workers, cases)[0], threads_per_worker=1, processes=True, dashboard_address=None
        )
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(scheduler, timeout=30), None
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError(
            f"--scheduler {scheduler!r}: cannot reach a Dask scheduler there ({err}); start one with `dask scheduler` and pass its tcp://host:port"
        ) from None


def _run_dask(
    todo: list[Case], folder: Path, client: Any, plots: bool, record: Callable[[Case, dict[str, Any]], None]
) -> None:
    distributed = _dask()
    threads = _dask_threads(client)
    futures = {
        client.submit(
            run_case,
            c.as_dict(),
            str((folder / "cases" / c.id).resolve()),
            threads=threads,
            plots=plots,
            pure=False,
            key=f"kanpde-{c.id}-{time.time_ns()}",
        ): c
        for c in todo
    }
    try:
        for future in distributed.as_completed(list(futures)):
            case = futures[future]
            try:
                record(case, future.result())
            except Exception as err:  # the worker died or the task was lost
                record(case, _lost(case, err))
    except BaseException:
        client.cancel(list(futures))
        raise


def _dask_threads(client: Any) -> int:
    """Torch threads per task so that, on every host, concurrent tasks x threads <= its cores."""
    nthreads = client.nthreads()  # worker address -> threads
    cores = client.run(os.cpu_count)
    host = {a: a.split("://")[-1].rsplit(":", 1)[0] for a in nthreads}
    per_host: dict[str, int] = {}
    for a, n in nthreads.items():
        per_host[host[a]] = per_host.get(host[a], 0) + n
    return max(1, min(((cores.get(a) or 1) // per_host[host[a]] for a in nthreads), default=1))


def _dask() -> Any:
    try:
        import dask.distributed as distributed
    except ImportError:
        raise ConfigError('--scheduler/--dask needs Dask: pip install "kanpde[cluster]" (dask[distributed])') from None
    return distributed
