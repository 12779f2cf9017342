"""``ENVS``: environment name (``env.name``) -> ``module:Class``, imported when chosen. A new
environment is a class taking an ``EnvContext`` with ``reset``/``step`` plus one line here."""

from __future__ import annotations

import importlib
from typing import Any

ENVS: dict[str, Any] = {
    "single_turn": "rlvr.envs.builtin:SingleTurnEnv",
    "tools": "rlvr.envs.builtin:ToolEnv",
    "try_again": "rlvr.envs.feedback:TryAgainEnv",
}


def env_class(name: str) -> Any:
    if name not in ENVS:
        raise ValueError(f"unknown environment env.name={name!r}; registered: {', '.join(ENVS)}")
    target = ENVS[name]
    if not isinstance(target, str):  # a class registered directly (tests, plugins)
        return target
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
