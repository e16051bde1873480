"""Grid references with a trailing component axis: (n, c) at points, exact on bilinear data, cached in HDF5."""

import h5py
import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError
from kanpde.geometry.box import Grid
from kanpde.validation.reference import Reference, cache_path, load_reference, reference, register_reference
from kanpde.validation.reference import cache as refs
from kanpde.validation.reference.interpolate import interpolate_grid


@pytest.fixture(autouse=True)
def _private_registry_and_cache(monkeypatch, tmp_path):
    """Each test registers into a copy of the registry and caches under its own folder."""
    monkeypatch.setattr(refs, "_REGISTRY", dict(refs._REGISTRY))
    monkeypatch.setenv("KANPDE_CACHE", str(tmp_path))


GRID = Grid((np.linspace(0, 1, 9), np.linspace(-1, 2, 13)))


def bilinear(points: np.ndarray) -> np.ndarray:
    """Three fields that multilinear interpolation reproduces exactly: (m, 2) -> (m, 3)."""
    x, y = points[:, 0], points[:, 1]
    return np.stack([1 + 2 * x - y, x * y, 3 - x + 0.5 * x * y], axis=1)


def test_components_interpolate_to_n_by_c_and_match_each_scalar_field():
    values = bilinear(GRID.points())  # (117, 3): flat points first, as from_grid accepts
    ref = Reference.from_grid(GRID, values)
    assert ref.values.shape == (9, 13, 3) and ref.components == 3
    pts = np.random.default_rng(0).uniform([0, -1], [1, 2], size=(50, 2))
    out = ref(torch.as_tensor(pts))
    assert out.shape == (50, 3) and out.dtype == torch.float64
    assert np.allclose(out.numpy(), bilinear(pts), atol=1e-13)
    for c in range(3):  # each column is the scalar reference of that component (to round-off)
        scalar = Reference.from_grid(GRID, values[:, c])
        assert scalar.components == 1 and torch.allclose(scalar(pts)[:, 0], out[:, c], atol=1e-14, rtol=0)
    assert interpolate_grid(ref.axes, ref.values, pts).shape == (50, 3)


def test_scalar_references_still_return_one_column():
    ref = Reference.from_grid(GRID, bilinear(GRID.points())[:, 1].reshape(GRID.shape))
    assert ref.values.shape == (9, 13) and ref(np.array([[0.5, 0.5]])).shape == (1, 1)
    assert Reference.from_grid(GRID, np.zeros((GRID.size, 1))).values.shape == (9, 13)  # (m, 1) is one field


def test_component_reference_round_trips_through_the_cache():
    calls = []

    def build(resolution, *, device=None, scale=1.0):
        calls.append(resolution)
        grid = Grid((np.linspace(0, 1, resolution + 1), np.linspace(-1, 2, resolution + 1)))
        return Reference.from_grid(grid, scale * bilinear(grid.points()), method="bilinear", wall_s=0.1)

    register_reference("three_fields", build, resolution=8, min_resolution=2, params={"scale": 1.0})
    pts = np.random.default_rng(1).uniform([0, -1], [1, 2], size=(20, 2))
    first = reference("three_fields", pts)
    second = reference("three_fields", pts)
    assert calls == [8] and first.shape == (20, 3) and torch.equal(first, second)
    with h5py.File(cache_path(), "r") as f:
        (entry,) = f["three_fields"].values()
        assert entry["values"].shape == (9, 9, 3)
    loaded = load_reference("three_fields")
    built = build(8)
    assert calls == [8, 8] and loaded.components == 3 and loaded.method == "bilinear"
    assert np.array_equal(loaded.values, built.values) and all(map(np.array_equal, loaded.axes, built.axes))
    assert np.allclose(reference("three_fields", pts, params={"scale": 2.0}).numpy(), 2 * bilinear(pts), atol=1e-13)


def test_wrong_component_shapes_are_named():
    axes = GRID.axes
    with pytest.raises(
        ConfigError, match=r"Reference.values must have shape \(9, 13\) or \(9, 13, 'c'\).*got \(9, 12, 3\)"
    ):
        Reference("grid", axes, np.zeros((9, 12, 3)))
    with pytest.raises(ConfigError, match=r"got \(9, 13, 3, 2\)"):
        Reference("grid", axes, np.zeros((9, 13, 3, 2)))
    with pytest.raises(ConfigError, match=r"Reference.values must have shape \(9, 13\) \(one entry"):
        Reference("periodic", axes, np.zeros((9, 13, 2)))  # components are a grid feature
    with pytest.raises(
        ConfigError, match=r"from_grid: values must have shape \(9, 13\) or \(9, 13, 'c'\).*got \(10,\)"
    ):
        Reference.from_grid(GRID, np.zeros(10))
