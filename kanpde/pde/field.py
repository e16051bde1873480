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

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError, ShapeError

__all__ = ["Field", "as_tensor"]


class Field:
    """Values of a field at points ``x`` (``values``: (n, ...), ``x``: (n, d), ``x.requires_grad``).

    Derivatives are taken with respect to ``x`` and cached on the field, so ``ops.laplacian(u, x)``
    and ``ops.partial(u, x, 0)`` in one residual share their first backward pass.
    """

    __slots__ = ("values", "x", "_cache")

    #: numpy must not read a field as a sequence of rows (``np.float64(2) * u``): it defers to our operators
    __array_ufunc__ = None

    def __init__(self, values: Tensor, x: Tensor) -> None:
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
        """``u[i]`` is component i as an (n, 1) field; other indices act on ``values`` like a tensor."""
        if isinstance(index, int):
            if self.values.ndim != 2 or not -self.values.shape[1] <= index < self.values.shape[1]:
                raise ShapeError(f"component {index} is out of range for a field of shape {tuple(self.shape)}")
            index %= self.values.shape[1]
            return self._derived(self.values[:, index : index + 1])
        out = self.values[index]
        if out.ndim == 0 or out.shape[0] != self.values.shape[0]:
            raise ShapeError(f"indexing a field must keep one row per point; u[{index!r}] has shape {tuple(out.shape)}")
        return self._derived(out)

    # --- derivatives (autograd; a derivative-carrying subclass overrides these) -------------------
    def partial(self, axis: int) -> Field:
        """d(values)/dx_axis, same shape as ``values`` (cached)."""
        d = self.x.shape[1]
        if not -d <= axis < d:
            raise ConfigError(f"derivative axis must be in [0, {d}) for points of dimension {d}; got {axis}")
        axis %= d
        key = ("partial", axis)
        if key not in self._cache:
            jac = self._jacobian()  # (n, c, d)
            self._cache[key] = self._derived(jac[..., axis].reshape(self.values.shape))
        return self._cache[key]

    def grad(self) -> Field:
        """Gradient of a scalar field, (n, d)."""
        if self.values[0].numel() != 1:
            raise ShapeError(
                f"ops.grad needs a scalar field (shape (n, 1)); got {tuple(self.shape)}. "
                "Take one component first: ops.grad(u[0], x)"
            )
        return self._derived(self._jacobian()[:, 0, :])

    def laplacian(self, axes: tuple[int, ...] | None = None) -> Field:
        """Sum of the unmixed second derivatives along ``axes`` (default: all), same shape as ``values``."""
        axes = tuple(range(self.x.shape[1])) if axes is None else axes
        if not axes:
            raise ConfigError("ops.laplacian needs at least one axis; got axes=()")
        total = self.partial(axes[0]).partial(axes[0]).values
        for i in axes[1:]:
            total = total + self.partial(i).partial(i).values
        return self._derived(total)

    def hessian(self) -> Field:
        """Matrix of second derivatives of a scalar field, (n, d, d)."""
        rows = [self.grad().partial(i).values for i in range(self.x.shape[1])]
        return self._derived(torch.stack(rows, dim=1))

    def divergence(self) -> Field:
        """Sum_i d(v_i)/dx_i of a vector field v: (n, d), result (n, 1)."""
        d = self.x.shape[1]
        if self.values.ndim != 2 or self.values.shape[1] != d:
            raise ShapeError(f"ops.div needs a vector field of shape (n, {d}); got {tuple(self.shape)}")
        jac = self._jacobian()
        return self._derived(torch.diagonal(jac, dim1=1, dim2=2).sum(dim=1, keepdim=True))

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
        return Field(values, self.x)

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


def as_tensor(value: Field | Tensor) -> Tensor:
    """The values of a field, or the tensor itself."""
    return value.values if isinstance(value, Field) else value
