"""The environment protocol (docs/environments.md).

An environment sees text, never tokens: ``reset(row)`` gives the first chat messages of an
episode, ``step(text)`` takes one model turn's text and answers with a ``StepResult``. The
driver (envs/rollout.py) owns the tokens: it samples model turns, renders each observation as
one new chat turn and appends its ids, so the trained ids are exactly the sampled ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rlvr.types import RewardResult, TaskRow

Verify = Callable[[str, TaskRow], RewardResult]
"""The task's verifier (text, row) -> RewardResult, run in the reward worker pool."""


@dataclass(frozen=True)
class StepResult:
    """The environment's answer to one model turn.

    * ``observation``: the next environment turn's text (ignored when ``done``);
    * ``reward``: the episode's reward when ``done``; None lets the reward pipeline score the
      last model turn with the task's verifier (and an infra error is an infra error);
    * ``tool_calls`` / ``tool_errors``: counted in this turn (per-episode metrics).
    """

    observation: str = ""
    done: bool = False
    reward: RewardResult | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Per-episode bounds, from ``EnvConfig``."""

    max_turns: int
    max_tool_calls: int
    max_total_tokens: int


class Env(Protocol):
    """One episode's state; the driver makes a fresh one per episode."""

    def reset(self, row: TaskRow) -> list[dict]:
        """The first chat messages (system / user) of the episode for ``row``."""
        ...

    def step(self, text: str) -> StepResult:
        """React to one model turn (its text without the end-of-turn token)."""
        ...
