"""Search for a KAN of symbols with the exact structure of a trained one.

Fixing each spline edge of a trained KAN to the symbol that fits it best (``symbolized``) reads a formula
when the network has settled on an exact structure. Often it has not: with two hidden nodes a KAN can
represent sin(pi x) sin(pi y) to 1e-3 by ``psi(eps sin(pi x) + g(y))``, a first-order expansion in eps, whose
edges fit no symbol well, while the exact forms, ``1/2 cos(pi x - pi y) - 1/2 cos(pi x + pi y)`` (edges x
and cos) or a difference of squares of ``sin(pi x) +- sin(pi y)`` (edges sin and x^2), sit elsewhere.
Edge-by-edge fitting cannot move between them; fitting whole structures can.

A :class:`Structure` is a width and a symbol per layer and input node: every edge leaving node i of
layer 0 is ``c f_i(a x_i + b) + d`` with its own (a, b, c, d) (so a hidden node can sum x and x^2, or
sin(pi x) and sin(pi y)), and every edge of a later layer takes that layer's one symbol (so the outer
functions of a sum of compositions are alike, cos and cos, or x^2 and x^2). ``structures`` proposes
them from the trained network: the symbols its edges fit best (``fit_symbol``) together with x and x^2
on the inputs and x^2, sin and exp after them (the compositions that make products of functions exact), at every
hidden width up to the network's. ``fit_structure`` fits one to the network's values from many random
starts at once (Adam on all starts as one batch, then L-BFGS on the best few), so it does not depend on
the gauge the splines happened to settle in. ``search_structures`` ranks the structures of each width by
that fit and hands the best few to a ``judge`` (the solver's: retrain on the PDE loss, return the loss);
it stops at the smallest width whose judged loss is acceptable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product

import torch
from torch import Tensor

from kanpde.errors import ConfigError
from kanpde.interpret.network import Model, kan_inputs
from kanpde.interpret.symbols import DEFAULT_LIBRARY, SymbolLibrary, fit_symbol
from kanpde.nets.kan import KAN

__all__ = ["Structure", "Candidate", "Search", "structures", "fit_structure", "search_structures"]

INNER = ("x", "x^2")
"""Symbols always tried on the inputs: the polynomial arguments of outer functions (cos(pi x - pi y^2))."""

OUTER = ("x^2", "sin", "exp")
"""Symbols always tried after the first layer, the three ways a sum becomes a product: squares (a difference
of squares), sines (cosines of sums and differences) and exponentials (exp(f + g) = exp(f) exp(g))."""

Judge = Callable[["Candidate"], tuple[float, KAN]]
"""Retrains a candidate on the problem's own loss: returns the loss and the retrained KAN."""


@dataclass(frozen=True)
class Structure:
    """The width of a KAN of symbols and its symbols: ``symbols[l][i]`` is the symbol of every edge that
    leaves node i of layer l."""

    width: tuple[int, ...]
    symbols: tuple[tuple[str, ...], ...]

    def complexity(self, library: SymbolLibrary) -> float:
        """The summed complexity of its edges."""
        return sum(
            library[name].complexity * self.width[l + 1] for l, names in enumerate(self.symbols) for name in names
        )

    def __str__(self) -> str:
        layers = " | ".join(", ".join(names) for names in self.symbols)
        return f"{list(self.width)}: {layers}"


@dataclass
class Candidate:
    """A structure fitted to the network's values: the KAN of symbols, its relative RMS error against the
    network (``data_error``), and, once judged, the loss after retraining (``loss``) and that KAN."""

    structure: Structure
    kan: KAN
    data_error: float
    loss: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"structure": str(self.structure), "data_error": self.data_error, "loss": self.loss}


@dataclass
class Search:
    """What ``search_structures`` tried and found: ``best`` (the judged candidate with the lowest loss;
    None when nothing was judged), ``accepted`` (its loss met the bar), every candidate judged, the number
    of structures fitted, and the seconds spent."""

    best: Candidate | None
    accepted: bool
    judged: list[Candidate] = field(default_factory=list)
    fitted: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "best": None if self.best is None else self.best.as_dict(),
            "judged": [c.as_dict() for c in self.judged],
            "structures_fitted": self.fitted,
            "seconds": round(self.seconds, 2),
        }


# --- proposing structures -----------------------------------------------------------------------------


