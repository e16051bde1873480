"""The Cole-Hopf Burgers solution: adaptive quadrature agrees, the data hold, the PDE residual vanishes."""

import math
import warnings

import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError, ShapeError
from kanpde.validation.reference import BURGERS_NU, burgers_cole_hopf, convergence_order

PI = math.pi


def quadpack_u(x: float, t: float, nu: float = BURGERS_NU) -> float:
    """An independent evaluation: QUADPACK in the unscaled variable y, shifted by a sampled maximum.

    u = -int sin(pi y) e^phi dy / int e^phi dy, phi(y) = -cos(pi y) / (2 pi nu) - (x - y)^2 / (4 nu t).
    """
    from scipy.integrate import quad

    a, w = 1 / (2 * PI * nu), math.sqrt(4 * nu * t)
    lo, hi = x - math.sqrt(2 * a + 50) * w, x + math.sqrt(2 * a + 50) * w  # phi < max - 50 outside

    def phi(y):
        return -a * np.cos(PI * y) - (x - y) ** 2 / w**2

    ys = np.linspace(lo, hi, 40001)
    ph = phi(ys)
    top = ph.max()
    peak = (ph[1:-1] >= ph[:-2]) & (ph[1:-1] >= ph[2:]) & (ph[1:-1] > top - 60)
    kw = {"points": ys[1:-1][peak], "epsrel": 2e-14, "limit": 1000}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # QUADPACK warns that 2e-14 is near round-off; the check is below
        den, _ = quad(lambda y: math.exp(phi(y) - top), lo, hi, epsabs=0, **kw)
        num, _ = quad(lambda y: math.sin(PI * y) * math.exp(phi(y) - top), lo, hi, epsabs=1e-15 * den, **kw)
    return -num / den


def near_shock_points() -> tuple[np.ndarray, np.ndarray]:
    xs = [0.0, 1e-4, -1e-4, 1e-3, -2e-3, 5e-3, 0.01, -0.02, 0.05, 0.3, -0.5, 0.9, -0.999, 1.0]
    ts = [1e-6, 0.01, 0.1, 0.3, 1 / PI, 0.35, 0.5, 1.6037 / PI, 0.75, 1.0]
    x, t = np.meshgrid(xs, ts)
    return x.ravel(), t.ravel()


def test_matches_adaptive_quadrature_including_the_shock():
    x, t = near_shock_points()
    expected = np.array([quadpack_u(a, b) for a, b in zip(x, t)])
    err = np.abs(burgers_cole_hopf(x, t) - expected)
    assert err.max() < 1e-12, f"max error {err.max():.2e} at x={x[err.argmax()]}, t={t[err.argmax()]}"
    assert np.abs(expected).max() > 0.9  # the points do reach the steep part


def test_small_viscosity_needs_the_shifted_exponentials():
    """A = 1/(2 pi nu) = 800: exp(A) overflows float64 unless each point's exponents are shifted."""
    nu = BURGERS_NU / 16
    x = np.array([0.0, 7e-4, 3e-3, -0.4, 0.2])
    t = np.array([1.0, 0.7, 0.9, 0.5, 1e-9])
    expected = np.array([quadpack_u(a, b, nu) for a, b in zip(x, t)])
    got = burgers_cole_hopf(x, t, nu)
    assert np.all(np.isfinite(got)) and np.abs(got - expected).max() < 1e-12


def test_initial_condition_is_returned_exactly_and_approached_continuously():
    x = torch.linspace(-1, 1, 257, dtype=torch.float64)
    assert torch.equal(burgers_cole_hopf(x, torch.zeros_like(x)), -torch.sin(PI * x))
    early = burgers_cole_hopf(x, torch.full_like(x, 1e-10))
    assert float((early + torch.sin(PI * x)).abs().max()) < 1e-8


def test_walls_are_zero():
    t = np.linspace(0, 1, 101)
    for wall in (-1.0, 1.0):
        assert np.abs(burgers_cole_hopf(np.full_like(t, wall), t)).max() < 1e-14


