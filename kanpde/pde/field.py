"""The field object a residual receives: a surrogate's values at collocation points, with their derivatives.

A residual is written as ``ops.laplacian(u, x) - f(x)``; ``u`` is a :class:`Field`, not a bare tensor.
Arithmetic on a field (``5 * u**3 - u``, ``torch.sin(u)``) acts on its values and returns a field, and
the operators in :mod:`kanpde.ops` ask the field for its derivatives. This class computes them with
nested autograd, which is correct for any expression; a subclass that carries derivatives through the
network in one pass can stand in for it without any change to user code.

Shapes: ``values`` is (n, c) for a field with c components at n points (a Hessian is (n, d, d)).
Mixing a field with a tensor follows one rule that stops silent outer products: an (n,) tensor is read
as (n, 1), and the result must have the shape of one of the two operands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError, ShapeError

__all__ = ["Field", "Layout", "as_tensor", "stack"]


@dataclass(frozen=True)
class Layout:
    """Names a residual may use on a field: its ``components`` (``u["p"]``) and the coordinate ``axes``
    (``ops.partial(u, x, "t", "t")``). Set from the problem (``outputs``, ``domain.axes``) on the field a
    residual receives; fields derived from it keep the axes, and a component keeps its own name."""

    components: tuple[str, ...] = ()
    axes: tuple[str, ...] = ()

    def component(self, name: str, channels: int) -> int:
        """The column of the component ``name``; a ``ConfigError`` naming the choices otherwise."""
        if len(self.components) != channels or name not in self.components:
            known = (
                f"its components are {', '.join(map(repr, self.components))}"
                if self.components
                else ("it has no named components (declare outputs = ('u', 'v', ...) on the problem)")
            )
            raise ConfigError(f"u[{name!r}]: no component named {name!r}; {known}")
        return self.components.index(name)

    def axis(self, axis: int | str, d: int) -> int:
        """The column of x for ``axis``: an int in [-d, d), or the name of a coordinate."""
        if isinstance(axis, str):
            if axis not in self.axes:
                known = (
                    f"the axes are {', '.join(map(repr, self.axes))}" if self.axes else "this field has no axis names"
                )
                raise ConfigError(f"no coordinate axis named {axis!r}; {known} (or give the column index)")
            return self.axes.index(axis)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ConfigError(f"a derivative axis must be an int (column of x) or an axis name; got {axis!r}")
        if not -d <= axis < d:
            raise ConfigError(f"derivative axis must be in [0, {d}) for points of dimension {d}; got {axis}")
        return int(axis) % d

    def axes_only(self) -> Layout:
        return Layout((), self.axes) if self.components else self

    def only(self, name: str) -> Layout:
        return Layout((name,), self.axes)


NO_NAMES = Layout()


class Field:
    """Values of a field at points ``x`` (``values``: (n, ...), ``x``: (n, d), ``x.requires_grad``).

    Derivatives are taken with respect to ``x`` and cached on the field, so ``ops.laplacian(u, x)``
    and ``ops.partial(u, x, 0)`` in one residual share their first backward pass.
    """

    __slots__ = ("values", "x", "layout", "_cache")

    #: numpy must not read a field as a sequence of rows (``np.float64(2) * u``): it defers to our operators
    __array_ufunc__ = None

    def __init__(self, values: Tensor, x: Tensor, layout: Layout = NO_NAMES) -> None:
        if not isinstance(values, Tensor) or not isinstance(x, Tensor):
            raise ShapeError(
                f"Field needs tensors for values and x; got {type(values).__name__} and {type(x).__name__}"
            )
        if values.ndim == 0 or values.shape[0] != x.shape[0]:
            raise ShapeError(
                f"Field.values must have one row per point of x ({x.shape[0]}); got shape {tuple(values.shape)}"
            )
        self.values = values
        self.x = x
        self.layout = layout
        self._cache: dict[Any, Any] = {}

    # --- shape ----------------------------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return self.values.shape

    @property
    def ndim(self) -> int:
        return self.values.ndim

    @property
    def dtype(self) -> torch.dtype:
        return self.values.dtype

    @property
    def device(self) -> torch.device:
        return self.values.device

    def __len__(self) -> int:
        return self.values.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={tuple(self.values.shape)})"

    def reshape(self, *shape: int | tuple[int, ...]) -> Field:
        """The values reshaped, one row per point kept: ``u.reshape(-1, 1)``, ``r.reshape(n, 2)``."""
        dims = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        out = self.values.reshape(*dims)
        if out.ndim == 0 or out.shape[0] != self.values.shape[0]:
            raise ShapeError(
                f"reshaping a field must keep one row per point ({self.values.shape[0]}); "
                f"u.reshape({', '.join(map(str, dims))}) gives {tuple(out.shape)}. Keep the first dimension: u.reshape(n, -1)"
            )
        return self._derived(out)

    def __getitem__(self, index: Any) -> Field:
        """``u["p"]`` (a component named in the problem's ``outputs``) or ``u[i]`` is that component as an
        (n, 1) field; other indices act on ``values`` like a tensor."""
        if isinstance(index, str):
            return self.component(index)
        if isinstance(index, int):
            if self.values.ndim != 2 or not -self.values.shape[1] <= index < self.values.shape[1]:
                raise ShapeError(f"component {index} is out of range for a field of shape {tuple(self.shape)}")
            index %= self.values.shape[1]
            return self._derived(self.values[:, index : index + 1])
        out = self.values[index]
        if out.ndim == 0 or out.shape[0] != self.values.shape[0]:
            raise ShapeError(f"indexing a field must keep one row per point; u[{index!r}] has shape {tuple(out.shape)}")
        return self._derived(out)

    def component(self, name: str) -> Field:
        """The component called ``name`` (one of the problem's ``outputs``), an (n, 1) field."""
        j = self.layout.component(name, self.values.shape[1] if self.values.ndim == 2 else 0)
        out = self[j]
        out.layout = self.layout.only(name)
        return out

    def axis(self, axis: int | str) -> int:
        """The column of x for ``axis``, an int or a coordinate name (``"t"``)."""
        return self.layout.axis(axis, self.x.shape[1])

    # --- derivatives (autograd; a derivative-carrying subclass overrides these) -------------------
    def partial(self, axis: int | str) -> Field:
        """d(values)/dx_axis, same shape as ``values`` (cached); axis an int or a coordinate name."""
        axis = self.axis(axis)
        key = ("partial", axis)
        if key not in self._cache:
            jac = self._jacobian()  # (n, c, d)
            self._cache[key] = self._derived(jac[..., axis].reshape(self.values.shape))
        return self._cache[key]

    def axes_of(self, axes: Sequence[int | str] | None) -> tuple[int, ...]:
        """Columns of x for ``axes`` (ints or names; default all), in order."""
        if axes is None:
            return tuple(range(self.x.shape[1]))
        if isinstance(axes, (str, int)):
            axes = (axes,)
        out = tuple(self.axis(a) for a in axes)
        if not out:
            raise ConfigError("axes= needs at least one axis; got axes=()")
        return out

    def grad(self, axes: Sequence[int | str] | None = None) -> Field:
        """Gradient of a scalar field along ``axes`` (default: all), (n, len(axes))."""
        if self.values[0].numel() != 1:
            raise ShapeError(
                f"ops.grad needs a scalar field (shape (n, 1)); got {tuple(self.shape)}. "
                "Take one component first: ops.grad(u[0], x) or ops.grad(u['v'], x)"
            )
        cols = list(self.axes_of(axes))
        return self._derived(self._jacobian()[:, 0, cols])

    def laplacian(self, axes: Sequence[int | str] | None = None) -> Field:
        """Sum of the unmixed second derivatives along ``axes`` (default: all), same shape as ``values``."""
        axes = self.axes_of(axes)
        total = self.partial(axes[0]).partial(axes[0]).values
        for i in axes[1:]:
            total = total + self.partial(i).partial(i).values
        return self._derived(total)

    def hessian(self, axes: Sequence[int | str] | None = None) -> Field:
        """Matrix of second derivatives of a scalar field along ``axes`` (default: all), (n, k, k)."""
        axes = self.axes_of(axes)
        g = self.grad(axes)
        rows = [g.partial(i).values for i in axes]
        return self._derived(torch.stack(rows, dim=1))

    def divergence(self, axes: Sequence[int | str] | None = None) -> Field:
        """Sum_i d(v_i)/dx_{axes[i]} of a vector field v: (n, len(axes)) (default all axes), result (n, 1)."""
        axes = self.axes_of(axes)
        k = len(axes)
        if self.values.ndim != 2 or self.values.shape[1] != k:
            raise ShapeError(
                f"ops.div needs a vector field of shape (n, {k}) (one component per axis of {list(axes)}); "
                f"got {tuple(self.shape)}. On a space-time problem pass the space axes: ops.div(v, x, axes=...)"
            )
        jac = self._jacobian()
        return self._derived(sum(jac[:, i, a : a + 1] for i, a in enumerate(axes)))

    def _jacobian(self) -> Tensor:
        """(n, c, d): d values[:, j] / d x[:, i] with c = values[0].numel(); one backward per component."""
        if "jac" not in self._cache:
            n, d = self.x.shape
            flat = self.values.reshape(n, -1)
            if not self.x.requires_grad:
                raise ConfigError(
                    "derivatives need points with requires_grad=True; evaluate the field at "
                    "x.requires_grad_(True) (solve() does this for you)"
                )
            cols = []
            for j in range(flat.shape[1]):
                g = None
                if flat.requires_grad:
                    (g,) = torch.autograd.grad(
                        flat[:, j], self.x, torch.ones_like(flat[:, j]), create_graph=True, allow_unused=True
                    )
                cols.append(torch.zeros_like(self.x) if g is None else g)
            self._cache["jac"] = torch.stack(cols, dim=1)
        return self._cache["jac"]

    # --- arithmetic -----------------------------------------------------------------------------
    def _derived(self, values: Tensor) -> Field:
        return Field(values, self.x, self.layout.axes_only())

    #: when two fields meet, the one with the higher priority does the arithmetic (a field carrying
    #: derivatives keeps what it can)
    _priority = 0

    def _binary(self, other: Any, op: Callable[[Tensor, Tensor], Tensor], symbol: str, reverse: bool = False) -> Field:
        a = self.values
        if isinstance(other, Field):
            if other.x is not self.x:
                raise ShapeError(f"cannot combine fields evaluated at different points with {symbol!r}")
            if other._priority > self._priority:
                return other._binary(self, op, symbol, reverse=not reverse)
            b = other.values
        elif isinstance(other, Tensor):
            b = other
        elif isinstance(other, (int, float, np.number)) and not isinstance(other, (bool, np.bool_)):
            other = other.item() if isinstance(other, np.number) else other
            return self._derived(op(other, a) if reverse else op(a, other))
        else:
            return NotImplemented
        a, b = _align(a, b, symbol)
        out = op(b, a) if reverse else op(a, b)
        if out.shape != a.shape and out.shape != b.shape:
            raise ShapeError(
                f"shapes {tuple(self.values.shape)} and {tuple(other.shape)} do not match for {symbol!r}: "
                f"broadcasting would give {tuple(out.shape)}. Give per-point tensors shape (n,) or (n, c)"
            )
        return self._derived(out)

    def __add__(self, o: Any) -> Field:
        return self._binary(o, torch.add, "+")

    def __radd__(self, o: Any) -> Field:
        return self._binary(o, torch.add, "+", reverse=True)

    def __sub__(self, o: Any) -> Field:
        return self._binary(o, torch.sub, "-")

    def __rsub__(self, o: Any) -> Field:
        return self._binary(o, torch.sub, "-", reverse=True)

    def __mul__(self, o: Any) -> Field:
        return self._binary(o, torch.mul, "*")

    def __rmul__(self, o: Any) -> Field:
        return self._binary(o, torch.mul, "*", reverse=True)

    def __truediv__(self, o: Any) -> Field:
        return self._binary(o, torch.div, "/")

    def __rtruediv__(self, o: Any) -> Field:
        return self._binary(o, torch.div, "/", reverse=True)

    def __pow__(self, o: Any) -> Field:
        return self._binary(o, torch.pow, "**")

    def __rpow__(self, o: Any) -> Field:
        return self._binary(o, torch.pow, "**", reverse=True)

    def __neg__(self) -> Field:
        return self._derived(-self.values)

    def __pos__(self) -> Field:
        return self

    def __abs__(self) -> Field:
        return self._derived(self.values.abs())

    @classmethod
    def __torch_function__(cls, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        """``torch.sin(u)``, ``torch.exp(u)``, ...: apply to the values and return a field."""
        kwargs = kwargs or {}
        if func in _BINARY and len(args) == 2 and not kwargs:
            op, symbol, swapped = _BINARY[func]
            a, b = (args[1], args[0]) if swapped else args
            # a op b with one of them a Field: keep the per-point alignment rule of the operators
            return a._binary(b, op, symbol) if isinstance(a, Field) else b._binary(a, op, symbol, reverse=True)
        fields = list(_fields((args, kwargs)))
        ref = max(fields, key=lambda f: f._priority)
        if any(f.x is not ref.x for f in fields):
            raise ShapeError(
                f"torch.{getattr(func, '__name__', func)}: cannot combine fields evaluated at different points"
            )
        out = func(*_unwrap(args), **_unwrap(kwargs))
        n = ref.values.shape[0]
        if isinstance(out, Tensor) and out.ndim > 0 and out.shape[0] == n:
            _check_no_outer_product(func, out, (args, kwargs), n)
            return ref._derived(out)
        return out


# elementwise binary ops that reach __torch_function__ when a tensor comes first (``f - u``, ``torch.mul(f, u)``)
_BINARY: dict[Callable, tuple[Callable, str, bool]] = {}
for _op, _symbol, _names in (
    (torch.add, "+", ("add",)),
    (torch.sub, "-", ("sub", "subtract")),
    (torch.mul, "*", ("mul", "multiply")),
    (torch.div, "/", ("div", "divide", "true_divide")),
    (torch.pow, "**", ("pow",)),
):
    for _name in _names:
        for _owner in (torch, Tensor):
            if hasattr(_owner, _name):
                _BINARY[getattr(_owner, _name)] = (_op, _symbol, False)
        for _dunder, _swapped in ((f"__{_name}__", False), (f"__r{_name}__", True)):
            if hasattr(Tensor, _dunder):
                _BINARY[getattr(Tensor, _dunder)] = (_op, _symbol, _swapped)


def _align(a: Tensor, b: Tensor, symbol: str) -> tuple[Tensor, Tensor]:
    """Read an (n,) operand as (n, 1) when the other is (n, c)."""
    if b.ndim == 1 and a.ndim >= 2 and b.shape[0] == a.shape[0] and b.shape[0] != 1:
        b = b.reshape(-1, *([1] * (a.ndim - 1)))
    elif a.ndim == 1 and b.ndim >= 2 and a.shape[0] == b.shape[0] and a.shape[0] != 1:
        a = a.reshape(-1, *([1] * (b.ndim - 1)))
    return a, b


def _leaves(obj: Any) -> Iterator[Any]:
    """Everything inside the arguments of a torch function, lists and dicts opened (``torch.cat([u, v], 1)``)."""
    if isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _leaves(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _leaves(o)
    else:
        yield obj


def _fields(obj: Any) -> Iterator[Field]:
    return (o for o in _leaves(obj) if isinstance(o, Field))


def _check_no_outer_product(func: Callable, out: Tensor, arguments: Any, n: int) -> None:
    """Refuse a result that pairs every point with every other point: an (n,) tensor broadcast against an
    (n, c) field (``torch.maximum(u, f)``) gives (n, n, ...) where a per-point (n, c) was meant."""
    if n < 2 or out.ndim < 2 or out.shape[1] != n:
        return
    shapes = [tuple(t.shape) for t in _tensors(arguments)]
    if any(len(shape) >= 2 and shape[1] == n for shape in shapes):
        return  # an operand already had n in its second axis: not a broadcast surprise
    raise ShapeError(
        f"torch.{getattr(func, '__name__', 'function')} of shapes {', '.join(str(s) for s in shapes)} gives "
        f"{tuple(out.shape)}: every point paired with every other. Give per-point tensors shape (n, 1) "
        "(f.reshape(-1, 1)) or (n, c)"
    )


def _tensors(obj: Any) -> Iterator[Tensor]:
    """The tensors in the arguments, a field's values included."""
    return (o.values if isinstance(o, Field) else o for o in _leaves(obj) if isinstance(o, (Field, Tensor)))


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, Field):
        return obj.values
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def stack(*equations: Field | Tensor) -> Field | Tensor:
    """Several per-point equations as one (n, m) residual: ``ops.stack(momentum_x, momentum_y, continuity)``.

    Each argument is a field or tensor of shape (n,) or (n, k); the result has one column per equation
    column (a residual may also return a tuple, which ``solve`` stacks the same way).
    """
    if len(equations) == 1 and isinstance(equations[0], (tuple, list)):
        equations = tuple(equations[0])
    if not equations:
        raise ShapeError("ops.stack needs at least one equation")
    fields = [e for e in equations if isinstance(e, Field)]
    cols = []
    for i, e in enumerate(equations):
        v = as_tensor(e)
        if not isinstance(v, Tensor):
            raise ShapeError(f"ops.stack: equation {i} is a {type(v).__name__}; give fields or tensors")
        shape = tuple(v.shape)
        v = v.reshape(-1, 1) if v.ndim == 1 else v
        if v.ndim != 2 or (cols and v.shape[0] != cols[0].shape[0]):
            n = cols[0].shape[0] if cols else v.shape[0]
            raise ShapeError(f"ops.stack: equation {i} has shape {shape}; each must be ({n},) or ({n}, k)")
        cols.append(v)
    out = torch.cat(cols, dim=1)
    if not fields:
        return out
    ref = max(fields, key=lambda f: f._priority)
    return Field(out, ref.x, ref.layout.axes_only())


def as_tensor(value: Field | Tensor) -> Tensor:
    """The values of a field, or the tensor itself."""
    return value.values if isinstance(value, Field) else value
