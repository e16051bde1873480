"""``solve()`` and the training strategies: phases, the L-BFGS optimizer, default schedules."""

from .defaults import Recipe, default_recipe, default_schedule, register_recipe, register_schedule, symbolic_recipe
from .lbfgs import LBFGSOptimizer
from .phases import LBFGS, Adam, Phase, Prune, Refine, Resample, Sparsity, Symbolize, UpdateGrid
from .solve import network_inputs, solve
from .weighting import Balance, Causal

__all__ = ["solve", "network_inputs", "Causal", "Balance", "Adam", "LBFGS", "Refine", "UpdateGrid", "Resample", "Prune", "Symbolize", "Sparsity", "Phase", "LBFGSOptimizer", "Recipe", "default_recipe", "register_recipe", "default_schedule", "register_schedule", "symbolic_recipe"]
