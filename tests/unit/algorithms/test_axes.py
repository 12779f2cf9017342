"""KL estimators, entropy coefficient, token selection, sample weights, off-policy weights and the
group filter against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr.configs.algorithm_extras import (EntropyBonusConfig, GroupFilterConfig, KlPenaltyConfig,
                                           OffPolicyCorrectionConfig, SampleWeightsConfig, TokenSelectConfig)
from rlvr.algorithms.entropy import EntropyCoef
from rlvr.algorithms.group_filter import fill_groups, zero_variance
from rlvr.algorithms.kl import k1, k2, k3, kl_in_reward_N
from rlvr.algorithms.offpolicy import mask, truncate
from rlvr.algorithms.token_select import top_entropy
from rlvr.algorithms.weighting import mask_truncated, sign_weights
from rlvr.types import Group, RewardResult, Sample, TaskRow

LN2 = math.log(2)


def test_kl_estimators():
    # pi = 0.5, ref = 0.25: k1 = ln(0.5/0.25) = ln 2 = 0.693147; k2 = (ln 2)^2 / 2 = 0.240227;
    # k3 with x = ln(ref/pi) = -ln 2: e^x - x - 1 = 0.5 + 0.693147 - 1 = 0.193147.
    logp, ref = torch.log(torch.tensor([0.5])), torch.log(torch.tensor([0.25]))
    assert k1(logp, ref).item() == pytest.approx(LN2)
    assert k2(logp, ref).item() == pytest.approx(LN2 ** 2 / 2)
    assert k3(logp, ref).item() == pytest.approx(0.5 + LN2 - 1)


def test_k3_is_zero_at_equal_policies_and_finite_far_apart():
    logp = torch.tensor([-1.0, -80.0])
    assert k3(logp, torch.tensor([-1.0, 0.0])).isfinite().all()
    assert k3(logp[:1], logp[:1]).item() == 0.0


def test_kl_in_reward_sums_the_valid_tokens():
    # k1 per token [ln 2, ln 2, (masked)] -> sequence KL 2 ln 2 = 1.386294.
    sampler = torch.log(torch.tensor([[0.5, 0.5, 0.9]]))
    ref = torch.log(torch.tensor([[0.25, 0.25, 0.1]]))
    kl = kl_in_reward_N(sampler, ref, torch.tensor([[1.0, 1.0, 0.0]]), KlPenaltyConfig(estimator="k1"))
    assert kl.item() == pytest.approx(2 * LN2)


def test_entropy_coef_fixed_and_adaptive():
    fixed = EntropyCoef(EntropyBonusConfig(coef=0.003))
    fixed.observe(0.1)
    assert fixed.value == 0.003
    # target 1.0, step 5e-4, max 2e-3: below target twice -> 1.5e-3, 2e-3; capped at 2e-3;
    # above target -> 1.5e-3; four more times above -> floored at 0.
    adaptive = EntropyCoef(EntropyBonusConfig(coef=0.001, target=1.0, step=0.0005, max_coef=0.002))
    seen = []
    for entropy in (0.5, 0.5, 0.5, 2.0, 2.0, 2.0, 2.0, 2.0):
        adaptive.observe(entropy)
        seen.append(round(adaptive.value, 6))
    assert seen == [0.0015, 0.002, 0.002, 0.0015, 0.001, 0.0005, 0.0, 0.0]


def test_top_entropy_selects_over_the_whole_batch():
    # 5 valid tokens, top 0.4 -> ceil(2) = 2 kept: entropies 0.9 and 0.7. The masked 5.0 is never
    # selected.
    entropy = torch.tensor([[0.1, 0.9, 0.5], [0.7, 0.3, 5.0]])
    valid = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    keep = top_entropy(entropy, valid, TokenSelectConfig(top=0.4))
    assert keep.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert top_entropy(entropy, torch.zeros(2, 3), TokenSelectConfig()).sum() == 0


def test_sign_weights_psr_nsr():
    # W-REINFORCE weights: 2 * 0.1 = 0.2; -1 * 1 = -1; 0 stays 0.
    adv = torch.tensor([2.0, -1.0, 0.0])
    assert torch.allclose(sign_weights(adv, SampleWeightsConfig(positive=0.1)), torch.tensor([0.2, -1.0, 0.0]))
    assert sign_weights(adv, SampleWeightsConfig(positive=0.0)).tolist() == [0.0, -1.0, 0.0]  # NSR
    assert sign_weights(adv, SampleWeightsConfig(negative=0.0)).tolist() == [2.0, 0.0, 0.0]  # PSR


def test_mask_truncated():
    out = mask_truncated(torch.ones(2, 2), torch.tensor([True, False]))
    assert out.tolist() == [[0.0, 0.0], [1.0, 1.0]]


OLD = torch.log(torch.tensor([[3.0, 0.5, 1.0]]))  # trainer / sampler ratios 3, 0.5 (sampler = 0)
SAMPLER = torch.zeros(1, 3)
VALID = torch.tensor([[1.0, 1.0, 0.0]])


def test_truncated_importance_weights_token_and_sequence():
    # Token: min(3, 2) = 2 (capped), min(0.5, 2) = 0.5; the masked token's log-weight is 0 -> 1.
    w, stats = truncate(OLD, SAMPLER, VALID, OffPolicyCorrectionConfig(cap=2.0))
    assert torch.allclose(w, torch.tensor([[2.0, 0.5, 1.0]]))
    assert stats["is_capped"].tolist() == [[1.0, 0.0, 0.0]]
    # Sequence: product of valid token ratios 3 * 0.5 = 1.5 < 2, for every token of the row.
    w, _ = truncate(OLD, SAMPLER, VALID, OffPolicyCorrectionConfig(level="sequence", cap=2.0))
    assert torch.allclose(w, torch.full((1, 3), 1.5))


def test_masked_importance_weights():
    # Token, cap 2: ratio 3 is outside [0.5, 2] -> 0; ratio 0.6 inside -> 1.
    old = torch.log(torch.tensor([[3.0, 0.6, 1.0]]))
    w, stats = mask(old, SAMPLER, VALID, OffPolicyCorrectionConfig(mode="mask", cap=2.0))
    assert w.tolist() == [[0.0, 1.0, 1.0]]
    # Sequence: 3 * 0.6 = 1.8 inside the band -> the whole row is kept.
    w, _ = mask(old, SAMPLER, VALID, OffPolicyCorrectionConfig(mode="mask", level="sequence", cap=2.0))
    assert w.tolist() == [[1.0, 1.0, 1.0]]


def test_zero_variance_uses_a_threshold_and_ignores_unscorable():
    # Group 2 differs by 1e-9 (float noise) -> dropped; group 3's only differing sample is
    # unscorable -> its valid rewards are equal -> dropped.
    rewards = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.5, 0.5 + 1e-9, 0.5], [1.0, 0.0, 1.0]])
    valid = torch.ones(4, 3, dtype=torch.bool)
    valid[3, 1] = False
    assert zero_variance(rewards, valid, GroupFilterConfig()).tolist() == [False, True, False, False]


def group(*scores: float) -> Group:
    row = TaskRow("r", "p", "1")
    return Group(row, [Sample(row, [1], [2], [0.0], "stop", "x", RewardResult.scored(s))
                       for s in scores])


def test_fill_groups_resamples_until_full():
    # Round 1: one of two groups has signal; round 2 brings one more -> full after 2 rounds;
    # 1 of 3 sampled groups dropped.
    first = [group(0, 0), group(1, 0)]
    out, m = fill_groups(first, GroupFilterConfig(max_rounds=3), lambda n: [group(0, 1)] * n)
    assert len(out) == 2 and m == {"groups/dropped_share": pytest.approx(1 / 3),
                                   "groups/filter_rounds": 2.0, "groups/batch_fill": 1.0}


def test_fill_groups_stops_at_the_round_bound():
    # Only dead groups come back: 3 rounds, 1 kept of 2 + 1 + 1 = 4 sampled; the batch is half full.
    out, m = fill_groups([group(0, 0), group(1, 0)], GroupFilterConfig(max_rounds=3),
                         lambda n: [group(1, 1)] * n)
    assert len(out) == 1 and m["groups/filter_rounds"] == 3.0 and m["groups/batch_fill"] == 0.5
    assert m["groups/dropped_share"] == pytest.approx(3 / 4)
    # Nothing survives at all: the last round's groups are used (zero advantages).
    out, _ = fill_groups([group(0, 0)], GroupFilterConfig(max_rounds=2), lambda n: [group(1, 1)] * n)
    assert len(out) == 1


def test_fill_groups_off_is_identity():
    groups = [group(0, 0)]
    assert fill_groups(groups, None, lambda n: []) == (groups, {})
