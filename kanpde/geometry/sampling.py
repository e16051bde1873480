"""Collocation points in boxes: uniform grid, pseudo-random, Sobol and Latin hypercube.

Every sampler takes an explicit seed (an ``int`` or a ``numpy.random.Generator``); nothing reads or
changes a global random state. Quasi-random sets come from :mod:`scipy.stats.qmc` (scrambled Sobol,
Owen 1998; Latin hypercube, McKay et al. 1979); they cover a box more evenly than pseudo-random points,
which lowers the quadrature error of a mean-squared residual for the same number of points.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal

import numpy as np

from kanpde.errors import ConfigError

__all__ = ["METHODS", "Method", "Seed", "sample_box", "as_rng"]

Method = Literal["random", "sobol", "lhs", "grid"]
METHODS: tuple[str, ...] = ("random", "sobol", "lhs", "grid")
Seed = int | np.random.Generator


def as_rng(seed: Seed, *, field: str = "seed") -> np.random.Generator:
    """A numpy Generator from an int seed (or the Generator itself)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"{field} must be a non-negative int or a numpy Generator; got {seed!r}")
    return np.random.default_rng(int(seed))


def check_method(method: str, *, field: str = "method") -> str:
    if method not in METHODS:
        raise ConfigError(f"{field} must be one of {', '.join(METHODS)}; got {method!r}")
    return method


def unit_samples(n: int, d: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in the unit cube ``[0, 1]^d``, shape (n, d), float64.

    ``"grid"`` returns the cell centres of a uniform grid with ``m = round(n ** (1/d))`` cells per
    axis, so it holds ``m**d`` points (the nearest such count to ``n``), strictly inside the cube.
    """
    check_method(method)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"the number of points must be an int >= 1; got {n!r}")
    if d == 0:
        return np.zeros((n, 0))
    if method == "random":
        return rng.random((n, d))
    if method == "grid":
        m = max(1, round(n ** (1.0 / d)))
        centres = (np.arange(m) + 0.5) / m
        mesh = np.meshgrid(*([centres] * d), indexing="ij")
        return np.stack([a.ravel() for a in mesh], axis=1)
    from scipy.stats import qmc

    engine = qmc.Sobol(d, scramble=True, rng=rng) if method == "sobol" else qmc.LatinHypercube(d, rng=rng)
    with warnings.catch_warnings():
        # Sobol' balance is best at powers of two; any n is still a low-discrepancy prefix.
        warnings.filterwarnings("ignore", message=".*balance properties.*")
        return engine.random(n)


def sample_box(lower: np.ndarray, upper: np.ndarray, n: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in the box ``[lower, upper]``, shape (n, d), float64 (see :func:`unit_samples`)."""
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    return lower + unit_samples(n, lower.size, method, rng) * (upper - lower)


def split_count(n: int, weights: np.ndarray) -> np.ndarray:
    """Split ``n`` into integer parts proportional to ``weights`` (largest remainder), each >= 1."""
    weights = np.asarray(weights, dtype=np.float64)
    share = n * weights / weights.sum()
    counts = np.floor(share).astype(int)
    for i in np.argsort(-(share - counts))[: n - counts.sum()]:
        counts[i] += 1
    return np.maximum(counts, 1)


def grid_nodes(lower: np.ndarray, upper: np.ndarray, n: int) -> np.ndarray:
    """The (n**d, d) nodes of a uniform grid with ``n`` points per axis over ``[lower, upper]`` (boundary
    included), the last axis varying fastest."""
    axes = [np.linspace(a, b, n) for a, b in zip(lower, upper)]
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)


def rejection_sample(
    inside: Callable[[np.ndarray], np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
    n: int,
    method: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n`` points of a region (``inside``: (m, d) -> (m,) boolean) from its bounding box, shape (n, d).

    Sobol points come from one scrambled sequence drawn in batches until ``n`` are inside, so the accepted
    points keep the sequence's order and evenness; ``"random"`` and ``"lhs"`` draw fresh batches the same
    way; ``"grid"`` takes the cell centres inside a uniform grid whose inside count is about ``n``.
    """
    check_method(method)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"the number of points must be an int >= 1; got {n!r}")
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    d = lower.size
    probe = sample_box(lower, upper, 4096, "random", np.random.default_rng(0))
    fraction = float(inside(probe).mean())
    if fraction == 0:
        raise ConfigError("the domain has no interior points in its bounding box (an empty shape?)")
    if method == "grid":
        m = max(1, round((n / fraction) ** (1.0 / d)))
        x = lower + unit_samples(m**d, d, "grid", rng) * (upper - lower)
        return x[inside(x)]
    engine = None
    if method == "sobol":
        from scipy.stats import qmc

        engine = qmc.Sobol(d, scramble=True, rng=rng)
    chunks, have = [], 0
    while have < n:
        draw = int((n - have) / fraction * 1.1) + 64
        if engine is not None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*balance properties.*")
                u = engine.random(draw)
        else:
            u = unit_samples(draw, d, method, rng)
        x = lower + u * (upper - lower)
        x = x[inside(x)]
        chunks.append(x)
        have += x.shape[0]
    return np.concatenate(chunks)[:n]
