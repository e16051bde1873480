import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _float64_default():
    """Tests that assert accuracy run in float64; keep the global default untouched afterwards."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run the long end-to-end accuracy tests (on in CI)")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run in CI (CI=true) or with --run-slow; they are sized to fit CI's budget."""
    if config.getoption("--run-slow") or os.environ.get("CI", "").lower() == "true":
        return
    skip = pytest.mark.skip(reason="slow end-to-end run: use --run-slow (on in CI)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


class Interrupted(Exception):
    """Raised by the ``interrupt_at`` fixture where a run is cut off."""


def stop_at(monkeypatch, step):
    """Make the next ``solve`` write its checkpoint at optimizer step ``step`` (inside an optimizer phase)
    and raise ``Interrupted``, as a killed run would stop; ``monkeypatch`` (or one of its contexts) scopes it."""
    from kanpde.solvers.training_state import TrainingState

    record = TrainingState.record

    def recording(self, *args, **kwargs):
        record(self, *args, **kwargs)
        if self.step == step and self.optimizer is not None:
            self.checkpoint(force=True)
            raise Interrupted

    monkeypatch.setattr(TrainingState, "record", recording)


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(step)``: ``stop_at`` for the rest of the test; returns ``Interrupted``. ``interrupt_at.within``
    is ``stop_at`` itself, for a ``monkeypatch.context()``."""

    def arm(step):
        stop_at(monkeypatch, step)
        return Interrupted

    arm.within = stop_at
    arm.error = Interrupted
    return arm
