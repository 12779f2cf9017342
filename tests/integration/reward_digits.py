"""A dense user reward for the preset smoke runs: the share of digits in the completion, so a
random tiny model's groups have reward variance and every variant has a signal to act on."""

from __future__ import annotations

from rlvr.types import RewardResult, TaskRow


def digit_share(completion: str, row: TaskRow) -> RewardResult:
    return RewardResult.scored(sum(c.isdigit() for c in completion) / max(len(completion), 1))
