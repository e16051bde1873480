"""Convergence orders and error metrics on grids.

``convergence_order(h, err)`` is the slope p of the least-squares line log(err) = p log(h) + c: the
observed order of a method run at mesh widths h (or at 1/n for n cells). ``grid_errors`` adds the
relative H1 error to ``rel_l2`` and ``max_abs`` when derivatives are available, either given or by
second-order differences on a tensor grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.geometry.box import Grid
from kanpde.metrics import max_abs, rel_l2

__all__ = ["convergence_order", "observed_orders", "rel_h1", "grid_errors"]


def convergence_order(h: Sequence[float], errors: Sequence[float]) -> float:
    """The fitted log-log slope of errors against mesh widths h (>= 2 pairs, all positive).

    Example: errors 4e-3, 1e-3, 2.5e-4 at h = 1/16, 1/32, 1/64 give 2.0 (second order).
    """
    hs, es = _pairs(h, errors)
    slope, _ = np.polyfit(np.log(hs), np.log(es), 1)
    return float(slope)


def observed_orders(h: Sequence[float], errors: Sequence[float]) -> list[float]:
    """The order between each pair of consecutive runs: log(e_i / e_{i+1}) / log(h_i / h_{i+1})."""
    hs, es = _pairs(h, errors)
    if np.any(hs[1:] == hs[:-1]):
        raise ConfigError(f"observed_orders needs different consecutive mesh widths; got h={hs.tolist()}")
    return [float(math.log(es[i] / es[i + 1]) / math.log(hs[i] / hs[i + 1])) for i in range(hs.size - 1)]


def rel_h1(
    pred: Tensor,
    ref: Tensor,
    *,
    grid: Grid | None = None,
    grad_pred: Tensor | None = None,
    grad_ref: Tensor | None = None,
) -> float:
    """The relative H1 error sqrt(|e|^2 + |grad e|^2) / sqrt(|ref|^2 + |grad ref|^2), discrete sums.

    pred, ref: (n,) or (n, 1) values. Derivatives come from ``grad_pred``/``grad_ref``: (n, d) when
    given (for example autograd of the surrogate and the exact gradient), else from second-order
    differences on ``grid`` (a tensor grid with n = grid.size points in ``grid.points()`` order).
    Equal weights per point: use it on uniform grids.
    """
    pred, ref = pred.reshape(-1), ref.reshape(-1)
    if pred.shape != ref.shape:
        raise ConfigError(
            f"rel_h1: pred and ref must have the same number of points; got {pred.numel()} and {ref.numel()}"
        )
    if (grad_pred is None) != (grad_ref is None):
        raise ConfigError("rel_h1: give both grad_pred and grad_ref, or neither (then pass grid=)")
    if grad_pred is None:
        if grid is None:
            raise ConfigError(
                "rel_h1 needs derivatives: pass grad_pred and grad_ref, or the tensor grid= of the points"
            )
        if grid.size != pred.numel() or min(grid.shape) < 3:
            raise ConfigError(
                f"rel_h1: grid of shape {grid.shape} (>= 3 points per axis) must hold the {pred.numel()} points"
            )
        grad_pred, grad_ref = _grid_gradient(pred, grid), _grid_gradient(ref, grid)
    if grad_pred.shape != grad_ref.shape or grad_pred.shape[0] != pred.numel():
        raise ConfigError(
            f"rel_h1: grad_pred and grad_ref must both be ({pred.numel()}, d); got {tuple(grad_pred.shape)} "
            f"and {tuple(grad_ref.shape)}"
        )
    num = torch.sum((pred - ref) ** 2) + torch.sum((grad_pred - grad_ref) ** 2)
    den = torch.sum(ref**2) + torch.sum(grad_ref**2)
    return float(torch.sqrt(num / den))


def grid_errors(
    pred: Tensor,
    ref: Tensor,
    *,
    grid: Grid | None = None,
    grad_pred: Tensor | None = None,
    grad_ref: Tensor | None = None,
) -> dict[str, float]:
    """``{"rel_l2", "max_abs"}``, plus ``"rel_h1"`` when a grid or both gradients are given (see :func:`rel_h1`)."""
    pred, ref = pred.reshape(ref.shape[0], -1), ref.reshape(ref.shape[0], -1)
    out = {"rel_l2": rel_l2(pred, ref), "max_abs": max_abs(pred, ref)}
    if grad_pred is not None or grid is not None:
        out["rel_h1"] = rel_h1(pred, ref, grid=grid, grad_pred=grad_pred, grad_ref=grad_ref)
    return out


def _grid_gradient(values: Tensor, grid: Grid) -> Tensor:
    """(n, d) derivatives of grid values by second-order differences (one-sided at the ends)."""
    field = values.reshape(grid.shape)
    spacing = [torch.as_tensor(a, dtype=field.dtype, device=field.device) for a in grid.axes]
    parts = torch.gradient(field, spacing=spacing, edge_order=2)
    return torch.stack([p.reshape(-1) for p in parts], dim=1)


def _pairs(h: Sequence[float], errors: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    hs, es = np.asarray(h, dtype=np.float64).reshape(-1), np.asarray(errors, dtype=np.float64).reshape(-1)
    if hs.size != es.size or hs.size < 2:
        raise ConfigError(f"convergence_order needs h and errors of the same length >= 2; got {hs.size} and {es.size}")
    if not (np.all(hs > 0) and np.all(es > 0) and np.all(np.isfinite(es))):
        raise ConfigError(
            f"convergence_order needs positive mesh widths and positive finite errors; got h={hs.tolist()}, "
            f"errors={es.tolist()} (an error of 0 means the solution is exact: nothing to fit)"
        )
    if np.unique(hs).size < 2:
        raise ConfigError(f"convergence_order needs at least two different mesh widths; got h={hs.tolist()}")
    return hs, es
