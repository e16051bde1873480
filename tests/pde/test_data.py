"""Observations (``kanpde.Data``): from arrays, tensors and files, which components they observe, their
names on a problem, and every documented error (checked with its whole message: field, value, fix).

Oracles: what goes in comes out (points and values as float64 arrays of the given numbers; the columns
of a named component); a file written here reads back to the arrays it was written from.
"""

import re

import numpy as np
import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.pde import ops

RNG = np.random.default_rng(0)
POINTS = RNG.uniform(0.1, 0.9, size=(6, 2))
U, V = POINTS.sum(1), POINTS.prod(1)


class Scalar(kanpde.Problem):
    domain = kanpde.Box([0, 0], [1, 1])
    conditions = [kanpde.Dirichlet("boundary", 0.0)]

    def __init__(self, *data):
        self.data = list(data)

    def residual(self, u, x):
        return ops.laplacian(u, x) + 1.0


class System(Scalar):
    outputs = ("u", "v")

    def residual(self, u, x):
        return ops.laplacian(u["u"], x) + 1.0, ops.laplacian(u["v"], x) - u["u"]


# --- arrays and tensors ------------------------------------------------------------------------------


def test_arrays_and_tensors_become_float64_arrays():
    d = kanpde.Data(POINTS.tolist(), U)
    assert d.points.dtype == d.values.dtype == np.float64
    assert np.array_equal(d.points, POINTS) and np.array_equal(d.values, U[:, None])
    t = kanpde.Data(torch.tensor(POINTS, dtype=torch.float32, requires_grad=True), torch.tensor(U).reshape(-1, 1))
    assert t.points.dtype == np.float64 and np.allclose(t.points, POINTS, atol=1e-7)
    assert np.array_equal(t.values, U[:, None])
    assert d.weight == "auto" and d.component is None and d.name is None and d.label == "data:data"
    assert repr(d) == "Data(6 points)"


def test_tensors_for_the_loss_are_cached_per_dtype():
    d = kanpde.Data(POINTS, U)
    x, v = d.tensors(torch.float32, "cpu")
    assert x.dtype == v.dtype == torch.float32 and x.shape == (6, 2) and v.shape == (6, 1)
    assert d.tensors(torch.float32, "cpu")[0] is x and d.tensors(torch.float64, "cpu")[0].dtype == torch.float64


@pytest.mark.parametrize(
    "component, values, columns",
    [
        (None, np.stack([U, V], 1), [0, 1]),  # every component
        ("v", V, [1]),  # by name
        (1, V, [1]),  # by column
        (("v", "u"), np.stack([V, U], 1), [1, 0]),  # a sequence, in its order
        (["u", 1], np.stack([U, V], 1), [0, 1]),  # names and columns mixed
    ],
)
def test_component_by_name_index_sequence_or_none_on_a_system(component, values, columns):
    d = kanpde.Data(POINTS, values, component=component)
    System(d)  # accepted
    assert d.columns(("u", "v")) == columns
    assert d.values.shape == (6, len(columns))


def test_a_scalar_problem_observes_its_one_component():
    d = kanpde.Data(POINTS, U)
    Scalar(d)
    assert d.columns(("u",)) == [0]


def test_several_sets_get_distinct_names():
    a = kanpde.Data(POINTS, np.stack([U, V], 1))
    b = kanpde.Data(POINTS, V, component="v", name="probe")
    c = kanpde.Data(POINTS, U, component="u")
    System(a, b, c)
    assert (a.label, b.label, c.label) == ("data:data0", "data:probe", "data:data2")  # by place in the list
    one = kanpde.Data(POINTS, U)
    Scalar(one)
    assert one.label == "data:data"  # the only set keeps the plain name
    (described,) = System(kanpde.Data(POINTS, V, component="v", weight=2.5, name="s")).describe()["data"]
    digest = described.pop("digest")
    assert described == {"name": "data:s", "points": 6, "component": "v", "weight": 2.5}
    assert kanpde.Data(POINTS, V).describe()["digest"] == digest  # of the points and values only
    assert kanpde.Data(POINTS, V + 1e-12).describe()["digest"] != digest
    assert kanpde.Data(POINTS[::-1], V[::-1]).describe()["digest"] != digest


def test_weight_auto_or_a_number():
    assert kanpde.Data(POINTS, U).weight == "auto"
    assert kanpde.Data(POINTS, U, weight=3).weight == 3.0


