"""Error metrics on evaluation grids (the validation package adds references and convergence orders)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rel_l2", "max_abs", "errors"]


def rel_l2(pred: Tensor, ref: Tensor) -> float:
    """||pred - ref||_2 / ||ref||_2 over all points and components (discrete, equal weights)."""
    return float(torch.linalg.vector_norm(pred - ref) / torch.linalg.vector_norm(ref))


def max_abs(pred: Tensor, ref: Tensor) -> float:
    """max |pred - ref| over all points and components."""
    return float((pred - ref).abs().max())


def errors(pred: Tensor, ref: Tensor) -> dict[str, float]:
    """``{"rel_l2": ..., "max_abs": ...}`` of pred against ref, both (n, c)."""
    return {"rel_l2": rel_l2(pred, ref), "max_abs": max_abs(pred, ref)}
