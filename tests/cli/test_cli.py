"""The command line: `kanpde list`, `kanpde solve`, and bad input that writes nothing."""

import json
import re
import subprocess
import sys

import pytest

import kanpde
from kanpde.cli import main
from kanpde.pde.registry import instances


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "poisson_sin" in out and "poisson_kan" in out


def test_solve_writes_a_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["solve", "poisson_sin", "--width", "2,4,1", "--steps", "5", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    for key in (
        "problem",
        "model",
        "rel_l2",
        "max_abs",
        "wall_s",
        "steps",
        "time_per_step_s",
        "device",
        "dtype",
        "seed",
        "history",
    ):
        assert key in report
    assert report["problem"] == "poisson_sin" and report["steps"] == 5 and report["dtype"] == "float64"
    # the recipe refines within the 5 steps: one each on G = 5 and 10 (a quarter of the budget, at least one)
    assert report["model"] == {**report["model"], "kind": "kan", "width": [2, 4, 1], "grid": 20}
    assert "rel_l2=" in capsys.readouterr().out
    sol = kanpde.load(out)
    assert sol.errors["rel_l2"] == pytest.approx(report["rel_l2"])


def test_solve_mlp_with_seed_and_dtype(tmp_path):
    out = tmp_path / "mlp"
    assert (
        main(
            [
                "solve",
                "poisson_sin",
                "--model",
                "mlp",
                "--width",
                "2,8,1",
                "--steps",
                "3",
                "--seed",
                "4",
                "--dtype",
                "float32",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert report["model"]["kind"] == "mlp" and report["seed"] == 4 and report["dtype"] == "float32"


@pytest.mark.parametrize(
    "args, match",
    [
        (
            ["solve", "poisson"],
            re.escape(f"unknown problem 'poisson'; the built-in problems are: {', '.join(sorted(instances()))}"),
        ),
        (
            ["solve", "poisson_sin", "--width", "3,10,1"],
            r"--width 3,10,1 does not fit poisson_sin.*use --width 2,10,1",
        ),
        (
            ["solve", "poisson_sin", "--width", "2,x,1"],
            "--width must be comma-separated ints such as 2,10,1; got '2,x,1'",
        ),
        (["solve", "poisson_sin", "--budget", "0"], "--budget must be a number of seconds > 0; got 0"),
        (["solve", "poisson_sin", "--steps", "0"], r"--steps must be an int >= 1 \(optimizer iterations\); got 0"),
        (["solve", "poisson_sin", "--grid", "0"], "KAN.grid must be an int >= 1; got 0"),
        (["solve", "poisson_sin", "--model", "mlp", "--grid", "10"], "--grid applies to --model kan only"),
        (["solve", "poisson_sin", "--seed", "-2"], "KAN.seed must be an int >= 0; got -2"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, match):
    out = tmp_path / "run"
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kanpde solve: error: ")
    assert re.search(match, err), err
    assert not out.exists()


def test_out_must_not_be_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep")
    assert main(["solve", "poisson_sin", "--steps", "1", "--out", str(target)]) == 2
    assert "--out must be a folder" in capsys.readouterr().err and target.read_text() == "keep"


def test_argparse_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", "poisson_sin", "--out", "x", "--budget", "5", "--steps", "3"])
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "kanpde", "list"], capture_output=True, text=True, check=True)
    assert "poisson_kan" in done.stdout
