"""Batch validation (`kanpde validate`): suite files, reports, failure isolation, resume, parallel runs."""

import csv
import json
import re

import pytest
import torch

from kanpde.cli import main
from kanpde.errors import ConfigError
from kanpde.io.status import Status, StatusKind
from kanpde.pde.registry import instance, instances
from kanpde.validation.batch import runner
from kanpde.validation.batch.runner import run_suite
from kanpde.validation.batch.suite import load_suite, parse_suite

TINY = """
[suite]
name = "tiny"

[defaults]
model = "kan"
hidden = [4]
grid = 5
steps = 5
tol = 10.0

[[case]]
problem = "poisson_sin"
seeds = [0, 1]

[[case]]
problem = "poisson_sin"
name = "strict"
tol = 1e-9
"""
PAIR = TINY.replace("seeds = [0, 1]", "seed = 0")  # one passing case and "strict", which fails


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny cases run fastest on one thread (and do not fight other work on a busy machine)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def tiny(tmp_path, text=TINY, name="tiny.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load_suite(path)


def read_reports(folder):
    report = json.loads((folder / "report.json").read_text())
    with open(folder / "report.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return report, rows, (folder / "report.md").read_text()


def test_suite_expands_seeds_and_fills_defaults(tmp_path):
    suite = tiny(tmp_path)
    assert suite.name == "tiny"
    assert [c.id for c in suite.cases] == ["poisson_sin-kan-4-g5-s0", "poisson_sin-kan-4-g5-s1", "strict-s0"]
    case = suite.cases[1]
    assert (case.problem, case.model, case.hidden, case.grid, case.k, case.seed, case.steps, case.budget, case.tol) == (
        "poisson_sin",
        "kan",
        (4,),
        5,
        3,
        1,
        5,
        None,
        10.0,
    )
    mlp = parse_suite({"case": [{"problem": "allen_cahn", "model": "mlp", "budget": 5, "tol": 1}]}).cases[0]
    assert (mlp.hidden, mlp.grid, mlp.k, mlp.id) == ((100, 100, 100), None, None, "allen_cahn-mlp-100x100x100-s0")


def test_default_suite_covers_every_problem_with_kan_and_mlp():
    """Every forward problem; the inverse ones (with unknowns) are in the inverse suite (tests/cli/test_inverse.py)."""
    suite = load_suite()
    pairs = {(c.problem, c.model) for c in suite.cases}
    forward = [p for p in instances() if not instance(p).unknowns]
    assert pairs == {(p, m) for p in forward for m in ("kan", "mlp")}
    assert all(c.budget is not None and c.tol > 0 for c in suite.cases)
    assert max(c.budget for c in suite.cases if c.problem == "allen_cahn") >= max(
        c.budget for c in suite.cases if c.problem != "allen_cahn"
    )


def test_allen_cahn_width_takes_the_periodic_embedding(monkeypatch, tmp_path):
    seen = {}

    def fake_solve(problem, net, **kwargs):
        seen["width"] = list(net.width)
        raise RuntimeError("stop here")

    monkeypatch.setattr("kanpde.solvers.solve", fake_solve)
    case = parse_suite({"case": [{"problem": "allen_cahn", "hidden": [6], "steps": 1, "tol": 1}]}).cases[0]
    result = runner.run_case(case.as_dict(), str(tmp_path / "c"), plots=False)
    assert seen["width"] == [3, 6, 1] and result["outcome"] == "error" and result["reason"] == "RuntimeError: stop here"


BAD = [
    (
        "[[case]]\nproblem = 'poisson'\nsteps = 1\ntol = 1",
        r"bad.toml: \[\[case\]\] 1 \(poisson\): problem 'poisson' is unknown; the built-in problems are: allen_cahn, .* \(see `kanpde list`\)",
    ),
    (
        "[[case]]\nproblem = 'poisson_sin'\nsteps = 1",
        r"\[\[case\]\] 1 \(poisson_sin\): tol must be a relative L2 error > 0 such as 1e-2, here or in \[defaults\]; got None",
    ),
    ("[[case]]\nproblem = 'poisson_sin'\ntol = 1", r"no budget; set budget \(training seconds, e.g. 60\) or steps"),
    (
        "[[case]]\nproblem = 'poisson_sin'\nwidth = [2, 4, 1]\nsteps = 1\ntol = 1",
        r"unknown field\(s\) width \(give hidden layers only: hidden = \[10\]",
    ),
    (
        "[defaults]\nseeds = [0, 0]\n[[case]]\nproblem = 'poisson_sin'\nsteps = 1\ntol = 1",
        r"seeds must be a non-empty list of distinct ints >= 0.*got \[0, 0\]",
    ),
    (
        "[[case]]\nproblem = 'poisson_sin'\nmodel = 'mlp'\ngrid = 5\nsteps = 1\ntol = 1",
        r"grid applies to model = \"kan\" only; drop it or use model = \"kan\"",
    ),
    (
        "[[case]]\nproblem = 'poisson_sin'\nmodel = 'cnn'\nsteps = 1\ntol = 1",
        r"model must be \"kan\" or \"mlp\"; got 'cnn'",
    ),
    ("[[case]]\nproblem = 'poisson_sin'\nbudget = -1\ntol = 1", r"budget must be a number of seconds > 0; got -1"),
    (
        "[[case]]\nproblem = 'poisson_sin'\nsteps = 1\ntol = 1\n[[case]]\nproblem = 'poisson_sin'\nsteps = 2\ntol = 1",
        r"case id 'poisson_sin-kan-10-g5-s0' appears twice; give the cases distinct names",
    ),
    ("[defaults]\ntol = 1", r"no cases; add at least one \[\[case\]\] table"),
    (
        "[cases]\nproblem = 'poisson_sin'",
        r"unknown table\(s\) cases; a suite has \[suite\], \[defaults\] and \[\[case\]\] tables",
    ),
    ("[[case]\nproblem = 1", r"not valid TOML .*; fix the syntax"),
]


@pytest.mark.parametrize("text, match", BAD)
def test_bad_suite_files(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        tiny(tmp_path, text, name="bad.toml")


def test_missing_suite_file(tmp_path):
    with pytest.raises(ConfigError, match=r"suite file '.*nope.toml' does not exist; pass a TOML suite file"):
        load_suite(tmp_path / "nope.toml")


def test_reports_agree_and_judge_against_tolerance(tmp_path):
    out = tmp_path / "v"
    results = run_suite(tiny(tmp_path), out, workers=1)
    assert [r["outcome"] for r in results] == ["pass", "pass", "fail"]
    report, rows, md = read_reports(out)
    assert report["summary"] == {
        **report["summary"],
        "cases": 3,
        "pass": 2,
        "fail": 1,
        "pending": 0,
        "all_passed": False,
    }
    for r, row, js in zip(results, rows, report["cases"]):
        case_report = json.loads((out / "cases" / r["id"] / "report.json").read_text())
        assert (
            r["rel_l2"]
            == pytest.approx(case_report["rel_l2"])
            == pytest.approx(float(row["rel_l2"]))
            == pytest.approx(js["rel_l2"])
        )
        assert row["passed"] == str(r["rel_l2"] <= r["tol"]) == str(js["passed"])
        verdict = r"\*\*PASS\*\*" if r["passed"] else "FAIL"
        assert re.search(
            rf"\| \[{r['id']}\]\(cases/{r['id']}/\) \|.* {r['rel_l2']:.3e} \| {r['tol']:g} \| {verdict} \|", md
        )
        assert {"model.pt", "model.json", "report.json", "solution.png", "history.png", "kan.png", "result.json"} <= {
            p.name for p in (out / "cases" / r["id"]).iterdir()
        }
    assert "2 of 3 cases passed (1 above tolerance" in md and (out / "summary.png").stat().st_size > 0


def test_a_crashing_case_is_recorded_and_the_others_run(tmp_path, monkeypatch):
    real = runner._solve

    def solve_or_crash(spec, device):
        if spec.seed == 1:
            raise RuntimeError("boom")
        return real(spec, device)

    monkeypatch.setattr(runner, "_solve", solve_or_crash)
    results = run_suite(tiny(tmp_path), tmp_path / "v", workers=1, plots=False)
    assert [r["outcome"] for r in results] == ["pass", "error", "fail"]
    assert results[1]["reason"] == "RuntimeError: boom" and "boom" in results[1]["traceback"]
    _, rows, md = read_reports(tmp_path / "v")
    assert rows[1]["outcome"] == "error" and rows[1]["reason"] == "RuntimeError: boom" and "| ERROR |" in md


def test_a_diverged_run_fails():
    from types import SimpleNamespace

    case = parse_suite({"case": [{"problem": "poisson_sin", "steps": 1, "tol": 1}]}).cases[0]
    words = "non-finite loss (nan) at step 3; rolled back to the state of step 2 (phase 1 of 1, lbfgs); ..."
    sol = SimpleNamespace(errors={"rel_l2": 0.1}, status=Status(StatusKind.NON_FINITE, words))
    assert runner._judge(case, sol) == {"passed": False, "outcome": "diverged", "rel_l2": 0.1, "reason": words}
    sol = SimpleNamespace(errors={"rel_l2": 0.1}, status=Status(StatusKind.COMPLETE, "schedule complete (1 phases)"))
    assert runner._judge(case, sol)["outcome"] == "pass"  # the kind decides, not the wording
    budget = Status(StatusKind.STEP_BUDGET, "step budget of 1 steps reached")
    sol = SimpleNamespace(errors={"rel_l2": float("nan")}, status=budget)
    assert runner._judge(case, sol)["outcome"] == "diverged"


def test_rerun_resumes_and_an_interrupted_run_leaves_whole_reports(tmp_path, monkeypatch):
    out = tmp_path / "v"
    real, calls = runner._solve, []

    def counted(spec, device):
        calls.append(spec.id)
        if spec.id == "strict-s0" and len(calls) == 2:
            raise KeyboardInterrupt  # ^C during the second case
        return real(spec, device)

    monkeypatch.setattr(runner, "_solve", counted)
    suite = tiny(tmp_path, PAIR)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out, workers=1, plots=False)
    report, rows, _ = read_reports(out)  # whole files, no temporaries left behind
    assert [r["outcome"] for r in rows] == ["pass", "pending"] and report["summary"]["pending"] == 1
    assert not list(out.rglob("*.tmp")) and not (out / "cases" / "strict-s0" / "result.json").exists()
    stamp = (out / "cases" / "poisson_sin-kan-4-g5-s0" / "result.json").stat().st_mtime_ns

    results = run_suite(suite, out, workers=1, plots=False)
    assert calls == ["poisson_sin-kan-4-g5-s0", "strict-s0", "strict-s0"] and [r["outcome"] for r in results] == [
        "pass",
        "fail",
    ]
    assert [r.get("resumed", False) for r in results] == [True, False]
    assert stamp == (out / "cases" / "poisson_sin-kan-4-g5-s0" / "result.json").stat().st_mtime_ns

    changed = tiny(tmp_path, PAIR.replace("tol = 1e-9", "tol = 1e-8"), name="changed.toml")
    run_suite(changed, out, workers=1, plots=False)  # a case whose settings changed runs again
    assert calls[3:] == ["strict-s0"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the failing case asks for CUDA, which this machine has")
def test_spawned_workers_isolate_a_failing_case(tmp_path):
    text = (
        PAIR.split("[[case]]")[0]
        + '[[case]]\nproblem = "poisson_sin"\n[[case]]\nproblem = "poisson_sin"\nname = "gpu"\ndevice = "cuda"\n'
    )
    results = run_suite(tiny(tmp_path, text), tmp_path / "v", workers=2, plots=False)
    assert [r["outcome"] for r in results] == ["pass", "error"]
    assert "no CUDA GPU is available" in results[1]["reason"]


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] is not installed: pip install -e '.[cluster]'"
    )
    suite = tiny(tmp_path, PAIR)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = run_suite(suite, tmp_path / "v", scheduler=cluster.scheduler_address, plots=False)
    assert [r["outcome"] for r in results] == ["pass", "fail"]
    report, rows, _ = read_reports(tmp_path / "v")
    assert report["summary"]["pass"] == 1 and [r["id"] for r in rows] == [c.id for c in suite.cases]


def test_cli_exit_codes(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(PAIR)
    out = tmp_path / "v"
    assert main(["validate", str(path), "--out", str(out), "--workers", "1", "--no-plots"]) == 1  # "strict" fails
    assert "tiny: 1 of 2 cases passed" in capsys.readouterr().out
    only_passing = tmp_path / "pass.toml"
    only_passing.write_text(PAIR.split('[[case]]\nproblem = "poisson_sin"\nname = "strict"')[0])
    assert (
        main(["validate", str(only_passing), "--out", str(out), "--workers", "1", "--no-plots"]) == 0
    )  # resumed: nothing to run


@pytest.mark.parametrize(
    "args, match",
    [
        (["BAD"], r"\[\[case\]\] 1 \(poisson_sin\): tol must be a relative L2 error > 0"),
        (["missing.toml"], r"suite file 'missing.toml' does not exist"),
        (["GOOD", "--workers", "0"], r"--workers must be an int >= 1; got 0"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, match):
    (tmp_path / "bad.toml").write_text("[[case]]\nproblem = 'poisson_sin'\nsteps = 1\ntol = -1")
    (tmp_path / "good.toml").write_text(TINY)
    args = [{"BAD": str(tmp_path / "bad.toml"), "GOOD": str(tmp_path / "good.toml")}.get(a, a) for a in args]
    out = tmp_path / "v"
    assert main(["validate", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kanpde validate: error: ") and re.search(match, err), err
    assert not out.exists()


def test_readme_suite_example_is_a_valid_suite():
    from pathlib import Path

    from kanpde.validation.batch.suite import _toml

    text = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    suite = parse_suite(_toml().loads(block), source="README")
    assert [c.id for c in suite.cases] == [
        "poisson_kan-kan-10-g5-s0",
        "poisson_kan-kan-10-g5-s1",
        "pk-mlp-s0",
        "pk-mlp-s1",
        "Helmholtz-kan-10-g5-s0",  # a problem class named "package.module:Class"
        "Helmholtz-kan-10-g5-s1",
    ]


def test_cli_default_suite_refuses_a_file_as_out(tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("")
    assert main(["validate", "--out", str(out)]) == 2  # the shipped suite loads; --out is checked before any case runs
    assert "--out must be a folder" in capsys.readouterr().err and out.read_text() == ""
