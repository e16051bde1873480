"""Unknowns of an inverse problem, as declared (``kanpde.Unknown``, ``kanpde.UnknownField``).

Oracles: each bounds map gives ``init`` at r = 0 and stays within its bounds for any r, and is monotone in
r; a declaration on the class and one in ``__init__`` read alike (``init`` unbound, the source's value when
bound); each documented error is checked with its whole message (field, value, fix).
"""

import math
import re

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError, DefinitionError
from kanpde.pde import ops
from kanpde.pde.unknowns import Bounds, bind, bound_source

# r from far below to far above: the maps must stay finite and within bounds at every one
R = torch.tensor([-1e6, -800.0, -50.0, *torch.linspace(-10, 10, 41).tolist(), 50.0, 800.0, 1e6], dtype=torch.float64)


@pytest.mark.parametrize(
    "init, lower, upper",
    [
        (0.3, -1.0, 2.0),  # both: a sigmoid
        (0.999, 0.0, 1.0),  # both, init near a bound
        (0.5, -1e20, 1.0),  # both, a huge span: init still exact at r = 0
        (2.5, 0.0, None),  # lower only: a softplus above
        (-3.0, None, -1.0),  # upper only: a softplus below
        (4.0, None, None),  # none: affine
        (0.0, None, None),  # none, init 0: step 1
    ],
)
def test_bounds_map_gives_init_at_zero_and_stays_within_bounds(init, lower, upper):
    b = Bounds(init, lower, upper, "Unknown('c')")
    assert float(b.value(torch.zeros(()))) == pytest.approx(init, rel=1e-14, abs=1e-14)
    v = b.value(R)
    assert bool(torch.isfinite(v).all()) or (lower is None and upper is None)
    if lower is not None:
        assert bool((v >= lower).all())
    if upper is not None:
        assert bool((v <= upper).all())
    step = b.value(torch.linspace(-10, 10, 41)).diff()
    assert bool((step > 0).all()) or bool((step < 0).all())  # strictly monotone where it is not saturated
    if lower is not None and upper is not None:  # the whole interval is reached
        assert float(v[0]) == pytest.approx(lower) and float(v[-1]) == pytest.approx(upper)
    assert b.describe() == {"init": init, "lower": lower, "upper": upper}


def test_a_step_of_the_parameter_is_a_relative_change_of_the_value():
    """The scale s = |init - bound| (or |init|): d value / d r at r = 0 is of the size of the value."""
    for init, lower, upper in [(1e-3, 0.0, None), (1e3, 0.0, None), (1e3, None, None), (-1e-3, None, 0.0)]:
        r = torch.zeros((), requires_grad=True)
        (slope,) = torch.autograd.grad(Bounds(init, lower, upper, "c").value(r), r)
        assert 0.5 < abs(float(slope)) / abs(init) <= 1.0


def test_positive_field_bounds_stay_positive():
    a = kanpde.UnknownField("a", init=0.2, positive=True)
    assert a.bounds.lower == 0.0 and a.bounds.upper is None
    assert float(a.bounds.value(torch.zeros(()))) == pytest.approx(0.2, rel=1e-14)
    v = a.bounds.value(R)
    assert bool((v >= 0).all()) and bool((v[R > -700] > 0).all())
    assert a.describe() == {"kind": "field", "name": "a", "init": 0.2, "lower": 0.0, "upper": None, "axes": None}


