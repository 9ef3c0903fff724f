"""tinyae.memory: glibc keeps freed memory for reuse, unless the user opts out."""

import ctypes.util
import sys

import pytest

from tinyae import memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None,
                    reason="mallopt is glibc's")
def test_takes_effect_on_glibc(monkeypatch):
    monkeypatch.delenv("TINYAE_KEEP_MEMORY", raising=False)
    assert memory.keep_freed_memory() is True


def test_opt_out(monkeypatch):
    monkeypatch.setenv("TINYAE_KEEP_MEMORY", "0")
    assert memory.keep_freed_memory() is False
