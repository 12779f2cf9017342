"""Environment config (key ``env``; see docs/environments.md). Null: single-turn tasks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from rlvr.configs.base import Node
from rlvr.configs.sandbox import SandboxConfig

TOOL_NAMES = ("calculator", "python")
"""Built-in tools (rlvr/envs/tools.py)."""
ADAPTERS = ("verifiers", "openenv")
"""Environments that wrap a user's foreign environment named by ``env.load``."""
CODE_TASK_KINDS = ("humaneval", "code_file")
"""Task kinds whose rows carry code tests (``row.metadata["code"]``): 'code_feedback' needs one."""


class EnvConfig(Node):
    """An episode of model turns and environment turns. ``name`` picks the environment from
    ``rlvr.envs.registry.ENVS``; the limits bound every episode."""

    name: str = "single_turn"
    """Registered environment: 'single_turn' (today's tasks), 'tools' (tool calls),
    'try_again' (the verifier's verdict is fed back and the model retries), 'code_feedback'
    (code tasks: the failing test's output is fed back and the model retries), 'verifiers' /
    'openenv' (an environment written for those libraries, named by ``load``)."""
    max_turns: int = Field(2, ge=1)
    """Model turns per episode at most; the episode ends (its last turn is scored) there."""
    max_tool_calls: int = Field(4, ge=0)
    """Tool calls per episode at most; further calls get an error observation."""
    max_total_tokens: int = Field(256, ge=1)
    """Tokens after the prompt per episode at most (model and environment tokens together);
    an episode that reaches it ends as truncated."""
    observation_role: Literal["user", "tool"] = "user"
    """Chat role of environment turns (some templates, e.g. Gemma's, know only user/assistant)."""
    tools: list[str] = Field(default_factory=lambda: ["calculator"])
    """Tools offered by the 'tools' environment (from: calculator, python)."""
    tool_output_chars: int = Field(400, ge=16)
    """Tool output (and 'code_feedback' failure text) longer than this is cut to this many
    characters (marked '[truncated]')."""
    sandbox: SandboxConfig = SandboxConfig()
    """Jail limits of the 'python' tool (one fresh jail per call) and of the re-runs with
    which 'code_feedback' describes a failing attempt."""
    discount: float = Field(0.8, gt=0, le=1)
    """'try_again' / 'code_feedback': the reward of a correct answer at turn k (1-based) is
    score * discount^(k-1)."""
    hint: bool = False
    """'try_again': add the verifier's verdict string to the feedback."""
    load: str | None = None
    """'verifiers' / 'openenv': the user's environment as 'module:attr' (importable from the
    working directory or PYTHONPATH); see docs/environments.md for what attr may be."""
    load_kwargs: dict[str, Any] = Field(default_factory=dict)
    """'verifiers' / 'openenv': keyword arguments for ``load`` when it names a class or
    factory that is called once per episode."""

    @model_validator(mode="after")
    def _known_tools(self) -> EnvConfig:
        unknown = [t for t in self.tools if t not in TOOL_NAMES]
        if unknown:
            raise ValueError(f"env.tools: unknown tool(s) {unknown}; built-in: {list(TOOL_NAMES)}")
        if self.name in ADAPTERS and self.load is None:
            raise ValueError(f"env.name={self.name} needs env.load='module:attr' naming your "
                             "environment")
        if self.load is not None and not _is_target(self.load):
            raise ValueError(f"env.load={self.load!r}: expected 'module:attr' (e.g. "
                             "'my_envs:GuessEnv')")
        return self


def _is_target(spec: str) -> bool:
    module, sep, attr = spec.partition(":")
    return bool(sep and module and attr)


def check_env_fits(env: EnvConfig | None, task_kind: str) -> None:
    """'code_feedback' describes failing code tests: refuse a task without them."""
    if env is not None and env.name == "code_feedback" and task_kind not in CODE_TASK_KINDS:
        raise ValueError(f"env.name=code_feedback needs a code task (task.kind in "
                         f"{', '.join(CODE_TASK_KINDS)}), got task.kind={task_kind}")