def test_numpy_bounds_are_kept_as_plain_floats():
    """describe() goes into JSON (model.json, report.json): numpy float32 bounds must not reach it."""
    import numpy as np

    c = kanpde.Unknown("c", np.float32(1.5), lower=np.float32(0.0), upper=np.int64(3))
    assert all(type(v) is float for v in c.bounds.describe().values())


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: kanpde.Unknown("c", init=5.0, lower=0.0, upper=3.0),
            r"^Unknown\('c'\).init=5.0 lies outside its bounds \(0.0, 3.0\); give an init strictly inside them$",
        ),
        (
            lambda: kanpde.Unknown("c", init=0.0, lower=0.0),
            r"^Unknown\('c'\).init=0.0 lies outside its bounds \(0.0, inf\); give an init strictly inside them$",
        ),
        (
            lambda: kanpde.Unknown("c", init=1.0, upper=-2.0),
            r"^Unknown\('c'\).init=1.0 lies outside its bounds \(-inf, -2.0\); give an init strictly inside",
        ),
        (
            lambda: kanpde.UnknownField("a", init=-1.0, positive=True),
            r"^UnknownField\('a'\).init=-1.0 lies outside its bounds \(0.0, inf\) \(positive=True\); give an init "
            r"strictly inside them$",
        ),
        (
            lambda: kanpde.Unknown("c", init=1.0, lower=3.0, upper=0.0),
            r"^Unknown\('c'\): lower=3.0 must be below upper=0.0; give lower < upper$",
        ),
        (
            lambda: kanpde.Unknown("c", init=1.0, lower=2.0, upper=2.0),
            r"^Unknown\('c'\): lower=2.0 must be below upper=2.0; give lower < upper$",
        ),
        (
            lambda: kanpde.UnknownField("a", positive=True, lower=0.5),
            r"^UnknownField\('a'\): positive=True already bounds it below by 0; got also lower=0.5, upper=None: "
            r"give positive=True or the bounds, not both$",
        ),
        (
            lambda: kanpde.UnknownField("a", positive=True, upper=4.0),
            r"^UnknownField\('a'\): positive=True already .* upper=4.0: give positive=True or the bounds",
        ),
        (lambda: kanpde.Unknown("c", init=math.nan), r"^Unknown\('c'\).init must be a finite number; got nan$"),
        (lambda: kanpde.Unknown("c", init=True), r"^Unknown\('c'\).init must be a finite number; got True$"),
        (
            lambda: kanpde.Unknown("c", lower="0"),
            r"^Unknown\('c'\).lower must be a finite number or None; got '0'$",
        ),
        (
            lambda: kanpde.Unknown("c", upper=math.inf),
            r"^Unknown\('c'\).upper must be a finite number or None; got inf$",
        ),
        (
            lambda: kanpde.Unknown(1.0),
            r"^Unknown name must be an identifier such as 'c'; got 1.0 \(the name comes first: Unknown\('c', "
            r"init=1.0\), or leave it out to take the attribute's\)$",
        ),
        (lambda: kanpde.UnknownField("a b"), r"^UnknownField name must be an identifier such as 'c'; got 'a b'"),
        (lambda: kanpde.Unknown("c", exact="2"), r"^Unknown\('c'\).exact must be a finite number or None; got '2'$"),
        (
            lambda: kanpde.Unknown("c", exact=-1.0, lower=0.0),
            r"^Unknown\('c'\).exact=-1.0 lies outside its bounds \[0.0, inf\], where the identified value can never "
            r"go; widen the bounds or correct exact$",
        ),
        (lambda: kanpde.UnknownField("a", positive=1), r"^UnknownField.positive must be True or False; got 1$"),
        (
            lambda: kanpde.UnknownField("a", axes="x"),
            r"^UnknownField\('a'\).axes must be a sequence of axis names or columns; got 'x'$",
        ),
        (
            lambda: kanpde.UnknownField("a", model="cnn"),
            r"^UnknownField\('a'\).model must be 'mlp', 'kan' or a kanpde.KAN/MLP; got 'cnn'$",
        ),
        (
            lambda: kanpde.UnknownField("a", exact=2.0),
            r"^UnknownField\('a'\).exact must be a function of x: \(n, d\) -> \(n,\) or None; got 2.0$",
        ),
    ],
)
def test_bad_declarations_fail_at_once_with_one_line(make, match):
    with pytest.raises(ConfigError, match=match) as err:
        make()
    assert "\n" not in str(err.value)


# --- declared on a problem ---------------------------------------------------------------------------


class OnClass(kanpde.Problem):
    domain = kanpde.Box([0, 0], [1, 2], axes=("x", "y"))
    conditions = [kanpde.Dirichlet("boundary", 0.0)]
    c = kanpde.Unknown(init=1.5, lower=0.0)  # named after the attribute
    a = kanpde.UnknownField("cond", init=0.5, positive=True, axes=("y",))

    def residual(self, u, x):
        return ops.div(self.a(x) * ops.grad(u, x), x) + self.c


class InInit(kanpde.Problem):
    def __init__(self, init=1.5):
        self.domain = kanpde.Box([0, 0], [1, 2], axes=("x", "y"))
        self.conditions = [kanpde.Dirichlet("boundary", 0.0)]
        self.c = kanpde.Unknown(init=init, lower=0.0)
        self.a = kanpde.UnknownField("cond", init=0.5, positive=True, axes=("y",))

    def residual(self, u, x):
        return ops.div(self.a(x) * ops.grad(u, x), x) + self.c


class Source:
    """Stands for the trained values (``kanpde.pinn.unknowns.UnknownSet``)."""

    def value(self, name):
        return torch.tensor({"c": 7.0, "k": -2.0}[name])

    def field(self, name):
        return lambda x: 10.0 * x[:, 0] + {"cond": 1.0, "b": 2.0}[name]


