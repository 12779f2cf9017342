"""Reward functions for the fault tests: a smooth toy reward (so a random tiny model gets
non-zero advantages and its weights really move) and broken ones (F10 / F11)."""

from __future__ import annotations

from rlvr.types import RewardResult, TaskRow


def digits(completion: str, row: TaskRow) -> RewardResult:
    """Share of digit characters in the completion: varies across samples of a group."""
    return RewardResult.scored(sum(c.isdigit() for c in completion) / max(len(completion), 1))


def infinite(completion: str, row: TaskRow) -> RewardResult:
    """inf for every completion of rows marked 'inf', else the toy reward."""
    return RewardResult.scored(float("inf")) if "inf" in row.prompt else digits(completion, row)


WEIRD = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "huge": 1e30}


def weird(completion: str, row: TaskRow):
    """F11 / F12: a different malformed return per completion (the completion names it)."""
    kind = completion
    if kind in WEIRD:
        return RewardResult.scored(WEIRD[kind])
    if kind == "none":
        return None
    if kind == "string":
        return "1.0"
    if kind == "list":
        return [1.0, 0.0]
    if kind == "raise":
        raise RuntimeError("verifier bug")
    return digits(completion, row)
