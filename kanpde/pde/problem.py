"""The problem base class, and problems built from plain functions.

A problem says *what* to solve: a domain, a residual written with :mod:`kanpde.ops`, declared
conditions, optionally an exact solution, and how many collocation points it wants. It does not know
which surrogate or optimizer solves it. Write one by subclassing::

    class Bump(kanpde.Problem):
        domain = kanpde.Box([0, 0], [1, 1])
        conditions = [kanpde.Dirichlet("boundary", 0.0)]

        def residual(self, u, x):
            return ops.laplacian(u, x) + 1.0

or, for a one-off, with :class:`FunctionProblem`. Definitions are checked when the object is built:
a bad domain, an unknown boundary part or a non-positive weight fails there with a message that says
what to change.
"""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.checks import check_positive
from kanpde.errors import ConfigError, DefinitionError, ShapeError
from kanpde.geometry.box import Grid
from kanpde.geometry.domain import Domain, PointSet
from kanpde.geometry.sampling import METHODS
from kanpde.pde.conditions import Condition
from kanpde.pde.data import Data
from kanpde.pde.field import Field, Layout
from kanpde.pde.forms import DivergenceForm
from kanpde.pde.unknowns import (
    Unknown,
    UnknownField,
    declared_unknowns,
    keep_instance_declaration,
    read_instance_declaration,
)

__all__ = ["Problem", "FunctionProblem"]


