"""Allocator settings for the CPU trainer, applied by the CLI before torch is imported.

An RL step allocates and frees the same large tensors over and over (logit chunks of ~400 MB,
activations, gradients). With glibc's defaults every block above the (dynamic) mmap threshold is
a fresh ``mmap``, so each use page-faults its memory in again, 4 KiB at a time, and returns it
with ``munmap``: on the 2-core machines measured (docs/performance.md) the kernel time of a
quickstart step was ~40 % of its user time. Two settings remove most of it:

- ``THP_MEM_ALLOC_ENABLE=1``: torch's CPU allocator aligns blocks of 2 MiB and more and asks for
  transparent huge pages (``madvise``), so a fault maps 2 MiB instead of 4 KiB (needs THP set to
  ``always`` or ``madvise`` in /sys/kernel/mm/transparent_hugepage/enabled);
- ``mallopt``: a fixed mmap threshold of 32 MiB (glibc's largest), no trimming of the heap top below 2 GiB
  and a 1 GiB top pad, so blocks below 32 MiB are reused from the heap instead of mapped anew.

The process keeps its peak heap (RSS does not fall back between steps), which is what a trainer
wants. ``RLVR_ALLOCATOR=default`` leaves everything as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD = 32 * 2**20  # glibc refuses larger values (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: 2 GiB
TOP_PAD = 2**30
APPLIED: dict[str, str] = {}
"""What ``tune_allocator`` applied in this process (the ``rlvr train`` banner shows it)."""


def tune_allocator(environ: dict | None = None) -> dict[str, str]:
    """Apply the settings above (before torch is imported; afterwards only ``mallopt`` acts).
    Returns what was applied, for the start banner: {} when switched off or not on glibc."""
    env = os.environ if environ is None else environ
    if env.get("RLVR_ALLOCATOR", "tuned") == "default":
        return {}
    applied = {}
    if "torch" not in sys.modules and "THP_MEM_ALLOC_ENABLE" not in env:
        env["THP_MEM_ALLOC_ENABLE"] = "1"
        applied["THP_MEM_ALLOC_ENABLE"] = "1"
    libc = _glibc()
    if libc is not None:
        for option, value, name in ((M_MMAP_THRESHOLD, MMAP_THRESHOLD, "mmap_threshold"),
                                    (M_TRIM_THRESHOLD, TRIM_THRESHOLD, "trim_threshold"),
                                    (M_TOP_PAD, TOP_PAD, "top_pad")):
            if libc.mallopt(option, ctypes.c_int(value)) == 1:
                applied[name] = str(value)
    if environ is None:
        APPLIED.update(applied)
    return applied


def _glibc():
    """libc with ``mallopt`` when it is glibc (musl and macOS have none), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None
    except OSError:
        return None
