"""Checks shared by every layer: integers and numbers from user input, device and dtype names.

Each check raises :class:`~kanpde.errors.ConfigError` with the field, the value and what was expected,
so that callers only name the field (``check_int(grid, "KAN.grid", 1)``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from kanpde.errors import ConfigError

__all__ = ["is_int", "is_real", "check_int", "check_positive", "resolve_device", "resolve_dtype", "DTYPES"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def is_int(value: object) -> bool:
    """An int (numpy's included), and not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """A finite int or float, and not a bool."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def check_int(value: Any, field: str, minimum: int) -> int:
    """``value`` when it is an int >= ``minimum``; else a ConfigError naming ``field``."""
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{field} must be an int >= {minimum}; got {value!r}")
    return int(value)


def check_positive(value: object, field: str) -> float:
    """``value`` when it is a finite number > 0; else a ConfigError naming ``field``."""
    if not is_real(value) or value <= 0:  # type: ignore[operator]
        raise ConfigError(f"{field} must be a finite number > 0; got {value!r}")
    return float(value)  # type: ignore[arg-type]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` -> cuda when available, else cpu; an unavailable cuda is an error, not a fallback."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device must be 'cpu' or 'cuda' (optionally 'cuda:N'); got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but no CUDA GPU is available to torch; use device='cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'cpu' or 'cuda'; got {device!r}")
    return dev


def resolve_dtype(dtype: str | torch.dtype | None, *, default: torch.dtype = torch.float64) -> torch.dtype:
    """``"float32"``/``"float64"`` (or the torch dtypes) -> torch dtype; ``None`` -> ``default``."""
    if dtype is None:
        return default
    if dtype in DTYPES.values():
        return dtype  # type: ignore[return-value]
    if dtype not in DTYPES:
        raise ConfigError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return DTYPES[dtype]  # type: ignore[index]