class _ValidatedOnConstruction(ABCMeta):
    """Runs ``validate()`` after the whole ``__init__`` chain of a problem, whatever the subclass does."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__call__(*args, **kwargs)
        obj.validate()
        return obj


class Problem(metaclass=_ValidatedOnConstruction):
    """A PDE on a domain: ``residual(u, x) = 0`` inside, declared ``conditions`` on named boundary parts.

    Attributes (set them as class attributes or in ``__init__``):
        domain: a :class:`~kanpde.Box`, ``Disk``, ``Polygon``, CSG shape (``Box(...) - Disk(...)``),
            ``MeshDomain``, or any of these times ``Interval(t0, t1, axis="t")`` (required).
        conditions: ``Dirichlet``/``Neumann``/``Robin`` objects on parts of ``domain``.
        residual_weight: weight of ``mean(residual^2)`` in the loss; conditions carry their own weights.
            A small interior weight (0.01) helps a KAN honour the boundary on Poisson problems. For a
            system, one weight per equation (a sequence as long as the residual has columns) or one for all.
        n_interior, n_boundary: default numbers of collocation points.
        sampling: interior sampling method, ``"sobol"`` (default), ``"lhs"``, ``"random"`` or ``"grid"``;
            or your own interior points, an (m, d) array inside the domain, used as they are (then
            ``n_interior`` is not used, and a ``Resample`` phase draws from the domain by Sobol).
        boundary_sampling: the same for boundary points (default ``"grid"``: equally spaced).
        outputs: names of the solution's components for a system, e.g. ``("u", "v", "p")``: in
            ``residual`` ``u["p"]`` is that component (``u[2]`` too), conditions name the components they
            set (``Dirichlet("lid", 1.0, component="u")``), and reports and exports use the names.
        up_to_constant: components defined only up to a constant (a pressure with no gauge condition, or
            one fixed by a ``PointValue``/``MeanValue``): errors are measured after removing their mean
            over the evaluation points.
        vectors: components that form a vector, for export and plots: ``{"velocity": ("u", "v")}`` (one
            name per spatial axis); exported as a VTK vector beside the named scalars.
        out_dim: number of components (set from ``outputs`` when given; 1 for a scalar PDE).
        data: observations of the solution (``kanpde.Data``), each a term of the loss: what an inverse
            problem is fitted to.
        Unknowns (``kanpde.Unknown``, ``kanpde.UnknownField``) are declared as attributes, on the class or
            in ``__init__`` (``self.c = kanpde.Unknown("c", init=1.0)``); ``solve()`` identifies them with
            the field, and ``self.c`` / ``self.a(x)`` read their current values (``problem.unknowns``
            lists them).
        divergence: a ``kanpde.DivergenceForm(a=, f=, c=)`` for a scalar equation
            ``-div(a grad u) + c u = f``: it gives the residual (where the problem writes none) and the
            energy that ``solve(form="energy")`` minimises.
        interface: where a coefficient jumps: a level-set function phi(x) (x: (n, d) -> (n,), the sign
            telling the side, zero on the interface), or a tuple of them. The energy form splits the
            quadrature cells it cuts and gives the network |phi| as an input, so the field can kink there.
        name, params: set by built-in instances so a saved run can rebuild its problem.

    Methods: ``residual(self, u, x)`` (required unless ``divergence`` is declared) returns an (n,) or (n, m)
    tensor or field, or a tuple of equations (each (n,) or (n, k); stacked as columns, like ``ops.stack``);
    ``energy(self, u, x)`` (optional; derived from ``divergence``) the energy density whose integral the
    solution minimises, for ``solve(form="energy")``;
    ``exact(self, x)`` (optional) returns the exact solution (n,) or (n, out_dim) at x: (n, d);
    ``evaluation_grid()`` gives the grid (or, off a box, the point set) on which errors are measured
    (never the training points).
    """

    domain: Domain
    conditions: Sequence[Condition] = ()
    residual_weight: float | Sequence[float] = 1.0
    n_interior: int = 4096
    n_boundary: int = 512
    sampling: str | np.ndarray = "sobol"
    boundary_sampling: str = "grid"
    outputs: Sequence[str] | None = None
    up_to_constant: Sequence[str] = ()
    vectors: Mapping[str, Sequence[str]] = MappingProxyType({})
    data: Sequence[Data] = ()
    out_dim: int = 1
    exact: Callable[[Tensor], Tensor] | None = None
    divergence: DivergenceForm | None = None
    interface: Callable[[Tensor], Tensor] | Sequence[Callable[[Tensor], Tensor]] | None = None
    name: str | None = None
    params: Mapping[str, Any] = MappingProxyType({})

    def residual(self, u: Field, x: Tensor) -> Field | Tensor:
        """The PDE residual at interior points x: (n, d); zero where u solves the equation (by default the
        one of ``divergence``)."""
        if self.divergence is not None:
            return self.divergence.residual(u, x)
        raise DefinitionError(f"{type(self).__name__} must define residual(self, u, x)")

    def energy(self, u: Field, x: Tensor) -> Field | Tensor:
        """The energy density at interior points x: (n, d) -> (n,) or (n, 1), whose integral over the
        domain the solution minimises (``solve(form="energy")``); by default the one of ``divergence``."""
        if self.divergence is not None:
            return self.divergence.energy(u, x)
        raise DefinitionError(
            f"{type(self).__name__} has no energy: declare divergence = kanpde.DivergenceForm(a=..., f=..., c=...) "
            "for -div(a grad u) + c u = f, or define energy(self, u, x), the density whose integral u minimises"
        )

    def boundary_energy(self, condition: Condition, u: Field, x: Tensor) -> Field | Tensor:
        """The boundary energy density of a Neumann or Robin ``condition`` at its points x: (n, d), whose
        integral over the part joins the energy so the minimiser meets the condition (by default the one
        of ``divergence``: ``DivergenceForm.boundary_energy``)."""
        if self.divergence is not None:
            return self.divergence.boundary_energy(condition, u, x)
        raise DefinitionError(
            f"{type(self).__name__} has a {condition.label} condition but no boundary energy for it: declare "
            "divergence = kanpde.DivergenceForm(...) so it is derived, or define "
            "boundary_energy(self, condition, u, x)"
        )

    @property
    def has_energy(self) -> bool:
        """Whether the problem has an energy to minimise (``divergence`` declared or ``energy`` defined)."""
        return self.divergence is not None or type(self).energy is not Problem.energy

    @property
    def interfaces(self) -> tuple[Callable[[Tensor], Tensor], ...]:
        """The declared interfaces (``interface``) as a tuple of level-set functions."""
        if self.interface is None:
            return ()
        return tuple(self.interface) if isinstance(self.interface, (list, tuple)) else (self.interface,)

    def __setattr__(self, attr: str, value: Any) -> None:
        if not keep_instance_declaration(self, attr, value):  # an unknown set in __init__ reads like a class one
            object.__setattr__(self, attr, value)

    def __getattr__(self, attr: str) -> Any:
        return read_instance_declaration(self, attr)

    @property
    def unknowns(self) -> tuple[Unknown | UnknownField, ...]:
        """The declared unknowns (``kanpde.Unknown`` scalars and ``kanpde.UnknownField`` fields), by name."""
        return declared_unknowns(self)

    @property
    def components(self) -> tuple[str, ...]:
        """The names of the solution's components: ``outputs``, or ``("u",)`` for a scalar problem
        (``("u0", "u1", ...)`` for ``out_dim`` components without names)."""
        if self.outputs is not None:
            return tuple(self.outputs)
        return ("u",) if self.out_dim == 1 else tuple(f"u{i}" for i in range(self.out_dim))

    @property
    def layout(self) -> Layout:
        """The names a residual may use: ``u["p"]`` for components, ``ops.partial(u, x, "t")`` for axes."""
        return Layout(self.components, tuple(self.domain.axes))

    @property
    def dim(self) -> int:
        """Number of coordinates of a point (space, then time)."""
        return self.domain.dim

    def evaluation_grid(self) -> Grid | PointSet:
        """Where ``Solution.errors`` are measured: by default a uniform node grid of the box, or off a box
        the nodes of such a grid over its bounding box that lie in the domain (``Domain.evaluation_points``)."""
        return self.domain.evaluation_points()

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary of the problem (its instance name and parameters when it has them)."""
        return {
            "name": self.name,
            "class": type(self).__name__,
            "params": dict(self.params),
            "domain": self.domain.describe(),
            "conditions": [c.label for c in self.conditions],
            "residual_weight": self.residual_weight
            if isinstance(self.residual_weight, (int, float))
            else list(self.residual_weight),
            "components": list(self.components),
            "vectors": {k: list(v) for k, v in self.vectors.items()},
            "has_exact": self.exact is not None,
            **({"divergence": self.divergence.describe()} if self.divergence is not None else {}),
            **({"interfaces": len(self.interfaces)} if self.interfaces else {}),
            **({"unknowns": [u.describe() for u in self.unknowns]} if self.unknowns else {}),
            **({"data": [d.describe() for d in self.data]} if self.data else {}),
        }

    def __repr__(self) -> str:
        return self.name or f"{type(self).__name__}(domain={self.domain!r})"

    # --- checks -------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Check the definition; raises a kanpde error that names the attribute, the value and the fix."""
        kind = type(self).__name__
        domain = getattr(self, "domain", None)
        if not isinstance(domain, Domain):
            raise DefinitionError(
                f"{kind}.domain must be a kanpde domain (Box, Interval, Disk, Polygon, a CSG shape such as "
                f"Box(...) - Disk(...), or MeshDomain); got {domain!r}. "
                "Set it as a class attribute: domain = kanpde.Box([0, 0], [1, 1])"
            )
        if type(self).residual is Problem.residual and not isinstance(self, FunctionProblem):
            if self.divergence is None and not self.has_energy:
                raise DefinitionError(
                    f"{kind} must define residual(self, u, x) returning the PDE residual at x (or declare "
                    "divergence = kanpde.DivergenceForm(a=..., f=...) for -div(a grad u) + c u = f)"
                )
        conditions = self.conditions
        if isinstance(conditions, Condition) or not isinstance(conditions, (list, tuple)):
            raise DefinitionError(f"{kind}.conditions must be a list of conditions; got {conditions!r}")
        for c in conditions:
            if not isinstance(c, Condition):
                raise DefinitionError(f"{kind}.conditions must hold Dirichlet/Neumann/Robin objects; got {c!r}")
            c.check_domain(domain, kind)
            c.check_component(self.components, kind)
        self._check_outputs(kind)
        self._check_forms(kind)
        self._check_vectors(kind)
        self._check_unknowns(kind)
        self._check_data(kind)
        unknown = [c for c in self.up_to_constant if c not in self.components]
        if isinstance(self.up_to_constant, str) or unknown:
            raise DefinitionError(
                f"{kind}.up_to_constant must list component names among {self.components}; got {self.up_to_constant!r}"
            )
        weights = self.residual_weight
        if isinstance(weights, (list, tuple)):
            if not weights:
                raise ConfigError(f"{kind}.residual_weight must be a number or one number per equation; got []")
            for i, w in enumerate(weights):
                check_positive(w, f"{kind}.residual_weight[{i}]")
        else:
            check_positive(weights, f"{kind}.residual_weight")
        for attr in ("n_interior", "n_boundary", "out_dim"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{kind}.{attr} must be an int >= 1; got {value!r}")
        if not isinstance(self.sampling, str):
            _check_points(self.sampling, domain, f"{kind}.sampling")
        for attr in ("sampling", "boundary_sampling") if isinstance(self.sampling, str) else ("boundary_sampling",):
            if getattr(self, attr) not in METHODS:
                raise ConfigError(f"{kind}.{attr} must be one of {', '.join(METHODS)}; got {getattr(self, attr)!r}")
        if self.exact is not None and not callable(self.exact):
            raise DefinitionError(f"{kind}.exact must be a function of x or None; got {self.exact!r}")

    def _check_forms(self, kind: str) -> None:
        """``divergence``: a ``DivergenceForm`` of a scalar problem; ``interface``: level-set functions."""
        if self.divergence is not None:
            if not isinstance(self.divergence, DivergenceForm):
                raise DefinitionError(
                    f"{kind}.divergence must be a kanpde.DivergenceForm(a=..., f=..., c=...); got {self.divergence!r}"
                )
            if self.out_dim != 1:
                raise DefinitionError(
                    f"{kind}.divergence declares a scalar equation, but the problem has {self.out_dim} components; "
                    "define energy(self, u, x) for a system"
                )
        bad = [phi for phi in self.interfaces if not callable(phi)]
        if isinstance(self.interface, str) or bad:
            raise DefinitionError(
                f"{kind}.interface must be a level-set function phi(x) (x: (n, d) -> (n,), zero on the interface) "
                f"or a tuple of them; got {self.interface!r}"
            )

    def _check_outputs(self, kind: str) -> None:
        """``outputs``: distinct identifiers; it sets ``out_dim`` (which must agree when both are given)."""
        outputs = self.outputs
        if outputs is None:
            return
        if isinstance(outputs, str) or not isinstance(outputs, (list, tuple)):
            raise DefinitionError(
                f"{kind}.outputs must be a tuple of component names such as ('u', 'v', 'p'); got {outputs!r}"
            )
        bad = [o for o in outputs if not isinstance(o, str) or not o.isidentifier()]
        if not outputs or bad:
            raise DefinitionError(
                f"{kind}.outputs must name each component with an identifier such as 'u' or 'p'; got {outputs!r}"
            )
        if len(set(outputs)) != len(outputs):
            raise DefinitionError(f"{kind}.outputs has a repeated name: {outputs!r}; give each component its own")
        if self.out_dim not in (1, len(outputs)):
            raise ConfigError(
                f"{kind}.out_dim is {self.out_dim} but outputs names {len(outputs)} components; drop out_dim"
            )
        self.out_dim = len(outputs)

    def _check_vectors(self, kind: str) -> None:
        vectors = self.vectors
        if not isinstance(vectors, Mapping):
            raise DefinitionError(
                f"{kind}.vectors must map a name to component names, e.g. {{'velocity': ('u', 'v')}}; got {vectors!r}"
            )
        for name, parts in vectors.items():
            if not isinstance(name, str) or isinstance(parts, str) or not all(p in self.components for p in parts):
                raise DefinitionError(
                    f"{kind}.vectors[{name!r}] must list component names among {self.components}; got {parts!r}"
                )

    def _check_unknowns(self, kind: str) -> None:
        names = [u.name for u in self.unknowns]
        clash = [n for n in names if n in self.components]
        if clash:
            raise DefinitionError(
                f"{kind}: the unknown {clash[0]!r} has the name of a component of the solution; rename one of them"
            )
        for u in self.unknowns:
            if isinstance(u, UnknownField):
                u.columns(self.domain.axes)

    def _check_data(self, kind: str) -> None:
        data = self.data
        if isinstance(data, Data) or not isinstance(data, (list, tuple)):
            raise DefinitionError(f"{kind}.data must be a list of kanpde.Data; got {data!r}")
        labels = set()
        for i, d in enumerate(data):
            if not isinstance(d, Data):
                raise DefinitionError(f"{kind}.data[{i}] must be a kanpde.Data(points, values); got {d!r}")
            if d.name is None and len(data) > 1:
                d.name = f"data{i}"
            if d.label in labels:
                raise DefinitionError(f"{kind}.data has two sets named {d.label!r}; give each its own name=")
            labels.add(d.label)
            d.columns(self.components)
            _check_points(d.points, self.domain, f"{kind}.data[{i}] ({d.label}) points")

    @property
    def centered_columns(self) -> tuple[int, ...]:
        """The columns of the ``up_to_constant`` components."""
        return tuple(self.components.index(c) for c in self.up_to_constant)

    def reference_values(self, x: Tensor) -> Tensor | None:
        """What errors are measured against at x: (n, d): the exact solution, or None without one.

        A problem with no closed form overrides this to return a numerical reference (see
        ``kanpde.validation``), so ``Solution.errors`` and the history use it.
        """
        return self.exact_values(x) if self.exact is not None else None

    def exact_values(self, x: Tensor) -> Tensor:
        """The exact solution at x: (n, d) as (n, out_dim); checks the shape ``exact`` returns."""
        if self.exact is None:
            raise ConfigError(f"{self!r} has no exact solution; define exact(self, x) or validate against a reference")
        with torch.no_grad():
            value = self.exact(x)
        return _as_columns(value, x.shape[0], self.out_dim, f"{type(self).__name__}.exact(x)")


def _check_points(points: Any, domain: Domain, field: str) -> None:
    """Raise unless ``points`` is an (m, d) array of finite points inside ``domain`` (its closure)."""
    try:
        x = np.asarray(points.detach().cpu() if isinstance(points, Tensor) else points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{field} must be a sampling method ({', '.join(METHODS)}) or an (m, {domain.dim}) array of points; "
            f"got {points!r}"
        ) from None
    if x.ndim != 2 or x.shape[1] != domain.dim or len(x) == 0:
        raise ShapeError(f"{field} must have shape (m, {domain.dim}) with m >= 1; got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ConfigError(f"{field} holds points that are not finite (nan or inf); give finite coordinates")
    outside = ~domain.contains(x)
    if outside.any():
        raise ConfigError(
            f"{field}: {int(outside.sum())} of {len(x)} points lie outside the domain {domain!r}, the first at "
            f"{x[outside][0].tolist()}; keep only points inside (domain.contains(x) tells which)"
        )


def _as_columns(value: Any, n: int, channels: int, what: str) -> Tensor:
    """Check that a per-point result is (n,) or (n, channels) and return it as (n, channels)."""
    if isinstance(value, Field):
        value = value.values
    if not isinstance(value, Tensor):
        raise ShapeError(
            f"{what} must return a torch tensor of shape ({n},) or ({n}, {channels}); got {type(value).__name__}"
        )
    if value.ndim == 1 and value.shape[0] == n and channels == 1:
        return value.reshape(n, 1)
    if value.shape != (n, channels):
        raise ShapeError(
            f"{what} must return shape ({n},) or ({n}, {channels}) for {n} points; got {tuple(value.shape)}"
        )
    return value


class FunctionProblem(Problem):
    """A problem from plain functions, without subclassing.

    Example::

        problem = kanpde.FunctionProblem(
            domain=kanpde.Interval(0, 1),
            residual=lambda u, x: ops.partial(u, x, 0, 0) + 1.0,
            conditions=[kanpde.Dirichlet("boundary", 0.0)],
            exact=lambda x: 0.5 * x[:, 0] * (1 - x[:, 0]),
        )
    """

    def __init__(
        self,
        *,
        domain: Domain,
        residual: Callable[[Field, Tensor], Field | Tensor],
        conditions: Sequence[Condition] = (),
        exact: Callable[[Tensor], Tensor] | None = None,
        residual_weight: float = 1.0,
        n_interior: int = Problem.n_interior,
        n_boundary: int = Problem.n_boundary,
        sampling: str = "sobol",
        boundary_sampling: str = "grid",
        out_dim: int = 1,
        outputs: Sequence[str] | None = None,
    ) -> None:
        if not callable(residual):
            raise DefinitionError(f"FunctionProblem.residual must be a function (u, x) -> residual; got {residual!r}")
        self.domain = domain
        self._residual = residual
        self.conditions = list(conditions)
        self.exact = exact
        self.residual_weight = residual_weight
        self.n_interior, self.n_boundary = n_interior, n_boundary
        self.sampling, self.boundary_sampling = sampling, boundary_sampling
        self.out_dim = out_dim
        self.outputs = outputs

    def residual(self, u: Field, x: Tensor) -> Field | Tensor:
        return self._residual(u, x)
