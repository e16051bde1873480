"""Loss weightings for hard problems: causal weighting of time-dependent residuals (``Causal``) and
gradient-norm balancing of the condition terms (``Balance``).

``Causal`` (Wang, Sankaran, Perdikaris, "Respecting causality is all you need for training
physics-informed neural networks", arXiv 2203.07404): split [t0, t1] into M chunks with mean squared
residuals L_1..L_M and train on

    L_r = (1 / M) sum_i w_i L_i,    w_i = exp(-tol * sum_{k < i} L_k)   (no gradient through w_i),

so a time chunk counts only once everything before it is resolved. Without it a PINN for Allen-Cahn
fits late times first and settles on a wrong state. Adam steps take the weights at every evaluation.
L-BFGS phases hold them (``CausalReduce.held``): values and gradients from weights that move with each
trial point belong to no single objective (their slopes can even disagree in sign), which stalls the
line search. Held weights are renewed at the start point of an iteration, at the cost of one more
evaluation, once they have drifted by more than ``Causal.drift`` from the model's. Practical hint:
``tol`` sets how strictly the order is enforced; with a small interior weight (the residual term is
multiplied by it after this) the chunk losses are the raw residual means, so ``tol`` is on their scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from kanpde.checks import is_int, is_real
from kanpde.errors import ConfigError
from kanpde.pde.problem import Problem

__all__ = ["Causal", "Balance", "automatic_data_weights"]


@dataclass(frozen=True, kw_only=True)
class Causal:
    """Causal weights over ``chunks`` time slices with tolerance ``tol`` (see the module docstring).

    ``drift``: in L-BFGS phases the held weights are renewed when the weights at the latest evaluated
    point differ from them by more than this (absolute, on weights in (0, 1]); each renewal costs one
    extra loss evaluation, so 0 (renew at every iteration) halves the iterations a budget buys.
    """

    chunks: int = 32
    tol: float = 1.0
    drift: float = 0.01

    def __post_init__(self) -> None:
        if not is_int(self.chunks) or self.chunks < 2:
            raise ConfigError(f"Causal.chunks must be an int >= 2; got {self.chunks!r}")
        if not is_real(self.tol) or self.tol <= 0:
            raise ConfigError(f"Causal.tol must be a number > 0; got {self.tol!r}")
        if not is_real(self.drift) or self.drift < 0:
            raise ConfigError(f"Causal.drift must be a number >= 0; got {self.drift!r}")

    def reducer(self, problem: Problem) -> CausalReduce:
        """The ``reduce(r, x)`` for ``loss_terms`` on this problem's time axis (its last coordinate, named t)."""
        if problem.domain.axes[-1] != "t":
            raise ConfigError(
                f"Causal weighting needs a space-time problem whose last axis is named 't'; {problem!r} has axes {problem.domain.axes}. "
                "Drop causal= or declare the domain with axes=(..., 't')"
            )
        return CausalReduce(self, float(problem.domain.lower[-1]), float(problem.domain.upper[-1]))


