"""Fast solvers for the discrete Dirichlet Laplacian on a box, diagonalised by sine transforms.

The 2d+1 point operator ``-Delta_h`` with homogeneous Dirichlet data is diagonal in a sine basis:

* node grids (unknowns at the interior nodes, the wall on a node): DST-I, eigenvalues
  ``(4 / h^2) sin^2(pi k / (2 (N + 1)))``, k = 1..N;
* cell-centred grids (the wall half a cell away, ghost value = -u): DST-II, eigenvalues
  ``(4 / h^2) sin^2(pi k / (2 N))``, k = 1..N.

So ``-Delta_h u = r`` costs two transforms. On the CPU the transforms are scipy's FFT-based DSTs
(O(N log N) per line); on a GPU they are dense orthogonal matrices applied with one matmul per axis,
which is exact in float64 and fast on that hardware, and keeps this path to a few lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from kanpde.errors import ConfigError

__all__ = ["DirichletLaplacian", "BACKENDS"]

BACKENDS = ("auto", "scipy", "torch")


class DirichletLaplacian:
    """Solver of ``-Delta_h u = r`` on a box grid with homogeneous Dirichlet walls.

    Args:
        shape: unknowns per axis (N_0, ..., N_{d-1}).
        h: grid spacing per axis.
        staggered: False for node grids (DST-I), True for cell-centred grids (DST-II).
        device, dtype: where the right-hand sides live.
        backend: ``"scipy"`` (FFT-based DST, CPU only), ``"torch"`` (dense sine matrices, any device) or
            ``"auto"`` (scipy on the CPU, torch elsewhere). ``name`` says which one was chosen.
    """

    def __init__(
        self,
        shape: Sequence[int],
        h: Sequence[float],
        *,
        staggered: bool,
        device: torch.device,
        dtype: torch.dtype = torch.float64,
        backend: str = "auto",
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
        if backend == "auto":
            backend = "scipy" if device.type == "cpu" else "torch"
        if backend == "scipy" and device.type != "cpu":
            raise ConfigError(
                f"backend='scipy' runs on the CPU only; got device={device} (use backend='torch' or 'auto')"
            )
        self.backend, self.staggered = backend, staggered
        self.name = f"dst-{'II' if staggered else 'I'}/{backend} ({device.type})"
        self.shape = tuple(int(s) for s in shape)
        eig = 0.0
        for axis, (n, step) in enumerate(zip(self.shape, h)):
            k = torch.arange(1, n + 1, dtype=dtype, device=device)
            lam = (4.0 / step**2) * torch.sin(math.pi * k / (2 * (n if staggered else n + 1))) ** 2
            eig = eig + lam.reshape([-1 if i == axis else 1 for i in range(len(self.shape))])
        self.eig = eig
        if backend == "torch":
            self.bases = [_sine_basis(n, staggered, device, dtype) for n in self.shape]

    def __call__(self, r: Tensor | np.ndarray) -> Tensor | np.ndarray:
        """u with ``-Delta_h u = r``; r: shape ``self.shape``, returns the same shape, type, dtype and device.

        The scipy backend also takes and returns numpy arrays.
        """
        if self.backend == "scipy":
            from scipy import fft

            kind = 2 if self.staggered else 1
            workers = max(1, torch.get_num_threads())
            coeff = fft.dstn(r.numpy() if isinstance(r, Tensor) else r, type=kind, workers=workers)
            coeff /= self.eig.numpy()
            u = fft.idstn(coeff, type=kind, workers=workers, overwrite_x=True)
            return torch.from_numpy(u) if isinstance(r, Tensor) else u
        coeff = _apply(r, self.bases, transpose=True) / self.eig
        return _apply(coeff, self.bases, transpose=False)


def _sine_basis(n: int, staggered: bool, device: torch.device, dtype: torch.dtype) -> Tensor:
    """(n, n) orthogonal matrix whose column k is the k-th sine eigenvector, normalised."""
    j = torch.arange(n, dtype=dtype, device=device).reshape(-1, 1)
    k = torch.arange(1, n + 1, dtype=dtype, device=device).reshape(1, -1)
    q = torch.sin(math.pi * k * (j + 0.5) / n) if staggered else torch.sin(math.pi * k * (j + 1) / (n + 1))
    return q / torch.linalg.vector_norm(q, dim=0, keepdim=True)


def _apply(x: Tensor, bases: list[Tensor], *, transpose: bool) -> Tensor:
    """Multiply x by Q_i^T (transpose=True) or Q_i along every axis i."""
    for axis, q in enumerate(bases):
        x = torch.movedim(torch.tensordot(x, q if transpose else q.T, dims=([axis], [0])), -1, axis)
    return x
