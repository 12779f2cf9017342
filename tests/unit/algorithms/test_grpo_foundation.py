"""GRPO advantage, PPO-clip loss and token-mean aggregation against hand-computed values."""

from __future__ import annotations

import math

import torch

from rlvr.algorithms.advantages import grpo
from rlvr.algorithms.aggregation import BatchNorm, token_mean
from rlvr.configs.algorithm import GrpoAdvantageConfig, PpoClipObjectiveConfig
from rlvr.algorithms.objectives import LossInputs, ppo_clip


def test_grpo_advantage_hand_computed():
    # Group [1, 0, 0, 1]: mean 0.5; unbiased std = sqrt((4 * 0.25) / 3) = sqrt(1/3) = 0.57735.
    # A = (r - 0.5) / 0.57735 = +-0.866025 (eps 1e-6 is negligible here).
    rewards_BG = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    adv = grpo(rewards_BG, torch.ones(1, 4, dtype=torch.bool),
               torch.ones(1, 4), GrpoAdvantageConfig())
    expected = 0.5 / math.sqrt(1 / 3)
    assert torch.allclose(adv, torch.tensor([[expected, -expected, -expected, expected]]), atol=1e-5)


def test_grpo_biased_std():
    # Biased std of [1, 0]: sqrt(((0.5)^2 + (0.5)^2) / 2) = 0.5, so A = +-1.
    adv = grpo(torch.tensor([[1.0, 0.0]]), torch.ones(1, 2, dtype=torch.bool),
               torch.ones(1, 2), GrpoAdvantageConfig(std="biased"))
    assert torch.allclose(adv, torch.tensor([[1.0, -1.0]]), atol=1e-5)


def test_grpo_all_equal_and_group_of_one_give_zero_not_nan():
    equal = grpo(torch.tensor([[0.7, 0.7, 0.7]]), torch.ones(1, 3, dtype=torch.bool),
                 torch.ones(1, 3), GrpoAdvantageConfig())
    single = grpo(torch.tensor([[1.0]]), torch.ones(1, 1, dtype=torch.bool),
                  torch.ones(1, 1), GrpoAdvantageConfig())
    assert torch.equal(equal, torch.zeros(1, 3)) and torch.equal(single, torch.zeros(1, 1))


def test_grpo_unscorable_samples_leave_the_baseline():
    # Valid rewards [1, 0] (the third is unscorable): mean 0.5, unbiased std sqrt(0.5) = 0.7071.
    # A = +-0.5 / 0.7071 = +-0.7071; the unscorable sample gets exactly 0.
    valid = torch.tensor([[True, True, False]])
    adv = grpo(torch.tensor([[1.0, 0.0, 123.0]]), valid, torch.ones(1, 3), GrpoAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[0.70711, -0.70711, 0.0]]), atol=1e-4)


def test_ppo_clip_hand_computed():
    # Token ratios exp(logp - old): [1.5, 0.5, 1.1, 0.7]; advantages +1 (row 0), -1 (row 1).
    # Row 0 (A=+1): min(1.5, clip 1.2) = 1.2 -> loss -1.2 (clipped high); min(0.5, 0.8) = 0.5 -> -0.5.
    # Row 1 (A=-1): min(-1.1, -1.1) = -1.1 -> loss 1.1; min(-0.7, -0.8) = -0.8 -> 0.8 (clipped low).
    old = torch.zeros(2, 2)
    logp = torch.log(torch.tensor([[1.5, 0.5], [1.1, 0.7]]))
    inp = LossInputs(logprobs_NT=logp, old_logprobs_NT=old, advantages_N=torch.tensor([1.0, -1.0]),
                     mask_NT=torch.ones(2, 2))
    loss, stats = ppo_clip(inp, PpoClipObjectiveConfig())
    assert torch.allclose(loss, torch.tensor([[-1.2, -0.5], [1.1, 0.8]]), atol=1e-6)
    assert stats["clip_frac_high"].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert stats["clip_frac_low"].tolist() == [[0.0, 0.0], [0.0, 1.0]]


def test_ppo_clip_gradient_at_ratio_one_is_minus_advantage():
    # On-policy (ratio 1) d loss / d logp = -A for every token.
    logp = torch.zeros(1, 3, requires_grad=True)
    inp = LossInputs(logp, logp.detach(), torch.tensor([2.0]), torch.ones(1, 3))
    loss, _ = ppo_clip(inp, PpoClipObjectiveConfig())
    loss.sum().backward()
    assert torch.allclose(logp.grad, torch.full((1, 3), -2.0))


def test_token_mean_uses_the_global_token_count():
    # Tokens (masked): [1, 2, -] and [3, -, -]; the optimizer batch holds 6 valid tokens in all.
    loss = torch.tensor([[1.0, 2.0, 9.0], [3.0, 9.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    out = token_mean(loss, mask, BatchNorm(num_tokens=6, num_sequences=4, max_completion_len=3))
    assert out.item() == (1 + 2 + 3) / 6
