"""Fixtures for the sandbox tests (helpers live in sandbox_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_support import SUITE_CFG, Listener, full_sandbox

from rlvr.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    return full_sandbox(SUITE_CFG)


@pytest.fixture(scope="session")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()