def structures(
    model: Model,
    x: Tensor,
    library: SymbolLibrary | None = None,
    *,
    per_node: int = 1,
    outer: Sequence[str] = OUTER,
) -> list[Structure]:
    """Structures to try for the KAN in ``model`` (a KAN, or a ``Surrogate`` around one; x: its inputs,
    or points of the surrogate's domain), simplest first.

    Per input node: the ``per_node`` symbols that fit its edges best (edges weighted by their spread) and
    ``INNER``; per later layer: its ``per_node`` best and ``outer``. Symbols that fit alike (sin and cos, equal
    under a shift) count once. Widths: for one hidden layer every width from 1 to the network's; deeper
    networks keep their widths.
    """
    kan, h, _ = kan_inputs(model, x, "propose structures")
    library = library if library is not None else DEFAULT_LIBRARY
    ranked = _ranked_symbols(kan, h, library)
    inner = tuple(s for s in INNER if s in library)
    first = [_distinct(ranked[0][i], per_node, inner, library) for i in range(kan.width[0])]
    later = [
        _distinct(_merged(ranked[l]), per_node, tuple(s for s in outer if s in library), library)
        for l in range(1, len(kan.layers))
    ]
    hidden = list(kan.width[1:-1])
    widths = [(m,) for m in range(1, hidden[0] + 1)] if len(hidden) == 1 else [tuple(hidden)]
    found = []
    for mids in widths:
        width = (kan.width[0], *mids, kan.width[-1])
        for firsts in product(*first):
            for outs in product(*later):
                symbols = (tuple(firsts),) + tuple((s,) * width[l] for l, s in enumerate(outs, start=1))
                found.append(Structure(width, symbols))
    return sorted(found, key=lambda s: (sum(s.width[1:-1]), s.complexity(library)))


def _ranked_symbols(kan: KAN, h: Tensor, library: SymbolLibrary) -> list[list[list[tuple[str, float, float]]]]:
    """Per layer and input node: (symbol, cost, r2) summed over the node's edges, weighted by their spread,
    best first; fixed edges count with their symbol."""
    out = []
    with torch.no_grad():
        for layer in kan.layers:
            values = layer.edge_values(h)  # (n, in, out)
            per_node = []
            for i in range(layer.in_dim):
                spread = values[:, i, :].std(dim=0)
                total = float(spread.sum()) or 1.0
                fits = [
                    (f.name, f.cost * float(spread[o]) / total, f.r2)
                    for o in range(layer.out_dim)
                    if float(spread[o]) > 1e-12 * total
                    for f in fit_symbol(h[:, i], values[:, i, o], library, search=21, max_points=128, polish=False)
                ]
                per_node.append(_summed(fits))
            out.append(per_node)
            h = layer(h)
    return out


def _merged(nodes: list[list[tuple[str, float, float]]]) -> list[tuple[str, float, float]]:
    """One ranking for a layer from its nodes' rankings (costs added)."""
    return _summed([entry for ranking in nodes for entry in ranking])


