"""Loss weightings against values computed by hand.

Causal (Wang, Sankaran, Perdikaris, arXiv 2203.07404): L_r = (1/M) sum_i w_i L_i with
w_i = exp(-tol sum_{k<i} L_k), no gradient through w. Balance (Wang, Teng, Perdikaris, arXiv 2001.04536):
w_i <- (1 - alpha) w_i + alpha max|grad L_r| / mean|grad L_i|.
"""

import math

import pytest
import torch

import kanpde
from kanpde.errors import ConfigError
from kanpde.pde import ops
from kanpde.solvers.weighting import Balance, Causal


def heat_on(t0, t1):
    """A space-time problem on [0, 1] x [t0, t1]; only its time axis matters here."""
    return kanpde.FunctionProblem(
        domain=kanpde.Box([0.0, t0], [1.0, t1], axes=("x", "t")),
        residual=lambda u, x: ops.dt(u, x) - ops.partial(u, x, 0, 0),
    )


def chunked(times, values):
    """Points (n, 2) at the given times and residuals (n, m) with the given rows."""
    t = torch.tensor(times)
    return torch.tensor(values), torch.stack([torch.full_like(t, 0.5), t], 1)


# --- Causal -----------------------------------------------------------------------------------------


def test_causal_weights_on_a_tiny_example():
    """Time [1, 3] in M = 4 chunks of length 0.5; two residual components per point.

    chunk 0 (t in [1, 1.5)): rows (1, 1) and (3, 1) -> mean squares 1, 5 -> L_0 = 3
    chunk 1: no points -> L_1 = 0
    chunk 2 (t in [2, 2.5)): row (2, 0) -> L_2 = 2
    chunk 3 (t in [2.5, 3], the end included): rows (0, 2) and (4, 0) -> 2, 8 -> L_3 = 5
    weights with tol 0.5: exp(-0.5 (0, 3, 3, 5)).
    """
    reduce = Causal(chunks=4, tol=0.5).reducer(heat_on(1.0, 3.0))
    assert reduce.last_min_weight == 1.0  # before any evaluation
    r, x = chunked([1.0, 1.49, 2.0, 2.99, 3.0], [[1.0, 1.0], [3.0, 1.0], [2.0, 0.0], [0.0, 2.0], [4.0, 0.0]])
    losses = torch.tensor([3.0, 0.0, 2.0, 5.0])
    weights = torch.exp(-0.5 * torch.tensor([0.0, 3.0, 3.0, 5.0]))
    assert float(reduce(r, x)) == pytest.approx(float((weights * losses).mean()), rel=1e-15)
    assert float(reduce(r, x)) == pytest.approx((3 + math.exp(-1.5) * 2 + math.exp(-2.5) * 5) / 4, rel=1e-15)
    assert reduce.last_min_weight == pytest.approx(math.exp(-2.5), rel=1e-15)


def test_a_large_tolerance_silences_the_later_chunks():
    reduce = Causal(chunks=2, tol=1e6).reducer(heat_on(0.0, 1.0))
    r, x = chunked([0.25, 0.75], [[0.1], [10.0]])
    assert float(reduce(r, x)) == pytest.approx(0.01 / 2, rel=1e-15)  # w_1 = exp(-1e4) underflows to 0
    assert reduce.last_min_weight == 0.0


def test_causal_weights_fall_with_time_and_do_not_depend_on_the_point_order():
    g = torch.Generator().manual_seed(0)
    n = 200
    x = torch.stack([torch.rand(n, generator=g), torch.rand(n, generator=g)], 1)
    r = torch.randn(n, 2, generator=g)
    reduce = Causal(chunks=8, tol=0.3).reducer(heat_on(0.0, 1.0))
    value = reduce(r, x)
    w = reduce._last_weights
    assert w[0] == 1.0 and bool((w[1:] < w[:-1]).all())  # every chunk holds points with non-zero residuals
    again = Causal(chunks=8, tol=0.3).reducer(heat_on(0.0, 1.0))
    assert torch.equal(again(r, x), value)  # deterministic
    perm = torch.randperm(n, generator=g)
    torch.testing.assert_close(reduce(r[perm], x[perm]), value, rtol=1e-14, atol=0)


def test_no_gradient_flows_through_the_causal_weights():
    """d L_r / d r_p = w_i 2 r_p / (M n_i m) for a point p in chunk i: the weights act as constants."""
    reduce = Causal(chunks=2, tol=1.0).reducer(heat_on(0.0, 2.0))
    r, x = chunked([0.5, 0.7, 1.5], [[1.0], [2.0], [3.0]])
    r.requires_grad_(True)
    (g,) = torch.autograd.grad(reduce(r, x), r)
    w1 = math.exp(-(1 + 4) / 2)  # L_0 = (1 + 4) / 2
    expected = torch.tensor([[1.0 * 2 * 1 / (2 * 2)], [1.0 * 2 * 2 / (2 * 2)], [w1 * 2 * 3 / (2 * 1)]])
    torch.testing.assert_close(g, expected, rtol=1e-15, atol=0)