def residual(x: np.ndarray, t: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """u_t + u u_x - nu u_xx with central differences of step h in x and t, and the term u u_x."""

    def u(dx: float, dt: float) -> np.ndarray:
        return burgers_cole_hopf(x + dx, t + dt)

    u0 = u(0, 0)
    u_t = (u(0, h) - u(0, -h)) / (2 * h)
    u_x = (u(h, 0) - u(-h, 0)) / (2 * h)
    u_xx = (u(h, 0) - 2 * u0 + u(-h, 0)) / h**2
    return u_t + u0 * u_x - BURGERS_NU * u_xx, u0 * u_x


@pytest.mark.parametrize(
    ("x_range", "t_range", "steps"),
    [((0.1, 0.9), (0.05, 0.95), (4e-3, 2e-3, 1e-3)), ((0.0, 0.02), (0.4, 0.95), (2e-4, 1e-4, 5e-5))],
    ids=["smooth", "shock"],
)
def test_pde_residual_vanishes_at_second_order(x_range, t_range, steps):
    """The differences' truncation error is O(h^2); a wrong u would leave a residual that does not fall.

    ``smooth``: 0.1 <= |x| <= 0.9; ``shock``: |x| <= 0.02 after the shock has formed (|u_x| up to 152).
    """
    rng = np.random.default_rng(0)
    x, t = rng.uniform(*x_range, 200) * rng.choice([-1.0, 1.0], 200), rng.uniform(*t_range, 200)
    res = [np.abs(residual(x, t, h)[0]).max() for h in steps]
    assert convergence_order(steps, res) == pytest.approx(2.0, abs=0.15)
    assert res[-1] < 1e-3 * np.abs(residual(x, t, steps[-1])[1]).max()  # the terms cancel to 1e-3 and better


def test_steepest_slope_matches_basdevant():
    """Basdevant et al. (1986): max |u_x| = 152.00516, at x = 0, t = 1.6037/pi."""
    h, t = 1e-6, np.full(2, 1.6037 / PI)
    left, right = burgers_cole_hopf(np.array([-h, h]), t)
    assert (right - left) / (2 * h) == pytest.approx(-152.00516, abs=2e-4)


def test_values_keep_the_type_shape_and_dtype():
    x, t = np.linspace(-1, 1, 12).reshape(3, 4), np.full((3, 4), 0.5)
    out = burgers_cole_hopf(x, t)
    assert isinstance(out, np.ndarray) and out.shape == (3, 4) and out.dtype == np.float64
    out = burgers_cole_hopf(torch.as_tensor(x), torch.as_tensor(t))
    assert isinstance(out, torch.Tensor) and out.shape == (3, 4) and out.dtype == torch.float64
    single = burgers_cole_hopf(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(t, dtype=torch.float32))
    assert single.dtype == torch.float32 and torch.allclose(single.double(), out, atol=1e-6)
    assert burgers_cole_hopf(np.float64(0.5), np.float64(0.0)).shape == ()


def test_bad_input_is_named():
    with pytest.raises(ShapeError, match=r"x and t must have the same shape.*got x \(3,\) and t \(2,\)"):
        burgers_cole_hopf(np.zeros(3), np.zeros(2))
    with pytest.raises(ConfigError, match=r"burgers_cole_hopf.t must be finite and >= 0; got t=-0.1"):
        burgers_cole_hopf(np.zeros(2), np.array([0.0, -0.1]))
    with pytest.raises(ConfigError, match=r"burgers_cole_hopf.nu must be a finite number > 0; got nu=0"):
        burgers_cole_hopf(np.zeros(2), np.zeros(2), nu=0)
    with pytest.raises(ConfigError, match=r"burgers_cole_hopf.x must be finite"):
        burgers_cole_hopf(np.array([np.nan]), np.zeros(1))
