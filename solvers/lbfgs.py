"""Limited-memory BFGS with a strong-Wolfe line search, one iteration per call.

Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006): the two-loop recursion (Alg. 7.4), the
line search (Alg. 3.5) and its zoom stage (Alg. 3.6) with safeguarded cubic interpolation.

Why not ``torch.optim.LBFGS``: it keeps a curvature pair only when ``y.s > 1e-10``, an absolute threshold
that rejects every pair once the loss is small, so a physics-informed network at 1e-6 loss stops
learning without a word. Here a pair is kept when ``y.s > eps * |y| |s|`` (scale-free) and skipped pairs
are counted. Each ``step`` is one iteration, so the caller checks its time budget between iterations and
knows why the optimizer stopped; ``step(closure, deadline=...)`` also checks a deadline before each loss
evaluation, so one slow iteration (up to ``max_evals`` evaluations in its line search) cannot overrun a time
budget by more than one evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = ["LBFGSOptimizer", "IterationResult"]


@dataclass(frozen=True)
class IterationResult:
    """What one iteration did: the loss after it, the closure evaluations it took, and a stop reason.

    interrupted: the deadline passed during the iteration, which ended at the best point its line search
    had evaluated by then (the loss there is ``loss``). counts: False when it ended before finding a point
    better than its start: the parameters are where they were, and the call is no iteration (the caller
    does not count it).
    """

    loss: float
    evals: int
    stop: str | None = None
    interrupted: bool = False
    counts: bool = True


JUMP_PROBE = 1e-10
"""The step, relative to the parameters' largest magnitude, by which a stop without decrease probes
whether the loss jumps at the point (an optimizer that stalls on a discontinuity sits within round-off of
it: a step of 1e-14 crossed the one found on ``poisson_kan``)."""
JUMP_RISE = 1e-8
"""A rise of the loss over that step, relative to the loss, that round-off cannot explain: a jump."""


class _DeadlinePassed(Exception):
    """Raised inside the line search when the deadline passed before the next loss evaluation."""


def _never() -> bool:
    return False


class LBFGSOptimizer:
    """Full-batch L-BFGS over a list of parameters.

    Args:
        params: the tensors to optimise (updated in place).
        history: number of curvature pairs kept (50 suits PINNs; more costs memory, not evaluations).
        lr: initial trial step of the line search after the first iteration (1 is the quasi-Newton step).
        max_evals: closure evaluations allowed per iteration's line search.
        curvature_eps: keep a pair when ``y.s > curvature_eps * |y| |s|``.
        tolerance_grad: stop when the largest gradient component is at or below this.

    ``closure()`` must zero the gradients, compute the loss, call ``backward()`` and return the loss; it
    must be deterministic (full batch, fixed points).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        *,
        history: int = 50,
        lr: float = 1.0,
        max_evals: int = 25,
        curvature_eps: float = 1e-12,
        tolerance_grad: float = 0.0,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.history, self.lr, self.max_evals = history, lr, max_evals
        self.curvature_eps, self.tolerance_grad = curvature_eps, tolerance_grad
        self.s: list[Tensor] = []
        self.y: list[Tensor] = []
        self.skipped_pairs = 0
        self.restarts = 0
        self.jumped = False  # whether the last iteration's line search failed where the loss jumps (``_jump``)
        self.evals = 0
        self.iterations = 0
        self._f: float | None = None
        self._g: Tensor | None = None

    # --- flat views -----------------------------------------------------------------------------
    def _flat_params(self) -> Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def _set_params(self, flat: Tensor) -> None:
        offset = 0
        with torch.no_grad():
            for p in self.params:
                n = p.numel()
                p.copy_(flat[offset : offset + n].view_as(p))
                offset += n

    def _flat_grad(self) -> Tensor:
        return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self.params])

    def _evaluate(self, closure: Callable[[], Tensor]) -> tuple[float, Tensor]:
        with torch.enable_grad():
            loss = closure()
        self.evals += 1
        return float(loss.detach()), self._flat_grad().clone()

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state (curvature pairs, counters, the loss and gradient at the current point)."""
        return {
            "s": list(self.s),
            "y": list(self.y),
            "skipped_pairs": self.skipped_pairs,
            "restarts": self.restarts,
            "evals": self.evals,
            "iterations": self.iterations,
            "f": self._f,
            "g": self._g,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a ``state_dict`` (its tensors moved to the parameters' device and dtype)."""
        ref = self.params[0]

        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device=ref.device, dtype=ref.dtype)

        self.s, self.y = [move(t) for t in state["s"]], [move(t) for t in state["y"]]
        self.skipped_pairs, self.restarts = state["skipped_pairs"], state["restarts"]
        self.evals, self.iterations = state["evals"], state["iterations"]
        self._f, self._g = state["f"], move(state["g"])

    def objective_changed(self) -> None:
        """The loss changed (new loss weights): the next ``step`` evaluates it afresh at the current
        point instead of reusing the loss and gradient its last line search ended with. The curvature
        pairs are kept: they describe the old objective, a fair start for one that changes slowly."""
        self._f = self._g = None

    # --- one iteration ----------------------------------------------------------------------------
    def step(self, closure: Callable[[], Tensor], deadline: Callable[[], bool] | None = None) -> IterationResult:
        """Run one L-BFGS iteration; returns the loss after it and, if it cannot go on, why.

        deadline: called before each loss evaluation; once it returns True the iteration ends there, at
        the lowest loss its line search found that satisfies sufficient decrease, or back at its start
        with nothing changed (``IterationResult.interrupted``, ``counts``). Either way the parameters sit
        at a point whose loss and gradient are known, and the state stays consistent (a checkpoint taken
        then resumes). None: no deadline (what a step budget needs to stay bitwise reproducible).
        """
        evals0 = self.evals
        self.jumped = False
        expired = deadline if deadline is not None else _never
        if self._f is None:
            if expired():
                return IterationResult(math.nan, 0, interrupted=True, counts=False)
            self._f, self._g = self._evaluate(closure)
            if not math.isfinite(self._f):
                return IterationResult(self._f, self.evals - evals0, "non-finite loss at the starting point")
        f, g = self._f, self._g
        assert g is not None
        if g.abs().max() <= self.tolerance_grad:
            return IterationResult(f, self.evals - evals0, f"gradient below tolerance ({self.tolerance_grad:g})")
        d = self._direction(g)
        gtd = float(g @ d)
        if not gtd < 0:  # not a descent direction (history went bad): restart from steepest descent
            self._reset()
            d, gtd = -g, -float(g @ g)
        t = min(1.0, 1.0 / float(g.abs().sum())) * self.lr if self.iterations == 0 and not self.s else self.lr
        x0 = self._flat_params()
        t, f_new, g_new, interrupted = self._line_search(closure, x0, d, f, gtd, t, expired)
        if interrupted and t == 0.0:  # no better point yet: back to the start, as if never called
            self._set_params(x0)
            return IterationResult(f, self.evals - evals0, interrupted=True, counts=False)
        self.iterations += 1
        if t == 0.0:
            self._set_params(x0)
            if self.s:  # retry from steepest descent before giving up (saying whether the loss jumps here)
                self._reset()
                self._jump(closure, x0, d, f, expired)
                return IterationResult(f, self.evals - evals0)
            why = "line search found no decrease along the steepest descent" + self._jump(closure, x0, -g, f, expired)
            return IterationResult(f, self.evals - evals0, why)
        s, y = t * d, g_new - g
        ys = float(y @ s)
        if ys > self.curvature_eps * float(y.norm() * s.norm()):
            if len(self.s) == self.history:
                self.s.pop(0)
                self.y.pop(0)
            self.s.append(s)
            self.y.append(y)
        else:
            self.skipped_pairs += 1
        self._f, self._g = f_new, g_new
        return IterationResult(f_new, self.evals - evals0, interrupted=interrupted)

    def _jump(
        self, closure: Callable[[], Tensor], x0: Tensor, d: Tensor, f0: float, expired: Callable[[], bool]
    ) -> str:
        """Why a line search found no decrease, when the loss jumps here: one evaluation a step of
        ``JUMP_PROBE`` (relative to the parameters' size) along d, where a smooth loss changes by round-off
        alone. Returns the words to add to the stop reason ("" when the loss is smooth there, or the
        deadline has passed) and sets ``jumped``. The parameters are left at x0."""
        if expired():
            return ""
        step = JUMP_PROBE * max(1.0, float(x0.abs().max())) / max(float(d.norm()), 1e-300)
        self._set_params(x0 + step * d)
        f, _ = self._evaluate(closure)
        self._set_params(x0)
        if not (math.isfinite(f) and f - f0 > JUMP_RISE * abs(f0)):
            return ""
        self.jumped = True
        return f": the loss jumps at this point (up by {f - f0:.2e}, {(f - f0) / abs(f0):.1e} of it, a step of {step * float(d.norm()):.0e} away)"

    def _reset(self) -> None:
        self.s.clear()
        self.y.clear()
        self.restarts += 1

    def _direction(self, g: Tensor) -> Tensor:
        """-H g by the two-loop recursion with H0 = (s.y / y.y) I."""
        q = -g.clone()
        if not self.s:
            return q
        rho = [1.0 / float(y @ s) for s, y in zip(self.s, self.y)]
        alpha = []
        for s, y, r in zip(reversed(self.s), reversed(self.y), reversed(rho)):
            a = r * float(s @ q)
            alpha.append(a)
            q.add_(y, alpha=-a)
        s, y = self.s[-1], self.y[-1]
        q.mul_(float(s @ y) / float(y @ y))
        for s, y, r, a in zip(self.s, self.y, rho, reversed(alpha)):
            b = r * float(y @ q)
            q.add_(s, alpha=a - b)
        return q

    # --- strong Wolfe line search ----------------------------------------------------------------------
    def _line_search(
        self,
        closure: Callable[[], Tensor],
        x0: Tensor,
        d: Tensor,
        f0: float,
        gtd0: float,
        t: float,
        expired: Callable[[], bool] = _never,
        c1: float = 1e-4,
        c2: float = 0.9,
    ) -> tuple[float, float, Tensor, bool]:
        """Find t with f(x0 + t d) <= f0 + c1 t gtd0 and |g.d| <= c2 |gtd0|.

        Returns (t, f, g, interrupted); t = 0 when no point decreased the loss. When ``expired()`` turns
        True before an evaluation, the search ends there (interrupted) with the lowest sufficient-decrease
        point seen. The parameters are left at x0 + t d.
        """
        try:
            return (*self._search(closure, x0, d, f0, gtd0, t, expired, c1, c2), False)
        except _DeadlinePassed as passed:
            step, f, g = passed.args[0]
            if step != 0.0:
                self._set_params(x0 + step * d)
            return step, f, g, True

    def _search(
        self,
        closure: Callable[[], Tensor],
        x0: Tensor,
        d: Tensor,
        f0: float,
        gtd0: float,
        t: float,
        expired: Callable[[], bool],
        c1: float,
        c2: float,
    ) -> tuple[float, float, Tensor]:
        """The line search of ``_line_search``: (t, f, g); raises ``_DeadlinePassed((t, f, g))`` with its
        best point when ``expired()``."""
        evals_at_start = self.evals
        best = (0.0, f0, None)  # lowest finite loss seen that satisfies the sufficient-decrease condition
        points: dict[float, tuple[float, Tensor]] = {}

        def phi(step: float) -> tuple[float, float]:
            nonlocal best
            if expired():
                raise _DeadlinePassed((best[0], best[1], self._g if best[2] is None else best[2]))
            self._set_params(x0 + step * d)
            f, g = self._evaluate(closure)
            points[step] = (f, g)
            gtd = float(g @ d) if math.isfinite(f) else math.nan
            if math.isfinite(f) and f <= f0 + c1 * step * gtd0 and f < best[1]:
                best = (step, f, g)
            return f, gtd

        def finish(step: float, satisfied: bool) -> tuple[float, float, Tensor]:
            if not satisfied:
                step = best[0]
            if step == 0.0:
                return 0.0, f0, self._g  # type: ignore[return-value]
            self._set_params(x0 + step * d)
            f, g = points[step]
            return step, f, g

        t_prev, f_prev, gtd_prev = 0.0, f0, gtd0
        lo = hi = None
        for i in range(self.max_evals):
            f, gtd = phi(t)
            if not math.isfinite(f) or f > f0 + c1 * t * gtd0 or (i > 0 and f >= f_prev):
                lo, hi = (t_prev, f_prev, gtd_prev), (t, f, gtd)
                break
            if abs(gtd) <= -c2 * gtd0:
                return finish(t, True)
            if gtd >= 0:
                lo, hi = (t, f, gtd), (t_prev, f_prev, gtd_prev)
                break
            t_next = _cubic_min(t_prev, f_prev, gtd_prev, t, f, gtd, t + 0.01 * (t - t_prev), t * 10)
            t_prev, f_prev, gtd_prev, t = t, f, gtd, t_next
        else:
            return finish(t, False)
        # zoom: lo holds the lowest sufficient-decrease point of the bracket [lo, hi]
        while self.evals - evals_at_start < self.max_evals:
            (tl, fl, gl), (th, fh, gh) = lo, hi
            width = abs(th - tl)
            if width * float(d.abs().max()) < 1e-16 * max(1.0, float(x0.abs().max())):
                break
            a, b = min(tl, th), max(tl, th)
            t = _cubic_min(tl, fl, gl, th, fh, gh, a + 0.1 * width, b - 0.1 * width)
            f, gtd = phi(t)
            if not math.isfinite(f) or f > f0 + c1 * t * gtd0 or f >= fl:
                hi = (t, f, gtd)
            else:
                if abs(gtd) <= -c2 * gtd0:
                    return finish(t, True)
                if gtd * (th - tl) >= 0:
                    hi = lo
                lo = (t, f, gtd)
        return finish(lo[0], False)


def _cubic_min(t1: float, f1: float, g1: float, t2: float, f2: float, g2: float, lo: float, hi: float) -> float:
    """Minimiser of the cubic through (t1, f1, g1) and (t2, f2, g2), clamped to [lo, hi]; bisection if undefined."""
    if lo > hi:
        lo, hi = hi, lo
    values = (t1, f1, g1, t2, f2, g2)
    if all(math.isfinite(v) for v in values) and t1 != t2:
        d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
        disc = d1 * d1 - g1 * g2
        if disc >= 0:
            d2 = math.copysign(math.sqrt(disc), t2 - t1)
            denom = g2 - g1 + 2 * d2
            if denom != 0:
                t = t2 - (t2 - t1) * (g2 + d2 - d1) / denom
                if math.isfinite(t):
                    return min(max(t, lo), hi)
    return 0.5 * (lo + hi)
