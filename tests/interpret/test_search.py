"""The structure search (``kanpde.interpret.search``), the self-checks of a schedule, and the evidence a
formula carries.

Oracles: KANs of symbols built from known edge functions (sin(pi x) sin(pi y) as a sum of two cosines of
sums, at widths [2, 2, 1] and [2, 5, 1] with three dead nodes) are found again from their values; a
sparsity weight that flattens the network is rolled back; a library without sines gives a formula
marked as not matching.
"""

from __future__ import annotations

import math

import pytest
import sympy
import torch

from kanpde import KAN
from kanpde.errors import ConfigError
from kanpde.interpret.formulas import Formula
from kanpde.interpret.search import Structure, fit_structure, search_structures, structures
from kanpde.interpret.symbols import DEFAULT_LIBRARY
from kanpde.problems import Poisson
from kanpde.solvers import LBFGS, Prune, Sparsity, Symbolize, solve

PI = math.pi


def cos_form(hidden: int) -> KAN:
    """sin(pi x) sin(pi y) = 1/2 cos(pi x - pi y) - 1/2 cos(pi x + pi y) as a KAN [2, hidden, 1] of symbols;
    nodes past the second have dead output edges."""
    kan = KAN([2, hidden, 1], grid=3)
    first = {(0, 0): ("x", (1, 0, PI, 0)), (0, 1): ("x", (1, 0, -PI, 0))}
    first |= {(1, 0): ("x", (1, 0, PI, 0)), (1, 1): ("x", (1, 0, PI, 0))}
    first |= {(o, i): ("x", (1, 0, 0.3 * (o + i), 0)) for o in range(2, hidden) for i in range(2)}
    second = {(0, 0): ("cos", (1, 0, 0.5, 0)), (0, 1): ("cos", (1, 0, -0.5, 0))}
    second |= {(0, o): ("0", (0, 0, 0, 0)) for o in range(2, hidden)}
    return kan.with_layers([kan.layers[0].with_fixed(first), kan.layers[1].with_fixed(second)])


def points(n: int = 400, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 - 1


def exact(x: torch.Tensor) -> torch.Tensor:
    return (torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])).unsqueeze(1)


def test_the_search_is_part_of_kanpde_interpret():
    import kanpde.interpret as interpret

    assert interpret.search_structures is search_structures and interpret.search.fit_structure is fit_structure


def test_the_oracle_is_the_product():
    x = points()
    with torch.no_grad():
        assert torch.allclose(cos_form(2)(x), exact(x), atol=1e-13)
        assert torch.allclose(cos_form(5)(x), exact(x), atol=1e-13)


@pytest.mark.parametrize(
    "structure",
    [
        Structure((2, 2, 1), (("x", "x"), ("cos", "cos"))),
        Structure((2, 2, 1), (("sin", "sin"), ("x^2", "x^2"))),
    ],
    ids=["cosines-of-sums", "difference-of-squares"],
)
def test_fit_structure_finds_an_exact_form_from_random_starts(structure):
    x = points()
    kan, err = fit_structure(structure, x, exact(x), DEFAULT_LIBRARY, starts=32, seed=1)
    assert err < 1e-6, f"{structure}: relative error {err:.2e}"
    with torch.no_grad():  # the KAN returned is the fit: evaluated anew at other points
        y = points(200, seed=5)
        assert torch.allclose(kan(y), exact(y), atol=1e-5)
    assert kan.symbolic


@pytest.mark.parametrize("hidden", [2, 5])
def test_search_recovers_the_smallest_exact_width(hidden):
    """A network that is sin(pi x) sin(pi y) at width [2, hidden, 1]: the search finds an exact KAN of
    symbols at width [2, 2, 1] (width 1 cannot hold the product)."""
    net = cos_form(hidden)
    found = search_structures(net, points(), accept=1e-6)
    assert found.accepted
    assert found.best.structure.width == (2, 2, 1)
    assert found.best.loss < 1e-6
    assert all(c.structure.width[1] <= 2 for c in found.judged)


def test_structures_propose_x_on_inputs_and_squares_and_sines_after():
    proposed = structures(cos_form(2), points())
    assert proposed[0].width == (2, 1, 1)  # the smallest width first
    assert {s.width for s in proposed} == {(2, 1, 1), (2, 2, 1)}
    firsts = {s.symbols[0] for s in proposed}
    assert ("x", "x") in firsts
    outers = {s.symbols[1][0] for s in proposed}
    assert "x^2" in outers and ({"sin", "cos"} & outers)


