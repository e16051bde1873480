"""The reference registry: exact solutions first, registered builders cached in HDF5, clear errors."""

import math

import h5py
import numpy as np
import pytest
import torch

import kanpde
from kanpde.errors import ConfigError
from kanpde.geometry.box import Box
from kanpde.problems.darcy import darcy_piecewise_coefficient
from kanpde.validation import (
    Reference,
    cache_path,
    darcy_fv,
    load_reference,
    poisson_fd,
    reference,
    register_reference,
)
from kanpde.validation.reference import cache as refs
from kanpde.validation.reference.interpolate import interpolate_periodic, lagrange_weights

PI = math.pi


@pytest.fixture(autouse=True)
def _private_registry_and_cache(monkeypatch, tmp_path):
    """Each test registers into a copy of the registry and caches under its own folder."""
    monkeypatch.setattr(refs, "_REGISTRY", dict(refs._REGISTRY))
    monkeypatch.setenv("KANPDE_CACHE", str(tmp_path))


def smooth(x):
    return torch.sin(PI * x[:, 0]) * torch.exp(x[:, 1])


def smooth_source(x):
    return (1 - PI**2) * smooth(x)


def register_smooth(calls):
    def build(resolution, *, device=None, shift=0.0):
        calls.append(resolution)
        sol = poisson_fd(smooth_source, lambda x: smooth(x) + shift, Box([0.0, 0.0], [1.0, 1.0]), resolution)
        return Reference.from_grid(sol.grid, sol.values + shift, method=sol.method, wall_s=sol.wall_s)

    register_reference("smooth_box", build, resolution=64, min_resolution=4, params={"shift": 0.0})


def test_exact_solution_comes_first():
    x = torch.rand(50, 2, dtype=torch.float64) * 2 - 1
    expected = (torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])).reshape(-1, 1)
    assert torch.allclose(reference("poisson_sin", x), expected, atol=1e-15)
    assert torch.allclose(reference(kanpde.problems.Poisson.sin(), x), expected, atol=1e-15)


def test_registered_reference_is_built_once_then_read_from_the_cache(tmp_path):
    calls = []
    register_smooth(calls)
    x = torch.rand(200, 2, dtype=torch.float64)
    first = reference("smooth_box", x)
    assert first.shape == (200, 1) and first.dtype == torch.float64
    assert float((first[:, 0] - smooth(x)).abs().max()) < 2e-3  # O(h^2) at h = 1/64, interpolation included
    second = reference("smooth_box", x)
    assert calls == [64] and torch.equal(first, second)
    assert cache_path() == tmp_path / "references.h5" and cache_path().exists()
    reference("smooth_box", x, resolution=32)
    reference("smooth_box", x, params={"shift": 1.0}, resolution=32)
    assert calls == [64, 32, 32]
    with h5py.File(cache_path(), "r") as f:
        assert len(f["smooth_box"]) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["references.h5"]  # no temporary files left behind
    loaded = load_reference("smooth_box", resolution=32, params={"shift": 1.0})
    assert loaded.resolution == 32 and loaded.params == {"shift": 1.0} and "dst-I" in loaded.method


def test_cache_can_be_turned_off_or_moved(tmp_path):
    calls = []
    register_smooth(calls)
    x = torch.rand(10, 2, dtype=torch.float64)
    reference("smooth_box", x, resolution=8, cache=False)
    reference("smooth_box", x, resolution=8, cache=False)
    assert calls == [8, 8] and not cache_path().exists()
    other = tmp_path / "sub" / "mine.h5"
    reference("smooth_box", x, resolution=8, cache=other)
    reference("smooth_box", x, resolution=8, cache=other)
    assert calls == [8, 8, 8] and other.exists()


def test_an_unreadable_cache_is_rebuilt_with_a_warning(caplog):
    calls = []
    register_smooth(calls)
    cache_path().write_bytes(b"not an hdf5 file")
    x = torch.rand(10, 2, dtype=torch.float64)
    reference("smooth_box", x, resolution=8)
    assert calls == [8] and "unreadable" in caplog.text
    reference("smooth_box", x, resolution=8)
    assert calls == [8]


