import math
import re

import numpy as np
import pytest
import torch

import kanpde
from kanpde import ops
from kanpde.errors import ConfigError, ShapeError
from kanpde.pinn.loss import Collocation


def test_box_parts_and_aliases():
    box = kanpde.Box([-1, 0], [1, 2])
    assert box.dim == 2
    assert set(box.parts) == {"x_min", "x_max", "y_min", "y_max", "left", "right", "bottom", "top", "boundary"}
    assert box.part("top") == box.part("y_max")
    assert len(box.part("boundary")) == 4
    assert kanpde.Interval(0, 1).parts == ("x_min", "x_max", "left", "right", "boundary")
    box4 = kanpde.Box([0] * 4, [1] * 4)
    assert "x3_max" in box4.parts and "left" not in box4.parts


@pytest.mark.parametrize(
    "lower, upper, err, match",
    [
        ([1, 0], [0, 1], ConfigError, r"lower < upper.*lower=\[1.0, 0.0\], upper=\[0.0, 1.0\]"),
        ([0, 0], [0, 1], ConfigError, "lower < upper"),
        ([0, 0], [1, 1, 1], ShapeError, "same length; got 2 and 3"),
        ([], [], ShapeError, "at least one dimension"),
        ([[0, 0]], [[1, 1]], ShapeError, "1-D sequence"),
        ([0, float("nan")], [1, 1], ConfigError, "finite"),
        (["a", 0], [1, 1], ConfigError, "sequence of numbers"),
    ],
)
def test_box_rejects_bad_bounds(lower, upper, err, match):
    with pytest.raises(err, match=match):
        kanpde.Box(lower, upper)


def test_unknown_part_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown boundary part 'north'.*left, right, bottom, top"):
        kanpde.Box([0, 0], [1, 1]).part("north")


def test_a_space_time_box_names_its_spatial_boundary():
    box = kanpde.Box([0, 0, 0], [1, 2, 3], axes=("x", "y", "t"))
    assert box.spacetime and box.parts[-2:] == ("boundary", "space_boundary")
    assert [f.name for f in box.part("space_boundary")] == ["x_min", "x_max", "y_min", "y_max"]
    assert len(box.part("boundary")) == 6  # "boundary" keeps the t faces
    sample = box.sample_boundary("space_boundary", 400, seed=0)
    on_x = np.isin(sample.x[:, 0], [0, 1]) & (sample.normal[:, 0] != 0)
    on_y = np.isin(sample.x[:, 1], [0, 2]) & (sample.normal[:, 1] != 0)
    assert (on_x | on_y).all() and (sample.normal[:, 2] == 0).all()
    assert ((sample.x[:, 2] >= 0) & (sample.x[:, 2] <= 3)).all()  # all times
    heat = kanpde.Box([-1, 0], [1, 1], axes=("x", "t"))
    assert [f.name for f in heat.part("space_boundary")] == ["x_min", "x_max"]


@pytest.mark.parametrize(
    "box",
    [
        kanpde.Box([0, 0], [1, 1]),  # no time axis
        kanpde.Box([0, 0], [1, 1], axes=("t", "x")),  # t first: not a space-time box
        kanpde.Interval(0, 1, axis="t"),  # time alone: no space to bound
    ],
    ids=["xy", "t-first", "t-only"],
)
def test_space_boundary_is_refused_elsewhere_with_the_parts(box):
    assert not box.spacetime and "space_boundary" not in box.parts
    parts = ", ".join(box.parts)
    with pytest.raises(ConfigError, match=r"'space_boundary' is the spatial boundary of a space-time box, whose last "):
        box.part("space_boundary")
    with pytest.raises(ConfigError, match=re.escape(f"has parts {parts}")):
        box.part("space_boundary")


def test_a_dirichlet_condition_on_the_space_boundary_samples_the_x_faces_only():
    heat = kanpde.FunctionProblem(
        domain=kanpde.Box([-1, 0], [1, 0.5], axes=("x", "t")),
        residual=lambda u, x: ops.dt(u, x) - ops.partial(u, x, 0, 0),
        conditions=[kanpde.Dirichlet("space_boundary", 0.0), kanpde.Initial(lambda x: torch.sin(math.pi * x[:, 0]))],
        n_interior=64,
        n_boundary=40,
    )
    colloc = Collocation.sample(heat, seed=0, conditions=heat.conditions)
    (walls,) = [b for b in colloc.boundary if b.condition.on == "space_boundary"]
    x, normal = walls.x.detach(), walls.normal
    assert x.shape[0] >= 40 and set(x[:, 0].tolist()) == {-1.0, 1.0}  # only on the x faces
    assert torch.equal(normal[:, 0], torch.sign(x[:, 0])) and (normal[:, 1] == 0).all()
    assert x[:, 1].min() == 0 and x[:, 1].max() == 0.5  # at all times
    with pytest.raises(
        ConfigError, match=r"unknown condition target 'space_boundary' in Dirichlet; the domain has parts"
    ):
        kanpde.FunctionProblem(
            domain=kanpde.Box([0, 0], [1, 1]),
            residual=lambda u, x: ops.laplacian(u, x),
            conditions=[kanpde.Dirichlet("space_boundary", 0.0)],
        )


