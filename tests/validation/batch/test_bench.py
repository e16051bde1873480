"""The benchmark commands run, report every implementation asked for, and validate their input."""

import json

import pytest

from kanpde.cli import main
from kanpde.errors import ConfigError
from kanpde.validation.batch import bench


def test_step_matrix_rows_and_ratios():
    rows = bench.step_matrix(
        widths=[(2, 4, 1)],
        grid=5,
        points=64,
        dtypes=["float64"],
        impls=["kan", "kan-composed", "kan-autograd", "mlp"],
        rounds=1,
        steps_per_round=1,
    )
    assert [(r.impl, r.width) for r in rows] == [
        ("kan", [2, 4, 1]),
        ("kan-composed", [2, 4, 1]),
        ("kan-autograd", [2, 4, 1]),
        ("mlp", bench.MLP_WIDTH),
    ]
    assert all(r.ms_per_step > 0 and r.points == 64 and r.dtype == "float64" for r in rows)
    table = bench.format_steps(rows)
    assert "vs mlp" in table and "1.00x" in table


def test_bench_step_cli_json(capsys):
    assert (
        main(
            [
                "bench",
                "step",
                "--width",
                "2,3,1",
                "--grid",
                "4",
                "--points",
                "32",
                "--dtype",
                "float32",
                "--impl",
                "kan,mlp-autograd",
                "--rounds",
                "1",
                "--json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert {r["impl"] for r in rows} == {"kan", "mlp-autograd"}
    assert set(rows[0]) == {"impl", "width", "grid", "dtype", "points", "ms_per_step"}
    assert rows[0]["grid"] == 4 and rows[1]["grid"] is None


def test_bench_rejects_unknown_implementations(capsys):
    with pytest.raises(ConfigError, match="unknown implementation 'fast'"):
        bench.step_matrix(impls=["fast"])
    assert main(["bench", "step", "--points", "2"]) == 2
    assert "--points must be >= 8" in capsys.readouterr().err


@pytest.mark.skipif(bench.pykan_available(), reason="checks the message when pykan is missing")
def test_pykan_missing_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"pykan is not installed; install the bench extra"):
        bench.step_matrix(impls=["pykan"], points=16, rounds=1)


@pytest.mark.skipif(not bench.pykan_available(), reason="pykan (the bench extra) is not installed")
def test_pykan_row():
    rows = bench.step_matrix(
        widths=[(2, 3, 1)], grid=5, points=32, dtypes=["float64"], impls=["pykan"], rounds=1, steps_per_round=1
    )
    assert rows[0].impl == "pykan" and rows[0].ms_per_step > 0


def test_time_to_accuracy_reads_the_history(monkeypatch):
    rows = bench.time_to_accuracy(budget=2.0, targets=(10.0, 1e-12), models=["kan"], eval_every=0.5)
    assert (
        rows[0]["model"] == "kan" and rows[0]["seconds_to"]["10"] is not None and rows[0]["seconds_to"]["1e-12"] is None
    )
    assert "t(1e-12)" in bench.format_accuracy(rows)


def test_step_memory_grows_with_the_points():
    rows = bench.step_memory(impls=["kan"], points=(2048, 16384), width=(2, 16, 1), grid=5)
    assert [(r.impl, r.points) for r in rows] == [("kan", 2048), ("kan", 16384)]
    small, large = rows[0].peak_mb, rows[1].peak_mb
    assert small > 0 and 4 < large / small < 16  # linear in the points: 8x, give or take fixed costs
    assert "MB/1k pts" in bench.format_memory(rows)


def test_bench_memory_rejects_bad_input(capsys):
    assert main(["bench", "memory", "--points", "4096,x"]) == 2
    assert "--points must be comma-separated ints such as 4096,16384; got '4096,x'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="unknown implementation 'pykan' for the memory benchmark"):
        bench.step_memory(impls=["pykan"])


@pytest.mark.slow  # ~70 s: three symbolic runs, and formulas fitted edge by edge after them
def test_bench_symbolic_reports_formulas_and_step_times(capsys):
    assert main(["bench", "symbolic", "--budget", "1.5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["problem"], r["start_width"]) for r in rows] == [
        ("poisson_sin", [2, 5, 1]),
        ("poisson_sin", [2, 2, 1]),
        ("poisson_kan", [2, 5, 1]),
    ]
    for r in rows:
        assert r["formula_rel_l2"] is not None and r["formula_rel_l2"] >= 0
        assert r["exact"] in (True, False) and r["verdict"]
        assert r["phase_s"][0][0] == "lbfgs" and r["simplified"]  # a loaded machine may spend 1.5 s in the first phase
    assert main(["bench", "symbolic", "--budget", "0"]) == 2
