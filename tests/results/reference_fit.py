"""What the cavity benchmark scripts share: a network fitted to the cavity's reference before the PINN loss
takes over (does the loss keep the flow, or move away from it?)."""

import torch


def fit_to_reference(predict, params, problem, points: int, max_iter: int, tolerance_change: float) -> None:
    """Fit ``predict`` (points (n, 2) on the unit square -> (n, 3)) to ``problem.reference_values`` at
    ``points`` uniform random points (p made mean-free) by L-BFGS on ``params`` for up to ``max_iter``
    iterations; the random points come from torch's global generator (seed it first)."""
    x = torch.rand(points, 2, dtype=torch.float64)
    target = problem.reference_values(x)
    target[:, 2] -= target[:, 2].mean()
    opt = torch.optim.LBFGS(
        params, max_iter=max_iter, history_size=50, line_search_fn="strong_wolfe", tolerance_change=tolerance_change
    )

    def closure():
        opt.zero_grad()
        loss = (predict(x) - target).pow(2).mean()
        loss.backward()
        return loss

    opt.step(closure)
