"""Viscous Burgers reference: the exact solution by the Cole-Hopf transform, evaluated by quadrature.

``u_t + u u_x = nu u_xx`` on x in [-1, 1], ``u(x, 0) = -sin(pi x)``, ``u(+-1, t) = 0``. With
``u = -2 nu theta_x / theta`` the equation becomes the heat equation for theta, whose solution is a
Gaussian convolution of ``f(y) = exp(-cos(pi y) / (2 pi nu))``. Substituting ``y = x - s z`` with
``s = sqrt(4 nu t)`` (Basdevant et al., "Spectral and finite difference solutions of the Burgers
equation", Computers & Fluids 14 (1986) 23-41):

    u(x, t) = - int sin(pi (x - s z)) exp(Phi(z)) dz / int exp(Phi(z)) dz,
    Phi(z) = -A cos(pi (x - s z)) - z^2,   A = 1 / (2 pi nu).

Both integrands are entire functions of z that decay like exp(-z^2), so the trapezoidal rule on the
real line converges geometrically (Trefethen and Weideman, "The exponentially convergent trapezoidal
rule", SIAM Review 56 (2014) 385-458): with step h its error is about ``exp(-2 pi d / h)`` times the
growth of the integrand on the strip ``|Im z| <= d``, which is at most ``exp(d^2 + A (cosh(pi s d) - 1))``.
The step is chosen from that bound for a relative error below ``exp(-36)`` (~2e-16) and the line is cut
where ``Phi`` has fallen ``46`` below its largest value; at nu = 0.01/pi and t <= 1 that takes 27 to 99
nodes per point. ``exp(+-A)`` overflows for small nu (A = 50 at the default nu is fine, A = 800 is not),
so each point's exponents are shifted by their maximum over the nodes (log-sum-exp) before ``exp``.
Measured against adaptive quadrature (scipy's QUADPACK in the unscaled variable y, tolerance 2e-14)
on 140 points of [-1, 1] x [0, 1] that crowd around the shock at x = 0, the largest difference is
2e-15; the slope at x = 0, t = 1.6037/pi is -152.00516, the value Basdevant et al. tabulate.

Why reference tables in circulation can be ~1e-2 off near the shock: the classic recipe evaluates the
same integrals with one Gauss-Hermite rule in z (weight exp(-z^2)) for every (x, t). Once the shock has
formed (t > 1/pi), the integrand near x = 0 has its mass in two peaks far out in z (at t = 1, z = +-6.5,
where exp(-z^2) ~ 1e-18 is outweighed by exp(-A cos) ~ e^50), while a q-node Gauss-Hermite rule
reaches only to about |z| = sqrt(2 q). Measured on the 256 x 101 grid, all worst near x = 0: 20 nodes
are 0.24 off, 28 nodes 0.04, 32 nodes 4e-3, 40 nodes 3e-5. Data made by a spectral or finite-difference
solver on a few hundred points suffer for another reason: their spacing (8e-3 on 256 points) is wider
than the shock (its tanh profile is 2 nu / |u| ~ 6e-3 wide). Here the rule's reach and step come from
bounds on the integrand itself, so the peaks are covered whatever x and t are.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import is_real
from kanpde.errors import ConfigError, ShapeError

__all__ = ["burgers_cole_hopf", "BURGERS_NU"]

BURGERS_NU = 0.01 / math.pi
_DROP = 46.0  # the line is cut where Phi is this far below its maximum (exp(-46) ~ 1e-20)
_ACCURACY = 36.0  # the step's error bound is exp(-36) ~ 2e-16 relative
_ROWS = 1024  # points per block (each block gets the rule its largest t needs)
_CHUNK = 2**21  # at most this many points x nodes per block (a few float64 arrays of it, ~50 MB)


def burgers_cole_hopf(x: Tensor | np.ndarray, t: Tensor | np.ndarray, nu: float = BURGERS_NU) -> Tensor | np.ndarray:
    """The exact solution of viscous Burgers with u(x, 0) = -sin(pi x), u(+-1, t) = 0, at points (x, t).

    Args:
        x: positions, any shape (a numpy array or a torch tensor); any real x (the solution is odd and
            2-periodic in x), normally [-1, 1].
        t: times >= 0, the same shape as x (t == 0 gives -sin(pi x) itself).
        nu: the viscosity (> 0); the default 0.01/pi is the canonical problem's.

    Returns:
        u: the same shape as x, a tensor (on x's device, x's floating dtype, float64 for integer x) when
        x is a tensor, else a float64 numpy array. Accurate to a few 1e-15 absolute for nu = 0.01/pi.

    The number of nodes grows with ``A pi sqrt(4 nu t)``; points are sorted by t and each block of 1024
    gets the rule its latest time needs. For nu = 0.01/pi on [-1, 1] x [0, 1], 10^5 points take about
    0.3 s on two cores and the 256 x 101 grid 0.1 s. Hint: pass all points in one call, not one at a
    time (each call has ~1 ms of set-up).
    """
    xs, ts, shape = _inputs(x, t)
    if not is_real(nu) or nu <= 0:
        raise ConfigError(f"burgers_cole_hopf.nu must be a finite number > 0; got nu={nu!r} (default 0.01/pi)")
    u = -torch.sin(math.pi * xs)
    later = torch.nonzero(ts > 0).reshape(-1)
    if later.numel():
        order = later[torch.argsort(ts[later])]
        u[order] = _quadrature(xs[order], ts[order], float(nu))
    if isinstance(x, Tensor):
        dtype = x.dtype if x.is_floating_point() else torch.float64
        return u.reshape(shape).to(x.device, dtype)
    return u.reshape(shape).numpy()


def _inputs(x: Tensor | np.ndarray, t: Tensor | np.ndarray) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """x and t as flat float64 CPU tensors (checked: same shape, finite, t >= 0), and their shape."""
    xs, ts = (torch.as_tensor(_plain(v), dtype=torch.float64).detach().cpu() for v in (x, t))
    if xs.shape != ts.shape:
        raise ShapeError(
            f"burgers_cole_hopf: x and t must have the same shape (one t per x); got x {tuple(xs.shape)} and "
            f"t {tuple(ts.shape)} (make a grid with np.meshgrid first)"
        )
    if not bool(torch.all(torch.isfinite(xs))):
        raise ConfigError("burgers_cole_hopf.x must be finite; got NaN or inf")
    if not bool(torch.all(torch.isfinite(ts) & (ts >= 0))):
        bad = ts[~(torch.isfinite(ts) & (ts >= 0))][0].item()
        raise ConfigError(f"burgers_cole_hopf.t must be finite and >= 0; got t={bad!r} (the solution starts at t=0)")
    return xs.reshape(-1), ts.reshape(-1), tuple(xs.shape)


def _plain(v: Tensor | np.ndarray) -> Tensor | np.ndarray:
    return v.detach() if isinstance(v, Tensor) else np.asarray(v, dtype=np.float64)


def _quadrature(x: Tensor, t: Tensor, nu: float) -> Tensor:
    """u at points x, t: (m,) with t > 0 increasing, in blocks that share one trapezoidal rule."""
    a = 1.0 / (2 * math.pi * nu)
    s = torch.sqrt(4 * nu * t)
    out = torch.empty_like(x)
    start = 0
    while start < x.numel():
        stop = min(x.numel(), start + _ROWS)
        z = _nodes(a, float(s[stop - 1]))  # s is increasing: the block's last point needs the most nodes
        stop = min(stop, start + max(1, _CHUNK // z.numel()))
        out[start:stop] = _ratio(x[start:stop], s[start:stop], z, a)
        start = stop
    return out


def _ratio(x: Tensor, s: Tensor, z: Tensor, a: float) -> Tensor:
    """-sum sin(pi y) exp(Phi) / sum exp(Phi) over the nodes z, y = x - s z, for points x, s: (m,)."""
    arg = math.pi * (x[:, None] - s[:, None] * z[None, :])  # (m, nodes)
    phi = -a * torch.cos(arg) - z[None, :] ** 2
    weight = torch.exp(phi - phi.max(dim=1, keepdim=True).values)  # log-sum-exp shift: the largest is 1
    return -(torch.sin(arg) * weight).sum(dim=1) / weight.sum(dim=1)


def _nodes(a: float, s: float) -> Tensor:
    """Symmetric trapezoidal nodes z_k = k h, |z_k| <= L, good for every s' <= s: (2K + 1,).

    L: beyond it Phi(z) - Phi(0) <= -z^2 + min(2 A, A pi s |z|) < -_DROP. h: the largest step with
    exp(-2 pi d / h + d^2 + A (cosh(pi s d) - 1)) <= exp(-_ACCURACY) for some strip half-width d.
    """
    lip = a * math.pi * s
    half = min(math.sqrt(2 * a + _DROP), 0.5 * (lip + math.sqrt(lip**2 + 4 * _DROP)))
    d = np.linspace(0.01, 8.0, 800)
    growth = d**2 + a * (np.cosh(np.minimum(math.pi * s * d, 700.0)) - 1)
    step = float(np.max(2 * math.pi * d / (_ACCURACY + growth)))
    k = math.ceil(half / step)
    return step * torch.arange(-k, k + 1, dtype=torch.float64)
