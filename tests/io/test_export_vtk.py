"""VTK's own readers open every exported file and report the expected points and arrays.

Runs where the ``vtk`` package is installed (``pip install -e ".[vtk]"``), skipped otherwise. The
``.h5`` file is not a VTK format: VTK reads it through the ``.xdmf`` file that points into it.
"""

import math

import numpy as np
import pytest
import torch

import kanpde
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson

vtk = pytest.importorskip("vtk")
from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402

FIELDS = {"u", "reference", "error", "residual"}
UNTRAINED = Status(StatusKind.UNKNOWN, "untrained")  # a solution built by hand, never trained


def _model(problem, width):
    return Surrogate(
        kanpde.KAN(width, grid=3, seed=2), torch.as_tensor(problem.domain.lower), torch.as_tensor(problem.domain.upper)
    )


@pytest.fixture(scope="module")
def sol():
    problem = Poisson.sin()
    return kanpde.Solution(model=_model(problem, [2, 3, 1]), problem=problem, status=UNTRAINED, errors={})


@pytest.fixture(scope="module")
def heat_sol():
    problem = kanpde.FunctionProblem(
        domain=kanpde.Box([0, 0], [1, 1], axes=("x", "t")),
        residual=lambda u, x: kanpde.ops.dt(u, x) - kanpde.ops.partial(u, x, 0, 0) / math.pi**2,
        exact=lambda x: torch.sin(math.pi * x[:, 0]) * torch.exp(-x[:, 1]),
    )
    return kanpde.Solution(model=_model(problem, [2, 3, 1]), problem=problem, status=UNTRAINED, errors={})


def _arrays(data):
    pd = data.GetPointData()
    return {pd.GetArrayName(i): vtk_to_numpy(pd.GetArray(i)) for i in range(pd.GetNumberOfArrays())}


def _read(reader_class, path):
    reader = reader_class()
    reader.SetFileName(str(path))
    reader.Update()
    return reader.GetOutputDataObject(0)


def test_vtu_opens_in_vtk(sol, tmp_path):
    kanpde.export(sol, tmp_path / "p.vtu", resolution=(9, 5))
    grid = _read(vtk.vtkXMLUnstructuredGridReader, tmp_path / "p.vtu")
    assert grid.GetNumberOfPoints() == 45 and grid.GetNumberOfCells() == 32
    points = vtk_to_numpy(grid.GetPoints().GetData())
    arrays = _arrays(grid)
    assert set(arrays) == FIELDS
    np.testing.assert_allclose(arrays["u"], sol(points[:, :2])[:, 0], rtol=0, atol=1e-14)


def test_vti_opens_in_vtk(sol, tmp_path):
    kanpde.export(sol, tmp_path / "p.vti", resolution=(9, 5))
    image = _read(vtk.vtkXMLImageDataReader, tmp_path / "p.vti")
    assert image.GetDimensions() == (9, 5, 1) and image.GetOrigin() == (-1.0, -1.0, 0.0)
    assert image.GetSpacing()[:2] == (0.25, 0.5)
    points = np.array([image.GetPoint(i) for i in range(image.GetNumberOfPoints())])
    arrays = _arrays(image)
    assert set(arrays) == FIELDS
    np.testing.assert_allclose(arrays["u"], sol(points[:, :2])[:, 0], rtol=0, atol=1e-14)


def _xdmf_reader():
    """VTK's XDMF 3 reader where the build has it (ParaView does), else its XDMF 2 reader (the pip wheels)."""
    try:
        from vtkmodules.vtkIOXdmf3 import vtkXdmf3Reader

        return vtkXdmf3Reader
    except ImportError:
        pass
    try:
        from vtkmodules.vtkIOXdmf2 import vtkXdmfReader
    except ImportError:
        pytest.skip("this vtk build has no XDMF reader")
    return vtkXdmfReader


def _unstructured(obj):
    """The dataset inside what an XDMF reader returns (a grid, or a one-block multiblock)."""
    while obj.IsA("vtkMultiBlockDataSet"):
        obj = obj.GetBlock(0)
    return obj


def test_xdmf_opens_in_vtk(sol, tmp_path):
    kanpde.export(sol, tmp_path / "p.xdmf", resolution=(9, 5))
    grid = _unstructured(_read(_xdmf_reader(), tmp_path / "p.xdmf"))
    assert grid.GetNumberOfPoints() == 45 and grid.GetNumberOfCells() == 32
    points = vtk_to_numpy(grid.GetPoints().GetData())
    arrays = _arrays(grid)
    assert set(arrays) == FIELDS
    np.testing.assert_allclose(arrays["u"], sol(points[:, :2])[:, 0], rtol=0, atol=1e-14)


def test_xdmf_time_series_opens_in_vtk(heat_sol, tmp_path):
    kanpde.export(heat_sol, tmp_path / "heat.xdmf", resolution=(9, 4))
    reader = _xdmf_reader()()
    reader.SetFileName(str(tmp_path / "heat.xdmf"))
    reader.UpdateInformation()
    key = vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS()
    times = np.array(reader.GetOutputInformation(0).Get(key))
    np.testing.assert_allclose(times, np.linspace(0, 1, 4))
    for t in times:
        reader.UpdateTimeStep(t)
        grid = _unstructured(reader.GetOutputDataObject(0))
        assert grid.GetNumberOfPoints() == 9 and grid.GetNumberOfCells() == 8
        x = vtk_to_numpy(grid.GetPoints().GetData())[:, 0]
        arrays = _arrays(grid)
        assert set(arrays) == FIELDS
        np.testing.assert_allclose(arrays["u"], heat_sol(np.column_stack([x, np.full(9, t)]))[:, 0], rtol=0, atol=1e-14)
