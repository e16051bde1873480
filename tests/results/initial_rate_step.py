"""Milliseconds of one training step (one-pass residual jets, loss, backward) on ``wave`` with its initial
rate built in: ``python initial_rate_step.py`` prints the median of 5 rounds of 20 steps.

KAN [2, 10, 1] G = 20, 4096 Sobol points, float64, default threads. Run it before and after a change to
the hard constraints' jets, interleaved on a quiet machine (``git stash`` between runs).
"""

import time

import torch

import kanpde
import kanpde.problems  # noqa: F401  (registers the built-in problems)
from kanpde.pde.jetfield import full_spec
from kanpde.pde.registry import instance
from kanpde.pinn.hard_constraints import split_conditions
from kanpde.pinn.loss import residual_values
from kanpde.pinn.surrogate import Surrogate

problem = instance("wave")
rate = split_conditions(problem, "hard")[0].dirichlet
box = [torch.tensor(b, dtype=torch.float64) for b in (problem.domain.lower, problem.domain.upper)]
model = Surrogate(kanpde.KAN([2, 10, 1], grid=20, seed=0), *box, rate)
x = torch.as_tensor(problem.domain.sample(4096, method="sobol", seed=1), dtype=torch.float64)
spec = full_spec(2)


def step() -> None:
    model.zero_grad()
    residual_values(problem, model, x, spec).pow(2).mean().backward()


for _ in range(5):
    step()
rounds = []
for _ in range(5):
    start = time.perf_counter()
    for _ in range(20):
        step()
    rounds.append((time.perf_counter() - start) / 20 * 1e3)
print(f"ms/step {sorted(rounds)[2]:.1f}")
