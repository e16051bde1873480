"""FD/FV reference solvers: each converges at its order on a manufactured solution (fitted log-log slope)."""

import math

import pytest
import torch

from kanpde.errors import ConfigError
from kanpde.geometry.box import Box
from kanpde.problems.darcy import (
    darcy_piecewise_coefficient,
    darcy_smooth_coefficient,
    darcy_smooth_exact,
    darcy_smooth_source,
)
from kanpde.validation import convergence_order, darcy_fv, poisson_fd

PI = math.pi


def poisson_exact(x):
    """sin(pi x) sin(pi y^2) (the KAN paper's solution) plus a harmonic part with non-zero walls."""
    return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] ** 2) + torch.exp(0.5 * x[:, 0]) * torch.cos(x[:, 1])


def poisson_source(x):
    sx, y = torch.sin(PI * x[:, 0]), x[:, 1]
    kan = -(PI**2) * (1 + 4 * y**2) * sx * torch.sin(PI * y**2) + 2 * PI * sx * torch.cos(PI * y**2)
    return kan - 0.75 * torch.exp(0.5 * x[:, 0]) * torch.cos(x[:, 1])


def on_grid(func, grid):
    return func(torch.as_tensor(grid.points())).reshape(grid.shape)


def order_against_exact(solve, exact, ns):
    """Fitted order of the max error of ``solve(n)`` against ``exact`` on its grid, and the last solution."""
    errs, sol = [], None
    for n in ns:
        sol = solve(n)
        errs.append(float((sol.values - on_grid(exact, sol.grid)).abs().max()))
    return convergence_order([1 / n for n in ns], errs), sol


def test_poisson_converges_at_second_order():
    ns = [16, 32, 64, 128]
    order, sol = order_against_exact(
        lambda n: poisson_fd(poisson_source, poisson_exact, n=n, device="cpu"), poisson_exact, ns
    )
    assert abs(order - 2) < 0.1
    assert "dst-I/scipy (cpu)" in sol.method


def test_poisson_on_a_3d_box_with_unequal_sides():
    box = Box([0.0, 0.0, 0.0], [1.0, 2.0, 1.0])

    def exact(x):  # sin(pi x) sin(pi y / 2) sin(pi z) + x y z (harmonic)
        return torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] / 2) * torch.sin(PI * x[:, 2]) + x.prod(dim=1)

    def source(x):
        return -(PI**2) * 2.25 * torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1] / 2) * torch.sin(PI * x[:, 2])

    ns = [8, 16, 32]
    order, sol = order_against_exact(lambda n: poisson_fd(source, exact, box, [n, 2 * n, n], device="cpu"), exact, ns)
    assert abs(order - 2) < 0.1


def test_poisson_torch_backend_matches_scipy():
    a = poisson_fd(poisson_source, poisson_exact, n=[24, 40], device="cpu", backend="scipy")
    b = poisson_fd(poisson_source, poisson_exact, n=[24, 40], device="cpu", backend="torch")
    assert "dst-I/torch (cpu)" in b.method
    assert float((a.values - b.values).abs().max()) < 1e-12


def test_darcy_smooth_converges_at_second_order():
    ns = [16, 32, 64, 128]
    order, sol = order_against_exact(
        lambda n: darcy_fv(darcy_smooth_coefficient, darcy_smooth_source, n=n, device="cpu"), darcy_smooth_exact, ns
    )
    assert abs(order - 2) < 0.1
    assert "pcg+dst-II/scipy (cpu)" in sol.method


def test_darcy_in_3d_converges_at_second_order():
    box = Box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])

    def exact(x):
        return torch.sin(PI * x).prod(dim=1)

    def source(x):  # -div((1 + x) grad u) = 3 pi^2 (1 + x) u - u_x
        return 3 * PI**2 * (1 + x[:, 0]) * exact(x) - PI * torch.cos(PI * x[:, 0]) * torch.sin(PI * x[:, 1:]).prod(
            dim=1
        )

    ns = [8, 16, 32]
    order, sol = order_against_exact(lambda n: darcy_fv(lambda x: 1 + x[:, 0], source, box, n, device="cpu"), exact, ns)
    assert abs(order - 2) < 0.1


def test_darcy_pcg_matches_sparse_lu_with_jumps_and_wall_data():
    def g(x):
        return x[:, 0] - 2 * x[:, 1] ** 2

    kw = dict(g=g, n=[20, 28], device="cpu")
    direct = darcy_fv(darcy_piecewise_coefficient, 1.0, method="direct", **kw)
    pcg = darcy_fv(darcy_piecewise_coefficient, 1.0, rtol=1e-13, **kw)
    dense = darcy_fv(darcy_piecewise_coefficient, 1.0, rtol=1e-13, backend="torch", **kw)
    assert float((pcg.values - direct.values).abs().max()) < 1e-10
    assert float((dense.values - direct.values).abs().max()) < 1e-10
    walls = on_grid(g, pcg.grid)
    assert torch.equal(pcg.values[0], walls[0]) and torch.equal(pcg.values[:, -1], walls[:, -1])


def block_mean(cells, factor):
    n = cells.shape[0] // factor
    return cells.reshape(n, factor, n, factor).mean(dim=(1, 3))


def test_darcy_piecewise_is_first_order_against_a_finer_solution():
    fine = darcy_fv(darcy_piecewise_coefficient, 1.0, n=512, device="cpu").cells
    ns = [16, 32, 64, 128]
    errs = []
    for n in ns:
        coarse = darcy_fv(darcy_piecewise_coefficient, 1.0, n=n, device="cpu").cells
        ref = block_mean(fine, 512 // n)
        errs.append(float(torch.linalg.vector_norm(coarse - ref) / torch.linalg.vector_norm(ref)))
    assert convergence_order([1 / n for n in ns], errs) >= 0.8


def test_errors_name_the_field_and_the_fix():
    with pytest.raises(ConfigError, match=r"poisson_fd\.n must be an int >= 2 .*got n=1"):
        poisson_fd(0.0, n=1)
    with pytest.raises(ConfigError, match=r"darcy_fv\.n must be an int >= 2 or 2 such ints.*got n=\[8\]"):
        darcy_fv(1.0, 1.0, n=[8])
    with pytest.raises(
        ConfigError, match=r"darcy_fv\.a\(x\) must return a torch tensor of shape \(64,\) or \(64, 1\).*got \(64, 2\)"
    ):
        darcy_fv(lambda x: x, 1.0, n=8)
    with pytest.raises(ConfigError, match=r"darcy_fv\.a must be positive at every cell centre; got min a = -1"):
        darcy_fv(lambda x: torch.cos(PI * x[:, 0]) * 0 - 1, 1.0, n=8)
    with pytest.raises(ConfigError, match=r"darcy_fv\.method must be one of auto, pcg, direct; got 'lu'"):
        darcy_fv(1.0, 1.0, n=8, method="lu")
    with pytest.raises(ConfigError, match=r"poisson_fd\.f must be a finite number or a function"):
        poisson_fd("zero", n=8)
    with pytest.raises(ConfigError, match=r"backend must be one of auto, scipy, torch; got 'fftw'"):
        poisson_fd(0.0, n=8, backend="fftw")
    with pytest.raises(ConfigError, match=r"PCG did not reach rtol=1e-10 in max_iter=1 iterations"):
        darcy_fv(darcy_piecewise_coefficient, 1.0, n=16, max_iter=1)
