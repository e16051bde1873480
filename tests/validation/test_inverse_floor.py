"""The statistical floor of an inverse problem (``kanpde.validation.inverse``).

Oracle: for a model linear in its parameter, values = c * g at the points, the least-squares estimate is
sum(g d) / sum(g^2) and its standard deviation sigma / |g|; 200 draws must reproduce that spread within
the sampling error of a standard deviation (about 5 % at 200 draws; 20 % allowed).
"""

import numpy as np
import pytest

from kanpde.errors import ConfigError
from kanpde.validation.inverse import least_squares_estimate, statistical_floor

G = np.sin(np.linspace(0.1, 3.0, 50))


def test_the_estimate_of_a_linear_model_is_the_closed_form():
    d = 2.0 * G + 0.01 * np.random.default_rng(3).standard_normal(G.shape)
    estimate = least_squares_estimate(lambda c: c[0] * G, d, [1.0])
    assert estimate[0] == pytest.approx(float(G @ d / (G @ G)), rel=1e-8)


def test_the_floor_of_a_linear_model_is_sigma_over_the_norm():
    floor = statistical_floor(lambda c: c[0] * G, [2.0], sigma=0.05, draws=200, seed=1)
    expected = 0.05 / np.linalg.norm(G)
    assert floor.std[0] == pytest.approx(expected, rel=0.2)
    assert floor.relative[0] == pytest.approx(floor.std[0] / 2.0)
    assert abs(floor.mean[0] - 2.0) < 4 * expected / np.sqrt(200)


def test_a_nonlinear_model_and_two_parameters():
    t = np.linspace(0, 1, 40)
    floor = statistical_floor(lambda th: th[0] * np.exp(-th[1] * t), [1.5, 0.7], sigma=1e-3, draws=20)
    assert floor.estimates.shape == (20, 2)
    assert np.all(floor.relative < 1e-2) and np.all(floor.relative > 0)


def test_bad_input_is_refused():
    with pytest.raises(ConfigError, match="sigma must be a finite number > 0"):
        statistical_floor(lambda c: c[0] * G, [1.0], sigma=0.0)
    with pytest.raises(ConfigError, match="draws must be an int >= 2"):
        statistical_floor(lambda c: c[0] * G, [1.0], sigma=0.1, draws=1)
    with pytest.raises(ConfigError, match="not finite at the truth"):
        statistical_floor(lambda c: c[0] * G / 0.0, [1.0], sigma=0.1)
