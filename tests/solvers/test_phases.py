"""Phases of a training schedule: each field is validated with a ConfigError that names the field, the value
and what was expected; ``check_schedule`` refuses what a network kind cannot run."""

import dataclasses
import math
import re

import numpy as np
import pytest

from kanpde.errors import ConfigError
from kanpde.interpret.symbols import DEFAULT_LIBRARY
from kanpde.solvers.phases import LBFGS, Adam, Prune, Refine, Resample, Sparsity, Symbolize, UpdateGrid, check_schedule

NAMES = "Adam, LBFGS, Refine, UpdateGrid, Resample, Prune or Symbolize"
ALL = (Adam, LBFGS, Refine, UpdateGrid, Resample, Prune, Symbolize, Sparsity)


def message(field, expected, value):
    """The exact text of a field error: ``{field} must be {expected}; got {value!r}``."""
    return re.escape(f"{field} must be {expected}; got {value!r}") + "$"


STEPS = "an int >= 1 or None (until the budget ends)"
SHARE = "a fraction of the budget in (0, 1] or None"

BAD = [
    # Sparsity
    (Sparsity, "weight", 0, "a number > 0"),
    (Sparsity, "weight", math.inf, "a number > 0"),
    (Sparsity, "entropy", -0.5, "a number >= 0"),
    (Sparsity, "entropy", "2", "a number >= 0"),
    (Sparsity, "points", 1, "an int >= 2"),
    (Sparsity, "points", 64.0, "an int >= 2"),
    # the optimizer fields shared by Adam and LBFGS
    (Adam, "steps", 0, STEPS),
    (Adam, "steps", 2.5, STEPS),
    (Adam, "steps", True, STEPS),
    (LBFGS, "steps", -1, STEPS),
    (Adam, "share", 0, SHARE),
    (LBFGS, "share", 1.5, SHARE),
    (LBFGS, "share", math.nan, SHARE),
    (Adam, "sparsity", 1e-3, "a kanpde.solvers.Sparsity or None"),
    (LBFGS, "sparsity", {"weight": 1e-3}, "a kanpde.solvers.Sparsity or None"),
    # Adam
    (Adam, "lr", 0, "a number > 0"),
    (Adam, "lr", -1e-3, "a number > 0"),
    (Adam, "lr", "1e-3", "a number > 0"),
    (Adam, "final_lr", 0.0, "a number > 0 or None"),
    (Adam, "batch", 0, "an int >= 1 or None (full batch)"),
    (Adam, "batch", 128.0, "an int >= 1 or None (full batch)"),
    # LBFGS
    (LBFGS, "history", 0, "an int >= 1"),
    (LBFGS, "lr", 0.0, "a number > 0"),
    (LBFGS, "max_evals", 1, "an int >= 2"),
    (LBFGS, "stall_window", 0, "an int >= 1"),
    (LBFGS, "stall_tol", -1e-3, "a number in [0, 1)"),
    (LBFGS, "stall_tol", 1.0, "a number in [0, 1)"),
    # structure-changing phases
    (Refine, "grid", 0, "an int >= 1"),
    (Refine, "grid", 10.0, "an int >= 1"),
    (Refine, "grid", None, "an int >= 1"),
    (UpdateGrid, "eps", 0, "a number in (0, 1]"),
    (UpdateGrid, "eps", 1.01, "a number in (0, 1]"),
    (Prune, "threshold", -0.1, "a number in [0, 1)"),
    (Prune, "threshold", 1, "a number in [0, 1)"),
    # Resample
    (Resample, "n_interior", 0, "an int >= 1 or None (the problem's count)"),
    (Resample, "n_boundary", 2.0, "an int >= 1 or None (the problem's count)"),
    (Resample, "adaptive", 1, "True or False"),
    (Resample, "adaptive", "yes", "True or False"),
    (Resample, "k", -1.0, "a number >= 0"),
    (Resample, "c", math.inf, "a number >= 0"),
    (Resample, "candidates", 0, "an int >= 1"),
    # Symbolize
    (Symbolize, "layers", [0, 1], "a tuple of layer indices or None (all)"),
    (Symbolize, "layers", (0, -1), "a tuple of layer indices or None (all)"),
    (Symbolize, "layers", (0.0,), "a tuple of layer indices or None (all)"),
    (Symbolize, "library", ("sin", "x^2"), "a kanpde.interpret.symbols.SymbolLibrary or None"),
    (Symbolize, "complexity_weight", -1.0, "a number >= 0"),
    (Symbolize, "r2_floor", 0.0, "a number in (0, 1)"),
    (Symbolize, "r2_floor", 1.0, "a number in (0, 1)"),
]


def _id(case):
    cls, field, value, _ = case
    return f"{cls.__name__}.{field}={value!r}"


@pytest.mark.parametrize("case", BAD, ids=[_id(c) for c in BAD])
def test_a_bad_field_is_a_config_error_naming_the_field_and_the_value(case):
    cls, field, value, expected = case
    with pytest.raises(ConfigError, match=message(f"{cls.__name__}.{field}", expected, value)):
        cls(**{field: value, **({"grid": 10} if cls is Refine and field != "grid" else {})})


