"""Training diagnostics: the zero-variance share on hand-built groups, and the checklist."""

from rlvr.eval.diagnostics import (
    EXPECTED_DIAGNOSTICS,
    diagnostic_keys,
    missing_diagnostics,
    zero_variance_share,
)
from rlvr.types import Group, RewardResult, Sample, TaskRow

ROW = TaskRow("r", "q", "1")


def sample(reward, length=3, finish="stop"):
    return Sample(ROW, [0], list(range(length)), [0.0] * length, finish, "t", reward)


def test_zero_variance_share_by_hand():
    flat = Group(ROW, [sample(RewardResult.scored(1.0)), sample(RewardResult.scored(1.0))])
    one_score = Group(ROW, [sample(RewardResult.scored(0.0)),
                            sample(RewardResult.unscorable("broken"))])
    varied = Group(ROW, [sample(RewardResult.scored(0.0)), sample(RewardResult.scored(1.0))])
    assert zero_variance_share([flat, one_score]) == 1.0  # the second group has one score only
    assert zero_variance_share([one_score, varied]) == 0.5
    assert zero_variance_share([]) == 0.0


def test_missing_diagnostics():
    keys = ["reward/mean", "reward/format", "accuracy", "entropy", "time/rollout"]
    missing = missing_diagnostics(keys)
    assert "reward" not in missing and "reward components" not in missing
    assert "time: update" in missing and "gradient norm" in missing
    assert "token entropy" in missing  # the trainer logs update/entropy, not entropy
    assert missing_diagnostics([]) == list(EXPECTED_DIAGNOSTICS)


def test_diagnostic_keys_are_exact():
    found = diagnostic_keys(["reward/mean", "reward/format", "reward/task", "reward_pool/crashes_total",
                             "update/kl", "kl/reward_kl_mean", "update/kl_coef"])
    assert found["reward"] == ["reward/mean"]
    assert found["reward components"] == ["reward/format", "reward/task"]
    assert found["KL to reference"] == ["kl/reward_kl_mean", "update/kl"]
    assert found["gradient norm"] == []
