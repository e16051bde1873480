"""Exports and plots of inverse problems: an identified coefficient field is written beside the solution
under its name, with its truth and error, in every format (.h5, .vtu, .vti, .xdmf, its time series too);
identified scalars go into the metadata (HDF5 attributes, VTK field data); solution.png has a row per
field, unknowns.png the scalars' history against their true values; a saved run gives them back.

Oracles: the exported arrays equal ``sol.unknowns[name](x)`` at the exported points and the problem's
declared truth (``exact=``); the plotted curves equal the recorded history."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import h5py
import meshio
import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError
from kanpde.io.fields import check_names
from kanpde.io.plots import plot_solution, plot_solution_report, plot_unknowns
from kanpde.pde.registry import instance
from kanpde.problems.darcy import darcy_smooth_coefficient
from kanpde.problems.inverse import PoissonInverse

PI = math.pi


def _q_exact(x):
    return PI**2 * torch.sin(PI * x[:, 0])


class SourceInTime(kanpde.Problem):
    """u_t = u_xx + q(x) on [0, 1] x [0, 1], u = 0 at both ends, u(x, 0) = sin(pi x): with
    q = pi^2 sin(pi x) the solution stays sin(pi x). q is an unknown field of x alone."""

    domain = kanpde.Box([0.0, 0.0], [1.0, 1.0], axes=("x", "t"))
    conditions = [
        kanpde.Dirichlet("x_min", 0.0),
        kanpde.Dirichlet("x_max", 0.0),
        kanpde.Initial(lambda x: torch.sin(PI * x[:, 0])),
    ]
    q = kanpde.UnknownField("q", axes=("x",), exact=_q_exact)
    n_interior, n_boundary = 64, 32
    _at = np.random.default_rng(0).uniform(size=(40, 2))
    data = [kanpde.Data(_at, np.sin(PI * _at[:, 0]))]

    def residual(self, u, x):
        return ops.partial(u, x, "t") - ops.partial(u, x, "x", "x") - self.q(x)

    def exact(self, x):
        return torch.sin(PI * x[:, 0])

    def evaluation_grid(self):
        return self.domain.grid(9)


class SourceOnALine(kanpde.Problem):
    """-u'' = q on [0, 1], u = 0 at both ends; q = pi^2 sin(pi x) gives u = sin(pi x)."""

    domain = kanpde.Interval(0.0, 1.0)
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    q = kanpde.UnknownField("q", exact=_q_exact)
    n_interior, n_boundary = 32, 2
    data = [kanpde.Data(np.linspace(0.1, 0.9, 9)[:, None], np.sin(PI * np.linspace(0.1, 0.9, 9)))]

    def residual(self, u, x):
        return -ops.partial(u, x, 0, 0) - self.q(x)

    def exact(self, x):
        return torch.sin(PI * x[:, 0])


def _solve(problem, model, steps=3, **kwargs):
    return kanpde.solve(problem, model=model, steps=steps, progress=False, **kwargs)


@pytest.fixture(scope="module")
def darcy():
    """darcy_inverse (a coefficient field a with its truth), a few steps of a small MLP."""
    return _solve(instance("darcy_inverse"), kanpde.MLP([2, 6, 1]), n_interior=64, n_boundary=32)


class SmallPoissonInverse(PoissonInverse):
    """poisson_inverse measured on a 33 x 33 grid (its own 256 x 256 one makes the history slow for a test);
    its name is the built-in's, so a saved run loads as poisson_inverse."""

    def evaluation_grid(self):
        return self.domain.grid(33)


@pytest.fixture(scope="module")
def poisson():
    """poisson_inverse (the scalar c, true 2), a few steps of a small KAN (with refinements)."""
    return _solve(SmallPoissonInverse(), kanpde.KAN([2, 3, 1], grid=3), steps=6, n_interior=64, n_boundary=32)


@pytest.fixture(scope="module")
def in_time():
    return _solve(SourceInTime(), kanpde.MLP([2, 6, 1]), constraints="soft")  # loads without its problem


def _a(sol, x):
    return sol.unknowns["a"](np.ascontiguousarray(x))[:, 0]


def _truth(x):
    return darcy_smooth_coefficient(torch.as_tensor(x)).numpy()


# --- the field in every format ---------------------------------------------------------------------------
def test_h5_holds_the_field_its_truth_and_its_error(darcy, tmp_path):
    kanpde.export(darcy, tmp_path / "d.h5", resolution=9)
    with h5py.File(tmp_path / "d.h5", "r") as f:
        x = f["points"][()]
        a, ref, err = (f[f"fields/{n}"][()] for n in ("a", "reference_a", "error_a"))
        assert a.shape == ref.shape == err.shape == (81,)
        np.testing.assert_allclose(a, _a(darcy, x), rtol=0, atol=1e-14)
        np.testing.assert_allclose(ref, _truth(x), rtol=0, atol=1e-14)
        np.testing.assert_allclose(err, a - ref, rtol=0, atol=1e-14)
        assert np.ptp(a) > 0 or np.ptp(ref) > 0.5  # the truth varies: a constant export would not match it
        assert {"u", "reference", "error", "residual"} <= set(f["fields"])
        assert json.loads(f.attrs["unknowns"]) == {"a": "field"}
        assert f.attrs["rel_l2_a"] == darcy.errors["rel_l2_a"]
        assert json.loads(f.attrs["metadata"])["unknowns"] == {"a": "field"}