class CausalReduce:
    """``reduce(r, x)``: the causally weighted mean square; ``last_min_weight`` is the smallest w_i seen last.

    The weights follow the model: by default each evaluation takes them from its own chunk losses.
    Inside ``held()`` they are computed at the first evaluation after entering or after a ``refresh()``
    that renewed them, and reused until then, so the loss is one fixed function of the parameters whose
    gradient is the one returned (what an L-BFGS line search needs; with weights from every trial point
    the loss values and gradients of one line search belong to different objectives).
    """

    def __init__(self, spec: Causal, t0: float, t1: float) -> None:
        self.spec, self.t0, self.t1 = spec, t0, t1
        self._last_weights: Tensor | None = None
        self._holding = False
        self._held: Tensor | None = None
        self._own: Tensor | None = None  # the weights the last evaluation's own chunk losses give

    @property
    def last_min_weight(self) -> float:
        """The smallest chunk weight of the last evaluation (read when the history records it, so the
        training step itself never waits for the device)."""
        return 1.0 if self._last_weights is None else float(self._last_weights.min())

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the weights between ``refresh()`` calls (see the class docstring); per evaluation again on exit."""
        self._holding, self._held = True, None
        try:
            yield
        finally:
            self._holding, self._held = False, None

    def state_dict(self) -> dict[str, Tensor | None]:
        """The weights it holds and last computed (for a checkpoint)."""
        return {"last": self._last_weights, "held": self._held, "own": self._own}

    def load_state_dict(self, state: dict[str, Tensor | None]) -> None:
        self._last_weights, self._held, self._own = state["last"], state["held"], state["own"]

    def refresh(self) -> bool:
        """While held, at the start of an L-BFGS iteration: when the weights at the last evaluated point
        differ from the held ones by more than ``drift`` (or none are held), let the next evaluation take
        new ones. Returns whether it did; the caller must then evaluate the loss afresh."""
        if (
            self._held is not None
            and self._own is not None
            and float((self._own - self._held).abs().max()) <= self.spec.drift
        ):
            return False
        self._held = None
        return True

    def __call__(self, r: Tensor, x: Tensor) -> Tensor:
        m = self.spec.chunks
        chunk = ((x[:, -1].detach() - self.t0) / (self.t1 - self.t0) * m).long().clamp(0, m - 1)
        sq = r.pow(2).mean(dim=1)
        sums = torch.zeros(m, dtype=sq.dtype, device=sq.device).index_add(0, chunk, sq)
        counts = torch.bincount(chunk, minlength=m).clamp_min(1).to(sq.dtype)
        losses = sums / counts
        with torch.no_grad():
            before = torch.cumsum(losses, 0) - losses
            self._own = torch.exp(-self.spec.tol * before)
        if self._holding and self._held is None:
            self._held = self._own
        weights = self._held if self._holding else self._own
        self._last_weights = weights
        return (weights * losses).mean()


@dataclass(frozen=True, kw_only=True)
class Balance:
    """Adaptive weights of the condition terms by gradient norms ("learning-rate annealing"; Wang,
    Teng, Perdikaris, SIAM J. Sci. Comput. 43(5), 2021, arXiv 2001.04536).

    Every ``every`` Adam steps each condition term's weight moves towards
    ``max |grad_theta L_residual| / mean |grad_theta L_i|`` by a fraction ``alpha``, so no term's
    gradients drown the others'. Weights are held fixed inside L-BFGS phases (a line search needs one
    objective). Useful for soft conditions; hard ones have no term to weigh.
    """

    every: int = 100
    alpha: float = 0.1

    def __post_init__(self) -> None:
        if not is_int(self.every) or self.every < 1:
            raise ConfigError(f"Balance.every must be an int >= 1; got {self.every!r}")
        if not is_real(self.alpha) or not 0 < self.alpha <= 1:
            raise ConfigError(f"Balance.alpha must be a number in (0, 1]; got {self.alpha!r}")

    def update(self, terms: dict[str, Tensor], params: list[Tensor], weights: dict[str, float]) -> dict[str, float]:
        """New weights of the non-residual terms from the gradients of the unweighted ``terms``."""

        def grads(term: Tensor) -> Tensor:
            gs = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
            # a parameter the term does not reach has gradient 0 there: it counts in the mean as 0
            return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(gs, params)]).abs()

        top = float(grads(terms["residual"]).max())
        out = dict(weights)
        for label, term in terms.items():
            if label == "residual" or not term.requires_grad:
                continue
            target = top / max(float(grads(term).mean()), 1e-300)
            out[label] = (1 - self.alpha) * weights.get(label, 1.0) + self.alpha * target
        return out


def automatic_data_weights(terms: dict[str, Tensor], problem: Problem, params: list[Tensor]) -> dict[str, float]:
    """The weights of the data terms declared with ``weight="auto"`` (``kanpde.Data``), set once before
    training by the rule ``Balance`` follows: ``max |grad L_residual| / mean |grad L_data|`` over ``params``
    (the network's: the data do not reach the unknowns), from the unweighted ``terms`` of the first model.

    Measured on the built-in inverse problems (README, Results): on ``darcy_inverse`` the ratio of the
    terms' values (about 470) left the coefficient at 0.18 relative L2 after 300 L-BFGS steps where a
    weight of 1e5 reached 3e-2; this rule gives 1.4e4 there, and about 330 on ``poisson_inverse``.
    """
    auto = {d.label for d in problem.data if d.weight == "auto"}
    if not auto:
        return {}
    weights = Balance(alpha=1.0).update({k: v for k, v in terms.items() if k == "residual" or k in auto}, params, {})
    return {k: v if math.isfinite(v) and v > 0 else 1.0 for k, v in weights.items()}
