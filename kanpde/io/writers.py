"""File writers for :func:`kanpde.export`: HDF5, VTK ImageData (``.vti``), VTK UnstructuredGrid (``.vtu``), XDMF.

Each takes a :class:`kanpde.io.export.Sampled` and writes through ``atomic_write`` (temporary name, then
rename), so an interrupted write leaves no partial file and never damages an existing one.

The ``.h5`` layout, readable with h5py alone (``.xdmf`` writes the same file beside it and points into it):

* ``/points`` (N, d): every point, columns in the order of the ``axes`` attribute (space first, time last);
* ``/fields/<name>`` (N,) or (N, c): ``u``, and where known ``reference``, ``error`` (u - reference),
  ``residual``; for a system each component by name (N,), each vector (N, 3), ``reference_<name>``,
  ``error_<name>`` and ``residual_<k>`` (see :mod:`kanpde.io.fields`);
* ``/grid/<axis>`` (grid exports): the 1-D axes; ``fields/u[()].reshape(f["grid"].attrs["shape"])``
  is the field on the grid (last axis fastest);
* ``/mesh/points`` (ns, max(ds, 2)) spatial nodes (a link to ``/points`` for a steady 2-D/3-D export) and
  ``/mesh/cells/<type>`` (m, k) their connectivity (meshio cell type names): what ParaView shows;
* time-dependent exports: ``/times`` (nt,) and ``/steps/<k>/<name>`` (ns,) or (ns, c), the fields at
  time slice k (row ``s * nt + k`` of ``/fields/<name>``);
* attributes: ``kanpde_version``, ``problem``, ``problem_params``, ``surrogate``, ``errors`` (JSON
  strings where structured) and each error (``rel_l2``, ``rel_l2_<name>``, ``rel_err_<name>``, ...) as a
  number, ``status``, ``axes``, ``components``, ``vectors`` (JSON), ``time_dependent``, ``notes`` and
  ``metadata`` (all of it as one JSON string); for an inverse problem also ``unknowns`` (JSON: each
  identified scalar's value, ``"field"`` for a field, whose values are ``/fields/<name>``), each scalar as
  a number ``unknown_<name>`` and its truth, where the problem declares it, as ``exact_<name>``.

``.vtu`` and ``.vti`` files carry the identified scalars as VTK field data (one value per name, shown by
ParaView's Information panel and spreadsheet view); ``.vti`` files also hold the metadata as a comment.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

import numpy as np

from kanpde.errors import ConfigError
from kanpde.geometry.box import Grid
from kanpde.io.files import atomic_write
from kanpde.io.sampled import Sampled

__all__ = ["WRITERS", "check", "check_layout", "write_h5", "write_vti", "write_vtu", "write_xdmf"]


def check(data: Sampled, suffix: str) -> None:
    """A ConfigError when ``data`` does not fit the format (see :func:`check_layout`); points without
    space-time cells count as a mesh in time."""
    check_layout(suffix, data.axes, data.grid, on_mesh=data.grid is None and data.cells is None)


def check_layout(suffix: str, axes: Sequence[str], grid: Grid | None, *, on_mesh: bool) -> None:
    """A ConfigError, before anything is evaluated or written, when an export on ``grid`` (or a mesh) with
    coordinates ``axes`` cannot be written as ``suffix``."""
    d, names = len(axes), ", ".join(axes)
    space = d - 1 if d > 1 and axes[-1] == "t" else d
    if suffix == ".vti":
        if on_mesh or grid is None:
            raise ConfigError(
                "a .vti file is a uniform grid and cannot hold a mesh; use .vtu, .xdmf or .h5 for mesh exports"
            )
        if d > 3:
            raise ConfigError(
                f"a .vti file holds up to 3 axes; this export has {d} ({names}); use .xdmf (time series) or .h5"
            )
        for name, a in zip(axes, grid.axes):
            step = np.diff(a)
            if a.size > 1 and not np.allclose(step, step[0], rtol=1e-9, atol=0):
                raise ConfigError(
                    f"a .vti file needs equally spaced points; axis {name!r} of this grid is not; use .vtu, or a uniform grid with resolution=N"
                )
    if suffix == ".vtu":
        if on_mesh and space < d:
            raise ConfigError(
                "a time-dependent export on a mesh has no space-time cells for .vtu; use .xdmf (one step per time slice) or .h5"
            )
        if d > 3:
            raise ConfigError(
                f"a .vtu file holds up to 3 coordinates; this export has {d} ({names}); use .xdmf (time series) or .h5"
            )
    if suffix == ".xdmf" and space > 3:
        raise ConfigError(f"an .xdmf file shows up to 3 space dimensions; this export has {space} ({names}); use .h5")


# --- HDF5 ------------------------------------------------------------------------------------------------
def write_h5(path: Path, data: Sampled) -> list[Path]:
    """Write the ``.h5`` layout described in the module docstring."""
    import h5py

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            _fill_h5(f, data)

    atomic_write(path, write, by_name=True)
    return [path]


def _fill_h5(f, data: Sampled) -> None:  # noqa: ANN001 (h5py.File)
    import h5py

    meta = data.metadata
    strings = h5py.string_dtype()
    for key in ("kanpde_version", "problem", "status", "reference", "on"):
        f.attrs[key] = "" if meta[key] is None else str(meta[key])
    for key in ("problem_params", "surrogate", "errors", "problem_description"):
        f.attrs[key] = json.dumps(meta[key])
    for key, value in meta["errors"].items():
        f.attrs[key] = np.nan if value is None else value
    f.attrs["axes"] = np.array(data.axes, dtype=strings)
    f.attrs["components"] = np.array(meta.get("components", ["u"]), dtype=strings)
    f.attrs["vectors"] = json.dumps(meta.get("vectors", {}))
    f.attrs["fields"] = np.array(list(data.fields), dtype=strings)
    f.attrs["notes"] = np.array(meta["notes"], dtype=strings)
    f.attrs["time_dependent"] = data.time_dependent
    f.attrs["metadata"] = json.dumps(meta)
    if meta.get("unknowns"):
        f.attrs["unknowns"] = json.dumps(meta["unknowns"])
        for name, value in _scalars(data).items():
            f.attrs[f"unknown_{name}"] = value
        for name, value in (meta.get("unknowns_exact") or {}).items():
            f.attrs[f"exact_{name}"] = value
    f.create_dataset("points", data=data.points)
    fields = f.create_group("fields")
    for name, values in data.fields.items():
        fields.create_dataset(name, data=_squeeze(values))
    if data.grid is not None:
        grid = f.create_group("grid")
        grid.attrs["shape"] = np.array(data.grid.shape)
        grid.attrs["axes"] = np.array(data.axes, dtype=strings)
        for name, axis in zip(data.axes, data.grid.axes):
            grid.create_dataset(name, data=axis)
    if data.space_cells is not None:
        mesh = f.create_group("mesh")
        if not data.time_dependent and data.points.shape[1] in (2, 3):
            mesh["points"] = f["points"]  # a hard link, no copy
        else:
            mesh.create_dataset("points", data=_pad(data.space_points, max(2, data.space_points.shape[1])))
        cells = mesh.create_group("cells")
        for kind, conn in data.space_cells:
            cells.create_dataset(kind, data=conn)
        if len(data.space_cells) > 1:
            mesh.create_dataset("xdmf_mixed", data=_mixed(data.space_cells))
    if data.time_dependent:
        f.create_dataset("times", data=data.times)
        width = len(str(data.times.size - 1))
        for k in range(data.times.size):
            step = f.create_group(f"steps/{k:0{width}d}")
            step.attrs["t"] = data.times[k]
            for name in data.fields:
                step.create_dataset(name, data=_squeeze(data.step(name, k)))


# --- VTK ImageData (.vti), written directly: meshio cannot ------------------------------------------------
def write_vti(path: Path, data: Sampled) -> list[Path]:
    """A VTK XML ImageData file: origin, spacing, extent and base64 point arrays (x varies fastest)."""
    grid = data.grid
    d = len(grid.axes)
    counts = list(grid.shape) + [1] * (3 - d)
    origin = [float(a[0]) for a in grid.axes] + [0.0] * (3 - d)
    spacing = [float(a[-1] - a[0]) / (a.size - 1) if a.size > 1 else 1.0 for a in grid.axes] + [1.0] * (3 - d)
    extent = " ".join(f"0 {n - 1}" for n in counts)
    order = tuple(reversed(range(d))) + (d,)
    comment = json.dumps(data.metadata).replace("--", "- -")

    def write(f: IO[str]) -> None:
        f.write('<?xml version="1.0"?>\n')
        f.write(f"<!-- kanpde export; metadata: {comment} -->\n")
        byte_order = "LittleEndian" if sys.byteorder == "little" else "BigEndian"
        f.write(f'<VTKFile type="ImageData" version="1.0" byte_order="{byte_order}" header_type="UInt64">\n')
        f.write(f'  <ImageData WholeExtent="{extent}" Origin="{_floats(origin)}" Spacing="{_floats(spacing)}">\n')
        f.write(_field_data(data, binary=True))
        f.write(f'    <Piece Extent="{extent}">\n      <PointData{_active(data)}>\n')
        for name, values in data.fields.items():
            c = values.shape[1]
            ordered = np.transpose(values.reshape(*grid.shape, c), order).reshape(-1, c)
            f.write(f'        <DataArray type="Float64" Name="{name}" NumberOfComponents="{c}" format="binary">')
            f.write(encode_array(ordered))
            f.write("</DataArray>\n")
        f.write("      </PointData>\n      <CellData>\n      </CellData>\n    </Piece>\n  </ImageData>\n</VTKFile>\n")

    atomic_write(path, write)
    return [path]


def _active(data: Sampled) -> str:
    """The PointData attributes naming the active scalars (the first component) and vectors (the first
    declared vector)."""
    scalars = (data.metadata.get("components") or ["u"])[0]
    vectors = list(data.metadata.get("vectors") or {})
    return f' Scalars="{scalars}"' + (f' Vectors="{vectors[0]}"' if vectors else "")


def encode_array(values: np.ndarray) -> str:
    """VTK XML inline binary: base64 of a UInt64 byte count followed by the raw float64 data."""
    raw = np.ascontiguousarray(values, dtype=np.float64).tobytes()
    return base64.b64encode(np.uint64(len(raw)).tobytes() + raw).decode("ascii")


# --- VTK UnstructuredGrid (.vtu), through meshio -----------------------------------------------------------
def write_vtu(path: Path, data: Sampled) -> list[Path]:
    """An unstructured grid (points padded to 3-D, the cells, point arrays), zlib-compressed binary, through meshio."""
    import meshio

    mesh = meshio.Mesh(
        _pad(data.points, 3),
        [(kind, conn) for kind, conn in data.cells],
        point_data={name: _squeeze(v) for name, v in data.fields.items()},
    )
    extra = _field_data(data, binary=False)  # meshio writes no field data: inserted after it wrote the file

    def write(tmp: Path) -> None:
        # zlib: 512^2 points with four fields take 13 MiB in 0.7 s (28 MiB in 0.1 s uncompressed)
        meshio.write(tmp, mesh, file_format="vtu", binary=True, compression="zlib")
        if extra:
            text = tmp.read_bytes()
            at = text.index(b"<UnstructuredGrid>") + len(b"<UnstructuredGrid>")
            tmp.write_bytes(text[:at] + b"\n" + extra.encode("ascii") + text[at:])

    atomic_write(path, write, by_name=True)
    return [path]


def _scalars(data: Sampled) -> dict[str, float]:
    """The identified unknown scalars of the metadata, name -> value (fields left out)."""
    return {k: float(v) for k, v in (data.metadata.get("unknowns") or {}).items() if not isinstance(v, str)}


def _field_data(data: Sampled, *, binary: bool) -> str:
    """A VTK ``<FieldData>`` element with one Float64 tuple per identified scalar ("" when there are none):
    inline binary (as the other arrays of a .vti), or ascii (valid in a compressed .vtu)."""
    scalars = _scalars(data)
    if not scalars:
        return ""
    items = []
    for name, value in scalars.items():
        text = encode_array(np.array([value])) if binary else repr(value)
        items.append(
            f'      <DataArray type="Float64" Name="{name}" NumberOfComponents="1" NumberOfTuples="1" '
            f'format="{"binary" if binary else "ascii"}">{text}</DataArray>\n'
        )
    return "    <FieldData>\n" + "".join(items) + "    </FieldData>\n"


# --- XDMF + HDF5 -----------------------------------------------------------------------------------------
def write_xdmf(path: Path, data: Sampled) -> list[Path]:
    """``path`` (XDMF 3 XML) and ``path.with_suffix(".h5")`` (the ``.h5`` layout), which it points into.

    Steady problems give one grid; time-dependent ones a temporal collection with one step per time
    slice. The ``.h5`` is renamed into place first, then the ``.xdmf``; a failure before that leaves both
    files as they were.
    """
    h5_path = path.with_suffix(".h5")
    xml = xdmf_text(data, h5_path.name)

    def write(f: IO[str]) -> None:
        f.write(xml)
        write_h5(h5_path, data)

    atomic_write(path, write)
    return [path, h5_path]


def xdmf_text(data: Sampled, h5_name: str) -> str:
    """The XDMF 3 document for ``data`` whose arrays are in ``h5_name`` (the ``.h5`` layout)."""
    root = ET.Element("Xdmf", Version="3.0")
    domain = ET.SubElement(root, "Domain")
    ns = data.space_points.shape[0]
    if not data.time_dependent:
        grid = ET.SubElement(domain, "Grid", Name="kanpde", GridType="Uniform")
        _mesh_items(grid, data, h5_name)
        for name, values in data.fields.items():
            _attribute(grid, name, values.shape[1], ns, f"{h5_name}:/fields/{name}")
    else:
        series = ET.SubElement(domain, "Grid", Name="kanpde", GridType="Collection", CollectionType="Temporal")
        width = len(str(data.times.size - 1))
        for k, t in enumerate(data.times):
            grid = ET.SubElement(series, "Grid", Name=f"step {k}", GridType="Uniform")
            ET.SubElement(grid, "Time", Value=repr(float(t)))
            _mesh_items(grid, data, h5_name)
            for name, values in data.fields.items():
                _attribute(grid, name, values.shape[1], ns, f"{h5_name}:/steps/{k:0{width}d}/{name}")
    ET.indent(root)
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _mesh_items(grid: ET.Element, data: Sampled, h5_name: str) -> None:
    """Topology and Geometry of the spatial mesh (``/mesh`` in the ``.h5``)."""
    from meshio.xdmf.common import meshio_to_xdmf_type

    ns, ds = data.space_points.shape
    cells = data.space_cells
    if len(cells) == 1:
        kind, conn = cells[0]
        if kind not in meshio_to_xdmf_type:
            raise ConfigError(f"cell type {kind!r} has no XDMF equivalent; use .vtu or .h5")
        topo = ET.SubElement(
            grid, "Topology", TopologyType=meshio_to_xdmf_type[kind][0], NumberOfElements=str(len(conn))
        )
        if kind in ("line", "vertex"):
            topo.set("NodesPerElement", str(conn.shape[1]))
        _item(topo, conn.shape, conn.dtype, f"{h5_name}:/mesh/cells/{kind}")
    else:
        mixed = _mixed(cells)
        topo = ET.SubElement(
            grid, "Topology", TopologyType="Mixed", NumberOfElements=str(sum(len(c) for _, c in cells))
        )
        _item(topo, mixed.shape, mixed.dtype, f"{h5_name}:/mesh/xdmf_mixed")
    geometry = ET.SubElement(grid, "Geometry", GeometryType="XYZ" if ds == 3 else "XY")
    _item(geometry, (ns, max(2, ds)), np.dtype(np.float64), f"{h5_name}:/mesh/points")


def _attribute(grid: ET.Element, name: str, c: int, n: int, where: str) -> None:
    kind = "Scalar" if c == 1 else "Vector" if c == 3 else "Matrix"
    attr = ET.SubElement(grid, "Attribute", Name=name, AttributeType=kind, Center="Node")
    _item(attr, (n,) if c == 1 else (n, c), np.dtype(np.float64), where)


def _item(parent: ET.Element, shape: tuple[int, ...], dtype: np.dtype, where: str) -> None:
    number = "Float" if dtype.kind == "f" else "Int"
    item = ET.SubElement(
        parent,
        "DataItem",
        Dimensions=" ".join(map(str, shape)),
        NumberType=number,
        Precision=str(dtype.itemsize),
        Format="HDF",
    )
    item.text = where


def _mixed(cells: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """XDMF "Mixed" topology: per cell its type index (and node count for lines/vertices), then its nodes."""
    from meshio.xdmf.common import meshio_type_to_xdmf_index

    parts = []
    for kind, conn in cells:
        if kind not in meshio_type_to_xdmf_index:
            raise ConfigError(f"cell type {kind!r} has no XDMF equivalent; use .vtu or .h5")
        head = [np.full((len(conn), 1), meshio_type_to_xdmf_index[kind], dtype=np.int64)]
        if kind in ("line", "vertex"):
            head.append(np.full((len(conn), 1), conn.shape[1], dtype=np.int64))
        parts.append(np.concatenate([*head, conn.astype(np.int64)], axis=1).ravel())
    return np.concatenate(parts)


# --- helpers ---------------------------------------------------------------------------------------------
def _squeeze(values: np.ndarray) -> np.ndarray:
    """(n, 1) -> (n,); (n, c) unchanged."""
    return values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values


def _pad(points: np.ndarray, width: int) -> np.ndarray:
    """(n, d) -> (n, width) with zero columns appended (VTK and XDMF want 2-D or 3-D points)."""
    n, d = points.shape
    return points if d >= width else np.concatenate([points, np.zeros((n, width - d))], axis=1)


def _floats(values: list[float]) -> str:
    return " ".join(repr(float(v)) for v in values)


WRITERS: dict[str, Callable[[Path, Sampled], list[Path]]] = {
    ".h5": write_h5,
    ".vti": write_vti,
    ".vtu": write_vtu,
    ".xdmf": write_xdmf,
}