# --- files -------------------------------------------------------------------------------------------


def test_read_npz_with_default_and_named_arrays(tmp_path):
    path = tmp_path / "obs.npz"
    np.savez(path, points=POINTS, values=U, xs=POINTS[:, 0], ys=POINTS[:, 1], both=np.stack([U, V], 1))
    d = kanpde.Data.read(path)
    assert np.array_equal(d.points, POINTS) and np.array_equal(d.values, U[:, None])
    named = kanpde.Data.read(str(path), points=["xs", "ys"], values="both", weight=2.0, name="npz")
    assert np.array_equal(named.points, POINTS) and np.array_equal(named.values, np.stack([U, V], 1))
    assert named.weight == 2.0 and named.label == "data:npz"
    System(named)


def test_read_csv_with_a_header(tmp_path):
    path = tmp_path / "obs.csv"
    rows = "\n".join(f"{float(x)!r}, {float(y)!r}, {float(u)!r},{float(v)!r}" for (x, y), u, v in zip(POINTS, U, V))
    path.write_text(f"x, y, u,v\n{rows}\n\n")  # spaces after commas and a trailing blank line are fine
    d = kanpde.Data.read(path)  # the last column holds the values, the others the coordinates
    assert d.points.shape == (6, 3) and np.array_equal(d.points[:, :2], POINTS) and np.array_equal(d.values, V[:, None])
    e = kanpde.Data.read(path, points=["x", "y"], values=["u", "v"])
    assert np.array_equal(e.points, POINTS) and np.array_equal(e.values, np.stack([U, V], 1))
    f = kanpde.Data.read(path, values="u", component="u")  # points: every other column (x, y, v)
    assert np.array_equal(f.points[:, 2], V) and np.array_equal(f.values, U[:, None]) and f.component == "u"
    g = kanpde.Data.read(path, points=("y", "x"), values="u")
    assert np.array_equal(g.points, POINTS[:, ::-1])


