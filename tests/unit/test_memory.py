"""Allocator tuning at CLI start (rlvr/memory.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rlvr import memory


def test_switched_off_applies_nothing():
    env = {"RLVR_ALLOCATOR": "default"}
    assert memory.tune_allocator(env) == {}
    assert env == {"RLVR_ALLOCATOR": "default"}


@pytest.mark.skipif(memory._glibc() is None, reason="mallopt is glibc's")
def test_mallopt_settings_are_applied_and_thp_only_before_torch():
    import torch  # noqa: F401  (imported: too late for THP_MEM_ALLOC_ENABLE)

    env: dict[str, str] = {}
    applied = memory.tune_allocator(env)
    assert applied == {"mmap_threshold": str(32 * 2**20), "trim_threshold": str(2**31 - 1),
                       "top_pad": str(2**30)}
    assert "THP_MEM_ALLOC_ENABLE" not in env


def test_a_fresh_process_asks_torch_for_huge_pages_and_a_user_setting_wins():
    code = ("import os; from rlvr.memory import tune_allocator; tune_allocator(); "
            "import torch; print(os.environ['THP_MEM_ALLOC_ENABLE'])")
    env = {k: v for k, v in os.environ.items() if k not in ("THP_MEM_ALLOC_ENABLE",
                                                            "RLVR_ALLOCATOR")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "1"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "THP_MEM_ALLOC_ENABLE": "0"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
