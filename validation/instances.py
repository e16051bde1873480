"""The data of the canonical instances that the FD references need: one source of truth.

The problem classes (``kanpde.problems``) and the reference builders (:mod:`kanpde.validation.references`)
both import these functions, so a coefficient or an initial condition is written down once. Each takes
points x: (n, d) as a torch tensor or a numpy array and returns (n,) values of the same kind, dtype and
device.

* ``darcy_piecewise``: a(x, y) = 1 where g(x, y) > 1.6, else 0.1, with
  g = sum_i exp(-((x - x_i)^2 + (y - y_i)^2) / s_i); f = 1 on (0, 1)^2, u = 0 on the walls.
* ``darcy_smooth``: a = 1 + 0.5 sin(2 pi x) sin(2 pi y), exact u = sin(pi x) sin(pi y), f = -div(a grad u).
* ``allen_cahn``: u(x, 0) = x^2 cos(pi x) on [-1, 1], periodic (its periodic extension has a slope jump
  of 4 at x = +-1, which is why the reference needs many Fourier modes).
"""

from __future__ import annotations

import math
from typing import Union

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "Array",
    "DARCY_PIECEWISE_CENTRES",
    "DARCY_PIECEWISE_SCALES",
    "DARCY_PIECEWISE_THRESHOLD",
    "darcy_piecewise_bump",
    "darcy_piecewise_coefficient",
    "darcy_piecewise_source",
    "darcy_smooth_coefficient",
    "darcy_smooth_exact",
    "darcy_smooth_source",
    "allen_cahn_initial",
]

Array = Union[Tensor, np.ndarray]
PI = math.pi

#: (x_i, y_i) of the five Gaussian bumps whose sum thresholds the ``darcy_piecewise`` coefficient
DARCY_PIECEWISE_CENTRES = ((0.2474, 0.7552), (0.093, 0.1109), (0.6118, 0.0431), (0.0607, 0.4144), (0.661, 0.9886))
#: s_i, the widths in exp(-r^2 / s_i)
DARCY_PIECEWISE_SCALES = (0.4846, 0.1285, 0.2794, 0.1212, 0.161)
#: a = 1 where the bump sum exceeds this value, else 0.1
DARCY_PIECEWISE_THRESHOLD = 1.6


def _ns(x: Array):
    return torch if isinstance(x, Tensor) else np


def darcy_piecewise_bump(x: Array) -> Array:
    """g(x, y) = sum_i exp(-((x - x_i)^2 + (y - y_i)^2) / s_i) at x: (n, 2); returns (n,)."""
    ns = _ns(x)
    total = 0.0 * x[:, 0]
    for (xi, yi), si in zip(DARCY_PIECEWISE_CENTRES, DARCY_PIECEWISE_SCALES):
        total = total + ns.exp(-((x[:, 0] - xi) ** 2 + (x[:, 1] - yi) ** 2) / si)
    return total


def darcy_piecewise_coefficient(x: Array) -> Array:
    """a(x, y) = 1 where g(x, y) > 1.6, else 0.1 (see :func:`darcy_piecewise_bump`); x: (n, 2) -> (n,)."""
    g = darcy_piecewise_bump(x)
    if isinstance(g, Tensor):
        return torch.where(g > DARCY_PIECEWISE_THRESHOLD, torch.ones_like(g), torch.full_like(g, 0.1))
    return np.where(g > DARCY_PIECEWISE_THRESHOLD, 1.0, 0.1)


def darcy_piecewise_source(x: Array) -> Array:
    """f = 1; x: (n, 2) -> (n,)."""
    return 0.0 * x[:, 0] + 1.0


def darcy_smooth_coefficient(x: Array) -> Array:
    """a = 1 + 0.5 sin(2 pi x) sin(2 pi y); x: (n, 2) -> (n,)."""
    ns = _ns(x)
    return 1.0 + 0.5 * ns.sin(2 * PI * x[:, 0]) * ns.sin(2 * PI * x[:, 1])


def darcy_smooth_exact(x: Array) -> Array:
    """u = sin(pi x) sin(pi y); x: (n, 2) -> (n,)."""
    ns = _ns(x)
    return ns.sin(PI * x[:, 0]) * ns.sin(PI * x[:, 1])


def darcy_smooth_source(x: Array) -> Array:
    """f = -div(a grad u) for the ``darcy_smooth`` a and u, in closed form; x: (n, 2) -> (n,).

    With a = 1 + b, b = 0.5 sin(2 pi x) sin(2 pi y): f = 2 pi^2 a u - (b_x u_x + b_y u_y).
    """
    ns = _ns(x)
    sx, sy = ns.sin(PI * x[:, 0]), ns.sin(PI * x[:, 1])
    cx, cy = ns.cos(PI * x[:, 0]), ns.cos(PI * x[:, 1])
    s2x, s2y = ns.sin(2 * PI * x[:, 0]), ns.sin(2 * PI * x[:, 1])
    c2x, c2y = ns.cos(2 * PI * x[:, 0]), ns.cos(2 * PI * x[:, 1])
    a = 1.0 + 0.5 * s2x * s2y
    b_x, b_y = PI * c2x * s2y, PI * s2x * c2y
    u_x, u_y = PI * cx * sy, PI * sx * cy
    return 2 * PI**2 * a * sx * sy - (b_x * u_x + b_y * u_y)


def allen_cahn_initial(x: Array) -> Array:
    """u(x, 0) = x^2 cos(pi x); x: (n,) or (n, d) (the first column is x) -> (n,)."""
    ns = _ns(x)
    s = x if x.ndim == 1 else x[:, 0]
    return s**2 * ns.cos(PI * s)
