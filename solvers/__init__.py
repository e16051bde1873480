"""``solve()`` and the training strategies: phases, the L-BFGS optimizer, default schedules."""

from .defaults import default_schedule, register_schedule
from .lbfgs import LBFGSOptimizer
from .phases import LBFGS, Adam, Phase, Refine, Resample, UpdateGrid
from .solve import solve

__all__ = ["solve", "Adam", "LBFGS", "Refine", "UpdateGrid", "Resample", "Phase", "LBFGSOptimizer", "default_schedule", "register_schedule"]
