"""Why a training run stopped: a ``Status`` is a kind from a small fixed set plus a message in words.

``solve()`` returns it as ``sol.status``; ``str(sol.status)`` is the message, so ``print(sol.status)`` prints
words, and code branches on ``sol.status.kind`` instead of on the wording (in the spirit of diffrax's
``RESULTS``)::

    if sol.status.kind is StatusKind.NON_FINITE:
        ...  # the last optimizer phase met a non-finite loss; the model is its last finite state

The message says how the run ended and, where it did not run to its end, why the last optimizer phase
stopped, e.g. "time budget of 60 s reached during phase 5 of 5 (lbfgs on grid 20) after 1234 steps" or
"schedule complete (5 phases); the last optimizer phase (5 of 5, lbfgs on grid 20) stopped: line search found
no decrease along the steepest descent". ``stop_reason`` is that phase's own words alone (its ``status`` in
``Solution.phases``), whatever they are ("completed 500 steps" too).

``report.json`` keeps the message under ``"status"``, the kind under ``"status_kind"`` and the last optimizer
phase's words under ``"stop_reason"``. A run saved before kinds were written has only the message; ``Status.read``
recovers the kind from its wording (and a run saved before stop reasons has none: None).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kanpde.errors import DefinitionError

__all__ = ["Status", "StatusKind"]


class StatusKind(enum.Enum):
    """The reasons a training run stops.

    * ``COMPLETE``: every phase of the schedule ran to its own end.
    * ``TIME_BUDGET``: the time budget (seconds of training) was spent.
    * ``STEP_BUDGET``: the budget of optimizer iterations was spent.
    * ``NON_FINITE``: the last optimizer phase that ran ended on a non-finite loss; the model was rolled
      back to its last finite state (the message says at which step, and how the run ended after it).
    * ``UNKNOWN``: a run loaded from a folder whose report gives no kind this version recognises.
    """

    COMPLETE = "complete"
    TIME_BUDGET = "time_budget"
    STEP_BUDGET = "step_budget"
    NON_FINITE = "non_finite"
    UNKNOWN = "unknown"


# How the messages of each kind begin; used to read the kind of a run saved without one.
_OPENINGS = (
    ("schedule complete", StatusKind.COMPLETE),
    ("time budget of", StatusKind.TIME_BUDGET),
    ("step budget of", StatusKind.STEP_BUDGET),
    ("non-finite loss", StatusKind.NON_FINITE),
)


@dataclass(frozen=True)
class Status:
    """Why training stopped: ``kind`` (a ``StatusKind``) and ``message`` (words; ``str(status)``), and
    ``stop_reason``, why the last optimizer phase (Adam or L-BFGS) that ran stopped, in its own words
    (None: none ran, or a run saved before these were kept). Two statuses are equal when their kinds and
    messages are: the message already says what ``stop_reason`` adds, where it adds anything.

    Example: ``Status(StatusKind.STEP_BUDGET, "step budget of 150 steps reached")``.
    """

    kind: StatusKind
    message: str
    stop_reason: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, StatusKind):
            choices = ", ".join(f"StatusKind.{k.name}" for k in StatusKind)
            raise DefinitionError(f"Status.kind must be one of {choices}; got {self.kind!r}")
        if not isinstance(self.message, str) or not self.message:
            raise DefinitionError(f"Status.message must be a non-empty str (why it stopped); got {self.message!r}")
        if self.stop_reason is not None and (not isinstance(self.stop_reason, str) or not self.stop_reason):
            raise DefinitionError(
                f"Status.stop_reason must be None or a non-empty str (why the last optimizer phase stopped); got {self.stop_reason!r}"
            )

    def __str__(self) -> str:
        return self.message

    @classmethod
    def read(cls, message: str, kind: str | None = None, stop_reason: str | None = None) -> Status:
        """The status of a saved report: ``message`` (its ``"status"``), ``kind`` (its ``"status_kind"``)
        and ``stop_reason`` (its ``"stop_reason"``; None or "" in runs saved without one).

        Without a kind (a run saved before kinds were written) it is recovered from the message's
        opening words; a kind or wording this version does not know gives ``StatusKind.UNKNOWN``, with
        the message kept.
        """
        known = {k.value: k for k in StatusKind}
        if kind is not None:
            return cls(known.get(kind, StatusKind.UNKNOWN), message, stop_reason or None)
        found = next((k for opening, k in _OPENINGS if message.startswith(opening)), StatusKind.UNKNOWN)
        return cls(found, message, stop_reason or None)
