"""A user verifier for the integration test: it raises on rows marked flaky (a verifier bug or a
dead service), and otherwise checks the last number like a math verifier would."""

from __future__ import annotations

from rlvr.rewards.math import MathVerifier
from rlvr.types import RewardResult, TaskRow


def flaky(completion: str, row: TaskRow) -> RewardResult:
    if "flaky" in row.prompt:
        raise ConnectionError("grading service unreachable")
    return MathVerifier()(completion, row)
