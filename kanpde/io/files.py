"""Files written whole or not at all, and JSON that never holds NaN."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write", "jsonable"]


def atomic_write(path: Path, write: Any, *, binary: bool = False, by_name: bool = False) -> None:
    """Write a file through ``write(fileobj)`` under a temporary name, then rename it into place.

    by_name: call ``write(tmp_path)`` instead, for writers that open the file themselves (h5py,
    meshio). Either way an existing ``path`` is replaced only by a complete file, and an exception
    (or KeyboardInterrupt) in ``write`` removes the temporary file and leaves ``path`` as it was.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # the mode open() would give, not mkstemp's owner-only 0o600
        if by_name:
            os.close(fd)
            write(Path(tmp))
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        else:
            with os.fdopen(fd, "wb" if binary else "w") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's file mode creation mask (read by setting it, so 0o022 while it is read)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def jsonable(obj: Any) -> Any:
    """Replace non-finite floats by None and numpy scalars by Python ones, recursively."""
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
