"""Progress display: a bar on a terminal, log lines elsewhere, nothing when disabled."""

import io
import logging

from kanpde.solvers.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_bar_on_a_terminal():
    stream = FakeTTY()
    bar = Progress(10, "s", stream=stream)
    bar.update(4, loss=1.5e-3, phase="lbfgs")
    bar.update(10, loss=1e-4, rel_l2=2e-3, phase="lbfgs", grid=20)
    bar.close()
    text = stream.getvalue()
    assert "10/10 s" in text and "loss=1.000e-04" in text and "grid=20" in text


def test_log_lines_when_not_a_terminal(caplog):
    stream = io.StringIO()
    bar = Progress(100, "steps", stream=stream, log_every=0.0)
    with caplog.at_level(logging.INFO, logger="kanpde"):
        bar.update(50, loss=0.25, rel_l2=None)
    bar.close()
    assert stream.getvalue() == ""
    assert "50/100 steps loss=2.500e-01" in caplog.text and "rel_l2" not in caplog.text


def test_disabled_shows_nothing(caplog):
    stream = FakeTTY()
    bar = Progress(5, "s", enabled=False, stream=stream, log_every=0.0)
    with caplog.at_level(logging.INFO, logger="kanpde"):
        bar.update(5, loss=1.0)
    bar.close()
    assert stream.getvalue() == "" and caplog.text == ""