def test_a_decay_needs_a_length():
    with pytest.raises(
        ConfigError, match=message("Adam.final_lr", "None when steps is None (a decay needs a length)", 1e-5)
    ):
        Adam(steps=None, final_lr=1e-5)
    assert Adam(steps=100, lr=1e-2, final_lr=1e-5).final_lr == 1e-5


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_phases_are_frozen_and_keyword_only(cls):
    args = {"grid": 10} if cls is Refine else {}
    phase = cls(**args)
    field = dataclasses.fields(phase)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(phase, field, getattr(phase, field))
    with pytest.raises(TypeError, match="positional argument"):
        cls(*args.values(), 1) if args else cls(1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'setps'"):
        cls(setps=1, **args)


def test_defaults_and_good_values_are_accepted():
    assert Adam() == Adam(steps=1000, lr=1e-3, final_lr=None, batch=None, share=None, sparsity=None)
    assert LBFGS() == LBFGS(steps=500, history=50, lr=1.0, max_evals=25, stall_window=100, stall_tol=1e-3)
    assert Sparsity() == Sparsity(weight=1e-3, entropy=2.0, points=1024)
    assert LBFGS(steps=None, share=1, stall_tol=0).steps is None  # until the budget ends; never stalls
    assert Adam(sparsity=Sparsity(weight=0.1, entropy=0, points=2)).sparsity.entropy == 0
    # numpy integers and floats are numbers too (a schedule read from an array or a sweep)
    assert Refine(grid=np.int64(20)).grid == 20 and Resample(n_interior=np.int32(64), k=np.float64(2.0)).k == 2.0
    assert UpdateGrid(eps=1).eps == 1 and Prune(threshold=0).threshold == 0
    assert Symbolize(layers=(0, 2), library=DEFAULT_LIBRARY, complexity_weight=0).layers == (0, 2)


def test_labels_name_the_phase():
    phases = [Adam(), LBFGS(), Refine(grid=10), UpdateGrid(), Resample(), Prune(), Symbolize()]
    assert [p.label for p in phases] == ["adam", "lbfgs", "refine", "update_grid", "resample", "prune", "symbolize"]


# --- check_schedule ---------------------------------------------------------------------------------


def test_a_schedule_is_returned_as_a_tuple():
    schedule = [Adam(steps=10), LBFGS(steps=5), Refine(grid=10), Resample(), LBFGS(steps=None)]
    assert check_schedule(schedule, "kan") == tuple(schedule)
    assert check_schedule(tuple(schedule[:2]), "mlp") == tuple(schedule[:2])
    kan_only = [Adam(sparsity=Sparsity()), Prune(), Symbolize(), UpdateGrid(), LBFGS(sparsity=Sparsity(weight=1.0))]
    assert check_schedule(kan_only, "kan") == tuple(kan_only)


@pytest.mark.parametrize(
    "phase, what",
    [
        (Refine(grid=10), "Refine"),
        (UpdateGrid(), "UpdateGrid"),
        (Prune(), "Prune"),
        (Symbolize(), "Symbolize"),
        (Adam(sparsity=Sparsity()), "Adam(sparsity=...)"),
        (LBFGS(sparsity=Sparsity()), "LBFGS(sparsity=...)"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_kan_only_phases_are_refused_for_an_mlp(phase, what):
    expected = f"{what} needs a KAN (it acts on spline edges); the model is an MLP. Remove it from the schedule"
    with pytest.raises(ConfigError, match=re.escape(expected) + "$"):
        check_schedule([LBFGS(steps=5), phase], "mlp")


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (
            [],
            f"schedule must be a non-empty list of phases ({NAMES}); got []",
        ),
        (LBFGS(steps=3), "schedule must be a non-empty list of phases"),
        (
            "lbfgs",
            f"schedule must be a non-empty list of phases ({NAMES}); got 'lbfgs'",
        ),
        (iter([LBFGS()]), "schedule must be a non-empty list of phases"),
        (
            [LBFGS(), "adam"],
            "schedule entries must be Adam, LBFGS, Refine, UpdateGrid, Resample, Prune or Symbolize; got 'adam'",
        ),
        (
            [Sparsity()],
            "schedule entries must be Adam, LBFGS, Refine, UpdateGrid, Resample, Prune or Symbolize; got Sparsity(",
        ),
        (
            [LBFGS, Refine],
            "schedule entries must be Adam, LBFGS, Refine, UpdateGrid, Resample, Prune or Symbolize; got <class",
        ),
    ],
    ids=[
        "empty",
        "one phase",
        "a string",
        "an iterator",
        "a string entry",
        "a Sparsity entry",
        "classes, not instances",
    ],
)
def test_a_schedule_that_is_not_a_list_of_phases_is_refused(schedule, expected):
    with pytest.raises(ConfigError, match=re.escape(expected)):
        check_schedule(schedule, "kan")
