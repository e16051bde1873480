"""The L-BFGS optimizer: convergence, small-loss curvature pairs, non-finite trial points, stop reasons."""

import torch

from kanpde.solvers.lbfgs import LBFGSOptimizer


def run(x, f, iters, **kwargs):
    opt = LBFGSOptimizer([x], **kwargs)

    def closure():
        x.grad = None
        loss = f(x)
        loss.backward()
        return loss

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
