"""What ``solve()`` trains: a network (KAN or MLP) behind an affine map of the problem's box onto [-1, 1]^d.

The map lets one network definition fit any box (a KAN's first grid covers [-1, 1]); it is part of the
saved description, so a loaded surrogate evaluates at physical coordinates without the problem. So is
an optional output constraint (``kanpde.constraints.HardDirichlet``) that builds Dirichlet conditions
into the field. Later input embeddings (periodic coordinates) belong here too.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from . import jet
from .constraints import HardDirichlet
from .errors import ConfigError, DefinitionError, ShapeError
from .kan import KAN
from .mlp import MLP

__all__ = ["Surrogate", "NETWORKS", "count_parameters"]

NETWORKS: dict[str, type[nn.Module]] = {"kan": KAN, "mlp": MLP}


class Surrogate(nn.Module):
    """``u(x) = net(t)`` with ``t = 2 (x - lower) / (upper - lower) - 1``, or ``constraint.apply(t, net(t))``.

    Args:
        net: a ``KAN`` or ``MLP`` (anything with ``width``, ``kind``, ``describe`` and ``from_description``).
        lower, upper: the box mapped onto [-1, 1]^d, shape (d,).
        constraint: an output transform that satisfies Dirichlet conditions exactly (None: plain net).
    """

    def __init__(self, net: nn.Module, lower: Tensor, upper: Tensor, constraint: HardDirichlet | None = None) -> None:
        super().__init__()
        self.constraint = constraint
        if getattr(net, "kind", None) not in NETWORKS:
            raise DefinitionError(f"model must be a kanpde.KAN or kanpde.MLP; got {type(net).__name__}")
        self.net = net
        dtype = next(net.parameters()).dtype
        self.register_buffer("lower", torch.as_tensor(lower, dtype=dtype).reshape(-1).clone())
        self.register_buffer("upper", torch.as_tensor(upper, dtype=dtype).reshape(-1).clone())
        if self.lower.numel() != net.width[0]:
            raise ShapeError(f"the input box has {self.lower.numel()} dimensions but the network takes {net.width[0]} inputs")

    @property
    def kind(self) -> str:
        return self.net.kind

    @property
    def in_dim(self) -> int:
        return self.net.width[0]

    @property
    def out_dim(self) -> int:
        return self.net.width[-1]

    @property
    def grid(self) -> int | None:
        """The KAN grid size G (None for an MLP)."""
        return getattr(self.net, "grid", None)

    def normalize(self, x: Tensor) -> Tensor:
        """Physical points x: (n, d) -> network inputs in [-1, 1]^d on the box."""
        return 2 * (x - self.lower) / (self.upper - self.lower) - 1

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, d) -> (n, out)."""
        t = self.normalize(x)
        out = self.net(t)
        return out if self.constraint is None else self.constraint.apply(t, out)

    def forward_jet(self, x: Tensor, spec: jet.JetSpec) -> Tensor:
        """Values and the derivatives in ``spec`` at x: (n, d), in one forward pass -> (C, n, out)."""
        scale = 2 / (self.upper - self.lower)
        t = jet.affine(jet.seed(x, spec), scale, -1 - self.lower * scale)
        out = self.net.forward_jet(t, spec)
        return out if self.constraint is None else self.constraint.apply_jet(t, out, spec)

    def with_net(self, net: nn.Module) -> "Surrogate":
        """The same input map and constraint around another network (after a refinement or grid update)."""
        return Surrogate(net, self.lower, self.upper, self.constraint).to(self.lower.device)

    def refined(self, grid: int) -> "Surrogate":
        """A new surrogate whose KAN has ``grid`` intervals per edge (see ``KAN.refined``)."""
        return self.with_net(self._kan("refine the grid").refined(grid))

    def grid_updated(self, x: Tensor, *, eps: float = 0.02) -> "Surrogate":
        """A new surrogate whose KAN grids follow the points x: (n, d) (see ``KAN.grid_updated``)."""
        return self.with_net(self._kan("update the grid").grid_updated(self.normalize(x.detach()), eps=eps))

    def _kan(self, what: str) -> KAN:
        if not isinstance(self.net, KAN):
            raise ConfigError(f"only a KAN has a spline grid to {what}; this model is an {type(self.net).__name__}")
        return self.net

    def describe(self) -> dict[str, Any]:
        """JSON-ready description; ``Surrogate.from_description`` rebuilds the architecture from it."""
        desc = {"net": self.net.describe(), "input_box": {"lower": self.lower.tolist(), "upper": self.upper.tolist()}}
        if self.constraint is not None:
            desc["constraint"] = self.constraint.describe()
        return desc

    @classmethod
    def from_description(cls, desc: dict[str, Any]) -> "Surrogate":
        net_desc = desc["net"]
        kind = net_desc.get("kind")
        if kind not in NETWORKS:
            raise ConfigError(f"unknown network kind {kind!r} in the saved description; expected one of {', '.join(NETWORKS)}")
        net = NETWORKS[kind].from_description(net_desc)
        box = desc["input_box"]
        constraint = HardDirichlet.from_description(desc["constraint"]) if desc.get("constraint") else None
        return cls(net, torch.tensor(box["lower"], dtype=torch.float64), torch.tensor(box["upper"], dtype=torch.float64), constraint)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