@pytest.mark.parametrize("method", ["random", "sobol", "lhs", "grid"])
def test_interior_sampling_is_seeded_and_inside(method):
    box = kanpde.Box([-1, 2, 0], [1, 3, 5])
    a = box.sample(500, method=method, seed=3)
    b = box.sample(500, method=method, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape[1] == 3 and box.contains(a).all()
    if method != "grid":
        assert a.shape[0] == 500
        assert not np.array_equal(a, box.sample(500, method=method, seed=4))
    else:
        assert a.shape[0] == 8**3  # round(500 ** (1/3)) = 8 cells per axis


def test_sobol_covers_evenly():
    """Scrambled Sobol points have a lower discrepancy than pseudo-random ones."""
    from scipy.stats import qmc

    box = kanpde.Box([0, 0], [1, 1])
    sobol = qmc.discrepancy(box.sample(1024, method="sobol", seed=0))
    rand = qmc.discrepancy(box.sample(1024, method="random", seed=0))
    assert sobol < 0.2 * rand


@pytest.mark.parametrize("method", ["random", "sobol", "grid"])
def test_boundary_sampling_on_faces_with_outward_normals(method):
    box = kanpde.Box([-1, 0], [1, 4])
    s = box.sample_boundary("boundary", 400, method=method, seed=0)
    assert s.x.shape == s.normal.shape and s.x.shape[0] >= 400
    np.testing.assert_allclose(np.linalg.norm(s.normal, axis=1), 1.0)
    # each point sits on the face its normal points out of
    for axis in range(2):
        lo = s.normal[:, axis] == -1
        hi = s.normal[:, axis] == 1
        np.testing.assert_array_equal(s.x[lo, axis], box.lower[axis])
        np.testing.assert_array_equal(s.x[hi, axis], box.upper[axis])
    # faces get points in proportion to their length: the x-faces (length 4) twice the y-faces (length 2)
    on_x_faces = (np.abs(s.normal[:, 0]) == 1).sum()
    assert on_x_faces == pytest.approx(2 * (s.x.shape[0] - on_x_faces), rel=0.05)


def test_boundary_part_and_1d_faces():
    top = kanpde.Box([0, 0], [1, 1]).sample_boundary("top", 50, method="grid")
    assert (top.x[:, 1] == 1).all() and (top.normal == [0, 1]).all()
    assert top.x[:, 0].min() == 0 and top.x[:, 0].max() == 1  # corners included
    ends = kanpde.Interval(2, 5).sample_boundary("boundary", 10)
    np.testing.assert_array_equal(ends.x, [[2.0], [5.0]])
    np.testing.assert_array_equal(ends.normal, [[-1.0], [1.0]])


def test_grid_nodes_and_cells():
    box = kanpde.Box([-1, 0], [1, 1])
    g = box.grid(5)
    assert g.shape == (5, 5) and g.points().shape == (25, 2)
    np.testing.assert_allclose(g.axes[0], [-1, -0.5, 0, 0.5, 1])
    c = box.grid([4, 2], cells=True)
    np.testing.assert_allclose(c.axes[1], [0.25, 0.75])
    # last axis varies fastest: a field on the grid reshapes to grid.shape
    pts = g.points()
    np.testing.assert_array_equal(pts[:5, 0], -1)
    with pytest.raises(ConfigError, match="needs 2 point counts >= 2"):
        box.grid(1)


@pytest.mark.parametrize(
    "seed, match", [(-1, "non-negative int"), (1.5, "non-negative int"), ("0", "non-negative int")]
)
def test_bad_seed_and_method(seed, match):
    box = kanpde.Box([0], [1])
    with pytest.raises(ConfigError, match=match):
        box.sample(10, seed=seed)
    with pytest.raises(ConfigError, match="method must be one of random, sobol, lhs, grid; got 'halton'"):
        box.sample(10, method="halton")
