"""Every advantage estimator against hand-computed values, with the edge cases."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr.algorithms.advantages import (ADVANTAGES, dr_grpo, pass_at_k, raw, reinforce_pp,
                                        reinforce_pp_baseline, rloo)
from rlvr.configs.algorithm import (AlgorithmConfig, DrGrpoAdvantageConfig, PassAtKAdvantageConfig,
                                    RawAdvantageConfig, ReinforcePPAdvantageConfig,
                                    ReinforcePPBaselineAdvantageConfig, RlooAdvantageConfig)


def ones(*shape):
    return torch.ones(*shape, dtype=torch.bool)


def toks(*shape):
    """One loss token per sample: token and sequence whitening then coincide."""
    return torch.ones(*shape)


def cfg_for(name: str):
    return AlgorithmConfig.model_validate({"advantage": {"name": name}}).advantage


def test_dr_grpo_subtracts_the_group_mean_only():
    # Group [1, 0, 0, 1]: mean 0.5, so A = r - 0.5 = [0.5, -0.5, -0.5, 0.5] (no std division).
    adv = dr_grpo(torch.tensor([[1.0, 0.0, 0.0, 1.0]]), ones(1, 4), toks(1, 4),
                  DrGrpoAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[0.5, -0.5, -0.5, 0.5]]))


def test_rloo_leave_one_out():
    # [1, 0, 0, 1]: for r=1 the others average (0+0+1)/3 = 1/3 -> A = 2/3; for r=0 they average
    # (1+0+1)/3 = 2/3 -> A = -2/3.
    adv = rloo(torch.tensor([[1.0, 0.0, 0.0, 1.0]]), ones(1, 4), toks(1, 4), RlooAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[2 / 3, -2 / 3, -2 / 3, 2 / 3]]))


def test_rloo_unscorable_sample_leaves_the_baseline():
    # Valid [1, 0]: A_0 = 1 - 0 = 1, A_1 = 0 - 1 = -1; the unscorable third gets 0.
    adv = rloo(torch.tensor([[1.0, 0.0, 7.0]]), torch.tensor([[True, True, False]]), toks(1, 3),
               RlooAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[1.0, -1.0, 0.0]]))


def test_reinforce_pp_sequence_whitening():
    # Batch [1, 0, 0, 0], each sample counted once: mean 0.25; unbiased var = (0.75^2 + 3 * 0.25^2)
    # / 3 = 0.75 / 3 = 0.25, std 0.5 -> A = [0.75, -0.25, -0.25, -0.25] / 0.5 = [1.5, -0.5, ...].
    # The token counts [1, 3, 0, 1] are ignored.
    adv = reinforce_pp(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), ones(2, 2),
                       torch.tensor([[1.0, 3.0], [0.0, 1.0]]),
                       ReinforcePPAdvantageConfig(whiten="sequence"))
    assert torch.allclose(adv, torch.tensor([[1.5, -0.5], [-0.5, -0.5]]), atol=1e-5)


def test_reinforce_pp_token_whitening():
    # Same rewards [1, 0, 0, 0] with token counts [1, 3, 0, 1]: 5 tokens, the third sample has
    # none and leaves the statistics (and gets 0). Token mean = 1 * 1 / 5 = 0.2; deviations 0.8,
    # -0.2, -0.2; token-weighted squares 1 * 0.64 + 3 * 0.04 + 1 * 0.04 = 0.8; unbiased over the
    # token count: var = 0.8 / (5 - 1) = 0.2, std = 0.447214 -> A = 0.8 / 0.447214 = 1.788854,
    # -0.2 / 0.447214 = -0.447214.
    adv = reinforce_pp(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), ones(2, 2),
                       torch.tensor([[1.0, 3.0], [0.0, 1.0]]), ReinforcePPAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[1.788854, -0.447214], [0.0, -0.447214]]),
                          atol=1e-5)


def test_reinforce_pp_token_whitening_skips_invalid_samples_whatever_their_count():
    # Rewards [1, 0, 5] with the third unscorable (its count 4 must not matter), counts [1, 1, 4]:
    # 2 tokens, mean 0.5, var = (0.25 + 0.25) / 1 = 0.5, std 0.707107 -> +-0.707107, 0.
    adv = reinforce_pp(torch.tensor([[1.0, 0.0, 5.0]]), torch.tensor([[True, True, False]]),
                       torch.tensor([[1.0, 1.0, 4.0]]), ReinforcePPAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[0.707107, -0.707107, 0.0]]), atol=1e-5)


def test_reinforce_pp_baseline_sequence_whitening():
    # Groups [1, 0] and [1, 1]: centred [0.5, -0.5] and [0, 0]; batch mean 0, unbiased std
    # sqrt((0.25 + 0.25) / 3) = sqrt(1/6) = 0.408248 -> A = +-0.5 / 0.408248 = +-1.224745, 0, 0.
    adv = reinforce_pp_baseline(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), ones(2, 2),
                                torch.tensor([[1.0, 3.0], [2.0, 2.0]]),
                                ReinforcePPBaselineAdvantageConfig(whiten="sequence"))
    assert torch.allclose(adv, torch.tensor([[1.224745, -1.224745], [0.0, 0.0]]), atol=1e-5)


def test_reinforce_pp_baseline_token_whitening():
    # Same groups, token counts [1, 3] and [2, 2] (8 tokens). The group mean stays per sample:
    # centred [0.5, -0.5], [0, 0]. Token mean = (1 * 0.5 - 3 * 0.5) / 8 = -0.125; deviations
    # 0.625, -0.375, 0.125, 0.125; weighted squares 0.390625 + 3 * 0.140625 + 4 * 0.015625
    # = 0.875; var = 0.875 / 7 = 0.125, std = 0.353553 -> A = 1.767767, -1.060660, 0.353553 x2.
    # The group [1, 0] no longer sums to zero: the shift is the token mean, as in verl/OpenRLHF.
    adv = reinforce_pp_baseline(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), ones(2, 2),
                                torch.tensor([[1.0, 3.0], [2.0, 2.0]]),
                                ReinforcePPBaselineAdvantageConfig())
    assert torch.allclose(adv, torch.tensor([[1.767767, -1.060660], [0.353553, 0.353553]]),
                          atol=1e-5)


@pytest.mark.parametrize("name", ["reinforce_pp", "reinforce_pp_baseline"])
def test_token_whitening_with_one_token_each_is_sequence_whitening(name):
    rewards = torch.tensor([[0.3, 1.0, 0.0], [0.9, 0.2, 0.2]])
    valid = torch.tensor([[True, True, False], [True, True, True]])
    token = ADVANTAGES[name](rewards, valid, toks(2, 3), cfg_for(name))
    sequence = ADVANTAGES[name](rewards, valid, toks(2, 3),
                                cfg_for(name).model_copy(update={"whiten": "sequence"}))
    assert torch.equal(token, sequence)


def test_pass_at_k_analytic_advantage():
    # n=4, c=1, k=2: R = 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5, s = sqrt(0.5 * 0.5) = 0.5.
    # Correct: (1 - 0.5) / 0.5 = 1. Wrong: (1 - 0.5 - C(2,1)/C(3,1)) / 0.5 = (0.5 - 2/3) / 0.5 = -1/3.
    # The group sums to 1 - 3 * 1/3 = 0.
    adv = pass_at_k(torch.tensor([[0.0, 1.0, 0.0, 0.0]]), ones(1, 4), toks(1, 4),
                    PassAtKAdvantageConfig(k=2))
    assert torch.allclose(adv, torch.tensor([[-1 / 3, 1.0, -1 / 3, -1 / 3]]), atol=1e-5)


def test_pass_at_1_equals_grpo_with_the_biased_std():
    # k=1: R = c/n = 0.5, s = 0.5; correct (0.5)/0.5 = 1, wrong (0.5 - 1)/0.5 = -1.
    adv = pass_at_k(torch.tensor([[1.0, 0.0, 0.0, 1.0]]), ones(1, 4), toks(1, 4),
                    PassAtKAdvantageConfig(k=1))
    assert torch.allclose(adv, torch.tensor([[1.0, -1.0, -1.0, 1.0]]), atol=1e-5)


def test_pass_at_k_with_k_at_least_the_group_gives_zero():
    # k' = min(8, 4) = 4: C(3,4) = 0 so R = 1 for every sample: no signal, zero advantage, no NaN.
    adv = pass_at_k(torch.tensor([[0.0, 1.0, 0.0, 0.0]]), ones(1, 4), toks(1, 4),
                    PassAtKAdvantageConfig(k=8))
    assert torch.equal(adv, torch.zeros(1, 4))


def test_raw_maps_binary_rewards_to_plus_minus_one():
    # scale * (r - baseline) = 2 * (1 - 0.5) = 1 and 2 * (0 - 0.5) = -1; invalid -> 0.
    adv = raw(torch.tensor([[1.0, 0.0, 1.0]]), torch.tensor([[True, True, False]]), toks(1, 3),
              RawAdvantageConfig(baseline=0.5, scale=2.0))
    assert torch.equal(adv, torch.tensor([[1.0, -1.0, 0.0]]))


GROUP_BASELINED = ["grpo", "dr_grpo", "rloo", "reinforce_pp_baseline", "pass_at_k", "reinforce_pp"]


@pytest.mark.parametrize("name", GROUP_BASELINED)
def test_all_equal_group_and_group_of_one_give_zero_not_nan(name):
    cfg = cfg_for(name)
    counts = torch.tensor([[2.0, 5.0, 1.0]])  # uneven token counts change no zero
    equal = ADVANTAGES[name](torch.tensor([[0.7, 0.7, 0.7]]), ones(1, 3), counts, cfg)
    single = ADVANTAGES[name](torch.tensor([[1.0]]), ones(1, 1), counts[:, :1], cfg)
    empty = ADVANTAGES[name](torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2, dtype=torch.bool),
                             counts[:, :2], cfg)
    for adv in (equal, single, empty):
        assert torch.equal(adv, torch.zeros_like(adv)), (name, adv)


@pytest.mark.parametrize("name", sorted(ADVANTAGES))
def test_estimator_is_registered_with_its_config_class(name):
    assert cfg_for(name).name == name
    assert math.isfinite(float(ADVANTAGES[name](torch.tensor([[1.0, 0.0]]), ones(1, 2),
                                                toks(1, 2), cfg_for(name)).sum()))
