"""The code is formatted and linted (``ruff format --check``, ``ruff check``; settings in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ["kanpde", "problems", "solvers", "validation", "tests"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("ruff is not installed (it comes with the test extra: pip install -e '.[test]')")
    return subprocess.run([exe, *args, *FOLDERS], cwd=ROOT, capture_output=True, text=True)


def test_ruff_format():
    out = ruff("format", "--check")
    assert out.returncode == 0, f"run `ruff format` to fix:\n{out.stdout}{out.stderr}"


def test_ruff_check():
    out = ruff("check")
    assert out.returncode == 0, f"run `ruff check --fix` (and mend the rest by hand):\n{out.stdout}{out.stderr}"
