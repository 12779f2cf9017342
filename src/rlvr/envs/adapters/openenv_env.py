"""``openenv``: an OpenEnv ``Environment`` (openenv-core) run in-process, one per episode.

``env.load`` names the environment class or a factory returning a fresh instance (called
with ``env.load_kwargs``). ``reset(row)`` resets it (``episode_id`` = the row id) and shows the
task's prompt followed by the observation; each model turn becomes one action, its
observation the next environment turn. Per-step rewards are summed; ``done`` ends the
episode with that total. The driver's turn/token limits still apply; the environment's
``close()`` runs when the driver drops the episode.
"""

from __future__ import annotations

import json
import typing
import weakref
from typing import Any

from pydantic import BaseModel, ValidationError

from rlvr.data.templates import build_messages
from rlvr.envs.adapters.common import load_target, require, reward_result
from rlvr.envs.base import StepResult
from rlvr.envs.builtin import EnvContext
from rlvr.types import RewardResult, TaskRow

BASE_FIELDS = {"done", "reward", "metadata"}
"""Fields every OpenEnv Action / Observation has; the rest is the environment's own."""


class OpenEnvEnv:
    def __init__(self, ctx: EnvContext) -> None:
        core = require("openenv.core", "openenv")
        target = load_target(str(ctx.cfg.load))
        if not callable(target) or isinstance(target, core.Environment):
            raise ValueError(f"env.load={ctx.cfg.load!r}: name an Environment class or a factory "
                             "(one fresh environment per episode; episodes run interleaved)")
        self.ctx, self.env = ctx, target(**ctx.cfg.load_kwargs)
        if not isinstance(self.env, core.Environment):
            raise ValueError(f"env.load={ctx.cfg.load!r} gave {type(self.env).__name__}, not an "
                             "openenv.core.Environment")
        self.action_cls = action_class(type(self.env), core.Action)
        weakref.finalize(self, self.env.close)  # however the episode ended (done or a limit)
        self.total, self.rewarded = 0.0, False

    def reset(self, row: TaskRow) -> list[dict]:
        obs = self.env.reset(episode_id=row.row_id)
        messages = build_messages(row, self.ctx.system_prompt, self.ctx.instruction)
        first = observation_text(obs)
        if first:
            messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{first}"}
        return messages

    def step(self, text: str) -> StepResult:
        try:
            action = parse_action(text, self.action_cls)
        except ValueError as e:
            return StepResult(f"invalid action: {e}", tool_calls=1, tool_errors=1)
        try:
            obs = self.env.step(action)
        except Exception as e:  # the user's environment failed: infra, never a silent 0
            return StepResult(done=True, reward=RewardResult.infra_error(
                f"openenv {type(self.env).__name__}.step: {type(e).__name__}: {e}"))
        if obs.reward is not None:
            self.total, self.rewarded = self.total + float(obs.reward), True
        if not obs.done:
            return StepResult(observation_text(obs), tool_calls=1)
        reward = (reward_result(self.total, {"openenv_reward": self.total}, "openenv")
                  if self.rewarded else None)  # no reward given: the task's verifier scores
        return StepResult(done=True, reward=reward, tool_calls=1)


def action_class(env_cls: type, base: type) -> type[BaseModel]:
    """The Action type of ``Environment[ActT, ObsT, StateT]`` as the class declares it."""
    for klass in env_cls.__mro__:
        for orig in getattr(klass, "__orig_bases__", ()):
            args = typing.get_args(orig)
            if args and isinstance(args[0], type) and issubclass(args[0], base):
                return args[0]
    raise ValueError(f"{env_cls.__name__}: declare its action type, e.g. "
                     f"class {env_cls.__name__}(Environment[MyAction, MyObservation, State])")


def parse_action(text: str, action_cls: type[BaseModel]) -> BaseModel:
    """The model's text as an action: a JSON object of the action's fields, or, for an action
    with one own required field, the bare text as that field."""
    own = [n for n, f in action_cls.model_fields.items()
           if n not in BASE_FIELDS and f.is_required()]
    stripped = text.strip()
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        if len(own) != 1:
            raise ValueError(f"expected a JSON object with fields {own}")
        data = {own[0]: stripped}
    try:
        return action_cls.model_validate(data)
    except ValidationError as e:
        errors = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ValueError(f"{action_cls.__name__}: {errors}") from None


def observation_text(obs: BaseModel) -> str:
    """An observation's own fields as text: one string field as is, else JSON."""
    fields = {k: v for k, v in obs.model_dump(mode="json").items() if k not in BASE_FIELDS}
    if len(fields) == 1 and isinstance(next(iter(fields.values())), str):
        return next(iter(fields.values()))
    return json.dumps(fields, ensure_ascii=False) if fields else ""
