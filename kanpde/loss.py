"""Collocation sets and the physics-informed loss.

The loss of a problem with residual r and conditions c_i on collocation sets X (interior) and B_i
(boundary parts) is

    L = w_r mean_{x in X} |r(u, x)|^2 + sum_i w_i mean_{x in B_i} |c_i(u, x)|^2,

with w_r = ``problem.residual_weight`` and w_i = ``condition.weight``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from .conditions import Condition
from .errors import ShapeError
from .field import Field, as_tensor
from .problem import Problem
from .sampling import Seed, as_rng

__all__ = ["Collocation", "BoundarySet", "loss_terms", "total_loss", "residual_values"]


@dataclass(frozen=True)
class BoundarySet:
    """Points for one declared condition: x (n, d) and outward normals (n, d)."""

    condition: Condition
    x: Tensor
    normal: Tensor


@dataclass(frozen=True)
class Collocation:
    """The training points of one solve: interior (n, d) and one set per condition."""

    interior: Tensor
    boundary: tuple[BoundarySet, ...]

    @classmethod
    def sample(
        cls,
        problem: Problem,
        *,
        seed: Seed = 0,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        n_interior: int | None = None,
        n_boundary: int | None = None,
    ) -> "Collocation":
        """Sample the problem's collocation sets with its methods and counts (overridable)."""
        rng = as_rng(seed)
        n_int = problem.n_interior if n_interior is None else n_interior
        n_bnd = problem.n_boundary if n_boundary is None else n_boundary
        interior = problem.domain.sample(n_int, method=problem.sampling, seed=rng)
        sets = []
        for cond in problem.conditions:
            b = problem.domain.sample_boundary(cond.on, n_bnd, method=problem.boundary_sampling, seed=rng)
            sets.append(BoundarySet(cond, _tensor(b.x, dtype, device, cond.needs_derivatives()), _tensor(b.normal, dtype, device)))
        return cls(_tensor(interior, dtype, device, True), tuple(sets))

    def subset(self, fraction: float, generator: torch.Generator) -> "Collocation":
        """A random mini-batch holding ``fraction`` of every set (at least one point each)."""
        def pick(n: int) -> Tensor:
            m = max(1, int(round(fraction * n)))
            return torch.randperm(n, generator=generator)[:m].to(self.interior.device)

        interior = _leaf(self.interior[pick(self.interior.shape[0])])
        sets = []
        for s in self.boundary:
            idx = pick(s.x.shape[0])
            sets.append(BoundarySet(s.condition, _leaf(s.x[idx]), s.normal[idx]))
        return Collocation(interior, tuple(sets))

    @property
    def sizes(self) -> dict[str, int]:
        out = {"interior": self.interior.shape[0]}
        out.update({s.condition.label: s.x.shape[0] for s in self.boundary})
        return out


def _tensor(a: np.ndarray, dtype: torch.dtype, device: torch.device | str, requires_grad: bool = False) -> Tensor:
    return torch.as_tensor(a, dtype=dtype, device=device).requires_grad_(requires_grad)


def _leaf(x: Tensor) -> Tensor:
    return x.detach().requires_grad_(x.requires_grad)


def residual_values(problem: Problem, model: nn.Module, x: Tensor) -> Tensor:
    """The PDE residual at interior points x: (n, d) as an (n, m) tensor; checks its shape."""
    u = Field(model(x), x)
    r = problem.residual(u, x)
    return check_residual(r, x.shape[0], type(problem).__name__)


def check_residual(r: Field | Tensor, n: int, owner: str) -> Tensor:
    r = as_tensor(r)
    if not isinstance(r, Tensor):
        raise ShapeError(f"{owner}.residual(u, x) must return a tensor or field; got {type(r).__name__}")
    if r.ndim == 1 and r.shape[0] == n:
        return r.reshape(n, 1)
    if r.ndim != 2 or r.shape[0] != n or (r.shape[1] == n and n > 1):
        raise ShapeError(
            f"{owner}.residual(u, x) must return shape ({n},) or ({n}, m) for {n} points; got {tuple(r.shape)}. "
            "Per-point terms such as f(x) should have shape (n,) or (n, 1)"
        )
    return r


def loss_terms(problem: Problem, model: nn.Module, colloc: Collocation) -> dict[str, Tensor]:
    """Weighted mean-squared residual of the PDE (``"residual"``) and of each condition (its label)."""
    r = residual_values(problem, model, colloc.interior)
    terms = {"residual": problem.residual_weight * r.pow(2).mean()}
    for s in colloc.boundary:
        u = Field(model(s.x), s.x)
        label = s.condition.label
        while label in terms:
            label += "'"
        terms[label] = s.condition.weight * s.condition.residual(u, s.x, s.normal).pow(2).mean()
    return terms


def total_loss(terms: dict[str, Tensor]) -> Tensor:
    """Sum of the weighted terms."""
    return torch.stack(list(terms.values())).sum()