def _summed(fits: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """(symbol, cost, r2) entries with the costs of a symbol added and its best R^2 kept; cheapest first."""
    total: dict[str, list[float]] = {}
    for name, cost, r2 in fits:
        t = total.setdefault(name, [0.0, 0.0])
        t[0] += cost
        t[1] = max(t[1], r2)
    return sorted(((n, c, r) for n, (c, r) in total.items()), key=lambda t: t[1])


def _distinct(
    ranking: list[tuple[str, float, float]], count: int, always: tuple[str, ...], library: SymbolLibrary
) -> tuple[str, ...]:
    """The first ``count`` symbols of a ranking that fit differently (equal R^2: equal under a shift, as sin
    and cos), then ``always``; a symbol tried for its shape keeps the simpler name."""
    picked: list[str] = []
    seen: list[float] = []
    for name, _, r2 in ranking:
        if len(picked) == count:
            break
        if any(abs(r2 - s) <= 1e-9 for s in seen):
            continue
        picked.append(name)
        seen.append(r2)
    for name in always:
        if name not in picked and not (name == "sin" and "cos" in picked) and not (name == "cos" and "sin" in picked):
            picked.append(name)
    return tuple(sorted(picked, key=lambda n: library[n].complexity))


# --- fitting one structure ------------------------------------------------------------------------------


def fit_structure(
    structure: Structure,
    x: Tensor,
    y: Tensor,
    library: SymbolLibrary | None = None,
    *,
    starts: int = 32,
    steps: int = 120,
    polish: int = 1,
    seed: int = 0,
    like: KAN | None = None,
) -> tuple[KAN, float]:
    """The KAN of symbols with ``structure`` that fits y: (n, out) at x: (n, in) best, and its relative RMS
    error. ``starts`` random parameter sets train together with Adam for ``steps``; the ``polish`` best go on
    alone with L-BFGS. ``like``: a KAN whose settings (k, grid) the result keeps."""
    library = library if library is not None else DEFAULT_LIBRARY
    x, y = x.detach().to(torch.float64), y.detach().to(torch.float64).reshape(x.shape[0], -1)
    mean, scale = y.mean(dim=0), y.std(dim=0).clamp_min(1e-300)
    target = (y - mean) / scale
    gen = torch.Generator().manual_seed(seed)
    params = [_initial(structure, l, starts, gen) for l in range(len(structure.symbols))]
    opt = torch.optim.Adam(params, lr=0.05)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        err = _errors(structure, params, x, target, library)
        err.where(torch.isfinite(err), torch.zeros_like(err)).sum().backward()
        for p in params:
            p.grad = torch.nan_to_num(p.grad, nan=0.0, posinf=0.0, neginf=0.0)
        opt.step()
    with torch.no_grad():
        err = torch.nan_to_num(_errors(structure, params, x, target, library), nan=math.inf)
    best, best_err = None, math.inf
    for s in torch.argsort(err)[:polish].tolist():
        one = [p.detach()[s : s + 1].clone().requires_grad_(True) for p in params]
        e = _polished(structure, one, x, target, library)
        if e < best_err:
            best, best_err = one, e
    if best is None:
        s = int(torch.argmin(err))
        best = [p.detach()[s : s + 1].clone() for p in params]
    kan = _as_kan(structure, [p.detach()[0] for p in best], mean, scale, library, like)
    with torch.no_grad():
        rel = float((kan(x) - y).norm() / y.norm().clamp_min(1e-300))
    return kan, rel if math.isfinite(rel) else math.inf


def _initial(structure: Structure, l: int, starts: int, gen: torch.Generator) -> Tensor:
    """Random (a, b, c, d) for every edge of layer l and start: (starts, out, in, 4)."""
    shape = (starts, structure.width[l + 1], structure.width[l])
    a = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * (4.0 if l == 0 else 2.0)
    b = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi
    c = torch.randn(shape, generator=gen, dtype=torch.float64)
    d = torch.zeros(shape, dtype=torch.float64)
    return torch.stack([a, b, c, d], dim=-1).requires_grad_(True)


def _forward(structure: Structure, params: list[Tensor], x: Tensor, library: SymbolLibrary) -> Tensor:
    """All starts at once: x (n, in) -> (starts, n, out)."""
    h = x.unsqueeze(0).expand(params[0].shape[0], -1, -1)
    for names, p in zip(structure.symbols, params):
        out = 0
        for i, name in enumerate(names):
            sym = library[name]
            hi = h[:, :, i : i + 1]  # (S, n, 1)
            a, b, c, d = (p[:, None, :, i, k] for k in range(4))  # (S, 1, out)
            z = a * hi + b if sym.inner else hi
            out = out + c * sym(z) + d
        h = out
    return h


def _errors(structure: Structure, params: list[Tensor], x: Tensor, target: Tensor, library: SymbolLibrary) -> Tensor:
    """Mean square error of every start: (starts,)."""
    return ((_forward(structure, params, x, library) - target) ** 2).mean(dim=(1, 2))


def _polished(structure: Structure, params: list[Tensor], x: Tensor, target: Tensor, library: SymbolLibrary) -> float:
    """L-BFGS on one start's parameters (in place); its final mean square error."""
    opt = torch.optim.LBFGS(params, max_iter=80, history_size=50, line_search_fn="strong_wolfe", tolerance_change=0.0)

    def closure() -> Tensor:
        opt.zero_grad(set_to_none=True)
        loss = _errors(structure, params, x, target, library).sum()
        if torch.isfinite(loss):
            loss.backward()
        return loss

    before = [p.detach().clone() for p in params]
    try:
        opt.step(closure)
    except RuntimeError:
        pass
    with torch.no_grad():
        err = float(_errors(structure, params, x, target, library).sum())
        if not math.isfinite(err):
            for p, saved in zip(params, before):
                p.copy_(saved)
            err = float(_errors(structure, params, x, target, library).sum())
    return err if math.isfinite(err) else math.inf


def _as_kan(
    structure: Structure,
    params: list[Tensor],
    mean: Tensor,
    scale: Tensor,
    library: SymbolLibrary,
    like: KAN | None,
) -> KAN:
    """The KAN with fixed edges of ``structure`` and parameters (out, in, 4) per layer, its output scaled
    back (times ``scale``, plus ``mean``)."""
    options = {} if like is None else {"grid": like.grid, "k": like.k, "curvature_fade": like.curvature_fade}
    kan = KAN(list(structure.width), **options)
    layers = []
    last = len(structure.symbols) - 1
    for l, (names, p) in enumerate(zip(structure.symbols, params)):
        p = p.clone()
        if l == last:
            p[..., 2] *= scale[:, None]
            p[..., 3] *= scale[:, None]
            p[:, 0, 3] += mean
        updates = {
            (o, i): (names[i], tuple(float(v) for v in p[o, i])) for o in range(p.shape[0]) for i in range(p.shape[1])
        }
        layers.append(kan.layers[l].with_fixed(updates, library))
    return kan.with_layers(layers)


# --- the search -------------------------------------------------------------------------------------------


def search_structures(
    model: Model,
    x: Tensor,
    library: SymbolLibrary | None = None,
    *,
    judge: Judge | None = None,
    accept: float = 0.0,
    stop: float | None = None,
    top: int = 3,
    rounds: int = 2,
    points: int = 256,
    deadline: float | None = None,
    seed: int = 0,
) -> Search:
    """Fit the ``structures`` of ``model`` to its values at x (``points`` of them), width by width; at each
    width hand the ``top`` best fits to ``judge``; stop at the first width whose best judged loss is at
    most ``stop`` (default: ``accept``). The best judged candidate is ``accepted`` when its loss is at most
    ``accept`` (default 0: try every width). Without a judge the relative error of the fit to the
    network's values is the loss. When no width reaches ``stop``, the two best judged candidates are
    judged again (their retraining goes on) for up to ``rounds`` rounds: an exact form fitted roughly can
    need more iterations than an approximate one to pull ahead. ``deadline``: a ``time.perf_counter()``
    value after which no further structure is tried."""
    t0 = time.perf_counter()
    library = library if library is not None else DEFAULT_LIBRARY
    kan, h, _ = kan_inputs(model, x, "search for a structure")
    if top < 1:
        raise ConfigError(f"search_structures top must be >= 1; got {top!r}")
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(h.shape[0], generator=gen)[:points]
    h = h[pick].to(torch.float64)
    net = kan if next(kan.parameters()).dtype == torch.float64 else kan.copy().to(torch.float64)
    with torch.no_grad():
        y = net(h)
    found = structures(net, h, library)
    search = Search(None, False)
    bar = accept if stop is None else stop
    for mids in sorted({s.width[1:-1] for s in found}, key=sum):
        fits = []
        for s in (s for s in found if s.width[1:-1] == mids):
            if deadline is not None and time.perf_counter() > deadline:
                break
            fitted, err = fit_structure(s, h, y, library, seed=seed, like=kan)
            search.fitted += 1
            fits.append(Candidate(s, fitted, err))
        fits.sort(key=lambda c: (c.data_error, c.structure.complexity(library)))
        for cand in fits[:top]:
            if deadline is not None and time.perf_counter() > deadline:
                break
            if judge is None:
                cand.loss = cand.data_error
            else:
                cand.loss, cand.kan = judge(cand)
            search.judged.append(cand)
            if search.best is None or cand.loss < search.best.loss:
                search.best = cand
        if search.best is not None and search.best.loss <= bar:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
    if judge is not None and search.best is not None and search.best.loss > bar:
        _go_on(search, judge, rounds, bar, deadline)
    search.accepted = search.best is not None and search.best.loss <= accept
    search.seconds = time.perf_counter() - t0
    return search


def _go_on(search: Search, judge: Judge, rounds: int, bar: float, deadline: float | None) -> None:
    """Further rounds of retraining for the two best judged candidates (successive halving), until one
    falls to ``bar`` or the rounds or the time run out."""
    for _ in range(rounds):
        leaders = sorted(search.judged, key=lambda c: c.loss)[:2]
        for cand in leaders:
            if deadline is not None and time.perf_counter() > deadline:
                return
            cand.loss, cand.kan = judge(cand)
            if cand.loss < search.best.loss:
                search.best = cand
        search.best = min(search.judged, key=lambda c: c.loss)
        if search.best.loss <= bar:
            return
