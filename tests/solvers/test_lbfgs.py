"""The L-BFGS optimizer: convergence, small-loss curvature pairs, non-finite trial points, stop reasons."""

import pytest
import torch

from kanpde.solvers.lbfgs import LBFGSOptimizer


def closure_of(x, f):
    """The L-BFGS closure of loss f at parameters x."""

    def closure():
        x.grad = None
        loss = f(x)
        loss.backward()
        return loss

    return closure


def run(x, f, iters, **kwargs):
    opt = LBFGSOptimizer([x], **kwargs)
    closure = closure_of(x, f)
    losses = []
    for _ in range(iters):
        r = opt.step(closure)
        losses.append(r.loss)
        if r.stop:
            return opt, losses, r.stop
    return opt, losses, None


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def test_rosenbrock_converges_with_monotone_loss():
    x = torch.tensor([-1.2, 1.0], requires_grad=True)
    opt, losses, stop = run(x, rosenbrock, 100, history=10)
    torch.testing.assert_close(x.detach(), torch.tensor([1.0, 1.0]), atol=1e-8, rtol=0)
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # sufficient decrease at every iteration
    assert opt.iterations < 60 and opt.evals < 90


def test_keeps_learning_when_the_loss_is_tiny():
    """y.s ~ 1e-16 here; an absolute threshold of 1e-10 would reject every curvature pair."""
    scales = torch.logspace(0, 2, 20)

    def f(x):
        return 1e-8 * 0.5 * (scales * x**2).sum()

    x = torch.full((20,), 1e-2, requires_grad=True)
    opt, losses, stop = run(x, f, 40)
    assert opt.skipped_pairs == 0
    assert losses[-1] < 1e-12 * losses[0]


def test_non_finite_trial_points_are_backtracked():
    def f(x):  # finite only for x < 0.5: the first quasi-Newton step overshoots into NaN
        return torch.where(x < 0.5, (x - 0.4) ** 2, torch.full_like(x, float("nan"))).sum()

    x = torch.tensor([-2.0], requires_grad=True)
    seen = []
    opt, losses, stop = run(x, lambda x: seen.append(float(x.detach())) or f(x), 30, lr=10.0)
    assert max(seen) > 0.5  # a trial point did land where the loss is NaN
    assert all(torch.isfinite(torch.tensor(losses)))
    assert abs(float(x.detach()) - 0.4) < 1e-4


def test_stops_with_a_reason_at_a_stationary_point():
    x = torch.tensor([1.0, 1.0], requires_grad=True)
    _, _, stop = run(x, rosenbrock, 5)
    assert stop == "gradient below tolerance (0)"


def test_a_stop_on_a_jump_of_the_loss_says_so():
    """The loss rises by 1 below x = 0.5 while its slope points there: L-BFGS ends at the jump, and says
    that the loss jumps (what an activation at a spline grid's end does to a KAN's residual)."""

    def f(x):
        return (x**2 + (x < 0.5).to(x.dtype)).sum()

    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt, _, stop = run(x, f, 200)
    assert stop.startswith("line search found no decrease along the steepest descent: the loss jumps at this point")
    assert opt.jumped  # what the L-BFGS phase reads to switch a KAN to C^2
    assert abs(float(x.detach()) - 0.5) < 1e-9  # and the parameters are left at the point


