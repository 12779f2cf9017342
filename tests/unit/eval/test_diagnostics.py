"""Training diagnostics on hand-built groups and tensors."""

import math

import pytest
import torch

from rlvr.eval.diagnostics import (EXPECTED_DIAGNOSTICS, clip_fractions, logprob_gap,
                                   missing_diagnostics, rollout_diagnostics, token_entropy,
                                   zero_variance_share)
from rlvr.types import Group, RewardResult, Sample, TaskRow

ROW = TaskRow("r", "q", "1")


def sample(reward, length=3, finish="stop"):
    return Sample(ROW, [0], list(range(length)), [0.0] * length, finish, "t", reward)


def test_rollout_diagnostics_by_hand():
    flat = Group(ROW, [sample(RewardResult.scored(1.0, fmt=1.0)),
                       sample(RewardResult.scored(1.0, fmt=1.0))])
    mixed = Group(ROW, [sample(RewardResult.scored(0.0, fmt=0.0), length=5, finish="length"),
                        sample(RewardResult.unscorable("broken"), length=1)])
    out = rollout_diagnostics([flat, mixed])
    assert out["reward/mean"] == pytest.approx(2 / 3)
    assert out["accuracy"] == pytest.approx(2 / 3)
    assert out["reward/fmt"] == pytest.approx(2 / 3)
    assert out["length/mean"] == pytest.approx(3.0) and out["length/max"] == 5
    assert out["length/truncated_share"] == pytest.approx(0.25)
    assert out["reward/unscorable_share"] == pytest.approx(0.25)
    assert out["groups/zero_variance_share"] == 1.0  # the second group has one score only
    assert zero_variance_share([mixed, Group(ROW, [sample(RewardResult.scored(0.0)),
                                                   sample(RewardResult.scored(1.0))])]) == 0.5


def test_clip_fractions_by_hand():
    ratio = torch.tensor([[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]])
    adv = torch.tensor([-1.0, 1.0])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    out = clip_fractions(ratio, adv, mask, eps_low=0.2, eps_high=0.28)
    assert out["clip/low_frac"] == pytest.approx(1 / 5)  # row 0, token 0
    assert out["clip/high_frac"] == pytest.approx(0.0)  # row 1 token 2 is masked


def test_logprob_gap_by_hand():
    trainer = torch.tensor([[math.log(0.5), math.log(0.25)]])
    sampler = torch.tensor([[math.log(0.5), math.log(0.5)]])
    out = logprob_gap(trainer, sampler, torch.ones(1, 2))
    d = math.log(0.5)
    assert out["logprob_gap/mean_abs"] == pytest.approx(abs(d) / 2)
    assert out["logprob_gap/max_abs"] == pytest.approx(abs(d))
    assert out["logprob_gap/kl_k3"] == pytest.approx((math.exp(d) - 1 - d) / 2)


def test_token_entropy_uniform_and_peaked():
    logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]]])
    assert token_entropy(logits, torch.tensor([[1.0, 0.0]])) == pytest.approx(math.log(4))
    assert token_entropy(logits, torch.tensor([[0.0, 1.0]])) == pytest.approx(0.0, abs=1e-6)


def test_missing_diagnostics():
    keys = ["reward/mean", "reward/format", "accuracy", "entropy", "time/rollout"]
    missing = missing_diagnostics(keys)
    assert "reward" not in missing and "reward components" not in missing
    assert "time: update" in missing and "gradient norm" in missing
    assert missing_diagnostics([]) == list(EXPECTED_DIAGNOSTICS)
