"""Dirichlet and initial conditions built into the surrogate on any domain, through distance functions.

Off a box, the constrained field is

    u(x) = G(x) + phi(x) N(t),

with phi the approximate distance function to the Dirichlet parts (zero there, positive inside, smooth;
the R-equivalence of the parts' piece distances, ``kanpde.geometry.pieces``; Sukumar and Srivastava,
"Exact imposition of boundary conditions with distance functions in physics-informed deep neural
networks", CMAME 389, 2022) and G the data lifted into the domain: the declared value where one fits every
Dirichlet part, else the groups' data blended by distance weights (``blend_values``, the same transfinite
interpolation a box uses when faces disagree). It is the box's mechanism with the face factors replaced by
the geometry's distances; on a ``Box`` the face factors are kept (they are the exact distances there).

On the one-pass derivative path phi and G enter as jets, taken once per point set by autograd on the
points and kept (``cached_jet``), so a step costs one product of jets more than the plain network.
Practical hint: a distance function with many pieces (a mesh boundary) costs most at its first use on a
point set; later steps reuse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.geometry.domain import Distance, Domain
from kanpde.pde import jet
from kanpde.pde.conditions import Dirichlet
from kanpde.pde.problem import Problem
from kanpde.pinn.lifts import Lift, blend_values, cached_jet, lift_values, same_value

__all__ = ["ShapeDirichlet", "shape_groups", "shape_transform"]

_CHUNK = 4096


@dataclass(frozen=True)
class ShapeDirichlet:
    """``u = G(x) + phi(x) N(t)`` on ``domain`` with phi vanishing on the Dirichlet ``parts`` (see the module doc).

    value: G when one value fits every part (a number, or a function g(x): (n, d) -> (n,) or (n, c));
    blend: otherwise ``((parts, value), ...)``, one group of parts per value, blended by distance weights;
    sweep: on a space-time shape whose blend is the walls' data g_w and the initial data g_0 (in that order),
    agreeing where the walls meet t = t0: G(x, t) = g_w(x, t) + g_0(x, t0) - g_w(x, t0), the Boolean sum of
    the projection onto t = t0 and the walls' data, which is exact on both and as smooth as the data
    (distance weights are not smooth where the walls meet the initial face).
    """

    domain: Domain
    parts: tuple[str, ...]
    value: Lift = 0.0
    blend: tuple[tuple[tuple[str, ...], Lift], ...] = ()
    sweep: bool = False
    _jets: dict = field(default_factory=dict, compare=False, repr=False, hash=False)
    _dist: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        for group in (self.parts, *(g for g, _ in self.blend)):
            why = self.domain.distance(group)
            if isinstance(why, str):
                raise ConfigError(f"a distance function cannot hold parts {', '.join(group)}: {why}")
            self._dist[tuple(group)] = why

    @property
    def distance_function(self) -> Distance:
        return self._dist[tuple(self.parts)]

    @property
    def constant(self) -> bool:
        """Whether G is a number (then the surrogate rebuilds from its description alone)."""
        return not self.blend and not callable(self.value)

    @property
    def has_formula(self) -> bool:
        return False

    def summary(self) -> str:
        how = "interpolated in t" if self.sweep else "blended"
        blended = f", {len(self.blend)} values {how}" if self.blend else ""
        return f"dirichlet on {', '.join(self.parts)} by distance function{blended}"

    def distance(self, x: Tensor) -> Tensor:
        """phi at points x: (n, d) -> (n, 1), in chunks of points (a distance over many mesh facets makes
        (points x facets) intermediates)."""
        return _chunked(self.distance_function, x)

    def lift(self, x: Tensor, channels: int = 1) -> Tensor:
        """G at points x: (n, d) -> (n, channels)."""
        if not self.blend:
            if callable(self.value):
                return lift_values(self.value, x, channels)
            return torch.full((x.shape[0], channels), float(self.value), dtype=x.dtype, device=x.device)
        if self.sweep:
            (_, walls), (_, start) = self.blend
            at_start = torch.cat([x[:, :-1], torch.full_like(x[:, -1:], float(self.domain.lower[-1]))], dim=1)
            return _data(walls, x, channels) + _data(start, at_start, channels) - _data(walls, at_start, channels)
        dist = [_chunked(self._dist[tuple(group)], x) for group, _ in self.blend]
        return blend_values(dist, [v for _, v in self.blend], x, channels)

    def apply(self, x: Tensor, t: Tensor, out: Tensor) -> Tensor:
        """The constrained output at points x: (n, d) with network outputs out: (n, c) (t is unused here).
        Off the derivative path (x needs no gradient: evaluation, the error history) phi and G are kept for
        the last few point sets, like their jets."""
        channels = out.shape[1]
        if x.requires_grad and torch.is_grad_enabled():
            phi, lift = self.distance(x), None if self.constant else self.lift(x, channels)
        else:
            phi, lift = self._values(x, channels)
        return phi * out + (float(self.value) if self.constant else lift)

    def _values(self, x: Tensor, channels: int) -> tuple[Tensor, Tensor | None]:
        key = ("values", id(x), x._version, channels)
        hit = self._jets.get(key)
        if hit is None or hit[0] is not x:
            with torch.no_grad():
                values = (self.distance(x), None if self.constant else self.lift(x, channels))
            if len(self._jets) >= 8:
                self._jets.pop(next(iter(self._jets)))
            hit = self._jets[key] = (x, values)
        return hit[1]

    def apply_jet(self, x: Tensor, t: Tensor, out: Tensor, spec: jet.JetSpec) -> Tensor:
        """The same on jets: x (n, d), out (C, n, c) -> (C, n, c)."""
        phi = cached_jet(self._jets, "distance", self.distance, x, spec, 1)
        u = jet.product(phi, out, spec)
        if self.constant:
            return u if self.value == 0 else jet.affine(u, u.new_ones(1), u.new_tensor([float(self.value)]))
        channels = out.shape[-1]
        return u + cached_jet(self._jets, "lift", lambda y: self.lift(y, channels), x, spec, channels)

    def describe(self) -> dict[str, Any]:
        desc: dict[str, Any] = {
            "kind": "shape_dirichlet",
            "domain": self.domain.describe(),
            "parts": list(self.parts),
            "value": "problem" if callable(self.value) else float(self.value),
        }
        if self.blend:
            desc["blend"] = [
                {"parts": list(group), "value": "problem" if callable(v) else float(v)} for group, v in self.blend
            ]
            desc["sweep"] = self.sweep
        return desc

    @classmethod
    def from_description(cls, desc: dict[str, Any]) -> ShapeDirichlet:
        """Rebuild from ``describe()`` when the data are numbers (function-valued data come from the
        problem: ``kanpde.pinn.hard_constraints.constraint_from_description``)."""
        from kanpde.geometry import from_description

        blend = tuple((tuple(b["parts"]), float(b["value"])) for b in desc.get("blend", ()))
        domain = from_description(desc["domain"])
        return cls(domain, tuple(desc["parts"]), float(desc["value"]), blend, bool(desc.get("sweep", False)))


def _data(value: Lift, x: Tensor, channels: int) -> Tensor:
    if callable(value):
        return lift_values(value, x, channels)
    return torch.full((x.shape[0], channels), float(value), dtype=x.dtype, device=x.device)


def _chunked(fn: Distance, x: Tensor) -> Tensor:
    return fn(x) if x.shape[0] <= _CHUNK else torch.cat([fn(chunk) for chunk in x.split(_CHUNK)])


Group = tuple[tuple[str, ...], Dirichlet]


def shape_groups(problem: Problem, dirichlet: Sequence[Dirichlet]) -> tuple[list[Group], str | None]:
    """The Dirichlet parts grouped by value (conditions with the same value share a group), or the reason
    they cannot be built in: two values on one boundary piece, or a part with no distance function."""
    if not dirichlet:
        return [], "it has no Dirichlet or initial condition"
    domain = problem.domain
    owner: dict[int, Dirichlet] = {}
    for c in dirichlet:
        for i in domain.part_pieces(c.on):
            other = owner.setdefault(i, c)
            if not same_value(other.value, c.value):
                return [], f"{other.label} and {c.label} set different values on one boundary piece"
    groups: list[tuple[list[str], Dirichlet]] = []
    for c in dirichlet:
        for parts, head in groups:
            if same_value(head.value, c.value):
                parts.append(c.on)
                break
        else:
            groups.append(([c.on], c))
    for parts, _ in groups:
        why = domain.distance(parts)
        if isinstance(why, str):
            return [], why
    return [(tuple(dict.fromkeys(parts)), c) for parts, c in groups], None


def shape_transform(problem: Problem, groups: Sequence[Group], shared: Lift | None) -> ShapeDirichlet:
    """One value lifted into the domain where one fits (``shared``); on a space-time shape, walls with one
    value and initial data that agree where they meet are interpolated in t (``sweep``); else the groups
    are blended."""
    parts = tuple(dict.fromkeys(p for group, _ in groups for p in group))
    if shared is not None:
        return ShapeDirichlet(problem.domain, parts, shared if callable(shared) else float(shared))
    swept = _sweepable(problem, groups)
    if swept is not None:
        return ShapeDirichlet(problem.domain, parts, 0.0, swept, sweep=True)
    blend = tuple((group, c.value if callable(c.value) else float(c.value)) for group, c in groups)
    return ShapeDirichlet(problem.domain, parts, 0.0, blend)


def _sweepable(problem: Problem, groups: Sequence[Group], n: int = 64) -> tuple | None:
    """((walls, g_w), (("t_min",), g_0)) when the groups are spatial walls with one value and the initial
    face, and their data agree (to round-off) on points where the walls meet t = t0; else None."""
    domain = problem.domain
    if not domain.spacetime or len(groups) != 2:
        return None
    start = [(g, c) for g, c in groups if g == ("t_min",)]
    walls = [(g, c) for g, c in groups if "t_min" not in g and "t_max" not in g and "boundary" not in g]
    if len(start) != 1 or len(walls) != 1:
        return None
    rim = domain.sample_boundary(walls[0][0][0], n, seed=0).x.copy()
    rim[:, -1] = domain.lower[-1]
    x = torch.as_tensor(rim, dtype=torch.float64)
    try:
        gw, g0 = walls[0][1].target(x, problem.out_dim), start[0][1].target(x, problem.out_dim)
    except Exception:  # reported by preflight with its points
        return None
    if not torch.allclose(gw, g0, rtol=1e-9, atol=1e-9 * (1 + float(g0.abs().max()))):
        return None
    value = lambda c: c.value if callable(c.value) else float(c.value)  # noqa: E731
    return ((walls[0][0], value(walls[0][1])), (("t_min",), value(start[0][1])))
