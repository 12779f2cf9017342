"""Properties over every registry entry: finite loss on random inputs, zero gradient on masked
tokens, aggregation unchanged by extra padding, group advantages that sum to zero."""

from __future__ import annotations

import pytest
import torch

from rlvr.algorithms import LossInputs, build_algorithm
from rlvr.algorithms.advantages import ADVANTAGES
from rlvr.algorithms.aggregation import AGGREGATIONS, BatchNorm
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.algorithms.objectives import OBJECTIVES

SEEDS = [0, 1, 2]
# reinforce_pp_baseline is zero-sum only with sequence whitening (the token mean shifts it).
ZERO_SUM_PER_GROUP = {"grpo", "dr_grpo", "rloo", "pass_at_k"}
EVERYTHING_ON = {"kl": {"estimator": "k3", "coef": 0.1}, "entropy": {"coef": 0.01},
                 "token_select": {"top": 0.5}, "sample_weights": {"positive": 0.5},
                 "offpolicy": {"level": "sequence", "mode": "truncate"}}


def random_inputs(seed: int, N: int = 6, T: int = 5):
    g = torch.Generator().manual_seed(seed)
    logp = (-3 * torch.rand(N, T, generator=g)).requires_grad_(True)
    mask = (torch.rand(N, T, generator=g) > 0.3).float()
    mask[0] = 0.0  # a fully masked row
    old = logp.detach() + 0.5 * torch.randn(N, T, generator=g)  # ratios well outside the clip
    return logp, LossInputs(
        logp, old, torch.randn(N, generator=g), mask,
        sampler_logprobs_NT=old + 0.1 * torch.randn(N, T, generator=g),
        ref_logprobs_NT=logp.detach() + 0.3 * torch.randn(N, T, generator=g),
        entropy_NT=(2 * torch.rand(N, T, generator=g)).requires_grad_(True),
        select_NT=(torch.rand(N, T, generator=g) > 0.5).float() * mask)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(ADVANTAGES))
def test_advantages_finite_masked_zero_and_centred(name, seed):
    rewards, valid, tokens = random_groups(seed)
    cfg = AlgorithmConfig.model_validate({"advantage": {"name": name}}).advantage
    adv = ADVANTAGES[name](rewards, valid, tokens, cfg)
    assert adv.isfinite().all() and (adv[~valid] == 0).all()
    if name in ZERO_SUM_PER_GROUP:
        assert torch.allclose(adv.sum(1), torch.zeros(4), atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("whiten", ["token", "sequence"])
@pytest.mark.parametrize("name", ["reinforce_pp", "reinforce_pp_baseline"])
def test_batch_whitening_gives_zero_mean_unit_std_in_its_unit(name, whiten, seed):
    """Counted once per token (or per valid sample), the whitened batch has mean 0 and unbiased
    std 1 (up to eps); with sequence whitening the baseline's groups still sum to zero."""
    rewards, valid, tokens = random_groups(seed)
    cfg = AlgorithmConfig.model_validate({"advantage": {"name": name, "whiten": whiten}}).advantage
    adv = ADVANTAGES[name](rewards, valid, tokens, cfg)
    w = tokens * valid if whiten == "token" else valid.float()
    mean = (w * adv).sum() / w.sum()
    std = ((w * (adv - mean) ** 2).sum() / (w.sum() - 1)).sqrt()
    assert abs(float(mean)) < 1e-5 and abs(float(std) - 1) < 1e-4
    if name == "reinforce_pp_baseline" and whiten == "sequence":
        assert torch.allclose(adv.sum(1), torch.zeros(4), atol=1e-5)


def random_groups(seed: int):
    """rewards_BG, valid_BG and tokens_BG (0 to 6 loss tokens per sample) for 4 groups of 5."""
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randint(0, 2, (4, 5), generator=g).float() + 0.1 * torch.rand(4, 5, generator=g)
    valid = torch.rand(4, 5, generator=g) > 0.2
    tokens = torch.randint(0, 7, (4, 5), generator=g).float()
    return rewards, valid, tokens


@pytest.mark.parametrize("extras", [{}, EVERYTHING_ON], ids=["plain", "all_axes"])
@pytest.mark.parametrize("aggregation", sorted(AGGREGATIONS))
@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_loss_finite_and_masked_tokens_get_no_gradient(objective, aggregation, extras):
    algo = build_algorithm(AlgorithmConfig.model_validate(
        {"objective": {"name": objective}, "aggregation": aggregation, **extras}))
    for seed in SEEDS:
        logp, inp = random_inputs(seed)
        if not extras:
            inp = LossInputs(inp.logprobs_NT, inp.old_logprobs_NT, inp.advantages_N, inp.mask_NT)
        loss_NT, stats = algo.token_loss(inp)
        loss = algo.aggregate(loss_NT, inp.mask_NT, BatchNorm.of(inp.mask_NT, 8))
        loss.backward()
        assert loss.isfinite() and logp.grad.isfinite().all()
        assert (logp.grad[inp.mask_NT == 0] == 0).all()
        assert all(v.isfinite().all() for v in stats.values())


@pytest.mark.parametrize("aggregation", sorted(AGGREGATIONS))
def test_aggregation_unchanged_by_extra_padding(aggregation):
    g = torch.Generator().manual_seed(0)
    loss, mask = torch.randn(4, 5, generator=g), (torch.rand(4, 5, generator=g) > 0.3).float()
    padded_loss = torch.cat([loss, 100 * torch.randn(4, 7, generator=g)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(4, 7)], dim=1)
    agg = AGGREGATIONS[aggregation]
    a = agg(loss, mask, BatchNorm.of(mask, 16))
    b = agg(padded_loss, padded_mask, BatchNorm.of(padded_mask, 16))
    assert torch.allclose(a, b, rtol=1e-6, atol=1e-7)
