"""The layering of the code base, read from the source: imports only go down, and nothing loops.

Every module of the installed namespace (``kanpde/``, and the sibling folders ``solvers/``, ``validation/``,
``problems/`` installed as ``kanpde.solvers``, ...) is parsed with ``ast``; every import counts, at module level,
inside functions and under ``if TYPE_CHECKING:`` alike. A module may import its own layer or a lower one:

    base (errors, checks, metrics) < geometry < pde < nets < pinn < interpret < io
        < solvers < validation < problems < cli < the package front (kanpde/__init__.py, __main__.py)

``problems`` sees ``validation`` (a built-in problem registers its own reference there); ``validation`` finds
built-in problems by name through the registry in ``kanpde.pde``, never by importing them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "kanpde": "kanpde",
    "problems": "kanpde.problems",
    "solvers": "kanpde.solvers",
    "validation": "kanpde.validation",
}
LAYERS = (
    ("kanpde._version", "kanpde.errors", "kanpde.checks", "kanpde.metrics"),
    ("kanpde.geometry",),
    ("kanpde.pde",),
    ("kanpde.nets",),
    ("kanpde.pinn",),
    ("kanpde.interpret",),
    ("kanpde.io",),
    ("kanpde.solvers",),
    ("kanpde.validation",),
    ("kanpde.problems",),
    ("kanpde.cli",),
    ("kanpde", "kanpde.__main__"),
)


def module_files() -> dict[str, Path]:
    """Module name -> file, for every Python file of the installed namespace."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = module_files()


def layer(module: str) -> int:
    """The layer of a module: the longest listed prefix decides (``kanpde.pde.ops`` -> pde)."""
    best, depth = None, -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and name.count(".") > depth:
                best, depth = index, name.count(".")
    if best is None:
        raise AssertionError(f"{module} is in no layer: add its package to LAYERS in tests/test_architecture.py")
    return best


def imports(module: str) -> list[tuple[str, int, list[str]]]:
    """(imported module, line, names taken) for every import of ``module`` that targets the namespace."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, []) for alias in node.names if alias.name.split(".")[0] == "kanpde"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "kanpde":
                continue
            names = [alias.name for alias in node.names]
            # ``from kanpde.pde import ops`` imports the module kanpde.pde.ops
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            if submodules:
                found += [(sub, node.lineno, []) for sub in submodules]
                names = [n for n in names if f"{target}.{n}" not in MODULES]
                if not names:
                    continue
            found.append((target, node.lineno, names))
    return found


def resolve(target: str) -> str:
    """The module a dotted import name refers to (a name imported from a package is the package)."""
    while target not in MODULES and "." in target:
        target = target.rpartition(".")[0]
    return target


def test_every_module_is_in_a_layer():
    assert len(MODULES) > 40
    for module in MODULES:
        layer(module)


def test_imports_only_go_down():
    upward = []
    for module in MODULES:
        for target, line, _ in imports(module):
            target = resolve(target)
            if layer(target) > layer(module):
                upward.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {target} (a higher layer)")
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    graph = {m: {resolve(t) for t, _, _ in imports(m)} - {m} for m in MODULES}
    # a package's __init__ re-exporting its own modules is not a cycle with them
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not (MODULES[t].name == "__init__.py" and module.startswith(t + "."))}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [node, nxt]) if nxt in path else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert not cycles, "\n".join(cycles)


def test_no_private_names_across_modules():
    taken = []
    for module in MODULES:
        for target, line, names in imports(module):
            target = resolve(target)
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target != module:
                taken.append(f"{MODULES[module].relative_to(ROOT)}:{line} takes {', '.join(private)} from {target}")
    assert not taken, "\n".join(taken)


def test_layer_rule_catches_an_upward_import(tmp_path):
    """The oracle can fail: a pde module that imports a network is reported."""
    assert layer("kanpde.nets.kan") > layer("kanpde.pde.ops") > layer("kanpde.geometry")
    assert layer("kanpde.cli.solve") > layer("kanpde.problems.poisson") > layer("kanpde.validation.reference")


HEAVY = ("sympy", "matplotlib", "h5py", "meshio", "dask", "scipy")


def test_import_kanpde_loads_no_heavy_library():
    code = f"import sys, kanpde; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import kanpde loaded {out.stdout.strip()}"


@pytest.mark.parametrize("module", ["kanpde.interpret.symbols", "kanpde.io.plots"])
def test_heavy_libraries_load_when_needed(module):
    code = f"import sys, importlib; importlib.import_module({module!r}); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
