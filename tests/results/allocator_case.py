"""ms per training step and page faults per step, with and without ``keep_freed_memory``.

    python tests/results/allocator_case.py tune|plain [float32|float64]

The step is ``kanpde bench step``'s (poisson_sin, 4096 interior and 512 boundary points, Adam) for the
KAN [2, 32, 32, 1] G = 10 and the MLP [2, 100, 100, 100, 1], 20 steps each after 5 of warm-up, one after
the other in one process. ``tune`` calls ``kanpde.solvers.allocator.keep_freed_memory`` first (as
``solve()`` does); ``plain`` sets ``KANPDE_KEEP_MEMORY=0``. Prints one JSON line per network.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import torch

from kanpde.solvers.allocator import keep_freed_memory
from kanpde.validation.batch.bench import MLP_WIDTH, Collocation, _kanpde_step, instance


def main() -> None:
    mode, dtype_name = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "float32"
    if mode == "plain":
        os.environ["KANPDE_KEEP_MEMORY"] = "0"
    applied = keep_freed_memory()
    dtype = getattr(torch, dtype_name)
    problem = instance("poisson_sin")
    colloc = Collocation.sample(
        problem, seed=0, dtype=dtype, device=torch.device("cpu"), n_interior=4096, n_boundary=512
    )
    for impl, width in (("kan", [2, 32, 32, 1]), ("mlp", MLP_WIDTH)):
        step = _kanpde_step(impl, width, 10, dtype, torch.device("cpu"), colloc, problem)
        for _ in range(5):
            step()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        for _ in range(20):
            step()
        ms = (time.perf_counter() - t0) / 20 * 1e3
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / 20
        row = {
            "impl": impl,
            "dtype": dtype_name,
            "kept": applied,
            "ms_per_step": round(ms, 1),
            "faults_per_step": faults,
        }
        print(json.dumps(row))


if __name__ == "__main__":
    main()
