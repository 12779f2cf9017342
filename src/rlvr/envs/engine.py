"""``EnvEngine``: any rollout engine, with its group API running environment episodes.

The trainer and the evaluations call ``generate`` as before and get one ``Sample`` per
episode; the token-level entry, weight sync and close go to the wrapped engine unchanged.
``with_env`` leaves the engine alone when ``env`` is unset or 'single_turn' (the unchanged
single-turn path, bit-identical to a run without ``env``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlvr.configs.env import EnvConfig
from rlvr.envs.base import Limits, Verify
from rlvr.envs.builtin import EnvContext
from rlvr.envs.registry import env_class
from rlvr.envs.rollout import EpisodeDriver
from rlvr.rollout.engine import SamplingParams
from rlvr.types import Group, TaskRow


class EnvEngine:
    def __init__(self, inner: Any, tokenizer: Any, ctx: EnvContext) -> None:
        cls, cfg = env_class(ctx.cfg.name), ctx.cfg
        cls(ctx)  # a misconfigured environment fails at setup, not at the first rollout
        self.inner, self.capabilities = inner, inner.capabilities
        limits = Limits(cfg.max_turns, cfg.max_tool_calls, cfg.max_total_tokens)
        self.driver = EpisodeDriver(inner, tokenizer, lambda: cls(ctx), limits,
                                    cfg.observation_role)

    @property
    def policy_version(self) -> int:
        return self.inner.policy_version

    def generate(self, rows: list[TaskRow], group_size: int, params: SamplingParams,
                 progress=None, on_groups=None, seeds: Sequence[int] | None = None) -> list[Group]:
        if seeds is not None and len(seeds) != len(rows):
            raise ValueError(f"generate: {len(seeds)} seeds for {len(rows)} rows")
        groups = self.driver.run(rows, group_size, params, seeds)
        if on_groups is not None:
            on_groups(groups)
        if progress is not None:
            progress(len(rows))
        return groups

    def generate_tokens(self, requests):
        return self.inner.generate_tokens(requests)

    def sync_weights(self, named_tensors, version: int) -> dict[str, float]:
        return self.inner.sync_weights(named_tensors, version)

    def close(self) -> None:
        self.inner.close()


def pool_verifier(pipeline: Any) -> Verify | None:
    """The task's verifier run in the reward pipeline's worker pool (None without one)."""
    if pipeline is None or pipeline.verifier is None or pipeline.pool is None:
        return None
    return lambda text, row: pipeline.pool.submit(pipeline.verifier, text, row).result()


def with_env(engine: Any, cfg: Any, tokenizer: Any, pipeline: Any = None) -> Any:
    """``engine`` wrapped for ``cfg.env``; unchanged without one or for 'single_turn'."""
    env_cfg: EnvConfig | None = getattr(cfg, "env", None)
    if env_cfg is None or env_cfg.name == "single_turn":
        return engine
    tools = {}
    if "python" in env_cfg.tools:
        from rlvr.envs.python_tool import PythonTool
        tools["python"] = PythonTool(env_cfg.sandbox, env_cfg.tool_output_chars)
    task = getattr(cfg, "task", None)
    ctx = EnvContext(env_cfg, getattr(task, "system_prompt", None),
                     getattr(task, "instruction", None), pool_verifier(pipeline), tools)
    return EnvEngine(engine, tokenizer, ctx)
