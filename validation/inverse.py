"""The statistical floor of an inverse problem: how well any method can identify its unknowns from noisy data.

With the exact forward model ``values = forward(theta)`` at the observation points and Gaussian noise of
standard deviation sigma, the least-squares estimate of theta scatters around the truth; its spread over
noise draws is the floor no identification can beat on average. A physics-informed solve that fits the same
observations is judged against it (README, Results: an error within 2x the floor).

    floor = statistical_floor(lambda c: c * u1, [2.0], sigma=0.02, draws=20)
    floor.std          # per-parameter spread of the estimate (absolute)
    floor.estimate(d)  # the least-squares estimate for one set of observed values d
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kanpde.checks import check_int, check_positive
from kanpde.errors import ConfigError

__all__ = ["Floor", "statistical_floor", "least_squares_estimate"]

Forward = Callable[[np.ndarray], np.ndarray]


def least_squares_estimate(forward: Forward, observed: np.ndarray, start: Sequence[float]) -> np.ndarray:
    """theta minimising |forward(theta) - observed|^2 (``scipy.optimize.least_squares``, from ``start``)."""
    from scipy.optimize import least_squares

    start = np.asarray(start, dtype=np.float64)
    fit = least_squares(lambda theta: forward(theta) - observed, start, x_scale=np.maximum(np.abs(start), 1e-12))
    return fit.x


@dataclass(frozen=True)
class Floor:
    """The least-squares estimates over noise draws (``estimates``: (draws, p)), their ``mean`` and ``std``
    (p,), the truth ``theta`` and the noise level ``sigma``; ``relative`` is std / |theta|."""

    theta: np.ndarray
    sigma: float
    estimates: np.ndarray
    forward: Forward

    @property
    def mean(self) -> np.ndarray:
        return self.estimates.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        return self.estimates.std(axis=0, ddof=1)

    @property
    def relative(self) -> np.ndarray:
        return self.std / np.where(self.theta == 0, 1.0, np.abs(self.theta))

    def estimate(self, observed: np.ndarray) -> np.ndarray:
        """The least-squares estimate from one set of observed values (e.g. the noisy data a solve saw)."""
        return least_squares_estimate(self.forward, np.asarray(observed, dtype=np.float64).reshape(-1), self.theta)


def statistical_floor(
    forward: Forward, theta: Sequence[float], sigma: float, *, draws: int = 20, seed: int = 0
) -> Floor:
    """The spread of the least-squares estimate of ``theta`` from ``forward(theta)`` plus Gaussian noise of
    standard deviation ``sigma``, over ``draws`` noise draws (from ``seed``)."""
    theta = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    sigma = check_positive(sigma, "statistical_floor sigma")
    draws = check_int(draws, "statistical_floor draws", 2)
    clean = np.asarray(forward(theta), dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(clean)):
        raise ConfigError("statistical_floor: forward(theta) is not finite at the truth; check the forward model")
    rng = np.random.default_rng(seed)
    estimates = np.stack(
        [least_squares_estimate(forward, clean + sigma * rng.standard_normal(clean.shape), theta) for _ in range(draws)]
    )
    return Floor(theta, sigma, estimates, forward)
