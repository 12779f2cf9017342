"""``verifiers``: an environment written for verifiers 0.4 (``import verifiers.v1 as vf``).

``env.load`` names either
* a ``vf.Task`` subclass: single turn; its ``@vf.reward`` methods score the model's reply; or
* a ``vf.Env`` subclass whose ``async run(self, task, agents)`` plays the user (the pattern of
  verifiers' TextArena / OpenEnv envs): ``await interaction.turn(...)`` returns the model's
  reply, ``trace.record_reward`` scores. Its ``__init__`` is not run (no taskset or harness
  is loaded: rlvr's task supplies the rows); a class attribute ``TASK`` (a ``vf.Task``
  subclass) adds that task's rewards, else ``vf.Task``.
Each rlvr row becomes the task's data: ``id`` = row id, ``prompt`` = the task prompt, plus the
data class's own fields from ``question`` (the row's prompt), ``answer`` / ``reference`` (its
reference) and its metadata. A ``run`` that opens with ``turn(message)`` (written for a
prompt-less task) shows the prompt, then its message. ``env.load_kwargs`` builds the task's ``TaskConfig``. The episode is scored (the
rewards' weighted sum; each reward a component) when it ends; an error in ``run`` or a reward
function is an infra error, a reward left unscored makes it unscorable.
"""

from __future__ import annotations

import asyncio
import queue
import weakref
from typing import Any

from pydantic import ValidationError

from rlvr.data.templates import build_messages
from rlvr.envs.adapters.common import load_target, require, reward_result
from rlvr.envs.base import StepResult
from rlvr.envs.builtin import EnvContext
from rlvr.types import RewardResult, TaskRow

TURN_TIMEOUT_S = 300.0
"""A foreign episode that neither asks for a turn nor ends within this is an infra error."""


class VerifiersEnv:
    def __init__(self, ctx: EnvContext) -> None:
        self.vf = require("verifiers.v1", "verifiers")
        target = load_target(str(ctx.cfg.load))
        self.runner: Any = None
        what = f"env.load={ctx.cfg.load!r}"
        if isinstance(target, type) and issubclass(target, self.vf.Env):
            self.runner = object.__new__(target)  # run() only; no taskset/harness loading
            target, what = getattr(target, "TASK", self.vf.Task), f"{target.__name__}.TASK"
        if not (isinstance(target, type) and issubclass(target, self.vf.Task)):
            raise ValueError(f"{what}: expected a verifiers.v1 Task or Env subclass, got "
                             f"{target!r}")
        try:
            self.task_config = target.config_type()(**ctx.cfg.load_kwargs)
        except ValidationError as e:
            raise ValueError(f"env.load_kwargs for {target.__name__}: {e}") from None
        self.ctx, self.task_cls, self.channel = ctx, target, None

    def reset(self, row: TaskRow) -> list[dict]:
        from rlvr.envs.adapters import vf_bridge
        loop = vf_bridge.background_loop()
        self.channel = vf_bridge.Channel(loop)
        task, prompt = self._task(row)
        trace = self.vf.Trace(task=self.vf.TraceTask(type=type(task).__name__, data=task.data),
                              agent=self.vf.AgentInfo(config=self.vf.AgentConfig()))
        interaction = vf_bridge.Interaction(trace, self.channel, prompt)
        job = asyncio.run_coroutine_threadsafe(play(self.runner, task, interaction), loop)
        weakref.finalize(self, job.cancel)  # an episode cut at a limit is never resumed
        # (play() must not hold self, or the finalizer's reference would keep it alive)
        kind, payload = self._next()
        if kind != "ask":  # the env failed or ended before the model's first turn
            raise RuntimeError(f"verifiers env for row {row.row_id!r} did not open a turn: "
                               f"{payload}")
        return payload

    def step(self, text: str) -> StepResult:
        assert self.channel is not None, "step() before reset()"
        self.channel.send_reply(text)
        kind, payload = self._next()
        if kind == "ask":
            return StepResult("\n\n".join(str(m["content"]) for m in payload))
        if kind == "error":
            return StepResult(done=True, reward=RewardResult.infra_error(payload))
        return StepResult(done=True, reward=self._reward(payload))

    def _task(self, row: TaskRow) -> tuple[Any, list[dict]]:
        """The row as the task class's data, and the opening messages it shows."""
        messages = build_messages(row, self.ctx.system_prompt, self.ctx.instruction)
        data_cls = self.task_cls.data_type()
        own = set(data_cls.model_fields) - set(self.vf.TaskData.model_fields)
        given = {"question": row.prompt, "answer": row.reference, "reference": row.reference,
                 **row.metadata}
        fields = {k: v for k, v in given.items() if k in own}
        system = messages[0]["content"] if messages[0]["role"] == "system" else None
        try:
            data = data_cls(id=row.row_id, prompt=messages[-1]["content"], system_prompt=system,
                            **fields)
        except ValidationError as e:
            raise ValueError(f"row {row.row_id!r} as {data_cls.__name__}: {e}") from None
        return self.task_cls(data, self.task_config), messages

    def _next(self) -> tuple[str, Any]:
        try:
            return self.channel.events.get(timeout=TURN_TIMEOUT_S)
        except queue.Empty:
            return "error", f"verifiers env: no turn and no end within {TURN_TIMEOUT_S:.0f} s"

    def _reward(self, trace: Any) -> RewardResult | None:
        """The trace's rewards as one result; None (the task's verifier scores) without any."""
        if not trace.rewards:
            return None
        components = {k: (None if r is None else r.value) for k, r in trace.rewards.items()}
        return reward_result(trace.reward, components, "verifiers")


async def play(runner: Any, task: Any, interaction: Any) -> None:
    """One foreign episode on the background loop, then its scoring; the outcome goes to the
    channel."""
    from rlvr.envs.adapters.vf_bridge import Agents
    events = interaction.channel.events
    try:
        if runner is None:
            async with Agents(interaction).player.interaction(task) as it:
                await it.turn()
        else:
            await runner.run(task, Agents(interaction))
        await task.score(interaction.trace)
    except Exception as e:  # the user's env or reward failed: infra, never a silent 0
        events.put(("error", f"verifiers {type(task).__name__}: {type(e).__name__}: {e}"))
        return
    events.put(("done", interaction.trace))
