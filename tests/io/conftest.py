"""Shared helpers of the io tests."""

import base64
import xml.etree.ElementTree as ET

import numpy as np
import pytest


def _read_vti(path):
    """Points and arrays of a .vti file from an XML parse: (N, 3) points with x fastest, name -> (N, c)."""
    root = ET.parse(path).getroot()
    assert root.get("type") == "ImageData" and root.get("header_type") == "UInt64"
    image = root.find("ImageData")
    extent = [int(v) for v in image.get("WholeExtent").split()]
    origin = np.array(image.get("Origin").split(), dtype=float)
    spacing = np.array(image.get("Spacing").split(), dtype=float)
    counts = [extent[2 * i + 1] - extent[2 * i] + 1 for i in range(3)]
    k, j, i = np.meshgrid(*(np.arange(c) for c in reversed(counts)), indexing="ij")
    points = origin + np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1) * spacing
    arrays = {}
    for da in image.iter("DataArray"):
        raw = base64.b64decode(da.text)
        assert np.frombuffer(raw[:8], dtype=np.uint64)[0] == len(raw) - 8
        arrays[da.get("Name")] = np.frombuffer(raw[8:], dtype=np.float64).reshape(-1, int(da.get("NumberOfComponents")))
    return points, arrays


@pytest.fixture
def read_vti():
    """``read_vti(path) -> (points, arrays)`` of an exported .vti file."""
    return _read_vti
