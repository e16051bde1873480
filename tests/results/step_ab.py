"""The KAN step of the checkout against the same step at another commit, alternating in one process.

    python tests/results/step_ab.py REV [float32|float64] [ROUNDS]

Loads ``kanpde/nets/kan_jet.py`` and ``bspline.py`` as they were at REV (``git show``) beside the
checkout's, builds ``kanpde bench step``'s KAN [2, 32, 32, 1] G = 10 step (poisson_sin, 4096 + 512 points)
once with each and the MLP [2, 100, 100, 100, 1] step, and times them in alternating order, two steps at
a time, ROUNDS times (default 40). Prints each one's median ms per step and the median of its per-round
ratios to the MLP: a machine whose speed drifts by 10 % between runs moves all three alike.
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import kanpde.nets.kan as kan_module
from kanpde.nets import bspline, kan_jet
from kanpde.validation.batch.bench import MLP_WIDTH, Collocation, _kanpde_step, instance


def _module_at(rev: str, name: str, folder: Path):
    path = folder / f"{name}.py"
    path.write_text(
        subprocess.run(
            ["git", "show", f"{rev}:kanpde/nets/{name}.py"], check=True, capture_output=True, text=True
        ).stdout
    )
    spec = importlib.util.spec_from_file_location(f"{name}_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    rev = sys.argv[1]
    dtype = getattr(torch, sys.argv[2] if len(sys.argv) > 2 else "float32")
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    with tempfile.TemporaryDirectory() as tmp:
        old_bspline = _module_at(rev, "bspline", Path(tmp))
        old_jet = _module_at(rev, "kan_jet", Path(tmp))
    old_jet.bspline = old_bspline
    variants = {"checkout": (kan_jet, bspline), rev: (old_jet, old_bspline)}

    def use(name: str) -> None:
        kan_module.kan_jet, kan_module.bspline = variants[name]

    problem = instance("poisson_sin")
    colloc = Collocation.sample(
        problem, seed=0, dtype=dtype, device=torch.device("cpu"), n_interior=4096, n_boundary=512
    )
    steps = {}
    for name in variants:
        use(name)
        steps[name] = _kanpde_step("kan", [2, 32, 32, 1], 10, dtype, torch.device("cpu"), colloc, problem)
    steps["mlp"] = _kanpde_step("mlp", MLP_WIDTH, 10, dtype, torch.device("cpu"), colloc, problem)
    order = [*variants, "mlp"]
    times: dict[str, list[float]] = {name: [] for name in order}
    for i in range(rounds + 1):
        for name in order if i % 2 == 0 else order[::-1]:
            if name in variants:
                use(name)
            t0 = time.perf_counter()
            steps[name]()
            steps[name]()
            if i:  # the first round warms up
                times[name].append((time.perf_counter() - t0) / 2)
    for name in order:
        ratios = [a / b for a, b in zip(times[name], times["mlp"])]
        print(
            f"{str(dtype):14s} {name:10s} {statistics.median(times[name]) * 1e3:6.1f} ms  vs mlp {statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()
