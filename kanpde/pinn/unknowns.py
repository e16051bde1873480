"""The trained values of a problem's unknowns: one parameter per scalar, one small network per field.

``UnknownSet`` is built from the declarations (``kanpde.Unknown``, ``kanpde.UnknownField``) and lives in
the surrogate (``Surrogate.unknowns``), so both optimizers, checkpoints and saved runs carry it with the
network; ``bind(problem, unknowns)`` (``kanpde.pde.unknowns``) makes the problem's residual read it.

A scalar is ``bounds.value(r)`` of a parameter r starting at 0 (the bounds map gives ``init`` there). A
field is ``bounds.value(net(t))`` with t the field's coordinates mapped onto [-1, 1] over the domain's
box; the last layer of a network built from ``"mlp"`` or ``"kan"`` starts at zero, so the field starts at
``init`` everywhere (a network given as ``model=`` starts where it is).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from kanpde.errors import ConfigError, ShapeError
from kanpde.nets.kan import KAN
from kanpde.nets.mlp import MLP
from kanpde.pde.unknowns import Bounds, Unknown, UnknownField

__all__ = ["UnknownSet", "FieldNet", "default_field_net"]

_NETS: dict[str, type[nn.Module]] = {"kan": KAN, "mlp": MLP}

FIELD_GRID = 20
"""The grid of a field's default KAN. The field has to be as fine as the residual asks of it: a coarse
field cannot match the solution's derivatives everywhere, so the residual pulls the solution off the
data. Measured on ``darcy_inverse`` (KAN [2, 10, 1] solution, 300 s, one thread per run, two at a time),
the field's relative L2 error: 1.2e-2 on G = 5 (seed 0), 6.8e-3 on G = 10 (seed 0), 4.3e-3 and 4.5e-3 on
G = 20 (seeds 0 and 1); a G = 5 field refined with the solution (5, 10, 20) reached 6.3e-3 on both seeds.
With noisy data a finer field fits more of the noise (``darcy_inverse_noisy``, 1 %: 8.9e-2 on G = 20
against 5.4e-2 on G = 5); declare a coarser one there (``model=kanpde.KAN([k, 5, 1], grid=5)``)."""


def default_field_net(kind: str, inputs: int, seed: int = 0) -> nn.Module:
    """The network of an ``UnknownField`` declared with ``model="mlp"`` (``MLP([k, 20, 20, 1])``) or
    ``model="kan"`` (``KAN([k, 5, 1], grid=FIELD_GRID)``)."""
    net = KAN([inputs, 5, 1], grid=FIELD_GRID, seed=seed) if kind == "kan" else MLP([inputs, 20, 20, 1], seed=seed)
    last = net.layers[-1] if kind == "kan" else net.linears[-1]
    with torch.no_grad():  # start at init everywhere: the raw output is 0 (the earlier layers stay random)
        for name in ("weight", "base_weight", "coef"):
            if hasattr(last, name):
                getattr(last, name).zero_()
    return net


class FieldNet(nn.Module):
    """One unknown field: ``bounds.value(net(t))``, t the coordinates ``columns`` of x mapped onto [-1, 1]."""

    def __init__(self, net: nn.Module, columns: Sequence[int], lower: Tensor, upper: Tensor, bounds: Bounds) -> None:
        super().__init__()
        if getattr(net, "kind", None) not in _NETS:
            raise ConfigError(f"an UnknownField's model must be a kanpde.KAN or kanpde.MLP; got {type(net).__name__}")
        if net.width[0] != len(columns) or net.width[-1] != 1:
            raise ShapeError(
                f"an UnknownField's network must take its {len(columns)} coordinates and return 1 value; "
                f"its width is {list(net.width)}: use [{len(columns)}, ..., 1]"
            )
        self.net, self.columns, self.bounds = net, tuple(columns), bounds
        dtype = next(net.parameters()).dtype
        self.register_buffer("lower", torch.as_tensor(lower, dtype=dtype).reshape(-1).clone())
        self.register_buffer("upper", torch.as_tensor(upper, dtype=dtype).reshape(-1).clone())

    def forward(self, x: Tensor) -> Tensor:
        """The field at x: (n, d) -> (n,)."""
        t = 2 * (x[:, list(self.columns)] - self.lower) / (self.upper - self.lower) - 1
        return self.bounds.value(self.net(t).reshape(-1))


class UnknownSet(nn.Module):
    """The trained values of a problem's unknowns (see the module doc).

    Args:
        declared: the problem's ``unknowns``.
        lower, upper: the domain's box, shape (d,); axes: its axis names (for fields' ``axes``).
        seed: seeds the field networks built from ``"mlp"``/``"kan"``.
    """

    def __init__(
        self,
        declared: Sequence[Unknown | UnknownField],
        lower: Any,
        upper: Any,
        axes: Sequence[str],
        *,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        lower = torch.as_tensor(lower, dtype=dtype).reshape(-1)
        upper = torch.as_tensor(upper, dtype=dtype).reshape(-1)
        self.axes = tuple(axes)
        self.declared = {u.name: u.describe() for u in declared}
        self.bounds = {u.name: Bounds(u.bounds.init, u.bounds.lower, u.bounds.upper, repr(u)) for u in declared}
        self.scalars = nn.ParameterDict(
            {u.name: nn.Parameter(torch.zeros((), dtype=dtype)) for u in declared if u.kind == "scalar"}
        )
        fields = {}
        for u in declared:
            if u.kind != "field":
                continue
            cols = u.columns(self.axes)
            model = u.model
            net = default_field_net(model, len(cols), seed) if isinstance(model, str) else copy.deepcopy(model)
            fields[u.name] = FieldNet(net.to(dtype), cols, lower[list(cols)], upper[list(cols)], self.bounds[u.name])
            self.declared[u.name]["columns"] = list(cols)
        self.fields = nn.ModuleDict(fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.declared)

    def value(self, name: str) -> Tensor:
        """A scalar's current value, a 0-d tensor differentiable in its parameter."""
        if name not in self.scalars:
            raise ConfigError(f"no unknown scalar named {name!r}; the scalars are {tuple(self.scalars)}")
        return self.bounds[name].value(self.scalars[name])

    def field(self, name: str) -> Callable[[Tensor], Tensor]:
        """A field's current values as a function of the points x: (n, d) -> (n,)."""
        if name not in self.fields:
            raise ConfigError(f"no unknown field named {name!r}; the fields are {tuple(self.fields)}")
        return self.fields[name]

    def scalar_values(self) -> dict[str, float]:
        """Every scalar's current value, as numbers."""
        with torch.no_grad():
            return {name: float(self.value(name)) for name in self.scalars}

    def describe(self) -> dict[str, Any]:
        """JSON-ready: the declarations and the field networks; ``from_description`` rebuilds the set."""
        return {
            "axes": list(self.axes),
            "declared": [
                {**d, **({"net": self.fields[n].net.describe()} if n in self.fields else {})}
                for n, d in self.declared.items()
            ],
        }

    @classmethod
    def from_description(cls, desc: dict[str, Any], lower: Any, upper: Any) -> UnknownSet:
        """The set ``describe()`` came from (weights to be loaded), for a domain box lower/upper: (d,)."""
        declared = []
        for d in desc["declared"]:
            if d["kind"] == "scalar":
                declared.append(Unknown(d["name"], d["init"], lower=d["lower"], upper=d["upper"]))
            else:
                net = _NETS[d["net"]["kind"]].from_description(d["net"])
                axes = d["axes"] if "axes" in d else d.get("columns")  # as declared (None: all of the domain's)
                declared.append(
                    UnknownField(d["name"], d["init"], lower=d["lower"], upper=d["upper"], axes=axes, model=net)
                )
        return cls(declared, lower, upper, desc["axes"])
