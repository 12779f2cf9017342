"""Built-in environments: ``single_turn`` (today's tasks) and ``tools`` (tool calls)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlvr.configs.env import EnvConfig
from rlvr.data.templates import build_messages
from rlvr.envs.base import StepResult, Verify
from rlvr.envs.tools import (
    CLOSE,
    OPEN,
    TOOL_ARGS,
    ToolCallError,
    ToolResult,
    parse_tool_call,
    run_calculator,
)
from rlvr.types import RewardResult, TaskRow


@dataclass(frozen=True)
class EnvContext:
    """What every environment of a run may use: its config, the prompt settings of the task,
    the task's verifier (None when the reward has none) and shared tool objects."""

    cfg: EnvConfig
    system_prompt: str | None = None
    instruction: str | None = None
    verify: Verify | None = None
    tools: dict[str, Callable[[dict[str, str]], ToolResult]] | None = None


class SingleTurnEnv:
    """The task's prompt; the first model turn ends the episode and the pipeline scores it."""

    def __init__(self, ctx: EnvContext) -> None:
        self.ctx = ctx

    def reset(self, row: TaskRow) -> list[dict]:
        return build_messages(row, self.ctx.system_prompt, self.ctx.instruction)

    def step(self, text: str) -> StepResult:
        return StepResult(done=True)


def tool_instructions(offered: tuple[str, ...]) -> str:
    """The system text that teaches the call format."""
    lines = [f'To use a tool, end your turn with {OPEN}{{"name": NAME, "args": {{...}}}}{CLOSE}; '
             "the result comes back in the next message. Tools:"]
    lines += [f"- {name}: args {{{', '.join(repr(a) for a in TOOL_ARGS[name])}}}"
              for name in offered]
    return "\n".join(lines + ["When you know the answer, reply without a tool call."])


class ToolEnv:
    """Model turns may call the offered tools; a turn without a call is the answer, scored by
    the task's verifier. A sandbox infrastructure failure ends the episode as an infra error."""

    def __init__(self, ctx: EnvContext) -> None:
        self.ctx = ctx
        self.offered = tuple(ctx.cfg.tools)
        self.calls = 0

    def reset(self, row: TaskRow) -> list[dict]:
        system = "\n\n".join(p for p in (self.ctx.system_prompt, tool_instructions(self.offered))
                             if p)
        return build_messages(row, system, self.ctx.instruction)

    def step(self, text: str) -> StepResult:
        call = parse_tool_call(text, self.offered)
        if call is None:
            return StepResult(done=True)
        self.calls += 1
        if isinstance(call, ToolCallError):
            return StepResult(f"tool call error: {call.message}", tool_calls=1, tool_errors=1)
        if self.calls > self.ctx.cfg.max_tool_calls:
            return StepResult("tool call error: no tool calls left in this episode; answer now",
                              tool_calls=1, tool_errors=1)
        result = self._run(call.name, call.args)
        if result.infra_error is not None:
            return StepResult(done=True, reward=RewardResult.infra_error(result.infra_error),
                              tool_calls=1)
        return StepResult(f"tool result:\n{result.output}", tool_calls=1,
                          tool_errors=int(result.error))

    def _run(self, name: str, args: dict[str, str]) -> ToolResult:
        tools: dict[str, Any] = {"calculator": run_calculator, **(self.ctx.tools or {})}
        if name not in tools:
            return ToolResult("", infra_error=f"tool {name!r} offered but not set up")
        return tools[name](args)
