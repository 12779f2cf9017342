"""On-policy distillation's per-token advantage against hand-computed values, the objectives
with a per-token advantage, and the Algorithm member that joins them."""

from __future__ import annotations

import pytest
import torch

from rlvr.algorithms import LossInputs, build_algorithm
from rlvr.algorithms.distill import distill_advantages, reverse_kl_NT
from rlvr.algorithms.objectives import ppo_clip, reinforce
from rlvr.configs.algorithm import (AlgorithmConfig, PpoClipObjectiveConfig,
                                    ReinforceObjectiveConfig)
from rlvr.configs.distill import DistillConfig

OLD_NT = torch.tensor([[-1.0, -2.0, -0.5], [-0.25, -3.0, -1.0]])
TEACHER_NT = torch.tensor([[-1.5, -1.0, -3.0], [-0.25, -2.0, -9.0]])
MASK_NT = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])


def test_reverse_kl_per_token_is_student_minus_teacher_on_the_mask():
    # row 0: -1 - (-1.5) = 0.5, -2 - (-1) = -1, padding -> 0; row 1: 0, -1, -1 - (-9) = 8
    kl_NT = reverse_kl_NT(OLD_NT, TEACHER_NT, MASK_NT)
    assert kl_NT.tolist() == [[0.5, -1.0, 0.0], [0.0, -1.0, 8.0]]


def test_mode_only_ignores_the_rl_advantage():
    cfg = DistillConfig(teacher="t", mode="only", coef=2.0)
    adv_NT, stats = distill_advantages(torch.tensor([5.0, -5.0]), OLD_NT, TEACHER_NT, MASK_NT,
                                       cfg)
    # -2 * kl: [-1, 2, 0], [0, 2, -16]
    assert adv_NT.tolist() == [[-1.0, 2.0, 0.0], [0.0, 2.0, -16.0]]
    assert stats["distill/reverse_kl"].tolist() == [[0.5, -1.0, 0.0], [0.0, -1.0, 8.0]]
    assert torch.equal(stats["distill/teacher_logprob"], TEACHER_NT)


def test_mode_add_puts_the_rl_advantage_on_every_token():
    cfg = DistillConfig(teacher="t", mode="add", coef=0.5)
    adv_NT, _ = distill_advantages(torch.tensor([0.25, -1.0]), OLD_NT, TEACHER_NT, MASK_NT, cfg)
    # 0.25 + -0.5 * [0.5, -1, 0] = [0, 0.75, 0.25]; -1 + -0.5 * [0, -1, 8] = [-1, -0.5, -5]
    assert adv_NT.tolist() == [[0.0, 0.75, 0.25], [-1.0, -0.5, -5.0]]


def test_identical_student_and_teacher_give_zero_kl_and_zero_advantage():
    adv_NT, stats = distill_advantages(torch.tensor([1.0, 2.0]), OLD_NT, OLD_NT.clone(), MASK_NT,
                                       DistillConfig(teacher="t", mode="only"))
    assert torch.count_nonzero(stats["distill/reverse_kl"]) == 0
    assert torch.count_nonzero(adv_NT) == 0


def test_ppo_clip_with_per_token_advantages():
    # ratios 1.5 on both tokens (old = 0); A = [+1, -1] per token:
    # token 0: -min(1.5, 1.2) = -1.2 (clipped high); token 1: -min(-1.5, -1.2) = 1.5.
    logp = torch.log(torch.tensor([[1.5, 1.5]])).requires_grad_(True)
    inp = LossInputs(logp, torch.zeros_like(logp), torch.tensor([[1.0, -1.0]]),
                     torch.ones_like(logp))
    loss_NT, stats = ppo_clip(inp, PpoClipObjectiveConfig())
    assert torch.allclose(loss_NT, torch.tensor([[-1.2, 1.5]]))
    assert stats["clip_frac_high"].tolist() == [[1.0, 0.0]]
    loss_NT.sum().backward()
    assert torch.allclose(logp.grad, torch.tensor([[0.0, 1.5]]))  # clipped token: no gradient


def test_a_per_token_advantage_equal_on_each_row_matches_the_per_sample_one():
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.1]])
    old = torch.tensor([[-1.2, -1.9], [-0.5, -0.4]])
    adv_N = torch.tensor([0.7, -1.3])
    mask = torch.ones_like(logp)
    per_sample = ppo_clip(LossInputs(logp, old, adv_N, mask), PpoClipObjectiveConfig())[0]
    per_token = ppo_clip(LossInputs(logp, old, adv_N[:, None].expand(2, 2), mask),
                         PpoClipObjectiveConfig())[0]
    assert torch.equal(per_sample, per_token)
    loss_NT, _ = reinforce(LossInputs(logp, old, torch.tensor([[1.0, -2.0], [0.0, 3.0]]), mask),
                           ReinforceObjectiveConfig())
    assert torch.allclose(loss_NT, torch.tensor([[1.0, -4.0], [0.0, 0.3]]))  # -A * logp


def _algo(mode: str):
    return build_algorithm(AlgorithmConfig(
        objective=ReinforceObjectiveConfig(), offpolicy=None,
        distill=DistillConfig(teacher="t", mode=mode, coef=1.0)))


def test_token_loss_uses_the_teacher_term_and_reports_it():
    logp = torch.tensor([[-1.0, -2.0, -0.5]], requires_grad=True)
    inp = LossInputs(logp, logp.detach(), torch.tensor([3.0]), MASK_NT[:1],
                     teacher_logprobs_NT=TEACHER_NT[:1])
    loss_NT, stats = _algo("only").token_loss(inp)
    # A = -kl = [-0.5, 1, 0]; reinforce: -A * logp = [0.5 * -1, -1 * -2, 0] = [-0.5, 2, 0]
    assert loss_NT.tolist() == [[-0.5, 2.0, 0.0]]
    assert stats["distill/reverse_kl"].tolist() == [[0.5, -1.0, 0.0]]
    loss_NT, _ = _algo("add").token_loss(inp)
    # A = 3 - kl = [2.5, 4, 3]; -A * logp = [2.5, 8, 1.5]
    assert loss_NT.tolist() == [[2.5, 8.0, 1.5]]


def test_token_loss_refuses_a_batch_without_teacher_logprobs():
    logp = torch.zeros(1, 3)
    with pytest.raises(ValueError, match="no teacher logprobs"):
        _algo("only").token_loss(LossInputs(logp, logp, torch.zeros(1), MASK_NT[:1]))


def test_distill_off_keeps_the_algorithm_without_a_teacher():
    assert build_algorithm(AlgorithmConfig()).distill is None
    assert _algo("add").distill is not None


@pytest.mark.parametrize("overrides, message", [
    (["algorithm.distill.teacher=t", "algorithm.distill.mode=both"],
     "bad value for 'algorithm.distill.mode': 'both'; allowed values: only, add"),
    (["algorithm.distill.coef=2"], "'algorithm.distill.teacher': Field required"),
    (["algorithm.distill.teacher=t", "algorithm.distill.coef=0"], "algorithm.distill.coef"),
])
def test_distill_config_errors_are_one_line(overrides, message):
    from rlvr.config import load_config
    from rlvr.configs.base import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(None, overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_distill_resolves_from_dotted_keys_with_defaults():
    from rlvr.config import load_config

    distill = load_config(None, ["algorithm.distill.teacher=t"]).algorithm.distill
    assert (distill.teacher, distill.mode, distill.coef, distill.dtype) == ("t", "add", 1.0, None)
