"""What interpretation works on: a KAN, or the KAN inside a ``Surrogate`` (its input map and embeddings
applied to the points first)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.nets.kan import KAN
from kanpde.pinn.surrogate import Surrogate

__all__ = ["Model", "kan_inputs"]

Model = KAN | Surrogate


def kan_inputs(model: Model, x: Tensor, what: str) -> tuple[KAN, Tensor, Callable[[KAN], Model]]:
    """(the KAN, its inputs at points x: (n, d), and how to put a changed KAN back into ``model``).

    For a bare KAN, x are its inputs; for a ``Surrogate``, x are points of the problem's domain and the KAN
    sees their ``features`` (normalised, with periodic embeddings).
    """
    if isinstance(model, Surrogate):
        if not isinstance(model.net, KAN):
            raise ConfigError(f"only a KAN can {what}; this model is an {type(model.net).__name__}")
        return model.net, model.features(x.detach()), model.with_net
    if not isinstance(model, KAN):
        raise ConfigError(f"only a KAN can {what}; got {type(model).__name__}")
    return model, x.detach(), lambda kan: kan
