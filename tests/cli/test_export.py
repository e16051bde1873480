"""The command line's exports: `kanpde solve ... --export`, `kanpde export DIR`, and bad input that writes nothing."""

import re

import h5py
import meshio
import numpy as np
import pytest

import kanpde
from kanpde.cli import main

RUN_FILES = [
    "history.png",
    "kan.png",
    "model.json",
    "model.pt",
    "report.json",
    "solution.h5",
    "solution.png",
    "solution.vtu",
    "solution.xdmf",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    args = [
        "solve",
        "poisson_sin",
        "--width",
        "2,3,1",
        "--steps",
        "3",
        "--export",
        "vtu,h5",
        "--export",
        "xdmf",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    return out


def test_solve_exports_and_plots_into_the_run_folder(run):
    assert sorted(p.name for p in run.iterdir()) == RUN_FILES
    sol = kanpde.load(run)
    mesh = meshio.read(run / "solution.vtu")
    assert mesh.points.shape == (256 * 256, 3)  # poisson_sin's evaluation grid
    np.testing.assert_allclose(mesh.point_data["u"], sol(mesh.points[:, :2])[:, 0], rtol=0, atol=1e-14)
    with h5py.File(run / "solution.h5", "r") as f:
        assert f.attrs["problem"] == "poisson_sin"
    assert meshio.read(run / "solution.xdmf").points.shape == (256 * 256, 2)


def test_export_a_saved_run(run, tmp_path, capsys):
    assert main(["export", str(run), "--format", "vti", "--resolution", "9"]) == 0
    assert (run / "solution.vti").is_file() and "solution.vti" in capsys.readouterr().out
    target = tmp_path / "elsewhere" / "p.vtu"
    assert main(["export", str(run), "--format", "vtu", "--resolution", "5", "--out", str(target)]) == 0
    sol = kanpde.load(run)
    mesh = meshio.read(target)
    np.testing.assert_allclose(mesh.point_data["u"], sol(mesh.points[:, :2])[:, 0], rtol=0, atol=1e-14)
    assert main(["export", str(run), "--format", "h5,vtu", "--resolution", "5", "--out", str(tmp_path / "both")]) == 0
    assert sorted(p.name for p in (tmp_path / "both").iterdir()) == ["solution.h5", "solution.vtu"]


def test_export_on_a_mesh_file(run, tmp_path):
    g = np.linspace(-1, 1, 4)
    pts = np.array([[x, y, 0.0] for x in g for y in g])
    quads = np.array(
        [[4 * i + j, 4 * (i + 1) + j, 4 * (i + 1) + j + 1, 4 * i + j + 1] for i in range(3) for j in range(3)]
    )
    meshio.write(tmp_path / "m.vtu", meshio.Mesh(pts, [("quad", quads)]))
    assert (
        main(
            [
                "export",
                str(run),
                "--format",
                "xdmf",
                "--mesh",
                str(tmp_path / "m.vtu"),
                "--out",
                str(tmp_path / "on_mesh.xdmf"),
            ]
        )
        == 0
    )
    back = meshio.read(tmp_path / "on_mesh.xdmf")
    np.testing.assert_allclose(back.point_data["u"], kanpde.load(run)(pts[:, :2])[:, 0], rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--format", "vtk"], r"--format must be one of vtu, vti, xdmf, h5 \(several: comma-separated\); got 'vtk'"),
        (["--format", "vtu", "--resolution", "1"], r"--resolution must be an int >= 2 .* got 1"),
        (
            ["--format", "vtu", "--mesh", "missing.msh"],
            r"--mesh 'missing.msh' does not exist; pass a mesh file meshio reads",
        ),
        (
            ["--format", "vtu", "--mesh", "{cube}"],
            r"--mesh .*cube.vtu: mesh 'cube.vtu' is 3-D \(its cells are tetra\) but the problem has 2 space dimension\(s\)",
        ),
        (
            ["--format", "vti", "--mesh", "{cube}"],
            r"--format vti: a \.vti file is a uniform grid and cannot hold a mesh",
        ),
        (["--format", "h5", "--out", "{tmp}/x.vtu"], r"--out '.*x.vtu' is a \.vtu file but --format asks for h5"),
        (
            ["--format", "vtu", "--mesh", "{cube}", "--resolution", "5"],
            r"--mesh replaces the grid that --resolution sets",
        ),
    ],
)
def test_export_bad_input_exits_2_and_writes_nothing(run, tmp_path, capsys, args, match):
    cube = tmp_path / "cube.vtu"
    meshio.write(cube, meshio.Mesh(np.eye(4, 3), [("tetra", np.array([[0, 1, 2, 3]]))]))
    before = sorted(p.name for p in run.iterdir())
    args = [a.format(cube=cube, tmp=tmp_path) for a in args]
    assert main(["export", str(run), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kanpde export: error: ") and re.search(match, err), err
    assert sorted(p.name for p in run.iterdir()) == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "cube.vtu"
    ]


def test_export_of_a_missing_run(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nothing"), "--format", "vtu"]) == 2
    assert "model.pt is missing" in capsys.readouterr().err


def test_solve_with_a_bad_export_format_trains_nothing_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["solve", "poisson_sin", "--steps", "1", "--export", "vtu,paraview", "--out", str(out), "--quiet"]) == 2
    assert (
        "--export must be one of vtu, vti, xdmf, h5 (several: comma-separated); got 'paraview'"
        in capsys.readouterr().err
    )
    assert not out.exists()


def test_solve_no_plots(tmp_path):
    out = tmp_path / "run"
    assert (
        main(["solve", "poisson_sin", "--width", "2,2,1", "--steps", "1", "--no-plots", "--out", str(out), "--quiet"])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.pt", "report.json"]
