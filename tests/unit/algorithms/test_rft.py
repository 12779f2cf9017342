"""RFT's advantage: 1 for a correct sample, 0 for a wrong or unscored one, no baseline."""

from __future__ import annotations

import pytest
import torch

from rlvr.algorithms import LossInputs, build_algorithm
from rlvr.algorithms.advantages import rft
from rlvr.algorithms.aggregation import BatchNorm
from rlvr.config import load_config
from rlvr.configs.algorithm import RftAdvantageConfig


def test_correct_samples_get_one_the_others_zero():
    rewards_BG = torch.tensor([[1.0, 0.0, 1.0], [0.5, 0.9, 0.2]])
    valid_BG = torch.tensor([[True, True, False], [True, True, True]])
    adv_BG = rft(rewards_BG, valid_BG, torch.ones(2, 3), RftAdvantageConfig())
    # the unscored 1.0 is not kept; no group is centred (an all-correct group keeps all)
    assert torch.equal(adv_BG, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    looser = rft(rewards_BG, valid_BG, torch.ones(2, 3), RftAdvantageConfig(correct_at=0.5))
    assert torch.equal(looser, torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))


def test_rft_preset_loss_is_the_token_mean_nll_of_the_kept_samples():
    cfg = load_config(None, ["algorithm=rft", "algorithm.offpolicy=null"]).algorithm
    algo = build_algorithm(cfg)
    rewards_BG = torch.tensor([[1.0, 0.0]])
    adv_N = algo.sample_advantages(rewards_BG, torch.ones(1, 2, dtype=torch.bool),
                                   torch.ones(1, 2))
    logp_NT = torch.tensor([[-1.0, -3.0], [-2.0, -2.0]])
    mask_NT = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    loss_NT, _ = algo.token_loss(LossInputs(logp_NT, logp_NT, adv_N, mask_NT))
    # kept sample: 1 + 3; the rejected one adds 0 but its token still counts: 4 / 3 tokens
    loss = algo.aggregate(loss_NT, mask_NT, BatchNorm.of(mask_NT, 2))
    assert float(loss) == pytest.approx(4.0 / 3)
