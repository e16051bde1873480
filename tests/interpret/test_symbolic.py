"""Symbols, fixed edges, pruning and formulas: each against a known answer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy
import torch

import kanpde
from kanpde import KAN
from kanpde.cli import main
from kanpde.errors import ConfigError
from kanpde.interpret import pruning
from kanpde.interpret.formulas import Formula, kan_formula, surrogate_formula, symbolized
from kanpde.interpret.pruning import edge_scores, sparsity_penalty
from kanpde.interpret.symbols import DEFAULT_LIBRARY, Symbol, SymbolLibrary, fit_symbol
from kanpde.nets import bspline
from kanpde.pde import jet
from kanpde.pinn.hard_constraints import HardDirichlet
from kanpde.pinn.surrogate import Surrogate
from kanpde.problems import Poisson
from kanpde.solvers import LBFGS, Prune, Sparsity, Symbolize, symbolic_recipe

F64 = torch.float64


def points(n: int, d: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64) * 2 - 1


# --- the library and the fit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, f",
    [
        ("x", lambda x: 2.0 * x - 0.3),
        ("x^2", lambda x: 1.5 * (x - 0.3) ** 2 + 0.1),
        ("sin", lambda x: 0.7 * np.sin(2.5 * x + 0.4) - 0.2),
        ("tanh", lambda x: -np.tanh(3 * x - 1)),
        ("exp", lambda x: 0.5 * np.exp(1.2 * x)),
        ("gaussian", lambda x: np.exp(-((2 * x - 0.5) ** 2))),
        ("sqrt", lambda x: np.sqrt(x + 1.8)),
    ],
)
def test_fit_symbol_recovers_the_function_it_sampled(name: str, f) -> None:
    x = np.linspace(-0.7, 1.3, 600)
    fits = fit_symbol(x, f(x))
    best = fits[0]
    sym = DEFAULT_LIBRARY[best.name]
    with torch.no_grad():
        inner = best.a * torch.as_tensor(x) + best.b if sym.inner else torch.as_tensor(x)
        pred = best.c * sym(inner).numpy() + best.d
    assert best.name == name or (name == "sin" and best.name == "cos")  # cos(z) = sin(z + pi/2)
    assert best.r2 > 1 - 1e-12
    assert np.abs(pred - f(x)).max() < 1e-7


def test_fit_symbol_prefers_the_simpler_of_two_exact_fits() -> None:
    x = np.linspace(-1, 1, 200)
    fits = fit_symbol(x, 3 * x + 1)  # a sine of small frequency also fits a line to ~1e-9
    assert fits[0].name == "x"
    assert [f.cost for f in fits] == sorted(f.cost for f in fits)


def test_fit_symbol_of_a_constant_is_a_flat_line() -> None:
    fits = fit_symbol(np.linspace(0, 1, 50), np.full(50, 0.25))
    assert len(fits) == 1 and fits[0].c == 0.0 and fits[0].d == pytest.approx(0.25)


def test_symbol_derivatives_come_from_its_expression() -> None:
    sym = Symbol("sinh", "sinh(z)", 3)
    z = torch.linspace(-2, 2, 7, dtype=F64)
    f, d1, d2 = sym.torch3(z)
    assert torch.allclose(f, torch.sinh(z)) and torch.allclose(d1, torch.cosh(z)) and torch.allclose(d2, torch.sinh(z))
    lib = DEFAULT_LIBRARY.extended(sym)
    assert "sinh" in lib and lib.names[:-1] == DEFAULT_LIBRARY.names
    assert lib.restricted(["x", "sinh"]).names == ("x", "sinh")


@pytest.mark.parametrize(
    "args, match",
    [
        (("0", "z", 1), "reserved for a pruned edge"),
        (("bad", "z +* 2", 1), "cannot parse"),
        (("two", "x * y", 1), "one variable"),
        (("neg", "z", -1), "complexity must be a number >= 0"),
    ],
)
def test_symbol_rejects_bad_definitions(args, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Symbol(*args)


def test_library_rejects_duplicates_and_unknown_names() -> None:
    with pytest.raises(ConfigError, match="distinct names"):
        SymbolLibrary((Symbol("a", "z", 1), Symbol("a", "z**2", 2)))
    with pytest.raises(ConfigError, match="unknown symbol 'nope'"):
        DEFAULT_LIBRARY["nope"]


# --- fixed edges in a KAN ------------------------------------------------------------------------------


def symbolic_kan() -> KAN:
    """KAN [2, 2, 1] with known edges: h0 = x + y, h1 = sin(2x - 0.5) - y^2; out = 0.5 cos(h0) + h1^2 / 3."""
    kan = KAN([2, 2, 1], grid=5)
    kan.layers[0] = kan.layers[0].with_fixed(
        {
            (0, 0): ("x", (1, 0, 1, 0)),
            (0, 1): ("x", (1, 0, 1, 0)),
            (1, 0): ("sin", (2, -0.5, 1, 0)),
            (1, 1): ("x^2", (1, 0, -1, 0)),
        }
    )
    kan.layers[1] = kan.layers[1].with_fixed({(0, 0): ("cos", (1, 0, 0.5, 0)), (0, 1): ("x^2", (1, 0, 1 / 3, 0))})
    return kan


def truth(x: torch.Tensor) -> torch.Tensor:
    h0 = x[:, 0] + x[:, 1]
    h1 = torch.sin(2 * x[:, 0] - 0.5) - x[:, 1] ** 2
    return (0.5 * torch.cos(h0) + h1**2 / 3).reshape(-1, 1)


def test_a_fixed_kan_computes_its_formula_and_composes_it_in_sympy() -> None:
    kan, x = symbolic_kan(), points(200)
    assert kan.symbolic
    assert torch.allclose(kan(x), truth(x), atol=1e-14)
    a, b = sympy.symbols("a b", real=True)
    (expr,) = kan_formula(kan, [a, b])
    exact = sympy.cos(a + b) / 2 + (sympy.sin(2 * a - sympy.Rational(1, 2)) - b**2) ** 2 / 3
    assert float(abs(sympy.nsimplify(expr - exact, tolerance=1e-12, rational=True)).subs({a: 0.3, b: -0.7})) < 1e-12


def test_fixed_edges_carry_derivatives_in_one_pass_like_autograd() -> None:
    kan = symbolic_kan()
    kan.layers[1] = kan.layers[1].with_fixed({})  # mix in spline edges: un-fix nothing, add a spline layer below
    mixed = KAN([2, 3, 1], grid=5, seed=3)
    mixed.layers[0] = mixed.layers[0].with_fixed({(0, 0): ("tanh", (1.5, 0.2, 0.7, 0.1)), (2, 1): ("0", ())})
    for net in (kan, mixed):
        x = points(9).requires_grad_(True)
        spec = jet.JetSpec.build([0, 1], [((0, 0), (1, 1)), ((0, 1),)])
        t = net.forward_jet(jet.seed(x, spec), spec)
        u = net(x)
        (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        h = [torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(2)]
        assert torch.allclose(t[0], u, atol=1e-13)
        assert torch.allclose(t[1:3, :, 0].T, g, atol=1e-12)
        assert torch.allclose(t[3, :, 0], h[0][:, 0] + h[1][:, 1], atol=1e-11)
        assert torch.allclose(t[4, :, 0], h[0][:, 1], atol=1e-11)


def test_parameter_count_leaves_out_masked_spline_weights() -> None:
    from kanpde.pinn.surrogate import count_parameters

    kan = symbolic_kan()  # every edge fixed: only the four affine parameters of each train
    assert count_parameters(kan) == 6 * 4
    kan.layers[0] = kan.layers[0].with_fixed({(0, 0): ("0", ())})
    assert count_parameters(kan) == 5 * 4
    assert count_parameters(KAN([2, 3, 1], grid=5)) == 9 * (5 + 3 + 1)


def test_a_pruned_edge_stays_zero_under_training() -> None:
    kan = KAN([2, 3, 1], grid=5, seed=1)
    kan.layers[0] = kan.layers[0].with_fixed({(1, 0): ("0", ())})
    x = points(50)
    loss = (kan(x) - 1).pow(2).mean()
    loss.backward()
    layer = kan.layers[0]
    assert float(layer.coef.grad[1, 0].abs().max()) == 0.0 and float(layer.base_weight.grad[1, 0]) == 0.0
    assert torch.allclose(layer.edge_values(x)[:, 0, 1], torch.zeros(50, dtype=F64))


def spline_copy(kan: KAN, x: torch.Tensor, grid: int = 60) -> KAN:
    """A spline KAN whose edges are least-squares fits of ``kan``'s edges on the inputs x (base weights 0)."""
    out = KAN(kan.width, grid=grid, seed=5)
    h = x
    for l, layer in enumerate(kan.layers):
        with torch.no_grad():
            values = layer.edge_values(h)  # (n, in, out)
            lo, hi = h.min(0).values - 1e-3, h.max(0).values + 1e-3
            knots = bspline.extend_grid(lo[:, None] + (hi - lo)[:, None] * torch.linspace(0, 1, grid + 1, dtype=F64), 3)
            basis = bspline.dense_basis(h, knots, 3, uniform=True).transpose(0, 1)  # (in, n, G + k)
            coef = bspline.lstsq(basis, values.transpose(0, 1)).permute(2, 0, 1)
            out.layers[l] = kanpde.nets.kan.KANLayer.build(knots, torch.zeros_like(layer.base_weight), coef, 3)
            h = layer(h)
    return out


