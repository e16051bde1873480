"""Progress of long work: a tqdm bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

__all__ = ["Progress"]

logger = logging.getLogger("kanpde")


class Progress:
    """Shows how far a run of ``total`` units (seconds or steps) has come.

    Args:
        total: the amount of work, in ``unit``.
        unit: ``"s"`` or ``"steps"``.
        enabled: ``True``/``False`` forces the display on or off; ``None`` shows a bar when ``stream``
            is a terminal and otherwise logs a line (logger ``"kanpde"``, level INFO) every
            ``log_every`` seconds of wall time.
    """

    def __init__(
        self,
        total: float,
        unit: str,
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        log_every: float = 10.0,
        desc: str = "training",
    ) -> None:
        stream = stream or sys.stderr
        self.total, self.unit, self.log_every = total, unit, log_every
        self._bar = None
        self._last_log = time.perf_counter()
        self._enabled = enabled is not False
        tty = bool(getattr(stream, "isatty", lambda: False)())
        if self._enabled and (enabled or tty):
            from tqdm.auto import tqdm

            fmt = "{l_bar}{bar}| {n:.0f}/{total:.0f} " + unit + " [{elapsed}<{remaining}{postfix}]"
            self._bar = tqdm(total=total, desc=desc, file=stream, bar_format=fmt, dynamic_ncols=True, leave=True)

    def update(self, done: float, **info: Any) -> None:
        """Set the amount done and the figures shown beside it (loss, error, phase, ...)."""
        if not self._enabled:
            return
        text = {k: (f"{v:.3e}" if isinstance(v, float) else v) for k, v in info.items() if v is not None}
        if self._bar is not None:
            self._bar.n = min(done, self.total)
            self._bar.set_postfix(text, refresh=True)
            return
        now = time.perf_counter()
        if now - self._last_log >= self.log_every:
            self._last_log = now
            details = " ".join(f"{k}={v}" for k, v in text.items())
            logger.info("%.0f/%.0f %s %s", done, self.total, self.unit, details)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
