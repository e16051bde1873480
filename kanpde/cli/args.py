"""Flag values shared by several subcommands, parsed with one-line errors that name the flag."""

from __future__ import annotations

from kanpde.errors import ConfigError

__all__ = ["parse_width"]


def parse_width(text: str, *, flag: str = "--width") -> list[int]:
    """``"2,10,1"`` -> ``[2, 10, 1]`` (``--points 4096,16384`` is read the same way, one entry allowed)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(
            f"{flag} must be comma-separated ints such as {'2,10,1' if flag == '--width' else '4096,16384'}; got {text!r}"
        ) from None
    if flag == "--width" and (len(values) < 2 or min(values) < 1):
        raise ConfigError(f"--width needs at least two entries >= 1 (inputs, ..., outputs); got {text!r}")
    return values