def test_read_a_single_observation_from_csv(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text('"x","y","u"\n0.5,0.25,1.5\n')
    d = kanpde.Data.read(path)
    assert d.points.tolist() == [[0.5, 0.25]] and d.values.tolist() == [[1.5]]


def test_read_h5_with_default_and_nested_arrays(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "obs.h5"
    with h5py.File(path, "w") as f:
        f["points"], f["values"] = POINTS, U
        f["sensors/x"], f["sensors/u"] = POINTS, np.stack([U, V], 1)
    d = kanpde.Data.read(path)
    assert np.array_equal(d.points, POINTS) and np.array_equal(d.values, U[:, None])
    nested = kanpde.Data.read(path, points="sensors/x", values="sensors/u")
    assert np.array_equal(nested.values, np.stack([U, V], 1))


# --- bad input ---------------------------------------------------------------------------------------


def one_line(err):
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: kanpde.Data(POINTS, U[:5]),
            ShapeError,
            r"^Data.values must have one row per point: shape \(6,\) or \(6, k\) for points of shape \(6, 2\); "
            r"got shape \(5,\)$",
        ),
        (
            lambda: kanpde.Data(POINTS, np.zeros((6, 1, 1))),
            ShapeError,
            r"^Data.values must have one row per point: .*; got shape \(6, 1, 1\)$",
        ),
        (
            lambda: kanpde.Data(POINTS, np.zeros((6, 0))),
            ShapeError,
            r"^Data.values must hold at least one value per point; got shape \(6, 0\)$",
        ),
        (
            lambda: kanpde.Data(POINTS[:, 0], U),
            ShapeError,
            r"^Data.points must have shape \(m, d\) with m >= 1: one row of d coordinates per observation; got "
            r"shape \(6,\)$",
        ),
        (
            lambda: kanpde.Data(np.zeros((0, 2)), np.zeros(0)),
            ShapeError,
            r"^Data.points must have shape \(m, d\) with m >= 1: .*; got shape \(0, 2\)$",
        ),
        (
            lambda: kanpde.Data(np.r_[POINTS[:5], [[np.nan, 0.5]]], U),
            ConfigError,
            r"^Data.points holds 1 row that is not finite \(nan or inf\), the first at row 5: \[nan, 0.5\]; drop "
            r"those observations$",
        ),
        (
            lambda: kanpde.Data(POINTS, np.r_[U[:3], np.inf, -np.inf, U[5]]),
            ConfigError,
            r"^Data.values holds 2 rows that are not finite \(nan or inf\), the first at row 3: \[inf\]; drop those "
            r"observations$",
        ),
        (lambda: kanpde.Data("points", U), ConfigError, r"^Data.points must be an array of numbers; got str$"),
        (lambda: kanpde.Data(POINTS, ["one"] * 6), ConfigError, r"^Data.values must be an array of numbers; got list$"),
        (
            lambda: kanpde.Data(POINTS, U, weight=0),
            ConfigError,
            r"^Data.weight \(a number > 0 or 'auto'\) must be a finite number > 0; got 0$",
        ),
        (
            lambda: kanpde.Data(POINTS, U, weight="Auto"),
            ConfigError,
            r"^Data.weight \(a number > 0 or 'auto'\) must be a finite number > 0; got 'Auto'$",
        ),
        (
            lambda: kanpde.Data(POINTS, U, name="my sensors"),
            ConfigError,
            r"^Data.name must be an identifier such as 'sensors'; got 'my sensors'$",
        ),
        (
            lambda: kanpde.Data(POINTS, U, component=True),
            ConfigError,
            r"^Data.component must be a component's name or column \('u', 0\), a non-empty sequence of them, or None "
            r"for all components; got True$",
        ),
        (lambda: kanpde.Data(POINTS, U, component=[]), ConfigError, r"^Data.component must be .*; got \[\]$"),
        (lambda: kanpde.Data(POINTS, U, component=1.0), ConfigError, r"^Data.component must be .*; got 1.0$"),
    ],
)
def test_bad_data_fails_at_construction(make, error, match):
    with pytest.raises(error, match=match) as err:
        make()
    one_line(err)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: Scalar(kanpde.Data(np.r_[POINTS[:4], [[1.5, 0.5], [0.5, -0.25]]], U)),
            ConfigError,
            r"^Scalar.data\[0\] \(data:data\) points: 2 of 6 points lie outside the domain Box\(lower=\[0.0, 0.0\], "
            r"upper=\[1.0, 1.0\]\), the first at \[1.5, 0.5\]; keep only points inside \(domain.contains\(x\) tells "
            r"which\)$",
        ),
        (
            lambda: Scalar(kanpde.Data(np.c_[POINTS, POINTS[:, :1]], U)),
            ShapeError,
            r"^Scalar.data\[0\] \(data:data\) points .*must have shape \(m, 2\) with m >= 1; got \(6, 3\)$",
        ),
        (
            lambda: System(kanpde.Data(POINTS, U, component="w")),
            ConfigError,
            r"^Data 'data:data': component='w' is not a component of the problem; name one of \('u', 'v'\)$",
        ),
        (
            lambda: System(kanpde.Data(POINTS, U, component=("u", "p"))),
            ConfigError,
            r"^Data 'data:data': component='p' is not a component of the problem; name one of \('u', 'v'\)$",
        ),
        (
            lambda: System(kanpde.Data(POINTS, U, component=2)),
            ConfigError,
            r"^Data 'data:data': component=2 is not a column of the problem's 2 components \('u', 'v'\); give a "
            r"column from 0 to 1 or a name$",
        ),
        (
            lambda: System(kanpde.Data(POINTS, U)),
            ShapeError,
            r"^Data 'data:data': values of shape \(6, 1\) hold 1 column\(s\) but component=None \(all\) observes 2 "
            r"\('u', 'v'\); give values of shape \(6, 2\) or set component= to the components they hold$",
        ),
        (
            lambda: System(kanpde.Data(POINTS, np.stack([U, V], 1), component="u")),
            ShapeError,
            r"^Data 'data:data': values of shape \(6, 2\) hold 2 column\(s\) but component='u' observes 1 \('u',\); "
            r"give values of shape \(6, 1\)",
        ),
        (
            lambda: Scalar(kanpde.Data(POINTS, U, name="s"), kanpde.Data(POINTS, U, name="s")),
            DefinitionError,
            r"^Scalar.data has two sets named 'data:s'; give each its own name=$",
        ),
        (
            lambda: Scalar(kanpde.Data(POINTS, U), kanpde.Data(POINTS, U, name="data0")),
            DefinitionError,
            r"^Scalar.data has two sets named 'data:data0'; give each its own name=$",
        ),
    ],
)
def test_data_that_does_not_fit_the_problem_fails_when_it_is_built(make, error, match):
    with pytest.raises(error, match=match) as err:
        make()
    one_line(err)


