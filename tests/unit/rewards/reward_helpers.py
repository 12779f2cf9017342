"""Verifiers for the pool and pipeline tests. They live in a module (not in a test) so that the
worker processes can import them by name, as they import any user verifier."""

from __future__ import annotations

import os
import time

from rlvr.types import RewardResult, TaskRow


def sleepy(completion: str, row: TaskRow) -> RewardResult:
    """Hangs when asked to (a stand-in for sympy stuck on a huge power)."""
    if completion == "hang":
        time.sleep(600)
    return RewardResult.scored(1.0, "ok")


def spin(completion: str, row: TaskRow) -> RewardResult:
    """Busy-loops while holding the GIL, like sympy's Integer._eval_power."""
    if completion == "hang":
        while True:
            pass
    return RewardResult.scored(1.0, "ok")


def crashy(completion: str, row: TaskRow) -> RewardResult:
    if completion == "crash":
        os._exit(3)
    return RewardResult.scored(1.0, "ok")


def raises_sometimes(completion: str, row: TaskRow) -> RewardResult:
    if "boom" in completion:
        raise RuntimeError("verifier bug")
    return RewardResult.scored(float(completion.strip() == row.reference), "checked")


def greedy(completion: str, row: TaskRow) -> RewardResult:
    if completion == "eat":
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))
    return RewardResult.scored(1.0, "ok")


def not_a_result(completion: str, row: TaskRow):
    return 1.0


def politeness(completion: str, row: TaskRow) -> RewardResult:
    """The docs example of a user reward: 1 when the completion says please."""
    return RewardResult.scored(float("please" in completion.lower()), "polite")


def slow_once(completion: str, row: TaskRow) -> RewardResult:
    """Hangs on its first call for a marker file (``completion`` is its path), answers at once on
    the next: a verifier whose slowness was the machine's, not the answer's."""
    if not os.path.exists(completion):
        open(completion, "w").close()
        time.sleep(600)
    return RewardResult.scored(1.0, "ok")
