"""Shared fixtures: one real verifier worker pool for the reward tests (started once, ~2 s)."""

from __future__ import annotations

import pytest

from rlvr.rewards.pool import WorkerPool


@pytest.fixture(scope="session")
def pool():
    with WorkerPool(workers=2, deadline_s=4.0, memory_mb=768) as shared:
        yield shared
