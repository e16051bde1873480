"""keep_freed_memory: freed tensors are reused without page faults; the switch to leave malloc alone."""

from __future__ import annotations

import resource
import sys

import pytest
import torch

from kanpde.solvers import allocator


def _faults_of_fresh_tensors(count: int = 20, mb: int = 8) -> int:
    """Minor page faults while allocating, filling and freeing ``count`` tensors of ``mb`` MB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(count):
        torch.empty(mb * 2**18).fill_(1.0)  # mb MB of float32
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_is_reused_without_faulting_its_pages_in_again(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", False)
    monkeypatch.delenv("KANPDE_KEEP_MEMORY", raising=False)
    if not allocator.keep_freed_memory():
        pytest.skip("this libc has no mallopt")
    _faults_of_fresh_tensors(5)  # the heap grows in the first few
    # an 8 MB block faults in 2048 pages each time it comes fresh from the kernel; kept, it faults none
    assert _faults_of_fresh_tensors() < 2048
    assert allocator.keep_freed_memory()  # idempotent


def test_the_environment_switch_leaves_malloc_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", False)
    monkeypatch.setenv("KANPDE_KEEP_MEMORY", "0")
    calls = []
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda *a: calls.append(a))
    assert allocator.keep_freed_memory() is False
    assert calls == []
