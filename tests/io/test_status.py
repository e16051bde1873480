"""Status: a kind and a message; report.json keeps the message and adds the kind; old reports still load."""

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

import kanpde
from kanpde.errors import DefinitionError
from kanpde.io.status import Status, StatusKind

OLD_RUN = Path(__file__).parent / "data" / "format0" / "kan_poisson_sin"  # saved before status kinds were written


def test_a_status_prints_its_message_and_is_frozen():
    status = Status(StatusKind.STEP_BUDGET, "step budget of 150 steps reached")
    assert str(status) == "step budget of 150 steps reached" and f"({status})" == "(step budget of 150 steps reached)"
    assert status == Status(StatusKind.STEP_BUDGET, "step budget of 150 steps reached")
    assert status != Status(StatusKind.TIME_BUDGET, "step budget of 150 steps reached")
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.kind = StatusKind.COMPLETE


def test_a_status_refuses_a_kind_that_is_not_one_and_an_empty_message():
    with pytest.raises(DefinitionError, match=r"Status.kind must be one of StatusKind.COMPLETE, .*; got 'complete'"):
        Status("complete", "schedule complete (1 phases)")
    with pytest.raises(DefinitionError, match=r"Status.message must be a non-empty str .*; got ''"):
        Status(StatusKind.COMPLETE, "")
    with pytest.raises(DefinitionError, match=r"Status.stop_reason must be None or a non-empty str .*; got 3"):
        Status(StatusKind.COMPLETE, "schedule complete (1 phases)", 3)


def test_the_stop_reason_rides_along_without_changing_equality():
    words = (
        "schedule complete (1 phases); the last optimizer phase (1 of 1, lbfgs) stopped: line search found no decrease"
    )
    status = Status(StatusKind.COMPLETE, words, "line search found no decrease")
    assert str(status) == words and status.stop_reason == "line search found no decrease"
    assert status == Status(StatusKind.COMPLETE, words)  # kind and words decide; the reason is in the words
    assert Status.read(words, "complete", "line search found no decrease").stop_reason == status.stop_reason
    assert Status.read(words).stop_reason is None and Status.read(words, "complete", "").stop_reason is None


@pytest.mark.parametrize(
    "message, kind",
    [
        ("schedule complete (5 phases)", StatusKind.COMPLETE),
        ("time budget of 60 s reached", StatusKind.TIME_BUDGET),
        ("time budget of 1 s reached before phase 3 of 5 (lbfgs)", StatusKind.TIME_BUDGET),
        ("step budget of 150 steps reached before phase 2 of 5 (refine)", StatusKind.STEP_BUDGET),
        ("non-finite loss (nan) at step 6; rolled back to the state of step 4", StatusKind.NON_FINITE),
        ("loaded", StatusKind.UNKNOWN),
        ("completed 5 steps", StatusKind.UNKNOWN),  # a phase's words, not a run's
    ],
)
def test_the_kind_of_a_report_without_one_comes_from_its_wording(message, kind):
    assert Status.read(message) == Status(kind, message)


def test_a_kind_written_in_the_report_wins_and_an_unknown_one_is_unknown():
    assert Status.read("anything", "time_budget").kind is StatusKind.TIME_BUDGET
    words = "schedule complete (2 phases)"
    assert Status.read(words, "interrupted") == Status(StatusKind.UNKNOWN, words)  # a kind from a newer kanpde


def test_an_old_report_without_status_kind_still_loads(tmp_path):
    run = shutil.copytree(OLD_RUN, tmp_path / "old")
    report = json.loads((run / "report.json").read_text())
    assert "status_kind" not in report and report["status"] == "schedule complete (1 phases)"
    sol = kanpde.load(run)
    assert sol.status == Status(StatusKind.COMPLETE, "schedule complete (1 phases)") and sol.status.stop_reason is None
    again = json.loads((sol.save(tmp_path / "again") / "report.json").read_text())
    assert again["status"] == "schedule complete (1 phases)" and again["status_kind"] == "complete"
    assert again["stop_reason"] is None  # not known for a run saved before stop reasons were kept
    info = kanpde.load(tmp_path / "again").info
    assert "status_kind" not in info and "stop_reason" not in info  # read back as the status, not as info


def test_a_saved_run_keeps_the_message_the_kind_and_the_stop_reason(tmp_path):
    sol = kanpde.solve(kanpde.problems.Poisson.sin(), model=kanpde.KAN([2, 3, 1], grid=3), steps=3, progress=False)
    report = json.loads((sol.save(tmp_path / "run") / "report.json").read_text())
    assert report["status"] == str(sol.status) and report["status_kind"] == "step_budget"
    assert report["stop_reason"] == sol.phases[-1]["status"] == "step budget of 3 steps reached"
    assert str(sol.status).startswith("step budget of 3 steps reached during phase 5 of 5 (lbfgs on grid 20)")
    loaded = kanpde.load(tmp_path / "run").status
    assert loaded == sol.status and loaded.stop_reason == sol.status.stop_reason
    (tmp_path / "run" / "report.json").unlink()  # weights alone still load; why training stopped is unknown
    assert kanpde.load(tmp_path / "run").status.kind is StatusKind.UNKNOWN


def test_a_solution_needs_a_status_not_words(tmp_path):
    sol = kanpde.load(OLD_RUN)
    with pytest.raises(DefinitionError, match=r"Solution.status must be a kanpde.io.status.Status; got 'done'\. Wrap"):
        kanpde.Solution(model=sol.model, problem=None, status="done", errors={})
