"""``solve()`` and the training strategies: phases, the L-BFGS optimizer, weighting, recipes."""

from kanpde.solvers.lbfgs import LBFGSOptimizer
from kanpde.solvers.phases import LBFGS, Adam, Phase, Prune, Refine, Resample, Sparsity, Symbolize, UpdateGrid
from kanpde.solvers.recipes import (
    DEFAULT_HIDDEN,
    Features,
    Recipe,
    default_model,
    default_recipe,
    default_schedule,
    evolution_recipe,
    make_network,
    network_inputs,
    problem_features,
    register_recipe,
    register_schedule,
    steady_recipe,
    symbolic_recipe,
)
from kanpde.solvers.solve import solve
from kanpde.solvers.weighting import Balance, Causal

__all__ = [
    "solve",
    "default_model",
    "make_network",
    "network_inputs",
    "DEFAULT_HIDDEN",
    "Recipe",
    "default_recipe",
    "register_recipe",
    "default_schedule",
    "register_schedule",
    "symbolic_recipe",
    "problem_features",
    "Features",
    "steady_recipe",
    "evolution_recipe",
    "Adam",
    "LBFGS",
    "Refine",
    "UpdateGrid",
    "Resample",
    "Prune",
    "Symbolize",
    "Sparsity",
    "Phase",
    "Causal",
    "Balance",
    "LBFGSOptimizer",
]