def test_a_judge_decides_and_a_failing_judge_is_not_accepted():
    seen = []

    def judge(candidate):
        seen.append(candidate.structure)
        return 1.0, candidate.kan

    found = search_structures(cos_form(2), points(), judge=judge, accept=1e-3, top=2, rounds=2)
    assert not found.accepted
    assert len(found.judged) == 4  # two per width, both widths tried
    assert len(seen) == 4 + 2 * 2  # then two rounds more for the two best
    assert found.best.loss == 1.0


def test_symbolize_search_rejects_layers():
    with pytest.raises(ConfigError, match="Symbolize.layers"):
        Symbolize(search=True, layers=(0,))
    with pytest.raises(ConfigError, match="Symbolize.retrain_steps"):
        Symbolize(search=True, retrain_steps=0)


# --- the self-checks of a schedule ------------------------------------------------------------------------


def test_a_collapsing_sparsity_phase_is_rolled_back_and_rerun_weaker():
    problem = Poisson.sin()
    sparse = LBFGS(steps=40, sparsity=Sparsity(weight=50.0))
    sol = solve(problem, KAN([2, 3, 1], grid=5), schedule=[sparse], steps=200, constraints="soft", progress=False)
    report = sol.phases[0]
    assert "collapsed the fit" in report["status"] and "rolled back" in report["status"]
    assert report["rolled_back"]
    assert sol.rel_l2 < 0.5  # the rerun (weaker, or without the penalty) fitted something


def test_a_pruning_that_would_ruin_the_fit_is_not_made():
    problem = Poisson.sin()
    schedule = [LBFGS(steps=60), Prune(threshold=0.9)]
    sol = solve(problem, KAN([2, 4, 1], grid=5), schedule=schedule, steps=100, constraints="soft", progress=False)
    report = sol.phases[1]
    assert "not pruned" in report["status"] and report["rolled_back"]
    assert sol.model.net.width == [2, 4, 1]


# --- evidence ------------------------------------------------------------------------------------------------


def test_a_wrong_library_gives_a_formula_marked_as_not_matching():
    problem = Poisson.sin()
    sol = solve(
        problem, KAN([2, 2, 1], grid=5), schedule=[LBFGS(steps=150)], steps=150, constraints="soft", progress=False
    )
    polynomials = DEFAULT_LIBRARY.restricted(["x", "x^2"])
    formula = sol.formula(library=polynomials)
    assert formula.matches is False and formula.exact is False
    assert formula.evidence["verdict"].startswith("no formula found")
    assert formula.evidence["formula_loss"] > 10 * formula.evidence["network_loss"]
    assert all(e["symbol"] in ("x", "x^2") for e in formula.evidence["edges"])
    right = sol.formula()  # the default library on the same network: evidence is measured the same way
    assert right.evidence["network_loss"] == pytest.approx(formula.evidence["network_loss"])


def test_the_exact_network_matches_its_formula():
    from kanpde.interpret.formulas import formula_evidence
    from kanpde.pinn.surrogate import Surrogate

    problem = Poisson.sin()
    model = Surrogate(cos_form(2), torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    evidence = formula_evidence(problem, model, model)
    assert evidence["matches"] is True and evidence["exact"] is True
    assert evidence["verdict"].startswith("an exact formula")
    assert evidence["formula_loss"] < 1e-20 < evidence["zero_loss"]
    assert {e["symbol"] for e in evidence["edges"]} == {"x", "cos"}


def test_simplified_turns_sums_of_cosines_into_products():
    x, y = sympy.symbols("x y", real=True)
    half = sympy.Float(0.5)
    expr = half * sympy.cos(sympy.pi * x - sympy.pi * y**2) - half * sympy.cos(sympy.pi * x + sympy.pi * y**2)
    short = Formula.build([expr], [x, y]).simplified()
    assert sympy.simplify(short.expr - sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y**2)) == 0
    assert sympy.count_ops(short.expr) < sympy.count_ops(expr)
    product = sympy.Float(2.0) * sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y)
    assert sympy.count_ops(Formula.build([product], [x, y]).simplified().expr) <= sympy.count_ops(product)


def test_a_formula_as_good_as_a_rough_network_is_approximate_not_exact():
    """The network itself as the formula (it matches) but 1 % off the solution: not exact, and said so."""
    from kanpde.interpret.formulas import formula_evidence
    from kanpde.pinn.surrogate import Surrogate

    net = cos_form(2)
    with torch.no_grad():
        net.layers[1].fixed.params[:, 2] *= 1.01
    model = Surrogate(net, torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    evidence = formula_evidence(Poisson.sin(), model, model)
    assert evidence["matches"] is True and evidence["exact"] is False
    assert evidence["verdict"].startswith("an approximate formula")