def test_data_must_be_a_list_of_data():
    class Single(Scalar):
        def __init__(self):
            self.data = kanpde.Data(POINTS, U)  # not in a list

    with pytest.raises(DefinitionError, match=r"^Single.data must be a list of kanpde.Data; got Data\(6 points\)$"):
        Single()


@pytest.fixture
def files(tmp_path):
    np.savez(tmp_path / "obs.npz", points=POINTS, values=U)
    (tmp_path / "obs.csv").write_text("x,y,u\n0.5,0.5,1\n")
    (tmp_path / "text.csv").write_text("x,y,u\n0.5,abc,1\n")
    (tmp_path / "ragged.csv").write_text("x,y,u\n0.5,0.5\n")
    (tmp_path / "twice.csv").write_text("x,x,u\n0.5,0.5,1\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("x,y,u\n")
    (tmp_path / "nan.csv").write_text("x,y,u\n0.5,0.5,nan\n")
    (tmp_path / "obs.txt").write_text("0.5 0.5 1\n")
    (tmp_path / "broken.npz").write_bytes(b"not a zip file")
    return tmp_path


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("missing.npz", {}, r": the file does not exist; check the path$"),
        (".", {}, r": the file is a folder, not a file; check the path$"),
        ("obs.txt", {}, r": Data.read reads .npz, .csv and .h5 files; rename or convert 'obs.txt'$"),
        (
            "obs.npz",
            {"values": "u"},
            r" has no array 'u'; it has \['points', 'values'\]: name the array with values=$",
        ),
        ("obs.npz", {"points": ["x", "y"]}, r" has no array 'x'; it has \['points', 'values'\]: name the array with"),
        (
            "obs.npz",
            {"points": 3},
            r": points= must be a name \(of an array, or a column of a .csv\) or a list of names; got 3$",
        ),
        ("obs.csv", {"values": "w"}, r" has no column 'w'; its columns are \['x', 'y', 'u'\]: choose among them with"),
        ("obs.csv", {"points": ["x", "t"]}, r" has no column 't'; its columns are \['x', 'y', 'u'\]: .* with points=$"),
        ("obs.csv", {"points": ["x", "u"]}, r": the column 'u' is named as a coordinate and as a value; name it once$"),
        ("text.csv", {}, r": could not convert .*'abc'.*; below the header every line must hold 3 numbers separated"),
        ("ragged.csv", {}, r": the header names 3 columns but the lines hold 2; give one header name per column$"),
        ("twice.csv", {}, r": the header \['x', 'x', 'u'\] repeats a name; give each column its own$"),
        ("empty.csv", {}, r": the file holds nothing; expected a header line such as 'x,y,u' and one line per"),
        ("header.csv", {}, r": the file holds a header line only; expected a header line"),
        ("nan.csv", {}, r": Data.values holds 1 row that is not finite \(nan or inf\), the first at row 0"),
        ("broken.npz", {}, r": the file cannot be read as .npz: "),
        (
            "obs.npz",
            {"weight": -1.0},
            r": Data.weight \(a number > 0 or 'auto'\) must be a finite number > 0; got -1.0$",
        ),
    ],
)
def test_read_errors_name_the_file_and_the_fix(files, name, kwargs, match):
    path = files / name
    with pytest.raises(ConfigError, match="^" + re.escape(f"Data.read({str(path)!r})") + match) as err:
        kanpde.Data.read(path, **kwargs)
    one_line(err)


def test_read_h5_errors(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "obs.h5"
    with h5py.File(path, "w") as f:
        f["points"], f["values"] = POINTS, U
        f["sensors/x"] = POINTS
    where = re.escape(f"Data.read({str(path)!r})")
    with pytest.raises(
        ConfigError, match=rf"^{where} has no array 'sensors/u'; it has \['points', 'sensors', 'values'\]"
    ):
        kanpde.Data.read(path, values="sensors/u")
    with pytest.raises(ConfigError, match=rf"^{where}: 'sensors' is a group, not an array; name an array in it"):
        kanpde.Data.read(path, points="sensors")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ConfigError, match=r"the file cannot be read as .h5: "):
        kanpde.Data.read(tmp_path / "text.h5")