def test_vtu_and_vti_hold_the_field(darcy, tmp_path, read_vti):
    kanpde.export(darcy, tmp_path / "d.vtu", resolution=9)
    mesh = meshio.read(tmp_path / "d.vtu")
    x = mesh.points[:, :2]
    assert mesh.point_data["a"].shape == (81,)
    np.testing.assert_allclose(mesh.point_data["a"], _a(darcy, x), rtol=0, atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["reference_a"], _truth(x), rtol=0, atol=1e-14)
    assert mesh.field_data == {}  # no scalars identified: no field data

    kanpde.export(darcy, tmp_path / "d.vti", resolution=9)
    points, arrays = read_vti(tmp_path / "d.vti")
    assert arrays["a"].shape == (81, 1)
    np.testing.assert_allclose(arrays["a"][:, 0], _a(darcy, points[:, :2]), rtol=0, atol=1e-14)
    np.testing.assert_allclose(arrays["error_a"][:, 0], arrays["a"][:, 0] - _truth(points[:, :2]), atol=1e-14)


def test_xdmf_time_series_has_the_field_at_every_step(in_time, tmp_path):
    written = kanpde.export(in_time, tmp_path / "s.xdmf", resolution=(5, 4))
    assert [p.name for p in written] == ["s.xdmf", "s.h5"]
    root = ET.parse(tmp_path / "s.xdmf").getroot()
    steps = root.findall(".//Grid[@GridType='Uniform']")
    assert len(steps) == 4
    for grid in steps:
        assert {a.get("Name") for a in grid.findall("Attribute")} >= {"u", "q", "reference_q", "error_q"}
    with h5py.File(tmp_path / "s.h5", "r") as f:
        space, times = f["mesh/points"][()][:, :1], f["times"][()]
        assert f["fields/q"].shape == (20,)
        for k, t in enumerate(times):
            x = np.concatenate([space, np.full_like(space, t)], axis=1)
            q = f[f"steps/{k}/q"][()]
            np.testing.assert_allclose(q, in_time.unknowns["q"](x)[:, 0], rtol=0, atol=1e-14)
            np.testing.assert_allclose(f[f"steps/{k}/reference_q"][()], PI**2 * np.sin(PI * space[:, 0]), atol=1e-13)
        # q is a field of x alone: the same at every time slice
        np.testing.assert_array_equal(f["steps/0/q"][()], f[f"steps/{len(times) - 1}/q"][()])


def test_a_run_loaded_without_its_problem_exports_the_field_without_a_truth(in_time, tmp_path):
    in_time.save(tmp_path / "run")
    loaded = kanpde.load(tmp_path / "run")  # a user's class: no problem comes back
    assert loaded.problem is None
    kanpde.export(loaded, tmp_path / "s.h5", resolution=5)
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert {"u", "q"} <= set(f["fields"]) and "reference_q" not in f["fields"]
        np.testing.assert_allclose(f["fields/q"][()], in_time.unknowns["q"](f["points"][()])[:, 0], atol=1e-14)


def test_an_unknown_field_named_like_another_array_is_refused():
    with pytest.raises(ConfigError, match="the array 'error' of unknown field 'error' has the name of component 'u'"):
        check_names(("u",), {}, ("error",))
    with pytest.raises(
        ConfigError, match="the array 'residual' of unknown field 'residual' has the name of the residual"
    ):
        check_names(("u", "v"), {}, ("residual",))
    check_names(("u",), {}, ("a", "q"))


# --- scalars in the metadata -----------------------------------------------------------------------------
def test_scalars_go_into_the_metadata_of_every_format(poisson, tmp_path, read_vti):
    c = poisson.unknowns["c"]
    assert isinstance(c, float) and c != 1.0  # trained away from its first guess
    kanpde.export(poisson, tmp_path / "p.h5", resolution=5)
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert f.attrs["unknown_c"] == c and f.attrs["exact_c"] == 2.0
        assert f.attrs["rel_err_c"] == pytest.approx(abs(c - 2.0) / 2.0, rel=1e-12)
        assert json.loads(f.attrs["unknowns"]) == {"c": c}
        meta = json.loads(f.attrs["metadata"])
        assert meta["unknowns"] == {"c": c} and meta["unknowns_exact"] == {"c": 2.0}
        assert "c" not in f["fields"]
    kanpde.export(poisson, tmp_path / "p.vtu", resolution=5)
    assert meshio.read(tmp_path / "p.vtu").field_data["c"].ravel().tolist() == [c]
    kanpde.export(poisson, tmp_path / "p.vti", resolution=5)
    _, arrays = read_vti(tmp_path / "p.vti")
    assert arrays["c"].tolist() == [[c]]  # VTK field data: one tuple
    vti = ET.parse(tmp_path / "p.vti").getroot()
    assert [a.get("Name") for a in vti.find("ImageData/FieldData")] == ["c"]


