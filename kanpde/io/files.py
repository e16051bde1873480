"""Files written whole or not at all, and JSON that never holds NaN."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from kanpde.errors import ConfigError

__all__ = ["atomic_write", "jsonable", "check_output_folder"]


def check_output_folder(path: str | os.PathLike[str], field: str) -> Path:
    """``path`` as a folder that files can be written into (it may not exist yet), checked before any work:
    not a file, not under a file, and writable where it (or its nearest existing parent) is. Creates nothing.
    A ``ConfigError`` names ``field``, the path and the fix."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{field} must be a folder; {str(folder)!r} is a file. Choose another name")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(
            f"{field} {str(folder)!r} cannot be created: {str(existing)!r} is a file, not a folder. Choose another path"
        )
    if existing.exists() and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{field} {str(folder)!r} is not writable: no permission to write in {str(existing)!r}. "
            "Choose a folder you can write to"
        )
    return folder


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
