"""Solution of a system: component, axis and vector names (from the problem, from a saved run without it,
from runs saved before names were recorded), ``sol.field(x)`` for post-processing with ``kanpde.ops`` and
``sol.derivative(x, ...)``. Oracles: central finite differences of ``sol(x)``; the same values after
``kanpde.load(DIR)`` without the problem; each documented error with its message."""

import json
import math

import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError, ShapeError
from kanpde.io.solution import evaluate_errors
from kanpde.io.status import Status, StatusKind
from kanpde.pde.field import Field
from kanpde.pinn.surrogate import Surrogate

PI = math.pi
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")


class Channel(kanpde.Problem):
    """A flow (u, v) and a pressure p on [0, 2] x [0, 1]; only the names, the box and an exact solution matter."""

    outputs = ("u", "v", "p")
    vectors = {"velocity": ("u", "v")}
    domain = kanpde.Box([0, 0], [2, 1], axes=("s", "n"))

    def residual(self, u, x):
        return ops.partial(u["u"], x, "s") + ops.partial(u["v"], x, "n"), ops.partial(u["p"], x, "s")

    def exact(self, x):
        return torch.stack([x[:, 1] * (1 - x[:, 1]), x[:, 0] * (2 - x[:, 0]), -2 * x[:, 0]], 1)


@pytest.fixture(scope="module")
def sol():
    problem = Channel()
    model = Surrogate(kanpde.KAN([2, 4, 3], grid=4, seed=3), torch.tensor([0.0, 0.0]), torch.tensor([2.0, 1.0]))
    return kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors=evaluate_errors(model, problem))


