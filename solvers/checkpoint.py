"""Checkpoints of a training run, and resuming from one.

A run that is given a folder (``solve(..., checkpoint=DIR)``; ``kanpde solve ... --out DIR``) writes
``DIR/checkpoint.pt`` every ``checkpoint_every`` seconds of wall time, between two optimizer iterations,
after every phase and at the end. It holds all a run needs to go on as if it had never stopped: the model
(its description, since grids change, and its weights), the collocation points, the optimizer's state
(Adam's moments; L-BFGS's curvature pairs and its last point), the position in the schedule, the step
count and training clock, the random generator of the mini-batches, the loss weights (causal, balance),
the history and the phase reports so far. The file is replaced atomically (``atomic_write``): a run killed
at any moment leaves either the previous checkpoint or the new one.

``solve(..., resume=DIR)`` continues from it. With a step budget the resumed run ends with the same
weights as a run that was never interrupted; with a time budget it spends what was left of the budget.
Resuming checks that the call describes the same run (problem, network, schedule, seed, budget, dtype),
since a checkpoint of another run cannot be continued.

Practical hint: on a shared machine where jobs get killed, pass ``checkpoint_every`` a few minutes; each
checkpoint costs a few milliseconds plus the size of the history.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.io.files import atomic_write

__all__ = ["CHECKPOINT", "CHECKPOINT_FORMAT", "Checkpointing", "read_checkpoint", "check_resumable", "fingerprint"]

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


@dataclass(eq=False)
class Checkpointing:
    """Where and how often a run writes its checkpoint; ``identity`` is the run's ``fingerprint``."""

    folder: Path
    every: float
    identity: dict[str, Any]
    last_wall: float = field(default_factory=time.perf_counter)

    def due(self) -> bool:
        return time.perf_counter() - self.last_wall >= self.every

    def write(self, content: dict[str, Any]) -> None:
        """Replace the checkpoint file by ``content`` (plus the run's identity), atomically."""
        payload = {"format": CHECKPOINT_FORMAT, "identity": json.dumps(self.identity, sort_keys=True), **content}
        atomic_write(self.folder / CHECKPOINT, lambda f: torch.save(payload, f), binary=True)
        self.last_wall = time.perf_counter()


def fingerprint(**parts: Any) -> dict[str, Any]:
    """What identifies a run for resuming: JSON-ready descriptions of its problem, network, schedule, seed,
    budget and dtype (anything else may differ between the first call and the resuming one)."""
    return json.loads(json.dumps(parts, default=repr, sort_keys=True))


def read_checkpoint(folder: str | Path, identity: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint in ``folder``, checked to belong to the run that ``identity`` describes."""
    path = check_resumable(folder, "resume")
    try:
        content = torch.load(path, weights_only=True, map_location="cpu")
        version, saved = content["format"], json.loads(content["identity"])
    except Exception as err:  # torch raises a zoo of unpickling errors on a foreign or damaged file
        raise ConfigError(
            f"resume: {str(path)!r} is not a kanpde checkpoint or is damaged ({type(err).__name__}); "
            "delete it and run without resume"
        ) from None
    if version > CHECKPOINT_FORMAT:
        raise ConfigError(
            f"resume: {str(path)!r} has checkpoint format {version}; this kanpde reads up to {CHECKPOINT_FORMAT}"
        )
    differ = sorted(k for k in set(saved) | set(identity) if saved.get(k) != identity.get(k))
    if differ:
        raise ConfigError(
            f"resume: the checkpoint in {str(folder)!r} was written by a different run: its {', '.join(differ)} "
            f"differ from this call's (checkpoint: {_short(saved, differ)}; now: {_short(identity, differ)}). "
            "Resume with the same problem, model, schedule, seed, budget and dtype, or run without resume"
        )
    return content


def check_resumable(folder: str | Path, field: str) -> Path:
    """The checkpoint file in ``folder``; a ``ConfigError`` naming ``field`` when there is none to resume."""
    path = Path(folder) / CHECKPOINT
    if not path.is_file():
        if (Path(folder) / "report.json").is_file():
            why = f"{str(folder)!r} holds a finished run (report.json) and no checkpoint"
        else:
            why = f"{str(path)!r} does not exist: no run has written a checkpoint there"
        raise ConfigError(
            f"{field}: {why}; run without resume to start afresh, or pass the folder a killed run was writing to"
        )
    return path


def _short(values: dict[str, Any], keys: list[str]) -> str:
    text = ", ".join(f"{k}={json.dumps(values.get(k))}" for k in keys)
    return text if len(text) <= 200 else text[:197] + "..."


def tensors_to(obj: Any, device: torch.device, dtype: torch.dtype | None = None) -> Any:
    """``obj`` with every floating tensor moved to ``device`` (and ``dtype``); other tensors to ``device``."""
    if isinstance(obj, Tensor):
        return obj.to(device=device, dtype=dtype) if dtype is not None and obj.is_floating_point() else obj.to(device)
    if isinstance(obj, dict):
        return {k: tensors_to(v, device, dtype) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(tensors_to(v, device, dtype) for v in obj)
    return obj
