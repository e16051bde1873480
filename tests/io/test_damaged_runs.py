"""kanpde.load on damaged or foreign run folders: one ConfigError line naming the file, never torch's advice
to disable ``weights_only``, and no code from the folder run; a damaged report.json loads with a warning.

Oracles: a pickle whose loading would create a file leaves no file; a run whose report.json is damaged
gives the same field as the run that was saved.
"""

import json
import os
import pickle
import shutil

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError
from kanpde.io.solution import evaluate_errors
from kanpde.io.status import Status, StatusKind
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson

DAMAGED = r"restore the run folder from a copy, or solve again$"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A good run folder (KAN [2, 3, 1]) and the weights of another network (KAN [2, 4, 1])."""
    root = tmp_path_factory.mktemp("runs")
    sol, other = untrained([2, 3, 1]), untrained([2, 4, 1])
    return sol, sol.save(root / "good"), other.save(root / "other")


def untrained(width):
    """A solution of poisson_sin with a fresh KAN (no training: fast), as solve() would return it."""
    problem = Poisson.sin()
    box = [torch.as_tensor(b, dtype=torch.float64) for b in (problem.domain.lower, problem.domain.upper)]
    model = Surrogate(kanpde.KAN(width, grid=3), *box)
    status = Status(StatusKind.STEP_BUDGET, "step budget of 0 steps reached")
    return kanpde.Solution(model=model, problem=problem, status=status, errors=evaluate_errors(model, problem))


@pytest.fixture
def run(saved, tmp_path):
    """A fresh copy of the good run folder, to damage."""
    return shutil.copytree(saved[1], tmp_path / "run")


def refused(folder, match):
    with pytest.raises(ConfigError, match=match) as err:
        kanpde.load(folder)
    message = str(err.value)
    assert "\n" not in message and "weights_only" not in message, message
    return message


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "text, match",
    [
        (
            "{ not json",
            r"model.json is not valid JSON \(Expecting property name enclosed in double quotes: line 1 column 3 "
            r"\(char 2\)\)",
        ),
        ("[1, 2]", r"model.json holds a JSON list, not the object Solution.save writes"),
        ('{"format": 1}', r"model.json has no 'surrogate' entry, which the surrogate is rebuilt from"),
    ],
)
def test_model_json_not_json_or_not_a_description(run, text, match):
    (run / "model.json").write_text(text)
    refused(run, rf"^kanpde.load\('.*run'\): {match}; the file is damaged or not from kanpde: {DAMAGED}")


def test_model_json_with_an_entry_missing_or_wrong(run):
    edit_json(run / "model.json", lambda d: d["surrogate"]["net"].pop("width"))
    refused(run, r"model.json has no 'width' entry, which the surrogate is rebuilt from; the file is damaged")
    edit_json(run / "model.json", lambda d: d["surrogate"]["net"].update(width=[2, 3, 1], grid=0))
    refused(run, r"^kanpde.load\('.*run'\): model.json: KAN.grid must be an int >= 1; got 0$")
    edit_json(run / "model.json", lambda d: d.update(dtype="half"))
    refused(run, r"model.json has dtype 'half'; expected 'float32' or 'float64'; the file is damaged")
    edit_json(run / "model.json", lambda d: d.update(dtype="float64", problem="poisson_sin"))
    refused(run, r"model.json has a 'problem' entry that is not a problem description \('poisson_sin'\); the file")


class Foreign:
    """Pickled by reference, as a user's own class would be."""


class Trap:
    """An object whose unpickling would create a file: the oracle that nothing from model.pt runs."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_foreign_pickle_is_refused_without_running_it(run, tmp_path):
    marker = tmp_path / "ran"
    torch.save({"w": Trap(marker)}, run / "model.pt")
    refused(
        run,
        r"^kanpde.load\('.*run'\): model.pt holds pickled Python objects \(io.open\), not the plain tensors "
        r"Solution.save writes; kanpde reads weights only and never runs code from a file: pass a folder written "
        rf"by kanpde, or {DAMAGED}",
    )
    assert not marker.exists()
    torch.save({"w": Foreign()}, run / "model.pt")
    refused(run, r"model.pt holds pickled Python objects \(.*Foreign\), not the plain tensors")
    with open(run / "model.pt", "wb") as f:
        pickle.dump(Foreign(), f)
    refused(run, r"model.pt is a Python pickle, not the plain tensors Solution.save writes; kanpde reads weights only")


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:300]),  # truncated
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(os.urandom(64).replace(b"\x80", b"\x00").replace(b"P", b"\x00")),
        lambda p: p.write_text("not a torch file"),
    ],
    ids=["truncated", "empty", "garbage", "text"],
)
def test_a_damaged_model_pt(run, damage):
    damage(run / "model.pt")
    refused(run, rf"^kanpde.load\('.*run'\): model.pt is not a torch file \(truncated or damaged\); {DAMAGED}")


def test_weights_of_another_network_or_not_weights(run, saved):
    shutil.copy(saved[2] / "model.pt", run / "model.pt")
    refused(
        run,
        r"^kanpde.load\('.*run'\): model.pt does not fit the KAN \[2, 3, 1\] grid 3 model.json describes "
        r"\(net.layers.0.base_weight is \(4, 2\) where \(3, 2\) is expected, .* and 2 more\); the two files come "
        r"from different runs or one was damaged: restore the pair one save wrote, or solve again$",
    )
    torch.save({"w": torch.ones(2)}, run / "model.pt")
    refused(run, r"model.pt does not fit .*\(missing lower, upper, net.layers.0.base_weight and 5 more; unexpected w\)")
    torch.save([torch.ones(2)], run / "model.pt")
    refused(run, rf"model.pt holds a list, not the dict of tensors Solution.save writes; {DAMAGED}")


@pytest.mark.parametrize(
    "text, why",
    [
        ("{ trunc", r"is not valid JSON \(Expecting property name enclosed in double quotes: line 1 column 3"),
        ("[]", "holds a JSON list, not an object"),
        ('{"history": "lost"}', "has a 'history' entry that is not a list of objects"),
    ],
)
def test_a_damaged_report_loads_the_model_with_a_warning(run, saved, text, why):
    (run / "report.json").write_text(text)
    with pytest.warns(UserWarning, match=rf"^kanpde.load\('.*run'\): report.json {why}.*; loaded without it"):
        sol = kanpde.load(run)
    assert sol.status.kind is StatusKind.UNKNOWN and str(sol.status).startswith("unknown: report.json")
    assert sol.history == () and sol.phases == ()
    x = torch.rand(20, 2) * 2 - 1
    torch.testing.assert_close(sol(x), saved[0](x), rtol=0, atol=0)  # the field itself is intact
    assert sol.errors["rel_l2"] == pytest.approx(saved[0].errors["rel_l2"])  # recomputed: a built-in problem
