"""The README's Python examples run as written (in order, in one namespace)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(blocks()) >= 3


@pytest.mark.slow
def test_readme_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for code in blocks():
        exec(compile(code, str(README), "exec"), namespace)
    assert namespace["sol"].errors["rel_l2"] < 1e-2
    assert (tmp_path / "runs" / "mine" / "report.json").is_file()
