"""The Allen-Cahn reference: exact on linear diffusion, fourth order in time, self-consistent in resolution."""

import math

import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError
from kanpde.problems.allen_cahn import allen_cahn_initial
from kanpde.validation import allen_cahn_spectral, convergence_order
from kanpde.validation.reference.interpolate import interpolate_periodic

PI = math.pi


def test_linear_diffusion_is_exact():
    eps = 0.01

    def u0(x):
        return torch.sin(PI * x) + 0.3 * torch.cos(3 * PI * x)

    sol = allen_cahn_spectral(eps=eps, reaction=0.0, u0=u0, n=32, outputs=4, substeps=1, device="cpu")
    x, t = np.meshgrid(sol.x, sol.t, indexing="ij")
    exact = np.exp(-eps * PI**2 * t) * np.sin(PI * x) + 0.3 * np.exp(-9 * eps * PI**2 * t) * np.cos(3 * PI * x)
    assert np.abs(sol.values.numpy() - exact).max() < 1e-13
    assert "fourier-etdrk4 n=32" in sol.method and "(torch cpu)" in sol.method


def test_etdrk4_is_fourth_order_in_time():
    """Spatially constant data: u' = 5 (u - u^3), u(t) = 1 / sqrt(1 + (1 / u0^2 - 1) exp(-10 t))."""
    u0 = 0.2
    exact = 1 / math.sqrt(1 + (1 / u0**2 - 1) * math.exp(-10.0))
    steps = [16, 32, 64, 128]
    errs = []
    for m in steps:
        sol = allen_cahn_spectral(u0=lambda x: 0 * x + u0, n=8, outputs=1, substeps=m, device="cpu")
        errs.append(float(np.abs(sol.values[:, -1].numpy() - exact).max()))
    assert abs(convergence_order([1 / m for m in steps], errs) - 4) < 0.3


def eval_points(outputs, t_end):
    """The DESIGN.md evaluation grid, x_k = -1 + 2k/511, at the output times."""
    x = -1 + 2 * np.arange(511) / 511
    t = t_end * np.arange(outputs + 1) / outputs
    xx, tt = np.meshgrid(x, t, indexing="ij")
    return np.stack([xx.ravel(), tt.ravel()], axis=1)


def on_eval_grid(sol, points):
    return interpolate_periodic(sol.x, sol.t, sol.values.numpy(), points, initial=allen_cahn_initial)


def self_agreement(n, substeps, outputs, t_end):
    points = eval_points(outputs, t_end)
    coarse = allen_cahn_spectral(
        u0=allen_cahn_initial, n=n, substeps=substeps, outputs=outputs, t_end=t_end, device="cpu"
    )
    fine = allen_cahn_spectral(
        u0=allen_cahn_initial, n=2 * n, substeps=2 * substeps, outputs=outputs, t_end=t_end, device="cpu"
    )
    a, b = on_eval_grid(coarse, points), on_eval_grid(fine, points)
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_allen_cahn_agrees_with_double_resolution():
    """Half the default resolution (2048 modes, dt = 1/800) against 4096 modes, dt = 1/1600 (~3e-9)."""
    assert self_agreement(n=2048, substeps=4, outputs=200, t_end=1.0) < 1e-6


@pytest.mark.slow
def test_allen_cahn_default_agrees_with_double_resolution_on_the_design_grid():
    """The registry's default (4096 modes, dt = 1/1600) against 8192 modes, dt = 1/3200 (~7e-10)."""
    assert self_agreement(n=4096, substeps=8, outputs=200, t_end=1.0) < 1e-6


def test_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"allen_cahn_spectral\.n must be an even int >= 8.*got n=101"):
        allen_cahn_spectral(n=101, u0=allen_cahn_initial)
    with pytest.raises(ConfigError, match=r"allen_cahn_spectral\.eps must be a finite number > 0; got -1"):
        allen_cahn_spectral(eps=-1, u0=allen_cahn_initial)
    with pytest.raises(ConfigError, match=r"allen_cahn_spectral\.x_range must be \(x0, x1\) with x0 < x1"):
        allen_cahn_spectral(x_range=(1, -1), u0=allen_cahn_initial)
    with pytest.raises(ConfigError, match=r"u0\(x\) must return a torch tensor of shape \(128,\).*got \(128, 2\)"):
        allen_cahn_spectral(n=8, u0=lambda x: torch.stack([x, x], dim=1))