def test_symbolized_recovers_a_kan_whose_edges_were_set_to_known_functions() -> None:
    x = points(4000, seed=2)
    splines = spline_copy(symbolic_kan(), x)
    assert (splines(x) - truth(x)).abs().max() < 1e-6  # the splines only approximate the edges
    assert not splines.symbolic
    recovered, _ = symbolized(splines, x)
    names = [layer.fixed.names for layer in recovered.layers]
    assert names[0] == [["x", "x"], ["sin", "x^2"]] or names[0] == [["x", "x"], ["cos", "x^2"]]
    assert names[1] == [["cos", "x^2"]] or names[1] == [["sin", "x^2"]]
    y = points(500, seed=9) * 0.9
    assert (recovered(y) - truth(y)).abs().max() < 1e-6


def test_pruning_a_kan_with_dead_edges_removes_exactly_those() -> None:
    kan = KAN([2, 4, 1], grid=5, seed=1)
    with torch.no_grad():
        kan.layers[1].coef[:, 2:] = 0  # hidden nodes 2 and 3 feed nothing
        kan.layers[1].base_weight[:, 2:] = 0
        kan.layers[0].coef[0, 1] = 0  # edge y -> hidden 0 is dead
        kan.layers[0].base_weight[0, 1] = 0
    x = points(500)
    pruned = pruning.pruned(kan, 1e-6, x)
    assert pruned.width == [2, 2, 1]
    assert pruned.layers[0].fixed.names == [[None, "0"], [None, None]]
    assert pruned.layers[1].fixed is None
    assert (pruned(x) - kan(x)).abs().max() < 1e-14
    assert pruning.pruned(kan, 0.0, x).width == [2, 2, 1]  # nodes with zero score go even at threshold 0


