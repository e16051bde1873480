"""Does ``torch.compile`` pay for the one-pass KAN step, and does a new grid compile again?

``python compile_case.py PATH DYNAMIC G1,G2,...``: PATH is ``eager``, ``fused`` (the fused layer step,
compiled) or ``composed`` (the jet composed from torch operations, compiled); DYNAMIC is ``none`` (torch's
automatic dynamic shapes), ``true`` or ``false``. For each grid in turn, as a refinement would, a new KAN
[2, 32, 32, 1] trains ``poisson_sin`` on 4096 points in float32 with Adam; one line per grid gives the
first step's seconds (the compilation) and the median and minimum of 15 steps after a warm-up of 3.
"""

import sys
import time
from functools import partial

import torch

from kanpde.nets.kan import KAN
from kanpde.pde.registry import instance
from kanpde.pinn.loss import Collocation, loss_terms, plan_derivatives, total_loss
from kanpde.pinn.surrogate import Surrogate
from kanpde.solvers.allocator import keep_freed_memory

keep_freed_memory()
path, dynamic = sys.argv[1], {"none": None, "true": True, "false": False}[sys.argv[2]]
grids = [int(g) for g in sys.argv[3].split(",")]
dtype = torch.float32
problem = instance("poisson_sin")
colloc = Collocation.sample(problem, seed=0, dtype=dtype, n_interior=4096, n_boundary=512)


def time_grid(grid: int) -> str:
    """Build, compile (unless eager) and time the training step of a new KAN on ``grid``."""
    net = KAN([2, 32, 32, 1], grid=grid)
    model = Surrogate(net, problem.domain.lower, problem.domain.upper).to(dtype=dtype)
    if path == "composed":
        net.forward_jet = partial(net.forward_jet, fused=False)
    plan = plan_derivatives(problem, model, colloc, "jet")
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    if path != "eager":
        model.forward_jet = torch.compile(model.forward_jet, dynamic=dynamic)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        total_loss(loss_terms(problem, model, colloc, plan)).backward(inputs=params)
        opt.step()

    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    for _ in range(3):
        step()
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return (
        f"{path} dyn={dynamic} G={grid}: first step {first:.1f} s, median {1000 * times[7]:.1f} ms, "
        f"min {1000 * times[0]:.1f} ms"
    )


for grid in grids:
    print(time_grid(grid), flush=True)
