"""The symbol library, and fitting a learned edge function with its symbols.

A KAN edge is a function of one variable. Once trained, many edges are recognisably ``c f(a x + b) + d``
for a simple f (Liu et al., arXiv 2404.19756, sec. 2.5.1). A :class:`Symbol` is such an f, given as a
sympy expression in one variable (it lives with the networks, :mod:`kanpde.nets.symbol`, which evaluate
it); :data:`DEFAULT_LIBRARY` holds the standard ones.

``fit_symbol(x, y, library)`` fits every symbol of a library to samples of an edge under an affine change
of input and output: a grid search over (a, b) with (c, d) by linear least squares at each node, then a
Levenberg-Marquardt polish of all four. Candidates are ranked by

    cost = log10(max(1 - R^2, r2_floor)) + complexity_weight * complexity,

so a fit better than ``r2_floor`` counts as exact and the simplest exact one wins (x beats a sine of tiny
frequency that also fits a straight line).

Practical hint: extend the library with ``DEFAULT_LIBRARY.extended(Symbol("sinh", "sinh(z)", 3))``; a
string is parsed by sympy with ``z`` as the variable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.nets.symbol import Symbol, SymbolLibrary, default_library, variable

__all__ = ["Symbol", "SymbolLibrary", "SymbolFit", "DEFAULT_LIBRARY", "fit_symbol", "Z"]

Z = variable()
"""The variable of every symbol's expression."""

DEFAULT_LIBRARY = default_library()
"""x, x^2, x^3, sin, cos, tanh, exp, log, sqrt, abs and the gaussian exp(-x^2)."""


@dataclass(frozen=True)
class SymbolFit:
    """``c f(a x + b) + d`` fitted to an edge: its symbol, parameters, R^2 and ranking cost."""

    name: str
    a: float
    b: float
    c: float
    d: float
    r2: float
    cost: float

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.a, self.b, self.c, self.d)


def fit_symbol(
    x: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    library: SymbolLibrary = DEFAULT_LIBRARY,
    *,
    complexity_weight: float = 1.0,
    r2_floor: float = 1e-10,
    search: int = 41,
    max_points: int = 512,
    polish: bool = True,
) -> list[SymbolFit]:
    """Fit every symbol of ``library`` to the samples (x, y) of an edge; best first (lowest cost).

    x, y: (n,) samples. ``search`` values of a and of b are tried in [-10, 10] on x mapped to [-1, 1]
    (so frequencies up to about 3 periods over the samples). A constant edge fits ``x`` with c = 0.
    Symbols whose value is not finite at some sample for every (a, b) are left out. ``polish=False``
    skips the Levenberg-Marquardt step (a quick ranking: R^2 at the best grid node).
    """
    xs, ys = _samples(x, y, max_points)
    lo, hi = xs.min(), xs.max()
    mid, half = (hi + lo) / 2, max((hi - lo) / 2, 1e-12)
    u = (xs - mid) / half
    sst = float(((ys - ys.mean()) ** 2).sum())
    if sst <= 1e-28 * max(1.0, float((ys**2).sum())):
        return [
            SymbolFit(
                "x",
                1.0,
                0.0,
                0.0,
                float(ys.mean()),
                1.0,
                math.log10(r2_floor) + complexity_weight * library["x"].complexity if "x" in library else 0.0,
            )
        ]
    fits = []
    for sym in library.symbols:
        found = _fit_one(sym, u if sym.inner else xs, ys, sst, search, polish)
        if found is None:
            continue
        a, b, c, d, r2 = found
        cost = math.log10(max(1.0 - r2, r2_floor)) + complexity_weight * sym.complexity
        if sym.inner:  # back to x: a u + b = (a / half) x + (b - a mid / half)
            a, b = a / half, b - a * mid / half
        fits.append(SymbolFit(sym.name, float(a), float(b), c, d, r2, cost))
    if not fits:
        raise ConfigError(
            f"no symbol of the library ({', '.join(library.names)}) is finite on the edge's inputs [{lo:.3g}, {hi:.3g}]"
        )
    return sorted(fits, key=lambda f: (f.cost, -f.r2))


def _samples(x: Tensor | np.ndarray, y: Tensor | np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=np.float64).reshape(-1)
    ys = np.asarray(y.detach().cpu() if isinstance(y, Tensor) else y, dtype=np.float64).reshape(-1)
    if xs.shape != ys.shape or xs.size < 4 or not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ConfigError(f"fit_symbol needs finite samples x, y of equal length >= 4; got {xs.size} and {ys.size}")
    if xs.size > max_points:
        order = np.argsort(xs)
        keep = order[np.linspace(0, xs.size - 1, max_points).round().astype(int)]
        xs, ys = xs[keep], ys[keep]
    return xs, ys


