"""Keeping freed memory in the process between training steps (glibc's malloc, Linux).

A training step allocates and frees tens of MB of tensors (jets, basis tensors, gradients). glibc's malloc
serves blocks above its mmap threshold with fresh pages from the kernel and gives them back when they are
freed, and trims the top of its heap once enough of it is free, so the next step faults the same pages
in again. Measured on the 2-core CPU machine, float32, 4096 points (``tests/results/allocator_case.py``,
three runs each way): 2,100 to 4,500 page faults per step for a KAN [2, 32, 32, 1] and 1,700 to 2,700 for
the MLP [2, 100, 100, 100, 1]; with the thresholds below, almost none, and the KAN step took 68.7 ms
instead of 78.5 (medians; the MLP's 70.8 against 71.1).

``keep_freed_memory`` raises the mmap threshold to glibc's maximum (32 MB) and the trim threshold to 1 GB,
so freed blocks stay in the process and are reused. The cost is that the process keeps its peak memory
until it exits. ``solve()`` calls it; set ``KANPDE_KEEP_MEMORY=0`` to leave malloc as it is. Elsewhere
(macOS, Windows, a libc without ``mallopt``) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

__all__ = ["keep_freed_memory"]

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 2**20  # glibc's upper limit for it on 64-bit systems
_TRIM_THRESHOLD = 2**30
_applied = False


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of returning it to the kernel (see the
    module docstring). Returns whether the setting is in force; idempotent."""
    global _applied
    if _applied:
        return True
    if os.environ.get("KANPDE_KEEP_MEMORY", "1").strip() == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) == 1
    if _applied:
        logger.debug("malloc keeps freed memory (mmap threshold 32 MB, trim threshold 1 GB)")
    return _applied