def test_pruning_keeps_the_mean_of_what_it_removes() -> None:
    kan = KAN([4, 1], grid=5, seed=4)  # one layer: each node's mean is the output's mean
    x = points(800, 4)
    with torch.no_grad():
        kan.layers[0].coef[0, 3] *= 0.01
        kan.layers[0].base_weight[0, 3] *= 0.01
    pruned = pruning.pruned(kan, 0.05, x)
    assert pruned.layers[0].fixed.names == [[None, None, None, "0"]]
    with torch.no_grad():
        assert abs(float(pruned(x).mean() - kan(x).mean())) < 1e-14
        assert float((pruned(x) - kan(x)).abs().max()) > 0


def test_attribution_scores_split_the_output_among_nodes() -> None:
    kan = KAN([3, 4, 2], grid=5, seed=2)
    edges, nodes = edge_scores(kan, points(300, 3))
    assert torch.allclose(nodes[1].sum(), torch.tensor(2.0, dtype=F64))  # two outputs, each worth 1
    assert torch.allclose(nodes[0].sum(), torch.tensor(2.0, dtype=F64))
    assert all(bool((e >= 0).all()) for e in edges)


def test_sparsity_penalty_is_l1_plus_entropy() -> None:
    kan = KAN([2, 1], grid=3, seed=0)
    x = points(100)
    l1 = kan.layers[0].edge_values(x).abs().mean(0).reshape(-1)
    p = l1 / l1.sum()
    expected = l1.sum() - 2.0 * (p * p.log()).sum()
    assert torch.allclose(sparsity_penalty(kan, x, entropy=2.0), expected)
    with torch.no_grad():
        kan.layers[0].coef.zero_()
        kan.layers[0].base_weight.zero_()
    assert float(sparsity_penalty(kan, x)) == 0.0


