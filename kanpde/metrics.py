"""Error metrics on evaluation grids (the validation package adds references and convergence orders)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rel_l2", "max_abs", "errors", "centered", "rel_err"]

from collections.abc import Sequence


def rel_l2(pred: Tensor, ref: Tensor) -> float:
    """||pred - ref||_2 / ||ref||_2 over all points and components (discrete, equal weights)."""
    return float(torch.linalg.vector_norm(pred - ref) / torch.linalg.vector_norm(ref))


def max_abs(pred: Tensor, ref: Tensor) -> float:
    """max |pred - ref| over all points and components."""
    return float((pred - ref).abs().max())


def centered(pred: Tensor, ref: Tensor, columns: Sequence[int] = ()) -> tuple[Tensor, Tensor]:
    """pred and ref (n, c) with the mean over the points removed from each of ``columns`` (components
    defined up to a constant, such as a pressure); the others unchanged."""
    if not columns:
        return pred, ref
    cols = list(columns)
    pred, ref = pred.clone(), ref.clone()
    pred[:, cols] -= pred[:, cols].mean(dim=0)
    ref[:, cols] -= ref[:, cols].mean(dim=0)
    return pred, ref


def errors(
    pred: Tensor, ref: Tensor, names: Sequence[str] | None = None, centered_columns: Sequence[int] = ()
) -> dict[str, float]:
    """``{"rel_l2": ..., "max_abs": ...}`` of pred against ref, both (n, c), over all components; with
    ``names`` of c > 1 components also ``rel_l2_<name>`` and ``max_abs_<name>`` per component.
    ``centered_columns``: components compared after removing their means (see ``centered``)."""
    pred, ref = centered(pred, ref, centered_columns)
    out = {"rel_l2": rel_l2(pred, ref), "max_abs": max_abs(pred, ref)}
    if names is not None and len(names) > 1 and pred.ndim == 2 and pred.shape[1] == len(names):
        for j, name in enumerate(names):
            out[f"rel_l2_{name}"] = rel_l2(pred[:, j], ref[:, j])
            out[f"max_abs_{name}"] = max_abs(pred[:, j], ref[:, j])
    return out


def rel_err(value: float, exact: float) -> float:
    """|value - exact| / |exact| (the absolute error when exact is 0): an identified scalar's error."""
    return abs(value - exact) / (abs(exact) or 1.0)
