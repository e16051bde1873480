"""Reading a trained KAN: attribution and pruning, the symbol library, the search for a KAN of symbols,
formulas with their evidence.

Functions that take a KAN (or a ``Surrogate`` around one). The names below load on first use, so that
``import kanpde`` does not import sympy.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "edge_scores": "pruning",
    "pruned": "pruning",
    "sparsity_penalty": "pruning",
    "symbolized": "formulas",
    "kan_formula": "formulas",
    "surrogate_formula": "formulas",
    "solution_formula": "formulas",
    "Formula": "formulas",
    "read_formula": "formulas",
    "EdgeChoice": "formulas",
    "DEFAULT_LIBRARY": "symbols",
    "Symbol": "symbols",
    "SymbolLibrary": "symbols",
    "SymbolFit": "symbols",
    "fit_symbol": "symbols",
    "formula_evidence": "formulas",
    "search_structures": "search",
    "fit_structure": "search",
    "Structure": "search",
}
_MODULES = ("formulas", "network", "pruning", "search", "symbols")
__all__ = [*_NAMES, *_MODULES]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"kanpde.interpret.{name}")
    if name not in _NAMES:
        raise AttributeError(f"module 'kanpde.interpret' has no attribute {name!r}")
    return getattr(importlib.import_module(f"kanpde.interpret.{_NAMES[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