@pytest.mark.parametrize("kind", [OnClass, InInit])
def test_declared_on_the_class_or_in_init_read_alike(kind):
    p = kind()
    assert [u.name for u in p.unknowns] == ["c", "cond"]  # the attribute's name when none is given
    assert [type(u) for u in p.unknowns] == [kanpde.Unknown, kanpde.UnknownField]
    c, a = p.unknowns
    assert c.bounds.init == 1.5 and a.bounds.lower == 0.0 and a.columns(p.domain.axes) == (1,)
    assert bound_source(p) is None
    # unbound: init
    assert p.c == 1.5
    x = torch.rand(5, 2)
    assert torch.equal(p.a(x), torch.full((5,), 0.5))
    # bound: the source's values
    bind(p, Source())
    assert float(p.c) == 7.0
    assert torch.equal(p.a(x), 10.0 * x[:, 0] + 1.0)
    bind(p, None)
    assert p.c == 1.5


def test_the_descriptor_on_the_class_and_describe():
    assert isinstance(OnClass.c, kanpde.Unknown) and repr(OnClass.c) == "Unknown('c', init=1.5)"
    described = OnClass().describe()["unknowns"]
    assert described == [
        {"kind": "scalar", "name": "c", "init": 1.5, "lower": 0.0, "upper": None},
        {"kind": "field", "name": "cond", "init": 0.5, "lower": 0.0, "upper": None, "axes": ["y"]},
    ]
    assert InInit().describe()["unknowns"] == described


def test_problems_without_unknowns_list_none():
    class Plain(kanpde.Problem):
        domain = kanpde.Box([0], [1])

        def residual(self, u, x):
            return ops.laplacian(u, x)

    assert Plain().unknowns == () and "unknowns" not in Plain().describe()


def test_an_instance_redeclaration_replaces_the_class_one_and_a_value_makes_it_constant():
    class Redeclared(OnClass):
        def __init__(self):
            self.c = kanpde.Unknown(init=3.0, upper=10.0)

    p = Redeclared()
    assert [(u.name, u.bounds.init) for u in p.unknowns] == [("c", 3.0), ("cond", 0.5)]
    assert p.c == 3.0  # not the class's 1.5
    bind(p, Source())
    assert float(p.c) == 7.0

    class Constant(OnClass):
        def __init__(self):
            self.c = kanpde.Unknown(init=3.0)
            self.c = 2.0  # a constant after all

    q = Constant()
    assert [u.name for u in q.unknowns] == ["cond"] and q.c == 2.0


def test_a_subclass_may_replace_an_unknown_by_a_constant():
    class Known(OnClass):
        c = 4.0

    assert [u.name for u in Known().unknowns] == ["cond"] and Known().c == 4.0


def test_two_attributes_with_one_unknown_name_are_refused():
    class Twice(OnClass):
        k = kanpde.Unknown("c", init=2.0)

    with pytest.raises(DefinitionError, match=r"^Twice.c and .k both declare the unknown 'c'; give each its own name$"):
        Twice()


def test_an_unknown_hidden_by_a_class_attribute_is_refused():
    class Hidden(kanpde.Problem):
        domain = kanpde.Box([0], [1])
        c = 1.0

        def __init__(self):
            self.c = kanpde.Unknown(init=2.0)

        def residual(self, u, x):
            return ops.laplacian(u, x) - self.c

    with pytest.raises(
        DefinitionError,
        match=re.escape(
            "Hidden.c is set to Unknown('c', init=2) in __init__, but the class attribute Hidden.c = 1.0 would hide "
            "it (self.c would read the class's); declare the unknown on the class (c = Unknown(...)) or rename one "
            "of them"
        ),
    ):
        Hidden()


def test_an_unknown_named_like_a_component_is_refused():
    class Clash(kanpde.Problem):
        domain = kanpde.Box([0, 0], [1, 1])
        outputs = ("u", "p")
        p = kanpde.Unknown(init=1.0)

        def residual(self, u, x):
            return ops.laplacian(u["u"], x) - self.p, u["p"]

    with pytest.raises(
        DefinitionError, match=r"^Clash: the unknown 'p' has the name of a component of the solution; rename one"
    ):
        Clash()


def test_a_field_over_an_axis_the_domain_lacks_is_refused():
    class Wrong(OnClass):
        a = kanpde.UnknownField("cond", axes=("t",))

    with pytest.raises(
        ConfigError, match=r"^UnknownField\('cond'\).axes names 't'; the domain's axes are \('x', 'y'\)$"
    ):
        Wrong()
