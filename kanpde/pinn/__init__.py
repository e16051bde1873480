"""A network as a physics-informed surrogate: input map, embeddings, hard constraints, loss, derivative plan."""

from kanpde.pinn.hard_constraints import CONSTRAINT_MODES, Constraints, HardDirichlet, split_conditions
from kanpde.pinn.loss import (
    DERIVATIVE_MODES,
    Collocation,
    DerivativePlan,
    Derivatives,
    loss_terms,
    plan_derivatives,
    residual_values,
    total_loss,
)
from kanpde.pinn.surrogate import NETWORKS, Surrogate, count_parameters

__all__ = [
    "Surrogate",
    "NETWORKS",
    "count_parameters",
    "HardDirichlet",
    "split_conditions",
    "CONSTRAINT_MODES",
    "Constraints",
    "Collocation",
    "DerivativePlan",
    "plan_derivatives",
    "residual_values",
    "loss_terms",
    "total_loss",
    "DERIVATIVE_MODES",
    "Derivatives",
]