@pytest.fixture(scope="module")
def saved(sol, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    sol.save(folder)
    return folder


def points(n=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=gen, dtype=torch.float64) * torch.tensor([2.0, 1.0], dtype=torch.float64)


def central(sol, x, axis, h=1e-5):
    """d sol / d x_axis by central differences (error ~ h^2)."""
    e = torch.zeros(x.shape[1], dtype=x.dtype)
    e[axis] = h
    return (sol(x + e) - sol(x - e)) / (2 * h)


# --- names ---------------------------------------------------------------------------------------------------
def test_names_come_from_the_problem(sol):
    assert sol.components == ("u", "v", "p") and sol.axes == ("s", "n")
    assert sol.vectors == {"velocity": ("u", "v")}
    assert sol.layout.components == ("u", "v", "p") and sol.layout.axes == ("s", "n")
    assert set(sol.errors) == {"rel_l2", "max_abs"} | {f"{k}_{c}" for k in ("rel_l2", "max_abs") for c in "uvp"}


def test_a_saved_run_knows_its_names_and_errors_without_the_problem(sol, saved):
    report = json.loads((saved / "report.json").read_text())
    description = json.loads((saved / "model.json").read_text())
    for record in (report, description):
        assert record["components"] == ["u", "v", "p"] and record["axes"] == ["s", "n"]
        assert record["vectors"] == {"velocity": ["u", "v"]}
    assert report["rel_l2_p"] == pytest.approx(sol.errors["rel_l2_p"])
    back = kanpde.load(saved)
    assert back.problem is None
    assert (back.components, back.axes, back.vectors) == (sol.components, sol.axes, sol.vectors)
    assert back.errors == pytest.approx(dict(sol.errors))
    assert "rel_l2_u" not in back.info  # errors are errors, not run information
    # the names also survive a damaged report.json: model.json has them
    (saved / "bad").mkdir()
    for name in ("model.pt", "model.json"):
        (saved / "bad" / name).write_bytes((saved / name).read_bytes())
    (saved / "bad" / "report.json").write_text("{not json")
    with pytest.warns(UserWarning, match="report.json is not valid JSON"):
        damaged = kanpde.load(saved / "bad")
    assert damaged.components == ("u", "v", "p") and damaged.axes == ("s", "n")


def test_runs_saved_before_names_were_recorded_get_default_names(saved, tmp_path):
    for name in ("model.pt",):
        (tmp_path / name).write_bytes((saved / name).read_bytes())
    description = json.loads((saved / "model.json").read_text())
    report = json.loads((saved / "report.json").read_text())
    for record in (description, report):
        for key in ("components", "axes", "vectors"):
            record.pop(key)
    description["problem"] = None
    report.pop("problem_description", None)
    (tmp_path / "model.json").write_text(json.dumps(description))
    (tmp_path / "report.json").write_text(json.dumps(report))
    old = kanpde.load(tmp_path)
    assert old.components == ("u0", "u1", "u2") and old.axes == ("x", "y") and old.vectors == {}


def test_a_scalar_solution_has_one_component_named_u():
    problem = kanpde.FunctionProblem(domain=kanpde.Interval(0, 1), residual=lambda u, x: ops.partial(u, x, 0))
    model = Surrogate(kanpde.KAN([1, 2, 1], grid=3), torch.tensor([0.0]), torch.tensor([1.0]))
    scalar = kanpde.Solution(model=model, problem=problem, status=UNTRAINED, errors={})
    assert scalar.components == ("u",) and scalar.axes == ("x",) and scalar.vectors == {}
    x = torch.linspace(0.05, 0.95, 7, dtype=torch.float64)[:, None]
    assert scalar.derivative(x, "x").shape == (7, 1)
    np.testing.assert_allclose(scalar.derivative(x, "x"), central(scalar, x, 0)[:, :1], rtol=0, atol=1e-8)


# --- derivatives -----------------------------------------------------------------------------------------------
def test_derivatives_match_central_differences(sol):
    x = points()
    for axis, name in enumerate(("s", "n")):
        fd = central(sol, x, axis)
        np.testing.assert_allclose(sol.derivative(x, name), fd, rtol=0, atol=1e-8)  # all components: (n, 3)
        np.testing.assert_allclose(sol.derivative(x, axis, component="v"), fd[:, 1:2], rtol=0, atol=1e-8)
    second = (central(sol, x + torch.tensor([1e-4, 0.0]), 0) - central(sol, x - torch.tensor([1e-4, 0.0]), 0)) / 2e-4
    np.testing.assert_allclose(sol.derivative(x, "s", "s", component="p"), second[:, 2:], rtol=0, atol=1e-5)
    assert sol.derivative(x, component="u").equal(sol(x)[:, :1])  # no axes: the values


def test_derivative_in_chunks_and_with_numpy(sol):
    x = points(25)
    whole = sol.derivative(x, "s", "n", component=1)
    assert not whole.requires_grad and whole.shape == (25, 1)
    np.testing.assert_allclose(sol.derivative(x, "s", "n", component=1, chunk=4), whole, rtol=0, atol=1e-14)
    as_numpy = sol.derivative(x.numpy(), "n", component="u")
    assert isinstance(as_numpy, np.ndarray) and as_numpy.shape == (25, 1)
    assert sol.derivative(x[:0], "s").shape == (0, 3)
    assert not x.requires_grad  # derivative leaves the caller's points alone


def test_field_gives_a_vorticity_with_the_ops(sol):
    x = points(30)
    f = sol.field(x)
    assert isinstance(f, Field) and f.x is x and x.requires_grad
    vorticity = ops.partial(f["v"], x, "s") - ops.partial(f["u"], x, "n")
    expected = sol.derivative(x, "s", component="v") - sol.derivative(x, "n", component="u")
    np.testing.assert_allclose(vorticity.values.detach(), expected, rtol=0, atol=1e-13)
    flux = ops.div(ops.stack(f["u"], f["v"]), x)  # components stack into a vector field
    np.testing.assert_allclose(
        flux.values.detach(),
        sol.derivative(x, "s", component="u") + sol.derivative(x, "n", component="v"),
        rtol=0,
        atol=1e-13,
    )
    copied = sol.field(x.detach().numpy())  # other input is copied: differentiate with respect to f.x
    assert copied.x is not x and copied.x.requires_grad
    np.testing.assert_allclose(ops.partial(copied["p"], copied.x, "n").values.detach(), sol.derivative(x, "n")[:, 2:])


def test_a_loaded_run_differentiates_without_its_problem(sol, saved):
    back = kanpde.load(saved)
    x = points(12)
    np.testing.assert_allclose(back.derivative(x, "n", "n", component="u"), sol.derivative(x, "n", "n", component="u"))
    f = back.field(x)
    np.testing.assert_allclose(ops.partial(f["p"], x, "s").values.detach(), sol.derivative(x, "s", component="p"))


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda s, x: s.derivative(x, "x"),
            r"Solution.derivative\(x, 'x'\): no coordinate axis named 'x'; this solution's axes are 's', 'n' "
            r"\(sol.axes\), or give a column index in \[0, 2\)",
        ),
        (lambda s, x: s.derivative(x, 2), r"Solution.derivative\(x, 2\): derivative axis must be in \[0, 2\)"),
        (
            lambda s, x: s.derivative(x, "s", component="w"),
            r"Solution.derivative\(component='w'\): no component named 'w'; this solution's components are "
            r"'u', 'v', 'p' \(sol.components\)",
        ),
        (lambda s, x: s.derivative(x, "s", component=3), r"index out of range for 3 components"),
        (lambda s, x: s.derivative(x, "s", chunk=0), r"chunk must be an int >= 1"),
        (lambda s, x: s.formula(component="w"), r"Solution.formula\(component='w'\): no component named 'w'"),
    ],
)
def test_bad_names_are_explained(sol, call, match):
    with pytest.raises(ConfigError, match=match):
        call(sol, points(3))


def test_bad_points_and_no_grad_are_explained(sol):
    with pytest.raises(ShapeError, match=r"Solution.derivative\(x, 's'\) needs points of shape \(n, 2\); got \(4, 3\)"):
        sol.derivative(torch.zeros(4, 3), "s")
    with pytest.raises(ShapeError, match=r"Solution.field\(x\) needs points of shape \(n, 2\); got \(4,\)"):
        sol.field(torch.zeros(4))
    with torch.no_grad(), pytest.raises(ConfigError, match=r"autograd is off here \(torch.no_grad\(\)\)"):
        sol.field(points(3))
    with torch.no_grad():  # derivative turns autograd on for itself
        assert sol.derivative(points(3), "s").shape == (3, 3)
