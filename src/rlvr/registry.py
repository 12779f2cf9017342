"""Lazy registries: ``name -> "package.module:Attr"`` (imported only when chosen) or the object
itself (tests, plugins). The engine and environment registries resolve names through here."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(registry: dict[str, Any], name: str, what: str) -> Any:
    """The entry ``name`` of ``registry``; an unknown name raises ``unknown <what><name>`` with the
    registered choices (``what`` ends with the separator it wants, e.g. "env.name=")."""
    if name not in registry:
        raise ValueError(f"unknown {what}{name!r}; registered: {', '.join(registry)}")
    target = registry[name]
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
