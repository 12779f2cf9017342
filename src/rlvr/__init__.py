"""rlvr: RL with verifiable rewards for language models. ``rlvr.Session`` (api.py) opens a
training run as Python primitives; it is imported on first use so ``import rlvr`` stays light."""

from __future__ import annotations

from typing import Any

__all__ = ["Session"]


def __getattr__(name: str) -> Any:
    if name == "Session":
        from rlvr.api import Session

        return Session
    raise AttributeError(f"module 'rlvr' has no attribute {name!r}")
