"""The P1 finite-element reference: second order in L2 (a fitted log-log slope) in 2-D and 3-D, on structured
meshes and on gmsh meshes of a disk; linear fields reproduced exactly (the patch test), natural conditions on
the parts left free, interpolation, and the errors it documents."""

import math

import numpy as np
import pytest
import torch

from kanpde.errors import ConfigError, ShapeError
from kanpde.geometry import Disk
from kanpde.geometry.mesh import MeshDomain
from kanpde.validation.reference.convergence import convergence_order
from kanpde.validation.reference.fem import FESolution, solve_p1


def sines(x: torch.Tensor) -> torch.Tensor:
    return torch.prod(torch.sin(math.pi * x), dim=1)


def darcy_a(x: torch.Tensor) -> torch.Tensor:
    return 1 + 0.5 * torch.sin(2 * math.pi * x[:, 0]) * torch.sin(2 * math.pi * x[:, 1])


def source(u, a):
    """f = -div(a grad u) by autograd, for the exact solution u and coefficient a (functions of points)."""

    def f(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        flux = a(x)[:, None] * torch.autograd.grad(u(x).sum(), x, create_graph=True)[0]
        div = sum(torch.autograd.grad(flux[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(x.shape[1]))
        return -div.detach()

    return f


def test_second_order_in_2d_with_a_variable_coefficient():
    """darcy_smooth's equation on the unit square: -div(a grad u) = f, u = sin(pi x) sin(pi y)."""
    hs, errors = [], []
    for n in (8, 16, 32, 64):
        sol = solve_p1(MeshDomain.grid([0, 0], [1, 1], n), source(sines, darcy_a), a=darcy_a)
        hs.append(1 / n)
        errors.append(sol.l2_error(sines))
    assert convergence_order(hs, errors) == pytest.approx(2.0, abs=0.3)
    assert errors[-1] < 5e-4


def test_second_order_on_gmsh_disks():
    """u = exp(x) sin(y) (harmonic) on the unit disk, u = g on the circle: the mesh's polygon and the
    solution both converge at order 2."""
    pytest.importorskip("gmsh")
    from kanpde.geometry.meshing import mesh_domain

    def exact(x):
        return torch.exp(x[:, 0]) * torch.sin(x[:, 1])

    hs, errors = [], []
    for size in (0.4, 0.2, 0.1, 0.05):
        domain = mesh_domain(Disk([0, 0], 1, name="circle"), size)
        sol = solve_p1(domain, 0.0, dirichlet={"circle": exact})
        hs.append(size)
        errors.append(sol.l2_error(exact))
    assert convergence_order(hs, errors) == pytest.approx(2.0, abs=0.3)


def test_second_order_in_3d():
    """u = sin(pi x) sin(pi y) sin(pi z) on the unit cube, f = 3 pi^2 u, u = 0 on the boundary."""
    hs, errors = [], []
    for n in (4, 8, 16):
        sol = solve_p1(MeshDomain.grid([0, 0, 0], [1, 1, 1], n), lambda x: 3 * math.pi**2 * sines(x))
        hs.append(1 / n)
        errors.append(sol.l2_error(sines))
    assert convergence_order(hs, errors) == pytest.approx(2.0, abs=0.3)


@pytest.mark.parametrize("d", [2, 3])
def test_linear_fields_are_exact(d):
    """The patch test: u = 1 + x - 2 y (+ 3 z) with a = 2 and f = 0 on an unstructured-looking mesh is
    reproduced at the nodes and everywhere inside to round-off."""
    domain = MeshDomain.grid([0] * d, [1] * d, 5 if d == 2 else 3)
    rng = np.random.default_rng(0)
    inner = ~np.isin(np.arange(len(domain.points)), domain.part_nodes("boundary"))
    jiggled = domain.points.copy()
    jiggled[inner] += rng.uniform(-0.05, 0.05, size=(int(inner.sum()), d))
    domain = MeshDomain(jiggled, domain.cells, {p: domain.facets[domain.facet_parts[p]] for p in domain.facet_parts})
    coeffs = torch.tensor([1.0, -2.0, 3.0][:d], dtype=torch.float64)

    def linear(x):
        return 1 + torch.as_tensor(x) @ coeffs

    sol = solve_p1(domain, 0.0, a=2.0, dirichlet={"boundary": linear})
    np.testing.assert_allclose(sol.values, linear(torch.as_tensor(domain.points)).numpy(), atol=1e-12)
    x = domain.sample(200, seed=0)
    np.testing.assert_allclose(sol(x), linear(torch.as_tensor(x)).numpy(), atol=1e-12)
    np.testing.assert_allclose(sol(torch.as_tensor(x)), sol(x))


def test_parts_left_free_get_the_natural_condition():
    """u = x with u fixed on the left and right sides only: du/dn = 0 on top and bottom holds exactly."""
    domain = MeshDomain.grid([0, 0], [1, 1], 6)
    sol = solve_p1(domain, 0.0, dirichlet={"left": 0.0, "right": 1.0})
    np.testing.assert_allclose(sol.values, domain.points[:, 0], atol=1e-12)


def test_points_outside_take_the_nearest_cell_clipped():
    domain = MeshDomain.grid([0, 0], [1, 1], 4)
    sol = FESolution(domain, domain.points[:, 0] + domain.points[:, 1])
    np.testing.assert_allclose(sol(np.array([[0.5, 0.25], [1.2, 0.5], [-1.0, -1.0]])), [0.75, 1.5, 0.0], atol=1e-12)


def test_numpy_functions_and_column_outputs_are_accepted():
    domain = MeshDomain.grid([0, 0], [1, 1], 8)
    a = solve_p1(domain, lambda x: np.ones((len(x), 1)) * 2.0)
    b = solve_p1(domain, lambda x: 2.0 + 0 * x[:, 0])
    np.testing.assert_allclose(a.values, b.values, atol=1e-14)
    assert a.values.max() > 0


def test_errors():
    domain = MeshDomain.grid([0, 0], [1, 1], 2)
    with pytest.raises(ConfigError, match="needs a MeshDomain"):
        solve_p1("mesh.msh", 1.0)
    with pytest.raises(ConfigError, match="at least one part"):
        solve_p1(domain, 1.0, dirichlet={})
    with pytest.raises(ConfigError, match="coefficient a must be finite and > 0"):
        solve_p1(domain, 1.0, a=lambda x: x[:, 0] - 0.5)
    with pytest.raises(ShapeError, match=r"f\(x\) for x of shape .* must give \(n,\) or \(n, 1\)"):
        solve_p1(domain, lambda x: torch.ones(len(x), 2))
    with pytest.raises(ConfigError, match="unknown boundary part 'inlet'"):
        solve_p1(domain, 1.0, dirichlet={"inlet": 0.0})
    with pytest.raises(ConfigError, match="f must be a number or a function"):
        solve_p1(domain, "x**2")


def test_the_module_example():
    """u = 1 - |x|^2 on the unit disk: -laplace u = 4, u = 0 on the circle, u(0) = 1."""
    pytest.importorskip("gmsh")
    from kanpde.geometry.meshing import mesh_domain

    sol = solve_p1(mesh_domain(Disk([0, 0], 1), 0.05), f=lambda x: 4 + 0 * x[:, 0], dirichlet={"circle": 0.0})
    assert sol(np.array([[0.0, 0.0]]))[0] == pytest.approx(1.0, abs=2e-3)
