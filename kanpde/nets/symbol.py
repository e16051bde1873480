"""Symbols for KAN edges: a function f(z) given as a sympy expression, evaluated with torch.

A KAN edge fixed to a symbol computes ``c f(a x + b) + d`` (Liu et al., arXiv 2404.19756, sec. 2.5.1). A
:class:`Symbol` derives the torch value, first and second derivative of f from its expression, so such an
edge trains on the one-pass derivative path like a spline edge. sympy is imported when a symbol is built,
not when this module is; the library of standard symbols and the fitting live in
:mod:`kanpde.interpret.symbols`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from kanpde.errors import ConfigError

if TYPE_CHECKING:
    import sympy

__all__ = ["Symbol", "SymbolLibrary", "TORCH_FUNCTIONS", "variable", "default_library"]


@functools.cache
def variable() -> sympy.Symbol:
    """z, the variable of every symbol's expression."""
    import sympy

    return sympy.Symbol("z", real=True)


TORCH_FUNCTIONS = {
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "tanh": torch.tanh,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "Abs": torch.abs,
    "sgn": torch.sign,
    "atan": torch.atan,
    "asin": torch.asin,
    "acos": torch.acos,
    "erf": torch.erf,
    "DiracDelta": torch.zeros_like,
    "pi": math.pi,
    "E": math.e,
}


@dataclass(frozen=True)
class Symbol:
    """A function f(z) for KAN edges.

    Args:
        name: how the function is referred to (unique within a library).
        expr: a sympy expression in the one free variable (or a string sympy parses, with ``z``).
        complexity: a cost in the ranking (x: 1, sin: 2, tanh: 3, ...).
        inner: whether the edge is ``c f(a x + b) + d`` (True) or ``c f(x) + d`` (False: for x itself,
            where an inner affine map adds nothing).
    """

    name: str
    expr: sympy.Expr | str
    complexity: float
    inner: bool = True
    torch3: Callable[[Tensor], tuple[Tensor, Tensor, Tensor]] = field(init=False, repr=False, compare=False)
    value: Callable[[Tensor], Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import sympy

        if not isinstance(self.name, str) or not self.name or self.name == "0":
            raise ConfigError(
                f"Symbol.name must be a non-empty string other than '0' (reserved for a pruned edge); got {self.name!r}"
            )
        expr = self.expr
        if isinstance(expr, str):
            try:
                expr = sympy.sympify(expr, locals={"z": variable()})
            except (sympy.SympifyError, SyntaxError, TypeError) as err:
                raise ConfigError(f"Symbol {self.name!r}: cannot parse expression {self.expr!r} ({err})") from None
        if not isinstance(expr, sympy.Expr) or len(expr.free_symbols) > 1:
            raise ConfigError(f"Symbol {self.name!r} needs an expression in one variable; got {self.expr!r}")
        (var,) = expr.free_symbols or {variable()}
        expr = expr.xreplace({var: variable()})
        if not (isinstance(self.complexity, (int, float)) and math.isfinite(self.complexity) and self.complexity >= 0):
            raise ConfigError(f"Symbol {self.name!r}: complexity must be a number >= 0; got {self.complexity!r}")
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "torch3", _torch_functions(expr, 2))
        value = _torch_functions(expr, 0)
        object.__setattr__(self, "value", lambda z: value(z)[0])

    def sympy(self, arg: sympy.Expr) -> sympy.Expr:
        """f(arg) as a sympy expression."""
        return self.expr.xreplace({variable(): arg})

    def __call__(self, z: Tensor) -> Tensor:
        return self.value(z)


def _torch_functions(expr: sympy.Expr, order: int) -> Callable[[Tensor], tuple[Tensor, ...]]:
    """(f, f', ...) up to the ``order``-th derivative of a sympy expression, as one torch function."""
    import sympy

    z = variable()
    exprs = [expr.diff(z, k).replace(sympy.sign, sympy.Function("sgn")) for k in range(order + 1)]
    try:
        fn = sympy.lambdify(z, exprs, modules=[TORCH_FUNCTIONS])
    except Exception as err:  # sympy raises a zoo of printer errors
        raise ConfigError(
            f"expression {expr} cannot be evaluated with torch ({err}); use elementary functions"
        ) from None

    def functions(z: Tensor) -> tuple[Tensor, ...]:
        return tuple(
            v
            if isinstance(v, Tensor) and v.shape == z.shape
            else torch.as_tensor(v, dtype=z.dtype, device=z.device).expand_as(z)
            for v in fn(z)
        )

    return functions


@dataclass(frozen=True)
class SymbolLibrary:
    """The symbols an edge may be fitted with, by name. Immutable; ``extended`` returns a new library."""

    symbols: tuple[Symbol, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.symbols]
        if len(set(names)) != len(names) or not all(isinstance(s, Symbol) for s in self.symbols):
            raise ConfigError(f"a SymbolLibrary needs Symbols with distinct names; got {names}")

    def __getitem__(self, name: str) -> Symbol:
        for s in self.symbols:
            if s.name == name:
                return s
        raise ConfigError(f"unknown symbol {name!r}; this library has {', '.join(self.names)}")

    def __contains__(self, name: object) -> bool:
        return any(s.name == name for s in self.symbols)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.symbols)

    def extended(self, *symbols: Symbol) -> SymbolLibrary:
        """This library plus ``symbols`` (a symbol with an existing name replaces it)."""
        new = {s.name: s for s in symbols}
        return SymbolLibrary(tuple(s for s in self.symbols if s.name not in new) + tuple(symbols))

    def restricted(self, names: Iterable[str]) -> SymbolLibrary:
        """Only the symbols named."""
        return SymbolLibrary(tuple(self[n] for n in names))

    def describe(self) -> dict[str, str]:
        return {s.name: str(s.expr) for s in self.symbols}


@functools.cache
def default_library() -> SymbolLibrary:
    """x, x^2, x^3, sin, cos, tanh, exp, log, sqrt, abs and the gaussian exp(-x^2) (built on first use;
    ``kanpde.interpret.symbols.DEFAULT_LIBRARY`` is this library)."""
    import sympy

    Z = variable()
    return SymbolLibrary(
        (
            Symbol("x", Z, 1, inner=False),
            Symbol("x^2", Z**2, 2),
            Symbol("x^3", Z**3, 3),
            Symbol("sin", sympy.sin(Z), 2),
            Symbol("cos", sympy.cos(Z), 2),
            Symbol("tanh", sympy.tanh(Z), 3),
            Symbol("exp", sympy.exp(Z), 2),
            Symbol("log", sympy.log(Z), 2),
            Symbol("sqrt", sympy.sqrt(Z), 2),
            Symbol("abs", sympy.Abs(Z), 3),
            Symbol("gaussian", sympy.exp(-(Z**2)), 3),
        )
    )
