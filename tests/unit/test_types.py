"""The one definition of "correct" (rlvr.types.is_correct), on hand-picked golden cases."""

import pytest

from rlvr.types import CORRECT_AT, RewardResult, is_correct


@pytest.mark.parametrize("reward, expected", [
    (1.0, True), (0.999, False), (1.5, True), (0, False), (None, False),
    (RewardResult.scored(1.0, task=1.0), True),
    (RewardResult.scored(0.0, task=0.0), False),
    # format shaping pushes a wrong answer to 1.1, an overlong penalty a right one to 0.5:
    # the task component decides, not the shaped sum
    (RewardResult.scored(1.1, task=0.0, format=1.0), False),
    (RewardResult.scored(0.5, task=1.0, overlong=-0.5), True),
    (RewardResult.scored(0.2, judge=1.0), True),  # the judge term when there is no task term
    (RewardResult.scored(1.0, politeness=1.0), True),  # no correctness component: the score
    (RewardResult.scored(0.9), False),
    (RewardResult.unscorable("broken row"), False),
    (RewardResult.infra_error("worker died"), False),
])
def test_is_correct_golden(reward, expected):
    assert is_correct(reward) is expected


def test_threshold():
    assert CORRECT_AT == 1.0
    assert is_correct(0.5, at=0.5) and not is_correct(0.49, at=0.5)
    assert is_correct(RewardResult.scored(0.7, task=0.7), at=0.6)