def test_a_failed_line_search_with_history_says_whether_the_loss_jumps_before_it_retries():
    """Creeping up to a jump (each line search stops short of it) stalls the other coordinates too: x1 stays
    near 0.48 on the way to 1. The first line search that fails outright, with curvature pairs in hand,
    probes the loss and sets ``jumped`` while the optimizer retries from steepest descent (no stop yet):
    the cue for the L-BFGS phase to take the jump away, well before the final stop."""

    def f(x):
        return ((x - 1) ** 2 * torch.tensor([1.0, 3.0], dtype=x.dtype)).sum() + 10 * (x[0] > 0.5).to(x.dtype)

    x = torch.tensor([0.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = LBFGSOptimizer([x], history=5)
    closure = closure_of(x, f)
    seen = []
    for _ in range(60):
        r = opt.step(closure)
        seen.append((opt.jumped, r.stop))
        if r.stop:
            break
    first = next(i for i, (jumped, _) in enumerate(seen) if jumped)
    assert seen[first][1] is None and first < len(seen) - 1  # a retry, not the stop
    assert "the loss jumps" in seen[-1][1]
    assert abs(float(x[1].detach()) - 1) > 0.3  # the stall the probe reports


def test_a_stop_where_the_loss_is_smooth_does_not_claim_a_jump():
    # at the minimum of a smooth loss, in float32, no step decreases it any more: round-off, no jump
    x = torch.tensor([3.0, -2.0], requires_grad=True)
    opt, _, stop = run(x, lambda v: ((v - 1) ** 2).sum() + 1.0, 200)
    assert stop is not None and "jumps" not in stop and not opt.jumped


# --- a deadline inside the iteration ----------------------------------------------------------------------
def quadratic_closure(x, seen):
    scales = torch.logspace(0, 3, x.numel(), dtype=torch.float64)

    def f(v):
        return 0.5 * (scales * (v - 1) ** 2).sum()

    def closure():
        x.grad = None
        seen.append(x.detach().clone())
        loss = f(x)
        loss.backward()
        return loss

    return f, closure


def after(n, seen):
    """A deadline that passes once ``n`` evaluations have been made."""
    return lambda: len(seen) >= n


def test_a_deadline_in_the_line_search_keeps_an_evaluated_point_with_its_loss():
    x = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    seen = []
    f, closure = quadratic_closure(x, seen)
    opt = LBFGSOptimizer([x], lr=1e-6)  # tiny first trial step: the line search extrapolates over many evaluations
    opt.step(closure)  # a first iteration, so the next one starts from a known point
    n = len(seen)
    result = opt.step(closure, deadline=after(n + 3, seen))
    assert result.interrupted and result.counts and result.evals == 3 and len(seen) == n + 3
    assert any(torch.equal(x.detach(), p) for p in seen[n:])  # left at a point the line search evaluated
    assert result.loss == float(f(x.detach())) == opt.state_dict()["f"]  # whose loss is the one reported
    assert result.loss < float(f(seen[n - 1]))  # and lower than where the iteration started


def test_a_deadline_before_any_decrease_leaves_the_optimizer_as_it_was():
    x = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    seen = []
    _, closure = quadratic_closure(x, seen)
    opt = LBFGSOptimizer([x])
    for _ in range(3):
        opt.step(closure)
    before, params = opt.state_dict(), x.detach().clone()
    result = opt.step(closure, deadline=lambda: True)
    assert result.interrupted and not result.counts and result.evals == 0
    assert torch.equal(x.detach(), params) and opt.iterations == before["iterations"] == 3
    assert all(torch.equal(a, b) for a, b in zip(opt.state_dict()["s"], before["s"]))
    fresh = LBFGSOptimizer([torch.zeros(6, dtype=torch.float64, requires_grad=True)])
    first = fresh.step(lambda: 1 / 0, deadline=lambda: True)  # the closure is never called
    assert first.interrupted and not first.counts and fresh.evals == 0 and fresh.state_dict()["f"] is None


def test_after_an_interrupted_iteration_a_saved_state_continues_exactly():
    def continued(resume):
        x = torch.zeros(6, dtype=torch.float64, requires_grad=True)
        seen = []
        _, closure = quadratic_closure(x, seen)
        opt = LBFGSOptimizer([x], lr=1e-6)
        opt.step(closure)
        opt.step(closure, deadline=after(len(seen) + 2, seen))  # cut short after two trial points
        if resume:  # a checkpoint's round trip: a new optimizer on the same parameters
            state = opt.state_dict()
            opt = LBFGSOptimizer([x], lr=1e-6)
            opt.load_state_dict(state)
        for _ in range(4):
            opt.step(closure)
        return x.detach().clone()

    assert torch.equal(continued(False), continued(True))


def test_a_deadline_that_never_passes_changes_nothing():
    def trained(deadline):
        x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
        opt = LBFGSOptimizer([x], history=10)
        closure = closure_of(x, rosenbrock)
        for _ in range(20):
            opt.step(closure, deadline=deadline)
        return x.detach().clone(), opt.evals

    (x1, evals1), (x2, evals2) = trained(None), trained(lambda: False)
    assert torch.equal(x1, x2) and evals1 == evals2


def test_a_kan_whose_line_search_parks_on_a_jump_goes_on_c2_and_keeps_its_values_on_the_grid():
    import math
    from types import SimpleNamespace

    import kanpde
    from kanpde.nets import bspline
    from kanpde.solvers.optimize import _continue_smoothly
    from kanpde.solvers.training_state import PhaseReport

    kan = kanpde.KAN([2, 3, 1], seed=4, init_noise=1.0)
    inside = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 1.8 - 0.9
    outside = inside * 2.5  # most points past the first layer's grid [-1, 1]
    first = kan.layers[0]  # its grid is [-1, 1]
    before_in, before_out = first(inside), first(outside)
    report = PhaseReport("lbfgs", 0, 0.0, 5)
    assert _continue_smoothly(SimpleNamespace(model=kan, step=41), report)
    assert kan.curvature_fade == bspline.FADE and all(layer.fade == bspline.FADE for layer in kan.layers)
    assert report.details["curvature_fade"] == {"step": 42, "fade": bspline.FADE}
    assert kan.describe()["curvature_fade"] == bspline.FADE  # what a checkpoint and a saved run rebuild
    torch.testing.assert_close(first(inside), before_in, rtol=0, atol=1e-12)  # on the grid: the same function
    assert not torch.allclose(first(outside), before_out)  # past it: C^2 now
    assert not _continue_smoothly(SimpleNamespace(model=kan, step=50), report)  # already C^2: the jump is elsewhere
    assert not _continue_smoothly(SimpleNamespace(model=kanpde.MLP([2, 8, 1]), step=1), report)
    with pytest.raises(kanpde.ConfigError, match="curvature_fade"):
        kan.set_curvature_fade(math.nan)


def test_an_lbfgs_phase_that_parks_on_a_jump_of_a_kans_loss_goes_on_to_its_steps(monkeypatch):
    """The phase reads ``opt.jumped``: the first stop on a jump switches the KAN to C^2 and the phase runs
    on; a second one (now not the grid ends) ends it. The optimizer is made to report jumps here."""
    import math

    import kanpde
    from kanpde.nets import bspline
    from kanpde.problems import Poisson
    from kanpde.solvers import LBFGS, optimize
    from kanpde.solvers.lbfgs import IterationResult

    calls = []

    class Jumping(LBFGSOptimizer):
        def step(self, closure, deadline=None):
            result = super().step(closure, deadline)
            calls.append(self.iterations)
            if self.iterations in (3, 6):  # a stop on a jump at the third and the sixth iteration
                self.jumped = True
                return IterationResult(result.loss, result.evals, "line search found no decrease: the loss jumps")
            return result

    monkeypatch.setattr(optimize, "LBFGSOptimizer", Jumping)
    problem = Poisson(
        source=lambda x: -2 * math.pi**2 * torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]),
        n_interior=200,
        n_boundary=40,
        eval_points=9,
    )
    net = kanpde.KAN([2, 3, 1], grid=5, seed=3)
    sol = kanpde.solve(problem, net, schedule=[LBFGS(steps=10)], steps=10, seed=1, progress=False)
    (phase,) = sol.phases
    assert phase["curvature_fade"] == {"step": 3, "fade": bspline.FADE}
    assert phase["end_step"] - phase["start_step"] == 6  # went on after the first jump, ended at the second
    assert phase["status"].endswith("the loss jumps")
    assert sol.model.net.curvature_fade == bspline.FADE
