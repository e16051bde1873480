"""The command line with a system (``kovasznay``: u, v, p and the vector velocity): ``kanpde solve`` reports
the components and the errors of each, exports them as named arrays and plots a row per component;
``kanpde export DIR`` of the saved run writes the same arrays again, and ``sol.derivative`` works on it.
Oracle: the arrays equal ``sol(x)`` of the loaded run and the exact Kovasznay flow."""

import json

import h5py
import meshio
import numpy as np
import pytest
import torch

import kanpde
from kanpde.cli import main
from kanpde.problems.navier_stokes import kovasznay_exact


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "kov"
    # the KAN's recipe builds u and v (function-valued walls) into the surrogate, per component
    args = ["solve", "kovasznay", "--width", "2,4,3", "--steps", "2", "--export", "h5"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    return out


def test_solve_reports_the_components_and_their_errors(run, capsys):
    report = json.loads((run / "report.json").read_text())
    assert report["components"] == ["u", "v", "p"] and report["axes"] == ["x", "y"]
    assert report["vectors"] == {"velocity": ["u", "v"]}
    assert all(isinstance(report[f"{k}_{c}"], float) for k in ("rel_l2", "max_abs") for c in "uvp")
    assert {"solution.png", "solution.h5"} <= {p.name for p in run.iterdir()}
    assert report["constraints"].startswith("hard (u: dirichlet")


def test_the_exported_arrays_are_the_components_of_the_saved_run(run):
    sol = kanpde.load(run)  # a built-in: its problem comes back, and with it the reference
    with h5py.File(run / "solution.h5", "r") as f:
        x = f["points"][()]
        assert {"u", "v", "p", "velocity", "reference_u", "error_velocity", "residual_2"} <= set(f["fields"])
        u = sol(x)
        for j, name in enumerate("uvp"):
            np.testing.assert_allclose(f[f"fields/{name}"][()], u[:, j], rtol=0, atol=1e-13)
        np.testing.assert_allclose(f["fields/velocity"][()][:, :2], u[:, :2], rtol=0, atol=1e-13)
        exact = kovasznay_exact(torch.as_tensor(x)).numpy()
        np.testing.assert_allclose(f["fields/reference_v"][()], exact[:, 1], rtol=0, atol=1e-13)
        # p is compared up to a constant: its reference is the exact one shifted to the mean of p
        shift = f["fields/reference_p"][()] - exact[:, 2]
        np.testing.assert_allclose(shift, u[:, 2].mean() - exact[:, 2].mean(), rtol=0, atol=1e-12)


def test_export_of_the_saved_run(run, tmp_path):
    assert main(["export", str(run), "--format", "vtu", "--resolution", "9", "--out", str(tmp_path)]) == 0
    mesh = meshio.read(tmp_path / "solution.vtu")
    x = mesh.points[:, :2]
    sol = kanpde.load(run)
    np.testing.assert_allclose(mesh.point_data["p"], sol(x)[:, 2], rtol=0, atol=1e-13)
    velocity = mesh.point_data["velocity"]
    assert velocity.shape == (81, 3) and np.all(velocity[:, 2] == 0)
    vorticity = sol.derivative(x, "x", component="v") - sol.derivative(x, "y", component="u")
    assert vorticity.shape == (81, 1) and np.isfinite(vorticity).all()