def test_darcy_piecewise_reference_matches_the_solver_at_cell_centres():
    ref = load_reference("darcy_piecewise", resolution=16)
    sol = darcy_fv(darcy_piecewise_coefficient, 1.0, n=16, device="cpu")
    centres = Box([0.0, 0.0], [1.0, 1.0]).grid(16, cells=True)
    values = ref(torch.as_tensor(centres.points()))
    assert torch.allclose(values.reshape(16, 16), sol.cells, atol=1e-14)
    assert "fv5/pcg" in ref.method
    walls = ref(torch.tensor([[0.0, 0.3], [1.0, 1.0], [0.5, 0.0]]))
    assert torch.equal(walls, torch.zeros(3, 1, dtype=torch.float64))


def test_allen_cahn_reference_through_the_registry():
    ref = load_reference("allen_cahn", resolution=256)
    assert ref.kind == "periodic" and ref.params == {"eps": 1e-4, "reaction": 5.0}
    x = ref.axes[0][::8]
    t = np.full_like(x, ref.axes[1][37])
    at_nodes = ref(np.stack([x, t], axis=1))[:, 0].numpy()
    assert np.abs(at_nodes - ref.values[::8, 37]).max() < 1e-13  # trigonometric interpolation is exact at nodes
    xs = torch.linspace(-1, 1, 33, dtype=torch.float64)
    start = ref(torch.stack([xs, torch.zeros_like(xs)], dim=1))[:, 0]
    assert torch.equal(start, xs**2 * torch.cos(PI * xs))  # t = 0 is the initial condition itself


def test_periodic_interpolation_is_spectral_in_x_and_cubic_in_t():
    n, levels = 16, np.linspace(0.0, 1.0, 6)
    nodes = -1 + 2 * np.arange(n) / n

    def field(x, t):
        return (1 + t - 2 * t**3) * (np.cos(3 * PI * x) + 0.2 * np.sin(5 * PI * x) + 0.1 * np.cos(8 * PI * x))

    values = field(nodes[:, None], levels[None, :])
    rng = np.random.default_rng(0)
    points = np.stack([rng.uniform(-3, 3, 500), rng.uniform(0, 1, 500)], axis=1)  # x beyond one period
    out = interpolate_periodic(nodes, levels, values, points)
    assert np.abs(out - field(points[:, 0], points[:, 1])).max() < 1e-12
    w = lagrange_weights(levels, np.array([0.0, 0.2, 0.93]))
    assert np.allclose(w.sum(axis=1), 1.0) and w[1, 1] == 1.0 and np.count_nonzero(w[1]) == 1


def test_errors_say_how_to_fix_them():
    x = torch.rand(4, 2, dtype=torch.float64)
    with pytest.raises(ConfigError, match=r"unknown problem 'poisson_sine'; known problems: .*poisson_sin"):
        reference("poisson_sine", x)
    plain = kanpde.FunctionProblem(domain=kanpde.Box([0, 0], [1, 1]), residual=lambda u, x: u)
    with pytest.raises(
        ConfigError, match=r"no reference for problem 'FunctionProblem'.*register_reference\('FunctionProblem'"
    ):
        reference(plain, x)
    with pytest.raises(
        ConfigError, match=r"reference 'darcy_piecewise': resolution must be an int >= 8; got resolution=4"
    ):
        reference("darcy_piecewise", x, resolution=4)
    with pytest.raises(
        ConfigError, match=r"reference 'allen_cahn': unknown parameters \['epsilon'\]; it takes: eps, reaction"
    ):
        load_reference("allen_cahn", params={"epsilon": 1e-3})
    with pytest.raises(ConfigError, match=r"no registered reference 'nope'"):
        load_reference("nope")
    with pytest.raises(ConfigError, match=r"must lie in the box lower=\[0.0, 0.0\], upper=\[1.0, 1.0\]; got 1 outside"):
        load_reference("darcy_piecewise", resolution=8)(torch.tensor([[0.5, 0.5], [1.5, 0.5]]))
    with pytest.raises(ConfigError, match=r"reference points must have shape \(n, 2\); got \(3,\)"):
        load_reference("darcy_piecewise", resolution=8)(torch.zeros(3))
    with pytest.raises(ConfigError, match=r"reference times must lie in \[0, 1\]"):
        load_reference("allen_cahn", resolution=64)(torch.tensor([[0.0, 1.5]]))
