"""Multilayer perceptrons: the standard physics-informed surrogate (Raissi, Perdikaris, Karniadakis 2019)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from kanpde.checks import check_int
from kanpde.errors import ConfigError
from kanpde.nets.kan import check_width
from kanpde.pde import jet

__all__ = ["MLP"]

_ACTIVATIONS = {"tanh": torch.tanh, "sin": torch.sin, "silu": nn.functional.silu}
_DERIVATIVES = {"tanh": jet.tanh3, "sin": jet.sin3, "silu": jet.silu3}  # (phi, phi', phi'')


class MLP(nn.Module):
    """A fully connected network ``width = [in, hidden..., out]`` with a smooth activation.

    Args:
        width: node counts per layer, e.g. ``[2, 100, 100, 100, 1]``.
        activation: ``"tanh"`` (default), ``"sin"`` or ``"silu"``; it must be twice differentiable
            because residuals take second derivatives (ReLU is not offered for that reason).
        seed: seed of the Xavier-normal initial weights (biases start at zero).
        dtype: parameter dtype.
    """

    kind = "mlp"

    def __init__(
        self,
        width: Sequence[int],
        *,
        activation: str = "tanh",
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.width = check_width(width, "MLP")
        if activation not in _ACTIVATIONS:
            raise ConfigError(f"MLP.activation must be one of {', '.join(_ACTIVATIONS)}; got {activation!r}")
        self.activation, self.seed = activation, check_int(seed, "MLP.seed", 0)
        self._act = _ACTIVATIONS[activation]
        gen = torch.Generator().manual_seed(seed)
        self.linears = nn.ModuleList()
        for a, b in zip(self.width[:-1], self.width[1:]):
            lin = nn.Linear(a, b, dtype=torch.float64)
            with torch.no_grad():
                std = (2.0 / (a + b)) ** 0.5
                lin.weight.copy_(torch.randn(b, a, generator=gen, dtype=torch.float64) * std)
                lin.bias.zero_()
            self.linears.append(lin.to(dtype))

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, width[0]) -> (n, width[-1])."""
        for lin in self.linears[:-1]:
            x = self._act(lin(x))
        return self.linears[-1](x)

    def forward_jet(self, t: Tensor, spec: jet.JetSpec) -> Tensor:
        """Value and derivatives in one pass: jet (C, n, width[0]) -> (C, n, width[-1])."""
        act = _DERIVATIVES[self.activation]
        for lin in self.linears[:-1]:
            t = jet.elementwise(jet.linear(t, lin.weight, lin.bias), spec, act)
        return jet.linear(t, self.linears[-1].weight, self.linears[-1].bias)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "width": list(self.width), "activation": self.activation, "seed": self.seed}

    @classmethod
    def from_description(cls, desc: dict[str, Any]) -> MLP:
        return cls(desc["width"], activation=desc.get("activation", "tanh"), seed=desc.get("seed", 0))
