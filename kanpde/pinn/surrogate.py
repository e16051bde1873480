"""What ``solve()`` trains: a network (KAN or MLP) behind an affine map of the problem's box onto [-1, 1]^d.

The map lets one network definition fit any box (a KAN's first grid covers [-1, 1]); it is part of the
saved description, so a loaded surrogate evaluates at physical coordinates without the problem. So are
an optional output constraint (``kanpde.pinn.hard_constraints.HardDirichlet``) that builds Dirichlet and initial
conditions into the field, and a periodic input embedding.

Where a problem declares interfaces (level sets phi_i, zero where a coefficient jumps), the network can
also take ``2 |phi_i(x)| / s_i - 1`` as inputs (``interfaces``; s_i the largest |phi_i| on the domain):
a smooth function of them kinks along each interface, as the solution of a problem with a jumping
coefficient does, while it stays continuous (Tseng et al., "A cusp-capturing PINN", JCP 2023). The level
sets are the problem's functions, so a saved run with them is loaded with its problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.nets.kan import KAN
from kanpde.nets.mlp import MLP
from kanpde.pde import jet
from kanpde.pinn.hard_constraints import constraint_from_description, periodic_features, periodic_features_jet, unit_box
from kanpde.pinn.lifts import cached_jet, lift_values
from kanpde.pinn.unknowns import UnknownSet

__all__ = ["Surrogate", "NETWORKS", "count_parameters", "interface_scales"]

NETWORKS: dict[str, type[nn.Module]] = {"kan": KAN, "mlp": MLP}


class Surrogate(nn.Module):
    """``u(x) = net(phi(t))`` with ``t = 2 (x - lower) / (upper - lower) - 1``, optionally constrained.

    Args:
        net: a ``KAN`` or ``MLP`` (anything with ``width``, ``kind``, ``describe`` and ``from_description``).
        lower, upper: the box mapped onto [-1, 1]^d, shape (d,).
        constraint: an output transform that satisfies Dirichlet/initial conditions exactly (None: none): a
            ``HardDirichlet`` on a box, a ``ShapeDirichlet`` (distance functions) on any other domain.
        periodic: axes whose coordinate enters as (cos pi t_a, sin pi t_a) (``phi``; see
            ``kanpde.pinn.hard_constraints``), so the field is periodic along them; the network takes
            ``d + len(periodic)`` inputs.
        unknowns: the trained values of an inverse problem's unknowns (``kanpde.pinn.unknowns.UnknownSet``),
            carried here so the optimizers, checkpoints and saved runs hold them with the network; they
            do not enter ``forward``.
        interfaces: level-set functions phi_i(x) (the problem's ``interfaces``) whose ``|phi_i|``, scaled by
            ``interface_scales`` onto [-1, 1], are further inputs (see the module docstring); the network
            takes ``d + len(periodic) + len(interfaces)`` inputs.
    """

    def __init__(
        self,
        net: nn.Module,
        lower: Tensor,
        upper: Tensor,
        constraint: Any = None,
        periodic: Sequence[int] = (),
        unknowns: UnknownSet | None = None,
        interfaces: Sequence[Callable[[Tensor], Tensor]] = (),
        interface_scales: Sequence[float] = (),
    ) -> None:
        super().__init__()
        self.constraint = constraint
        self.unknowns = unknowns
        self.periodic = tuple(sorted(int(a) for a in periodic))
        self.interfaces = tuple(interfaces)
        self.interface_scales = tuple(float(s) for s in interface_scales)
        if len(self.interface_scales) != len(self.interfaces) or any(s <= 0 for s in self.interface_scales):
            raise ConfigError(
                f"Surrogate needs one scale > 0 per interface; got {len(self.interfaces)} interfaces and scales "
                f"{self.interface_scales}"
            )
        self._jets: dict = {}  # the interface level sets' jets at the last few point sets (``cached_jet``)
        if getattr(net, "kind", None) not in NETWORKS:
            raise DefinitionError(f"model must be a kanpde.KAN or kanpde.MLP; got {type(net).__name__}")
        self.net = net
        dtype = next(net.parameters()).dtype
        self.register_buffer("lower", torch.as_tensor(lower, dtype=dtype).reshape(-1).clone())
        self.register_buffer("upper", torch.as_tensor(upper, dtype=dtype).reshape(-1).clone())
        d = self.lower.numel()
        if any(not 0 <= a < d for a in self.periodic):
            raise ShapeError(f"periodic axes {self.periodic} are out of range for a {d}-dimensional box")
        inputs = d + len(self.periodic) + len(self.interfaces)
        if inputs != net.width[0]:
            embedded = f" ({len(self.periodic)} periodic axes add one input each)" if self.periodic else ""
            if self.interfaces:
                embedded += f" ({len(self.interfaces)} interfaces add one input each)"
            raise ShapeError(
                f"the input box has {d} dimensions{embedded}, so the network must take {inputs} inputs; it takes {net.width[0]}"
            )

    @property
    def kind(self) -> str:
        return self.net.kind

    @property
    def in_dim(self) -> int:
        """The number of coordinates of a point."""
        return self.lower.numel()

    @property
    def out_dim(self) -> int:
        return self.net.width[-1]

    @property
    def grid(self) -> int | None:
        """The KAN grid size G (None for an MLP)."""
        return getattr(self.net, "grid", None)

    def normalize(self, x: Tensor) -> Tensor:
        """Physical points x: (n, d) -> network inputs in [-1, 1]^d on the box."""
        return unit_box(x, self.lower, self.upper)

    def features(self, x: Tensor) -> Tensor:
        """The network inputs at physical points x: (n, d) -> (n, width[0]) (normalized, periodic axes
        embedded, interface distances appended)."""
        return self._embed(self.normalize(x), x)

    def _embed(self, t: Tensor, x: Tensor) -> Tensor:
        t = periodic_features(t, self.periodic) if self.periodic else t
        if not self.interfaces:
            return t
        kinks = [lift_values(phi, x, 1).abs() * (2 / s) - 1 for phi, s in zip(self.interfaces, self.interface_scales)]
        return torch.cat([t, *kinks], dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, d) -> (n, out)."""
        t = self.normalize(x)
        out = self.net(self._embed(t, x))
        return out if self.constraint is None else self.constraint.apply(x, t, out)

    def forward_jet(self, x: Tensor, spec: jet.JetSpec) -> Tensor:
        """Values and the derivatives in ``spec`` at x: (n, d), in one forward pass -> (C, n, out)."""
        scale = 2 / (self.upper - self.lower)
        t = jet.affine(jet.seed(x, spec), scale, -1 - self.lower * scale)
        inputs = periodic_features_jet(t, self.periodic, spec) if self.periodic else t
        if self.interfaces:
            inputs = torch.cat([inputs, *self._interface_jets(x, spec)], dim=-1)
        out = self.net.forward_jet(inputs, spec)
        return out if self.constraint is None else self.constraint.apply_jet(x, t, out, spec)

    def _interface_jets(self, x: Tensor, spec: jet.JetSpec) -> list[Tensor]:
        """The jets (C, n, 1) of the interface inputs ``2 |phi| / s - 1``: |phi| carries sign(phi) times
        the derivatives of phi (kept per point set, as phi does not train)."""
        out = []
        for i, (phi, s) in enumerate(zip(self.interfaces, self.interface_scales)):
            j = cached_jet(self._jets, f"interface{i}", phi, x, spec, 1)
            one = torch.ones(1, dtype=j.dtype, device=j.device)
            out.append(jet.affine(j * torch.sign(j[:1]), 2 / s * one, -one))
        return out

    def with_net(self, net: nn.Module) -> Surrogate:
        """The same input map and constraints around another network (after a refinement or grid update)."""
        return Surrogate(
            net,
            self.lower,
            self.upper,
            self.constraint,
            self.periodic,
            self.unknowns,
            self.interfaces,
            self.interface_scales,
        ).to(self.lower.device)

    def refined(self, grid: int, *, cover: Tensor | None = None) -> Surrogate:
        """A new surrogate whose KAN has ``grid`` intervals per edge (see ``KAN.refined``); with ``cover``
        (physical points (n, d)) its grids widen to the activations there."""
        kan = self._kan("refine the grid")
        return self.with_net(kan.refined(grid, cover=None if cover is None else self.features(cover.detach())))

    def grid_updated(self, x: Tensor, *, eps: float = 0.02) -> Surrogate:
        """A new surrogate whose KAN grids follow the points x: (n, d) (see ``KAN.grid_updated``)."""
        return self.with_net(self._kan("update the grid").grid_updated(self.features(x.detach()), eps=eps))

    def _kan(self, what: str) -> KAN:
        if not isinstance(self.net, KAN):
            raise ConfigError(f"only a KAN has a spline grid to {what}; this model is an {type(self.net).__name__}")
        return self.net

    def describe(self) -> dict[str, Any]:
        """JSON-ready description; ``Surrogate.from_description`` rebuilds the architecture from it."""
        desc = {"net": self.net.describe(), "input_box": {"lower": self.lower.tolist(), "upper": self.upper.tolist()}}
        if self.constraint is not None:
            desc["constraint"] = self.constraint.describe()
        if self.periodic:
            desc["periodic"] = list(self.periodic)
        if self.unknowns is not None:
            desc["unknowns"] = self.unknowns.describe()
        if self.interfaces:
            desc["interfaces"] = {"scales": list(self.interface_scales)}
        return desc

    @classmethod
    def from_description(cls, desc: dict[str, Any], problem: Any = None) -> Surrogate:
        """Rebuild from ``describe()``; ``problem`` supplies a function-valued hard condition."""
        net_desc = desc["net"]
        kind = net_desc.get("kind")
        if kind not in NETWORKS:
            raise ConfigError(
                f"unknown network kind {kind!r} in the saved description; expected one of {', '.join(NETWORKS)}"
            )
        net = NETWORKS[kind].from_description(net_desc)
        box = desc["input_box"]
        constraint = constraint_from_description(desc["constraint"], problem) if desc.get("constraint") else None
        lower, upper = (torch.tensor(box[k], dtype=torch.float64) for k in ("lower", "upper"))
        unknowns = UnknownSet.from_description(desc["unknowns"], lower, upper) if desc.get("unknowns") else None
        scales = desc["interfaces"]["scales"] if desc.get("interfaces") else []
        interfaces = _interfaces_of(problem, len(scales)) if scales else ()
        return cls(net, lower, upper, constraint, desc.get("periodic", ()), unknowns, interfaces, scales)


def _interfaces_of(problem: Any, count: int) -> tuple[Callable[[Tensor], Tensor], ...]:
    """The level sets of ``problem``'s interfaces, which a saved surrogate with ``count`` of them takes as inputs."""
    if problem is None:
        raise ConfigError(
            "this run's network takes the distance to the problem's interfaces as inputs; load it with its "
            "problem: kanpde.load(DIR, problem=MyProblem())"
        )
    found = problem.interfaces
    if len(found) != count:
        raise ConfigError(
            f"the saved run's network takes {count} interface inputs but the problem given to load declares "
            f"{len(found)} interfaces; load it with the problem it was trained on"
        )
    return found


def interface_scales(problem: Any, n: int = 4096) -> tuple[float, ...]:
    """The largest |phi_i| of each of ``problem``'s interfaces over ``n`` Sobol points of its domain (what
    ``Surrogate(interface_scales=)`` maps onto [-1, 1])."""
    x = torch.as_tensor(problem.domain.sample(n, method="sobol", seed=0), dtype=torch.float64)
    with torch.no_grad():
        return tuple(max(float(lift_values(phi, x, 1).abs().max()), 1e-12) for phi in problem.interfaces)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars, without the spline and SiLU weights of KAN edges fixed to symbols or
    pruned (they are masked out; a fixed edge counts its four affine parameters)."""
    from kanpde.nets.kan import KANLayer

    total = sum(p.numel() for p in module.parameters() if p.requires_grad)
    for layer in module.modules():
        if isinstance(layer, KANLayer) and layer.fixed is not None:
            total -= int((1 - layer.fixed.spline_mask).sum()) * (layer.coef.shape[-1] + 1)
    return total
