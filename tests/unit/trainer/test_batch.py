"""The advantage stage hands each sample's loss-token count to the estimator."""

from __future__ import annotations

import torch

from rlvr.algorithms import build_algorithm
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.trainer.batch import build_train_batch
from rlvr.types import Group, RewardResult, Sample, TaskRow


def groups_of(lengths_BG, rewards_BG, finish="stop") -> list[Group]:
    row = TaskRow("r", "p", "1")
    return [Group(row, [Sample(row, [5, 6], [7] * t, [-1.0] * t, finish, "x", RewardResult(r))
                        for t, r in zip(lengths, rewards)])
            for lengths, rewards in zip(lengths_BG, rewards_BG)]


def test_token_whitening_counts_the_completion_tokens():
    # Completion lengths [1, 3], [2, 2] and rewards [1, 0], [1, 1]: the hand computation of
    # test_reinforce_pp_baseline_token_whitening (tests/unit/algorithms/test_advantages.py):
    # token mean -0.125, std sqrt(0.875 / 7) = 0.353553 -> 1.767767, -1.060660, 0.353553 x2.
    algo = build_algorithm(AlgorithmConfig.model_validate(
        {"advantage": {"name": "reinforce_pp_baseline"}}))
    batch, _ = build_train_batch(groups_of([[1, 3], [2, 2]], [[1.0, 0.0], [1.0, 1.0]]), algo, 0)
    assert torch.allclose(batch.advantages_N,
                          torch.tensor([1.767767, -1.060660, 0.353553, 0.353553]), atol=1e-5)


def test_masked_truncated_samples_have_no_tokens_in_the_statistics():
    # mask_truncated removes every token of a 'length' sample, so with token whitening the
    # batch [1, 0] of lengths [2, 2] is whitened alone: mean 0.5, var (2 * 0.25 + 2 * 0.25)
    # / 3 = 1/3, std 0.577350 -> +-0.866025; the truncated group [1, 1] gets 0.
    algo = build_algorithm(AlgorithmConfig.model_validate(
        {"advantage": {"name": "reinforce_pp"}, "mask_truncated": True}))
    groups = groups_of([[2, 2]], [[1.0, 0.0]]) + groups_of([[3, 3]], [[1.0, 1.0]], "length")
    batch, _ = build_train_batch(groups, algo, 0)
    assert torch.allclose(batch.advantages_N, torch.tensor([0.866025, -0.866025, 0.0, 0.0]),
                          atol=1e-5)
