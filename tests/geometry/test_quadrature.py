"""Quadrature rules (``kanpde.geometry.quadrature``): what the energy form integrates with.

Oracles: a Gauss rule of n points per axis integrates polynomials of degree 2n - 1 per axis exactly; on a
smooth integrand its error falls at order 2n with the cell size (the observed order is measured); across
a jump, splitting the cut cells shrinks the error with the finest cell size; Monte Carlo weights sum to
the domain's volume.
"""

import math

import numpy as np
import pytest

import kanpde
from kanpde.errors import ConfigError
from kanpde.geometry.quadrature import box_quadrature, cut_cells, domain_quadrature, gauss_legendre, monte_carlo


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_gauss_is_exact_for_polynomials_up_to_degree_2n_minus_1(order):
    q = box_quadrature([0.0, -1.0], [2.0, 1.0], 3, order)
    deg = 2 * order - 1
    values = q.points[:, 0] ** deg * q.points[:, 1] ** (deg - 1)
    exact = 2 ** (deg + 1) / (deg + 1) * 2 / deg  # int_0^2 x^deg dx * int_-1^1 y^(deg - 1) dy (deg - 1 even)
    assert q.integrate(values) == pytest.approx(exact, rel=1e-12)
    # one degree more is not exact in general
    too_high = q.points[:, 0] ** (deg + 1)
    assert abs(q.integrate(too_high) - 2 ** (deg + 2) / (deg + 2) * 2) > 1e-10


@pytest.mark.parametrize("order", [1, 2, 3])
def test_gauss_cells_converge_at_order_2n_on_a_smooth_integrand(order):
    exact = (math.e - 1) * 2 * (math.exp(0.5) - 1)  # int_0^1 int_0^1 exp(x + y / 2)

    def error(cells):
        q = box_quadrature([0.0, 0.0], [1.0, 1.0], cells, order)
        return abs(q.integrate(np.exp(q.points[:, 0] + 0.5 * q.points[:, 1])) - exact)

    observed = math.log2(error(2) / error(4))
    assert observed == pytest.approx(2 * order, abs=0.1)


def test_splitting_cut_cells_shrinks_the_error_across_a_jump():
    """The area of a quarter disk of radius 0.8 from its indicator: first order in the finest cell size."""
    phi = lambda x: x[:, 0] ** 2 + x[:, 1] ** 2 - 0.64  # noqa: E731
    exact = math.pi * 0.64 / 4
    errors = []
    for levels in range(5):
        q = box_quadrature([0.0, 0.0], [1.0, 1.0], 16, 2, split=[phi], levels=levels)
        assert q.weights.sum() == pytest.approx(1.0, rel=1e-13)  # splitting keeps the total measure
        errors.append(abs(q.integrate((phi(q.points) < 0).astype(float)) - exact))
    assert errors[-1] < errors[0] / 8
    assert "interface cells split 4x" in box_quadrature([0, 0], [1, 1], 16, 2, split=[phi], levels=4).rule


def test_cut_cells_finds_the_cells_an_interface_crosses():
    lower = np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.5, 0.5]])
    size = np.full((4, 2), 0.5)
    cut = cut_cells(lower, size, [lambda x: x[:, 0] - 0.7])
    assert cut.tolist() == [False, True, False, True]
    assert not cut_cells(lower, size, []).any()


def test_monte_carlo_weights_sum_to_the_volume_and_domain_quadrature_chooses_the_rule():
    disk = kanpde.Disk([0.0, 0.0], 1.0)
    q = monte_carlo(disk, 4096)
    assert q.weights.sum() == pytest.approx(math.pi, rel=2e-3)
    assert np.all(disk.contains(q.points))
    assert domain_quadrature(disk, 1000).rule.startswith("sobol Monte Carlo")
    box = domain_quadrature(kanpde.Box([0, 0], [2, 1]), 1600, order=2)
    assert box.rule == "gauss 2 on 20^2 cells" and box.weights.sum() == pytest.approx(2.0)
    line = domain_quadrature(kanpde.Interval(0, 3), 30, order=3)
    assert line.size == 30 and line.integrate(line.points[:, 0] ** 5) == pytest.approx(3**6 / 6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gauss_legendre(0), "order must be an int >= 1"),
        (lambda: box_quadrature([0], [1], 0), "cells must be >= 1"),
        (lambda: box_quadrature([0], [1], 4, levels=-1), "levels must be an int >= 0"),
        (lambda: domain_quadrature(kanpde.Interval(0, 1), 0), "an int >= 1"),
    ],
)
def test_bad_quadrature_arguments_name_the_field(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_a_mesh_integrates_on_its_own_cells_exactly_for_quadratics():
    mesh = kanpde.MeshDomain.grid([0.0, 0.0], [2.0, 1.0], [4, 3])
    q = domain_quadrature(mesh, 10)
    assert q.rule == f"degree 2 on {len(mesh.cells)} mesh cells" and q.size == 3 * len(mesh.cells)
    x, y = q.points[:, 0], q.points[:, 1]
    assert q.integrate(x**2 + x * y + 1) == pytest.approx(8 / 3 + 1 + 2, rel=1e-13)
    cube = kanpde.MeshDomain.grid([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2, 2, 2])
    q3 = domain_quadrature(cube, 10)
    assert q3.integrate(q3.points[:, 0] * q3.points[:, 2] + q3.points[:, 1] ** 2) == pytest.approx(
        1 / 4 + 1 / 3, rel=1e-13
    )
