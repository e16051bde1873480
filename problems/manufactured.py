"""Manufactured problems: a verification case from an operator and an exact solution written in sympy.

Pick any smooth function as the exact solution, apply the PDE operator to it symbolically, and use the
result as the source term: the function then solves the problem exactly, and its values on the
boundary (and at t = t_min) are the data (Roache, "Code verification by the method of manufactured
solutions", J. Fluids Eng. 124, 2002)::

    x, y = sympy.symbols("x y")
    problem = Manufactured(lambda u: u.diff(x, 2) + u.diff(y, 2) - u**3, exact=sympy.exp(x) * sympy.sin(sympy.pi * y))
    sol = kanpde.solve(problem)

The operator receives u as a sympy function of the coordinates and returns an expression in u, its
derivatives and the coordinates; the residual evaluates the same expression on the surrogate, with
first and pure second derivatives on the one-pass path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from kanpde.errors import DefinitionError
from kanpde.geometry.box import Box, Grid
from kanpde.nets.symbol import TORCH_FUNCTIONS
from kanpde.pde import ops
from kanpde.pde.conditions import Condition, Dirichlet, Initial
from kanpde.pde.field import Field
from kanpde.pde.problem import Problem

if TYPE_CHECKING:
    import sympy

__all__ = ["Manufactured"]


class Manufactured(Problem):
    """``L(u) = L(exact)`` in ``box``, ``u = exact`` on its boundary (and initially, for a time axis ``t``).

    Args:
        operator: L, a function from a sympy expression u to a sympy expression (``u.diff(x, 2)``, ``u**3``,
            products with functions of the coordinates, ...).
        exact: the exact solution, a sympy expression (or a string sympy parses) in the box's coordinates.
        box: the domain (default [-1, 1]^2 with axes x, y); its axis names are the coordinate symbols
            (a symbol is matched by name, so ``sympy.symbols("x y")`` works as well as real ones). An
            axis named ``t`` is time: ``Initial`` at t_min and Dirichlet on the other axes' faces only.
        residual_weight, n_interior, n_boundary, eval_points: as for ``Poisson``.
    """

    def __init__(
        self,
        operator: Callable[[sympy.Expr], sympy.Expr],
        exact: sympy.Expr | str,
        *,
        box: Box | None = None,
        residual_weight: float = 1.0,
        n_interior: int = 4096,
        n_boundary: int = 512,
        eval_points: int | Sequence[int] = 128,
        name: str | None = None,
    ) -> None:
        import sympy

        if not callable(operator):
            raise DefinitionError(
                f"Manufactured.operator must be a function u -> L(u) on sympy expressions; got {operator!r}"
            )
        self.domain = box if box is not None else Box([-1.0, -1.0], [1.0, 1.0])
        names = self.domain.axes
        exact_expr = _parse(exact, names)
        given = {str(s): s for s in exact_expr.free_symbols}
        variables = tuple(given.get(a, sympy.Symbol(a)) for a in names)  # the caller's symbols, matched by name
        u_fn = sympy.Function("u")(*variables)
        try:
            applied = sympy.sympify(operator(u_fn))
            source = sympy.simplify(sympy.sympify(operator(exact_expr)).doit())
        except (TypeError, ValueError, AttributeError, sympy.SympifyError) as err:
            raise DefinitionError(
                f"Manufactured.operator failed on a sympy expression ({err}); write it with sympy operations such as u.diff(x, 2)"
            ) from None
        applied = _rename(applied, names, variables)
        if not applied.has(u_fn):
            raise DefinitionError(f"Manufactured.operator must depend on u; got L(u) = {applied}")
        self.variables, self.exact_expr, self.operator_expr, self.source_expr = variables, exact_expr, applied, source
        derivs = sorted(applied.atoms(sympy.Derivative), key=str)
        self._terms = [(d, [variables.index(v) for v, k in d.variable_count for _ in range(k)]) for d in derivs]
        slots = sympy.symbols(f"_d0:{len(derivs) + 1}", real=True)
        body = applied.xreplace({d: s for (d, _), s in zip(self._terms, slots[1:])}).xreplace({u_fn: slots[0]})
        self._operator = sympy.lambdify((*variables, *slots), body, modules=[TORCH_FUNCTIONS])
        self._source = sympy.lambdify(variables, source, modules=[TORCH_FUNCTIONS])
        self._exact = sympy.lambdify(variables, exact_expr, modules=[TORCH_FUNCTIONS])
        self.exact = self._exact_values
        self.conditions: list[Condition] = _conditions(self.domain, self._exact_values)
        self.residual_weight = residual_weight
        self.n_interior, self.n_boundary = n_interior, n_boundary
        self.eval_points = eval_points
        self.name, self.params = name, {}

    def _exact_values(self, x: Tensor) -> Tensor:
        return _column(self._exact(*x.unbind(1)), x)

    def residual(self, u: Field, x: Tensor) -> Tensor:
        coords = x.unbind(1)
        values = [u.values[:, 0]]  # (n,) columns, like the coordinates
        for _, axes in self._terms:
            if len(axes) == 2 and axes[0] == axes[1]:
                values.append(ops.laplacian(u, x, axes=(axes[0],)).values[:, 0])
            else:
                values.append(ops.partial(u, x, *axes).values[:, 0])
        return _column(self._operator(*coords, *values), x) - _column(self._source(*coords), x)

    def evaluation_grid(self) -> Grid:
        return self.domain.grid(self.eval_points)

    def describe_formulas(self) -> dict[str, Any]:
        """The operator, exact solution and derived source as strings."""
        return {"operator": str(self.operator_expr), "exact": str(self.exact_expr), "source": str(self.source_expr)}


def _parse(exact: sympy.Expr | str, names: Sequence[str]) -> sympy.Expr:
    import sympy

    try:
        expr = (
            sympy.sympify(exact, locals={a: sympy.Symbol(a) for a in names})
            if isinstance(exact, str)
            else sympy.sympify(exact)
        )
    except (sympy.SympifyError, SyntaxError, TypeError) as err:
        raise DefinitionError(
            f"Manufactured.exact must be a sympy expression or a string sympy parses; got {exact!r} ({err})"
        ) from None
    unknown = {str(s) for s in expr.free_symbols} - set(names)
    if unknown:
        raise DefinitionError(
            f"Manufactured.exact uses {sorted(unknown)}, which are not coordinates of the box (axes {list(names)}); name the box axes with Box(..., axes=...)"
        )
    return expr


def _rename(expr: sympy.Expr, names: Sequence[str], variables: Sequence[sympy.Symbol]) -> sympy.Expr:
    """The same expression with each free symbol named like an axis replaced by that axis's symbol."""

    by_name = dict(zip(names, variables))
    return expr.xreplace({s: by_name[str(s)] for s in expr.free_symbols if str(s) in by_name})


def _conditions(box: Box, exact: Callable[[Tensor], Tensor]) -> list[Condition]:
    if "t" not in box.axes:
        return [Dirichlet("boundary", exact)]
    return [Initial(exact)] + [Dirichlet(f"{a}_{side}", exact) for a in box.axes if a != "t" for side in ("min", "max")]


def _column(v: Any, x: Tensor) -> Tensor:
    """A lambdified value (tensor or number) as an (n, 1) column."""
    t = v if isinstance(v, Tensor) else torch.as_tensor(v, dtype=x.dtype, device=x.device)
    return t.reshape(-1, 1).expand(x.shape[0], 1) if t.numel() == 1 else t.reshape(-1, 1)
