"""The networks: B-splines, the KAN (spline edges, with edges fixed to symbols or pruned), the MLP."""

from kanpde.nets.fixed import FixedEdges
from kanpde.nets.kan import KAN, KANLayer
from kanpde.nets.mlp import MLP
from kanpde.nets.symbol import Symbol, SymbolLibrary

__all__ = ["KAN", "KANLayer", "MLP", "FixedEdges", "Symbol", "SymbolLibrary"]