def _fit_one(
    sym: Symbol, u: np.ndarray, y: np.ndarray, sst: float, search: int, polish: bool = True
) -> tuple[float, float, float, float, float] | None:
    """Best (a, b, c, d, R^2) of ``c f(a u + b) + d`` on u in [-1, 1]: grid search, then Levenberg-Marquardt."""
    with np.errstate(all="ignore"):
        return _search_and_polish(sym, u, y, sst, search, starts=4 if polish else 1, polish=polish)


def _search_and_polish(
    sym: Symbol, u: np.ndarray, y: np.ndarray, sst: float, search: int, starts: int = 4, polish: bool = True
) -> tuple[float, float, float, float, float] | None:
    ut = torch.as_tensor(u)
    coarse, yc = (
        ut[:: max(1, u.size // 128)],
        torch.as_tensor(y[:: max(1, u.size // 128)]),
    )  # the search needs few points
    if sym.inner:
        grid = torch.linspace(-10.0, 10.0, search, dtype=torch.float64)
        a, b = torch.meshgrid(grid, grid, indexing="ij")
        a, b = a.reshape(-1, 1), b.reshape(-1, 1)
    else:
        a, b = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    with torch.no_grad():
        f = sym(a * coarse + b)  # (m, n)
        finite = torch.isfinite(f.sum(dim=1))  # a non-finite value (or an overflowing row) spoils the sum
        f = f[finite]
        r2 = torch.full(finite.shape, math.nan, dtype=f.dtype)
        r2[finite] = _r2_linear(f, yc)
    if not torch.isfinite(r2).any():
        return None
    ranked = torch.nan_to_num(r2, nan=-1.0)
    order, seen = [], set()
    for k in torch.argsort(ranked, descending=True).tolist():  # the best few distinct nodes (mirror twins share R^2)
        key = round(float(ranked[k]), 9)
        if key not in seen:
            seen.add(key)
            order.append(k)
        if len(order) == (starts if sym.inner else 1):
            break
    found = None
    for k in order:  # polish each: oscillating symbols have many local optima
        p0 = np.array([float(a[k]), float(b[k]), *_linear_cd(sym(a[k] * ut + b[k]), y)])
        p = _polish(sym, u, y, p0) if sym.inner and polish else p0
        with torch.no_grad():
            pred = p[2] * sym(torch.as_tensor(p[0] * u + p[1])).numpy() + p[3]
        if not np.isfinite(pred).all():
            continue
        r2_final = 1.0 - float(((pred - y) ** 2).sum()) / sst
        if found is None or r2_final > found[-1]:
            found = (float(p[0]), float(p[1]), float(p[2]), float(p[3]), r2_final)
    return found


def _r2_linear(f: Tensor, y: Tensor) -> Tensor:
    """R^2 of the best c f + d for each row of f: (m, n) -> (m,)."""
    fc = f - f.mean(dim=1, keepdim=True)
    yc = y - y.mean()
    cov = fc @ yc
    var_f = (fc * fc).sum(dim=1)
    r2 = cov**2 / (var_f * (yc @ yc))
    return torch.where(var_f > 1e-300, r2, torch.zeros_like(r2))


def _linear_cd(f: Tensor, y: np.ndarray) -> tuple[float, float]:
    fv = f.numpy()
    fc = fv - fv.mean()
    var = float(fc @ fc)
    c = float(fc @ (y - y.mean())) / var if var > 1e-300 else 0.0
    return c, float(y.mean() - c * fv.mean())


def _polish(sym: Symbol, u: np.ndarray, y: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Levenberg-Marquardt on (a, b, c, d) from p0 with the analytic Jacobian; p0 if it fails."""
    from scipy.optimize import least_squares

    def parts(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            f, df, _ = sym.torch3(torch.as_tensor(p[0] * u + p[1]))
        return f.numpy(), df.numpy()

    def residual(p: np.ndarray) -> np.ndarray:
        f, _ = parts(p)
        return p[2] * f + p[3] - y

    def jacobian(p: np.ndarray) -> np.ndarray:
        f, df = parts(p)
        return np.stack([p[2] * df * u, p[2] * df, f, np.ones_like(u)], axis=1)

    with np.errstate(all="ignore"):
        if not np.isfinite(residual(p0)).all():
            return p0
        try:
            out = least_squares(
                residual, p0, jac=jacobian, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=400
            )
        except (ValueError, np.linalg.LinAlgError):
            return p0
    ok = np.isfinite(out.x).all() and np.isfinite(residual(out.x)).all()
    return out.x if ok and (residual(out.x) ** 2).sum() <= (residual(p0) ** 2).sum() else p0