def test_a_symbolic_kan_saves_and_loads(tmp_path) -> None:
    problem = Poisson.sin()
    sol = kanpde.solve(problem, symbolic_kan(), schedule=[LBFGS(steps=2)], constraints="soft", progress=False)
    sol.save(tmp_path)
    back = kanpde.load(tmp_path)
    x = points(50)
    assert torch.allclose(back(x), sol(x), atol=1e-15)
    assert back.model.net.symbolic and back.formula().expr == sol.formula().expr


# --- formulas of whole surrogates ----------------------------------------------------------------------


def test_surrogate_formula_includes_input_map_periodic_embedding_and_hard_constraint() -> None:
    net = KAN([3, 2, 1], grid=4, seed=0)
    net, _ = symbolized(net, points(2000, 3, seed=1))
    surrogate = Surrogate(
        net, torch.tensor([0.0, 0.0]), torch.tensor([2.0, 1.0]), HardDirichlet(((1, 0),), 0.5), periodic=(0,)
    )
    exprs, variables = surrogate_formula(surrogate, ("x", "t"))
    x = torch.rand(40, 2, dtype=F64) * torch.tensor([2.0, 1.0], dtype=F64)
    values = sympy.lambdify(variables, exprs[0], "numpy")(*x.T.numpy())
    assert np.abs(values - surrogate(x)[:, 0].detach().numpy()).max() < 1e-12


def test_a_function_valued_hard_condition_has_no_formula() -> None:
    net = symbolic_kan()
    surrogate = Surrogate(
        net, torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]), HardDirichlet(((0, 0),), lambda x: x[:, 1])
    )
    with pytest.raises(ConfigError, match="constraints='soft'"):
        surrogate_formula(surrogate, ("x", "y"))


def test_kan_formula_needs_every_edge_fixed() -> None:
    with pytest.raises(ConfigError, match="still has spline edges"):
        kan_formula(KAN([2, 2, 1]), sympy.symbols("a b"))


def test_simplified_identifies_fractions_and_pi() -> None:
    x, y = sympy.symbols("x y", real=True)
    raw = (
        sympy.Float(0.50000000001)
        * sympy.sin(sympy.Float(math.pi) * x + sympy.Float(1e-13))
        * sympy.Float(2.0)
        * sympy.sin(sympy.Float(math.pi) * y)
    )
    short = Formula.build([raw], (x, y)).simplified()
    assert short.expr == sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y)


