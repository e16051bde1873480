"""The README's table "Bad input and what it gets", command-line half: exit status 2, one line on stderr
with the exact message, and nothing written to --out (or into the run folder, for `kanpde export`).

The Python half is in tests/solvers/test_preflight.py and tests/io/test_damaged_runs.py.
"""

import pickle
import re
import shutil

import pytest
import torch

import kanpde
from kanpde.cli import main
from kanpde.io.status import Status, StatusKind
from kanpde.pde.registry import instances
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson

SOLVE = [
    (
        ["poisson"],
        f"unknown problem 'poisson'; the built-in problems are: {', '.join(sorted(instances()))} (see `kanpde list`)",
    ),
    (
        ["poisson_sin", "--width", "3,10,1"],
        "--width 3,10,1 does not fit poisson_sin: it needs 2 inputs and 1 outputs (with its constraints); "
        "use --width 2,10,1",
    ),
    (["poisson_sin", "--width", "2,x,1"], "--width must be comma-separated ints such as 2,10,1; got '2,x,1'"),
    (["poisson_sin", "--width", "2"], "--width needs at least two entries >= 1 (inputs, ..., outputs); got '2'"),
    (["poisson_sin", "--budget", "-1"], "--budget must be a number of seconds > 0; got -1"),
    (["poisson_sin", "--budget", "nan"], "--budget must be a number of seconds > 0; got nan"),
    (["poisson_sin", "--steps", "0"], "--steps must be an int >= 1 (optimizer iterations); got 0"),
    (
        ["poisson_sin", "--steps", "1", "--resume"],
        "--resume: '{out}/checkpoint.pt' does not exist: no run has written a checkpoint there; run without resume "
        "to start afresh, or pass the folder a killed run was writing to",
    ),
]


def one_line(capsys, command):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"kanpde {command}: error: "), err
    return lines[0].removeprefix(f"kanpde {command}: error: ")


@pytest.mark.parametrize("args, message", SOLVE, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_solve_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert main(["solve", *args, "--out", str(out), "--quiet"]) == 2
    assert one_line(capsys, "solve") == message.format(out=out)
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [["--width", "3,10,1"], ["--steps", "0"], ["--steps", "1", "--resume"]],
    ids=["width", "steps", "resume"],
)
def test_the_message_names_the_flag(tmp_path, capsys, args):
    assert main(["solve", "poisson_sin", *args, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert args[-1 if args[-1].startswith("--") else 0] in one_line(capsys, "solve")


def test_out_that_is_a_file_or_under_a_file(tmp_path, capsys):
    file = tmp_path / "file"
    file.write_text("keep")
    assert main(["solve", "poisson_sin", "--steps", "1", "--out", str(file), "--quiet"]) == 2
    assert one_line(capsys, "solve") == f"--out must be a folder; {str(file)!r} is a file. Choose another name"
    assert main(["solve", "poisson_sin", "--steps", "1", "--out", str(file / "sub"), "--quiet"]) == 2
    assert one_line(capsys, "solve") == (
        f"--out {str(file / 'sub')!r} cannot be created: {str(file)!r} is a file, not a folder. Choose another path"
    )
    assert file.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A run folder of poisson_sin with a fresh KAN (no training: fast)."""
    problem = Poisson.sin()
    box = [torch.as_tensor(b, dtype=torch.float64) for b in (problem.domain.lower, problem.domain.upper)]
    status = Status(StatusKind.STEP_BUDGET, "step budget of 0 steps reached")
    sol = kanpde.Solution(
        model=Surrogate(kanpde.KAN([2, 3, 1], grid=3), *box), problem=problem, status=status, errors={}
    )
    return sol.save(tmp_path_factory.mktemp("runs") / "good")


class Foreign:
    """Pickled by reference, as a user's own class would be."""


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda run: (run / "model.json").write_text("{ not json"),
            "kanpde.load({run!r}): model.json is not valid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 3 (char 2)); the file is damaged or not from kanpde: restore the run folder from a copy, "
            "or solve again",
        ),
        (
            lambda run: (run / "model.pt").write_bytes(pickle.dumps(Foreign())),
            "kanpde.load({run!r}): model.pt is a Python pickle, not the plain tensors Solution.save writes; kanpde "
            "reads weights only and never runs code from a file: pass a folder written by kanpde, or restore the run "
            "folder from a copy, or solve again",
        ),
        (
            lambda run: (run / "model.pt").write_bytes((run / "model.pt").read_bytes()[:300]),
            "kanpde.load({run!r}): model.pt is not a torch file (truncated or damaged); restore the run folder from "
            "a copy, or solve again",
        ),
    ],
    ids=["model.json", "foreign model.pt", "truncated model.pt"],
)
def test_export_of_a_damaged_run_exits_2_and_writes_nothing(saved, tmp_path, capsys, damage, message):
    run = shutil.copytree(saved, tmp_path / "run")
    damage(run)
    before = sorted(p.name for p in run.iterdir())
    assert main(["export", str(run), "--format", "h5"]) == 2
    line = one_line(capsys, "export")
    assert line == message.format(run=str(run)) and "weights_only" not in line
    assert sorted(p.name for p in run.iterdir()) == before


def test_export_to_a_damaged_run_with_out_elsewhere_writes_nothing_there(saved, tmp_path, capsys):
    run = shutil.copytree(saved, tmp_path / "run")
    (run / "model.json").write_text('{"format": 1}')
    out = tmp_path / "exports"
    assert main(["export", str(run), "--format", "vtu", "--out", str(out)]) == 2
    assert re.fullmatch(r"kanpde.load\('.*run'\): model.json has no 'surrogate' entry, .*", one_line(capsys, "export"))
    assert not out.exists()