# --- save and load ------------------------------------------------------------------------------------------
def test_load_gives_the_same_unknowns(darcy, poisson, tmp_path):
    for name, sol in (("d", darcy), ("p", poisson)):
        sol.save(tmp_path / name)
    loaded = kanpde.load(tmp_path / "p")
    assert loaded.unknowns == {"c": poisson.unknowns["c"]}
    x = np.random.default_rng(1).uniform(size=(50, 2))
    np.testing.assert_array_equal(kanpde.load(tmp_path / "d").unknowns["a"](x), darcy.unknowns["a"](x))
    assert kanpde.load(tmp_path / "d").errors["rel_l2_a"] == darcy.errors["rel_l2_a"]


# --- plots --------------------------------------------------------------------------------------------------
def _panel(fig, title):
    (ax,) = [ax for ax in fig.axes if ax.images and ax.get_title() == title]
    return ax.images[0].get_array()


def test_solution_plot_has_a_row_for_the_field(darcy):
    fig = plot_solution(darcy, resolution=9)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    rel = darcy.errors["rel_l2_a"]
    assert titles == [
        "u",
        "reference",
        "|u - reference|",
        "a (identified)",
        "a: exact",
        f"|a - exact|, rel L2 {rel:.2e}",
    ]
    x = kanpde.Box([0, 0], [1, 1]).grid(9).points()
    np.testing.assert_allclose(_panel(fig, "a (identified)"), _a(darcy, x).reshape(9, 9).T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(_panel(fig, "a: exact"), _truth(x).reshape(9, 9).T, rtol=0, atol=1e-14)


class NoTruth(SourceInTime):
    """SourceInTime with q declared without its truth."""

    q = kanpde.UnknownField("q", axes=("x",))


def test_a_field_without_its_truth_has_a_row_with_blank_panels():
    sol = _solve(NoTruth(), kanpde.MLP([2, 4, 1]), steps=1)
    fig = plot_solution(sol, resolution=5)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["u", "reference", "|u - reference|", "q (identified)"]
    blank = [ax for ax in fig.axes if not ax.axison]
    assert len(blank) == 2 and not any(ax.images for ax in blank)


def test_a_field_on_a_line_is_a_row_of_curves():
    sol = _solve(SourceOnALine(), kanpde.MLP([1, 4, 1]), steps=2)
    fig = plot_solution(sol, resolution=11)
    left = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert [[t.get_text() for t in ax.get_legend().get_texts()] for ax in left] == [
        ["u", "reference"],
        ["q (identified)", "q: exact"],
    ]
    x = np.linspace(0, 1, 11)[:, None]
    np.testing.assert_allclose(left[1].get_lines()[0].get_ydata(), sol.unknowns["q"](x)[:, 0], rtol=0, atol=1e-14)
    titles = [ax.get_title() for ax in fig.axes]
    assert f"|q - exact|, rel L2 {sol.errors['rel_l2_q']:.2e}" in titles


def test_the_history_of_the_scalars_against_their_truth(poisson):
    fig = plot_unknowns(poisson)
    (ax,) = fig.axes
    entries = [h for h in poisson.history if "unknowns" in h]
    assert len(entries) >= 3
    line, truth = ax.get_lines()[:2]
    np.testing.assert_array_equal(line.get_xdata(), [h["step"] for h in entries])
    np.testing.assert_array_equal(line.get_ydata(), [h["unknowns"]["c"] for h in entries])
    assert line.get_ydata()[-1] == poisson.unknowns["c"]
    assert list(truth.get_ydata()) == [2.0, 2.0] and truth.get_linestyle() == "--"
    assert ax.get_title() == f"c = {poisson.unknowns['c']:.6g} (true 2, rel err {poisson.errors['rel_err_c']:.2e})"


def test_the_report_writes_unknowns_png_only_with_scalars(poisson, darcy, tmp_path):
    written = plot_solution_report(poisson, tmp_path / "p", resolution=9)
    assert [p.name for p in written] == ["solution.png", "history.png", "unknowns.png", "kan.png"]
    assert (tmp_path / "p" / "unknowns.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_unknowns(darcy) is None  # a field only: its row is in solution.png
    written = plot_solution_report(darcy, tmp_path / "d", resolution=9)
    assert [p.name for p in written] == ["solution.png", "history.png"]