def test_formula_of_an_mlp_is_an_error() -> None:
    sol = kanpde.solve(Poisson.sin(), kanpde.MLP([2, 4, 1]), steps=1, progress=False)
    with pytest.raises(ConfigError, match="formula\\(\\) needs a KAN"):
        sol.formula()


# --- the whole path: solve, prune, fix, formula -----------------------------------------------------


@pytest.mark.slow  # ~70 s: the recipe with its structure search, on a step budget
def test_symbolic_recipe_recovers_sin_sin_on_poisson_sin() -> None:
    problem = Poisson.sin()
    net = KAN([2, 5, 1], grid=5)
    recipe = symbolic_recipe(problem, net)
    sol = kanpde.solve(
        problem, net, schedule=recipe.schedule, constraints=recipe.constraints, steps=1600, progress=False
    )
    assert sol.model.net.width == [2, 2, 1] and sol.model.net.symbolic
    formula = sol.formula()
    assert formula.rel_l2 < 1e-6
    x, y = formula.variables
    assert formula.simplified().expr == sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y)


def test_formula_fits_remaining_spline_edges_without_training() -> None:
    sol = kanpde.solve(Poisson.sin(), KAN([2, 2, 1], grid=5), steps=30, constraints="soft", progress=False)
    formula = sol.formula()
    assert len(formula.edges) == 6 and not sol.model.net.symbolic  # the solution itself is unchanged
    assert formula.rel_l2 is not None and np.isfinite(formula.rel_l2)
    assert formula(np.zeros((3, 2))).shape == (3, 1)


@pytest.mark.parametrize(
    "phase, match",
    [
        (lambda: Prune(threshold=1.5), "Prune.threshold must be a number in \\[0, 1\\)"),
        (lambda: Symbolize(layers=[0]), "Symbolize.layers must be a tuple"),
        (lambda: Symbolize(library=["sin"]), "Symbolize.library must be a kanpde.interpret.symbols.SymbolLibrary"),
        (lambda: LBFGS(sparsity=1e-3), "LBFGS.sparsity must be a kanpde.solvers.Sparsity"),
        (lambda: Sparsity(weight=0), "Sparsity.weight must be a number > 0"),
    ],
)
def test_symbolic_phases_reject_bad_settings(phase, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        phase()


def test_symbolic_phases_need_a_kan() -> None:
    with pytest.raises(ConfigError, match="Prune needs a KAN"):
        kanpde.solve(Poisson.sin(), kanpde.MLP([2, 4, 1]), schedule=[Prune()], steps=1, progress=False)
    with pytest.raises(ConfigError, match="LBFGS\\(sparsity=...\\) needs a KAN"):
        kanpde.solve(
            Poisson.sin(), kanpde.MLP([2, 4, 1]), schedule=[LBFGS(sparsity=Sparsity())], steps=1, progress=False
        )


def test_cli_symbolic_writes_the_formula(tmp_path) -> None:
    out = tmp_path / "run"
    assert (
        main(["solve", "poisson_sin", "--symbolic", "--steps", "200", "--out", str(out), "--quiet", "--no-plots"]) == 0
    )
    report = json.loads((out / "report.json").read_text())
    expr = sympy.sympify(report["formula"])
    assert {str(s) for s in expr.free_symbols} <= {"x", "y"}
    # the recipe's phases take shares of the 200 steps, so its Symbolize phases fix every edge: the formula
    # needs no further fits
    assert report["formula_rel_l2"] is not None and report["formula_edges"] == []
    assert "u(x, y) =" in (out / "formula.tex").read_text()


def test_cli_symbolic_needs_a_kan(tmp_path, capsys) -> None:
    assert (
        main(
            [
                "solve",
                "poisson_sin",
                "--symbolic",
                "--model",
                "mlp",
                "--steps",
                "1",
                "--out",
                str(tmp_path / "r"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "--symbolic reads a formula from a KAN" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
