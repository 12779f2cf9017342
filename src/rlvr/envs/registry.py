"""``ENVS``: environment name (``env.name``) -> ``module:Class``, imported when chosen. A new
environment is a class taking an ``EnvContext`` with ``reset``/``step`` plus one line here."""

from __future__ import annotations

from typing import Any

from rlvr.registry import resolve

ENVS: dict[str, Any] = {
    "single_turn": "rlvr.envs.builtin:SingleTurnEnv",
    "tools": "rlvr.envs.builtin:ToolEnv",
    "try_again": "rlvr.envs.feedback:TryAgainEnv",
    "code_feedback": "rlvr.envs.code_feedback:CodeFeedbackEnv",
    "verifiers": "rlvr.envs.adapters.verifiers_env:VerifiersEnv",
    "openenv": "rlvr.envs.adapters.openenv_env:OpenEnvEnv",
}


def env_class(name: str) -> Any:
    return resolve(ENVS, name, "environment env.name=")