def test_held_weights_stay_until_a_refresh_renews_them():
    reduce = Causal(chunks=2, tol=1.0, drift=0.1).reducer(heat_on(0.0, 1.0))
    _, x = chunked([0.25, 0.75], [[0.0], [0.0]])
    r1, r2, r3 = torch.tensor([[1.0], [1.0]]), torch.tensor([[1.1], [2.0]]), torch.tensor([[2.0], [2.0]])
    with reduce.held():
        first = reduce(r1, x)  # takes the weights (1, e^-1) from r1
        assert float(first) == pytest.approx((1 + math.exp(-1)) / 2, rel=1e-15)
        assert float(reduce(r2, x)) == pytest.approx((1.21 + math.exp(-1) * 4) / 2, rel=1e-15)  # still e^-1
        assert reduce.refresh() is False  # own weights e^-1.21 differ from e^-1 by 0.07 <= drift
        reduce(r3, x)  # its own weights are e^-4 now: 0.35 away
        assert reduce.refresh() is True
        assert float(reduce(r3, x)) == pytest.approx((4 + math.exp(-4) * 4) / 2, rel=1e-15)
    assert float(reduce(r1, x)) == pytest.approx((1 + math.exp(-1)) / 2, rel=1e-15)  # per evaluation again


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"chunks": 1}, "Causal.chunks must be an int >= 2; got 1"),
        ({"chunks": 4.0}, "Causal.chunks must be an int >= 2; got 4.0"),
        ({"chunks": True}, "Causal.chunks must be an int >= 2; got True"),
        ({"tol": 0}, "Causal.tol must be a number > 0; got 0"),
        ({"tol": math.inf}, "Causal.tol must be a number > 0; got inf"),
        ({"tol": math.nan}, "Causal.tol must be a number > 0; got nan"),
        ({"tol": "1"}, "Causal.tol must be a number > 0; got '1'"),
        ({"drift": -0.01}, "Causal.drift must be a number >= 0; got -0.01"),
        ({"drift": math.inf}, "Causal.drift must be a number >= 0; got inf"),
    ],
)
def test_causal_fields_are_validated(kwargs, expected):
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.").replace("(", r"\(") + "$"):
        Causal(**kwargs)


def test_causal_needs_a_time_axis():
    problem = kanpde.FunctionProblem(domain=kanpde.Box([0, 0], [1, 1]), residual=lambda u, x: u)
    with pytest.raises(
        ConfigError,
        match=r"Causal weighting needs a space-time problem whose last axis is named 't'; "
        r".* has axes \('x', 'y'\)\. Drop causal= or declare the domain with axes=\(\.\.\., 't'\)",
    ):
        Causal().reducer(problem)
    reduce = Causal().reducer(heat_on(0.5, 2.5))
    assert (reduce.t0, reduce.t1) == (0.5, 2.5)


# --- Balance ----------------------------------------------------------------------------------------


def test_balance_update_by_hand():
    """Linear terms make the gradients constants: L_r = c . p, L_a = a . p, L_b = b . p + q . s.

    max|grad L_r| = 4; mean|grad L_a| = (1 + 1 + 2 + 0 + 0) / 5 = 0.8 -> target 5;
    mean|grad L_b| = (0.5 + 0.5 + 0.5 + 0.5 + 2) / 5 = 0.8 -> target 5, from weight 2.
    """
    p = torch.zeros(3, requires_grad=True)
    s = torch.zeros(2, requires_grad=True)
    terms = {
        "residual": p @ torch.tensor([1.0, -4.0, 2.0]) + s @ torch.tensor([0.5, 3.0]),
        "a": p @ torch.tensor([1.0, -1.0, 2.0]) + s @ torch.zeros(2),  # zero gradient along s
        "b": p @ torch.tensor([0.5, 0.5, -0.5]) + s @ torch.tensor([0.5, 2.0]),
        "fixed": torch.tensor(1.0),  # no gradient at all: a term with nothing to weigh
    }
    params = [p, s]
    out = Balance(alpha=0.25).update(terms, params, {"b": 2.0, "other": 7.0})
    target_b = 4.0 / 0.8
    assert out["b"] == pytest.approx(0.75 * 2.0 + 0.25 * target_b, rel=1e-15)
    assert out["other"] == 7.0 and "fixed" not in out and "residual" not in out
    assert out["a"] == pytest.approx(0.75 * 1.0 + 0.25 * 4.0 / 0.8, rel=1e-15)  # weight 1 when new


def test_balance_means_over_every_parameter():
    p = torch.zeros(3, requires_grad=True)
    s = torch.zeros(2, requires_grad=True)
    terms = {"residual": p @ torch.tensor([1.0, -4.0, 2.0]) + s.sum(), "a": p @ torch.tensor([1.0, -1.0, 2.0])}
    out = Balance(alpha=1.0).update(terms, [p, s], {})
    assert out["a"] == pytest.approx(4.0 / (4.0 / 5), rel=1e-15)


def test_balance_with_alpha_one_jumps_to_the_target_and_is_deterministic():
    p = torch.tensor([0.5, -1.0], requires_grad=True)
    terms = {"residual": (p**2).sum() * 3, "dirichlet:boundary": (p**2).sum() / 10}
    # grad L_r = 6 p = (3, -6): max 6; grad L_b = p / 5 = (0.1, -0.2): mean 0.15
    out = Balance(alpha=1.0).update(terms, [p], {"dirichlet:boundary": 123.0})
    assert out == pytest.approx({"dirichlet:boundary": 6 / 0.15}, rel=1e-14)
    assert Balance(alpha=1.0).update(terms, [p], {"dirichlet:boundary": 123.0}) == out
    assert p.grad is None  # update reads gradients without accumulating them into .grad


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"every": 0}, r"Balance.every must be an int >= 1; got 0$"),
        ({"every": 10.0}, r"Balance.every must be an int >= 1; got 10.0$"),
        ({"every": True}, r"Balance.every must be an int >= 1; got True$"),
        ({"alpha": 0}, r"Balance.alpha must be a number in \(0, 1\]; got 0$"),
        ({"alpha": 1.5}, r"Balance.alpha must be a number in \(0, 1\]; got 1.5$"),
        ({"alpha": False}, r"Balance.alpha must be a number in \(0, 1\]; got False$"),
    ],
)
def test_balance_fields_are_validated(kwargs, expected):
    with pytest.raises(ConfigError, match=expected):
        Balance(**kwargs)
