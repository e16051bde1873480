"""B-spline bases against scipy.interpolate.BSpline, and the local (k + 1)-basis evaluation against the full one."""

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from kanpde.nets import bspline


def knots_for(grid, k, uniform=True, m=2, seed=0):
    if uniform:
        g = torch.linspace(-1, 1, grid + 1).expand(m, -1)
    else:
        gen = torch.Generator().manual_seed(seed)
        g = torch.sort(torch.rand(m, grid + 1, generator=gen) * 2 - 1, dim=1).values
    return bspline.extend_grid(g, k)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("uniform", [True, False])
def test_basis_matches_scipy(k, uniform):
    knots = knots_for(7, k, uniform)
    x = torch.rand(400, 2, generator=torch.Generator().manual_seed(1)) * 6 - 3
    ours = bspline.basis(x, knots, k)
    for ch in range(2):
        t = knots[ch].numpy()
        xs = x[:, ch].numpy()
        # scipy defines the spline on the base interval [t_k, t_{-k-1}] (the grid range)
        on_grid = (xs >= t[k]) & (xs < t[-k - 1])
        ref = BSpline(t, np.eye(t.size - k - 1), k, extrapolate=False)(xs[on_grid])
        np.testing.assert_allclose(ours[on_grid, ch].numpy(), ref, atol=1e-14)
        # past the extended knots every basis vanishes
        outside = (xs < t[0]) | (xs >= t[-1])
        assert outside.any() and (ours[outside, ch] == 0).all()


def test_partition_of_unity_on_the_grid():
    knots = knots_for(9, 3)
    x = torch.linspace(-1, 0.999999, 101).reshape(-1, 1).expand(-1, 2)
    torch.testing.assert_close(bspline.basis(x, knots, 3).sum(-1), torch.ones(101, 2))


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("uniform_knots", [True, False])
def test_local_basis_equals_full_basis_with_derivatives(k, uniform_knots):
    grid = 7
    knots = knots_for(grid, k, uniform_knots, seed=3)
    lo, hi = knots[:, k], knots[:, k + grid]
    x = lo + (hi - lo) * torch.rand(1000, 2, generator=torch.Generator().manual_seed(2))
    x.requires_grad_(True)
    full = bspline.basis(x, knots, k)  # (n, 2, G + k)

    def dx(y):  # d y[..., j] / dx for every basis j (zero where y does not depend on x)
        cols = [
            torch.autograd.grad(y[:, :, j].sum(), x, create_graph=True, allow_unused=True, materialize_grads=True)[0]
            if y.requires_grad
            else torch.zeros_like(x)
            for j in range(grid + k)
        ]
        return torch.stack(cols, -1)

    d1 = dx(full)
    d2 = dx(d1)
    for closed_form in [True, False] if uniform_knots else [False]:
        first, derivs = bspline.local_basis(x, knots, k, uniform=closed_form, derivatives=2)
        idx = first.unsqueeze(-1) + torch.arange(k + 1)
        for ours, ref in zip(derivs, (full, d1, d2)):
            dense = torch.zeros(1000, 2, grid + k).scatter(2, idx, ours)
            torch.testing.assert_close(dense, ref.detach(), rtol=1e-11, atol=1e-11)
        torch.testing.assert_close(bspline.dense_basis(x, knots, k, uniform=closed_form), full, rtol=0, atol=1e-14)


@pytest.mark.parametrize("closed_form", [True, False])
def test_outside_the_grid_edges_continue_linearly(closed_form):
    k, grid = 3, 6
    knots = knots_for(grid, k)
    coef = torch.randn(grid + k, generator=torch.Generator().manual_seed(0))

    def spline(x):
        first, (vals, slope) = bspline.local_basis(x.reshape(-1, 1), knots[:1], k, uniform=closed_form, derivatives=1)
        idx = first.unsqueeze(-1) + torch.arange(k + 1)
        return (coef[idx] * vals).sum(-1)[:, 0], (coef[idx] * slope).sum(-1)[:, 0]

    ends = torch.tensor([-1.0, 1.0])
    value, slope = spline(ends)
    far = torch.tensor([-3.5, -1.2, 1.3, 4.0])
    near = torch.where(far < 0, -1.0, 1.0)
    end_value, end_slope = spline(near)
    got, got_slope = spline(far)
    torch.testing.assert_close(got, end_value + end_slope * (far - near))
    torch.testing.assert_close(got_slope, end_slope)
    # continuous value and slope across the grid ends
    eps = 1e-7
    inside, _ = spline(ends * (1 - eps))
    outside, _ = spline(ends * (1 + eps))
    torch.testing.assert_close(inside, outside, atol=1e-5, rtol=0)


@pytest.mark.parametrize("closed_form", [True, False])
def test_outside_the_grid_edges_continue_c2_with_fading_curvature(closed_form):
    k, grid = 3, 6
    knots = knots_for(grid, k, m=1).double()
    coef = torch.randn(grid + k, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def spline(x):  # value and three x-derivatives of sum_j coef_j B_j(x)
        first, derivs = bspline.local_basis(
            x.reshape(-1, 1), knots, k, uniform=closed_form, derivatives=3, fade=bspline.FADE
        )
        idx = first.unsqueeze(-1) + torch.arange(k + 1)
        return [(coef[idx] * d).sum(-1)[:, 0] for d in derivs]

    ends = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    value, slope, curv, _ = spline(ends)
    span = 2.0 * bspline.FADE  # the fading length: a fraction of the grid's span
    far = torch.tensor([-3.5, -1.2, 1.3, 4.0], dtype=torch.float64)
    near = torch.where(far < 0, -1.0, 1.0).double()
    side = (far > 0).long()
    got = spline(far)
    d = (far - near).abs()
    torch.testing.assert_close(got[2], curv[side] * torch.exp(-d / span))
    torch.testing.assert_close(got[3], -torch.sign(far) * curv[side] * torch.exp(-d / span) / span)
    # value, slope and curvature are continuous across the grid ends (C^2)
    eps = 1e-9
    inside, outside = spline(ends * (1 - eps)), spline(ends * (1 + eps))
    for a, b in zip(inside[:3], outside[:3]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    # far away the edge is linear: its slope tends to slope(e) + sign * curvature(e) * L
    very_far = spline(torch.tensor([-200.0, 200.0], dtype=torch.float64))
    torch.testing.assert_close(very_far[1], slope + torch.tensor([-1.0, 1.0]).double() * curv * span)
    # each returned derivative is the x-derivative of the one before (autograd on the continued value)
    x = far.clone().requires_grad_(True)
    vals = spline(x)
    for lower, higher in zip(vals[:3], vals[1:]):
        (g,) = torch.autograd.grad(lower.sum(), x, retain_graph=True)
        torch.testing.assert_close(g, higher.detach())


def test_lstsq_is_minimum_norm_on_rank_deficient_systems():
    a = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # third column never sampled
    b = torch.tensor([[2.0], [3.0]])
    x = bspline.lstsq(a, b)
    torch.testing.assert_close(x, torch.tensor([[2.0], [3.0], [0.0]]))
    a2 = torch.randn(3, 50, 6, generator=torch.Generator().manual_seed(0))
    b2 = torch.randn(3, 50, 2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(bspline.lstsq(a2, b2), torch.linalg.lstsq(a2, b2).solution)
