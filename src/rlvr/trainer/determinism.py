"""Seeding and the deterministic CPU mode (``reliability.deterministic``; docs/reliability.md).

Always: python, numpy and torch are seeded from ``cfg.seed``. Deterministic mode adds
``torch.use_deterministic_algorithms(True)`` and a single intra-op thread, because the result of
a parallel float reduction depends on how the work is split across threads.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


_saved: list[tuple[bool, int]] = []


def set_deterministic(enabled: bool) -> None:
    """Deterministic algorithms and one thread (CPU); on CUDA also the cuBLAS workspace setting.
    ``restore()`` (called when the run ends) puts back the process's previous settings."""
    if not enabled:
        return
    _saved.append((torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def restore() -> None:
    """Undo ``set_deterministic`` (a library caller's process keeps its own settings)."""
    while _saved:
        algorithms, threads = _saved.pop()
        torch.use_deterministic_algorithms(algorithms)
        torch.set_num_threads(threads)
