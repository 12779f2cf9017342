"""LUFFY expert traces: the trace sample, its place in the group statistics (hand-computed GRPO
advantages), policy shaping values and gradients by hand, and the loss of expert rows."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from rlvr.algorithms import LossInputs, build_algorithm
from rlvr.algorithms.expert import (expert_counts, expert_loss, expert_metrics, expert_sample,
                                    policy_shaping, unit_weight)
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.hints import ExpertTracesConfig, PolicyShapingConfig
from rlvr.trainer.batch import build_train_batch, pad_groups
from rlvr.trainer.hints import with_expert_traces
from rlvr.types import Group, RewardResult, Sample, TaskRow
from tiny import tiny_tokenizer

ROW = TaskRow(row_id="r0", prompt="2 + 2 = ?", reference="4")


def policy_sample(score: float, ids=(9, 10, 11)) -> Sample:
    return Sample(row=ROW, prompt_ids=[5, 6], completion_ids=list(ids),
                  sampler_logprobs=[-1.0] * len(ids), finish_reason="stop", text="x",
                  reward=RewardResult.scored(score))


def test_expert_sample_is_the_reference_after_the_same_prompt():
    tok = tiny_tokenizer()
    cfg = ExpertTracesConfig(template="answer: {reference}")
    s = expert_sample(ROW, [5, 6], tok, cfg, stop_ids=[tok.eos_token_id], max_new_tokens=20,
                      version=3)
    assert s.prompt_ids == [5, 6]
    assert s.completion_ids == tok("answer: 4", add_special_tokens=False)["input_ids"] + [
        tok.eos_token_id]
    assert s.sampler_logprobs == [0.0] * len(s.completion_ids)  # pi_expert = 1
    assert (s.text, s.finish_reason, s.expert, s.policy_version) == ("answer: 4", "stop", True, 3)
    cut = expert_sample(ROW, [5, 6], tok, cfg, [tok.eos_token_id], max_new_tokens=4)
    assert (cut.text, cut.finish_reason, len(cut.completion_ids)) == ("answ", "length", 4)


def test_config_refuses_bad_values():
    with pytest.raises(ValidationError, match="must contain"):
        ExpertTracesConfig(template="no placeholder")
    with pytest.raises(ValidationError, match="kl.placement=reward"):
        AlgorithmConfig.model_validate({"expert_traces": {}, "kl": {"placement": "reward"}})


def test_expert_joins_the_group_statistics_by_hand():
    """Three wrong policy samples and one correct trace: GRPO (unbiased std) over all four:
    mean 0.25, std sqrt((3 * 0.25^2 + 0.75^2) / 3) = 0.5 -> A = -0.5, -0.5, -0.5, +1.5."""
    group = Group(row=ROW, samples=[policy_sample(0.0) for _ in range(3)])
    tok = tiny_tokenizer()
    cfg = ExpertTracesConfig()

    def score(groups):
        for g in groups:
            for s in g.samples:
                s.reward = RewardResult.scored(1.0 if s.text == "4" else 0.0)

    (out,) = with_expert_traces([group], lambda g: expert_sample(
        g.row, g.samples[0].prompt_ids, tok, cfg, [tok.eos_token_id], 8), 1, score)
    assert out.samples[:3] == group.samples and out.samples[3].expert
    algo = build_algorithm(AlgorithmConfig(expert_traces=cfg))
    batch, _ = build_train_batch([out], algo, pad_id=0)
    eps = 1e-6
    expected = [-0.25 / (0.5 + eps)] * 3 + [0.75 / (0.5 + eps)]
    assert batch.advantages_N.tolist() == pytest.approx(expected, abs=1e-6)
    assert batch.expert_N.tolist() == [False, False, False, True]
    counts = expert_counts([out])
    assert expert_metrics(counts) == {"expert/share": 0.25, "expert/reward_mean": 1.0,
                                      "expert/no_reference": 0.0}


def test_a_row_without_a_reference_gets_no_trace_and_is_counted():
    blank = Group(row=TaskRow("b", "2+2?", "  "), samples=[policy_sample(0.0) for _ in range(2)])
    full = Group(row=ROW, samples=[policy_sample(0.0) for _ in range(2)])
    tok, cfg, scored = tiny_tokenizer(), ExpertTracesConfig(), []

    def score(groups):
        scored.extend(g.row.row_id for g in groups)
        for g in groups:
            for s in g.samples:
                s.reward = RewardResult.scored(1.0)

    out = with_expert_traces([blank, full], lambda g: expert_sample(
        g.row, g.samples[0].prompt_ids, tok, cfg, [tok.eos_token_id], 8), 1, score)
    assert out[0].samples == blank.samples and len(out[1].samples) == 3
    assert scored == [ROW.row_id]  # only the trace of the row with a reference was scored
    assert expert_metrics(expert_counts(out)) == {"expert/share": 0.2, "expert/reward_mean": 1.0,
                                                  "expert/no_reference": 1.0}


def test_batch_without_experts_has_no_expert_rows():
    batch = pad_groups([Group(row=ROW, samples=[policy_sample(0.0), policy_sample(1.0)])], 0)
    assert batch.expert_N is None


def test_policy_shaping_values_and_gradient_by_hand():
    """f(x) = x / (x + 0.1): f(0.9) = 0.9, f(0.1) = 0.5, f(0.4) = 0.8; d f / d logp =
    x * gamma / (x + gamma)^2: 0.09, 0.25, 0.16."""
    logp = torch.log(torch.tensor([[0.9, 0.1, 0.4]])).requires_grad_()
    f = policy_shaping(logp, 0.1)
    assert f.tolist()[0] == pytest.approx([0.9, 0.5, 0.8])
    f.sum().backward()
    assert logp.grad.tolist()[0] == pytest.approx([0.09, 0.25, 0.16])


def test_expert_rows_take_the_shaped_loss_and_unit_weight():
    loss_NT = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    logp_NT = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
    adv_N, expert_N = torch.tensor([1.0, 2.0]), torch.tensor([False, True])
    out = expert_loss(loss_NT, logp_NT, adv_N, expert_N, PolicyShapingConfig(gamma=0.1))
    assert torch.allclose(out, torch.tensor([[1.0, 2.0], [-1.8, -1.0]]))  # -f(x) * A, row 1
    assert expert_loss(loss_NT, logp_NT, adv_N, None, PolicyShapingConfig()) is loss_NT
    assert expert_loss(loss_NT, logp_NT, adv_N, expert_N, None) is loss_NT
    w = unit_weight(torch.tensor([[0.3, 2.0], [0.1, 0.2]]), expert_N)
    assert torch.equal(w, torch.tensor([[0.3, 2.0], [1.0, 1.0]]))


def test_token_loss_mixes_ppo_rows_and_shaped_expert_rows():
    """Row 0 (policy): ratio 1, PPO loss -A = -1, times the truncated IS weight
    min(exp(-0.2 - (-0.5)), 2) = e^0.3. Row 1 (expert, sampler 0.0): -f(0.5) * 2 = -2 * 0.5/0.6,
    importance weight 1 (not pi_old = 0.5)."""
    algo = build_algorithm(AlgorithmConfig(expert_traces=ExpertTracesConfig()))
    logp_NT = torch.tensor([[-0.2], [math.log(0.5)]])
    inp = LossInputs(logprobs_NT=logp_NT, old_logprobs_NT=logp_NT.clone(),
                     advantages_N=torch.tensor([1.0, 2.0]), mask_NT=torch.ones(2, 1),
                     sampler_logprobs_NT=torch.tensor([[-0.5], [0.0]]),
                     expert_N=torch.tensor([False, True]))
    loss_NT, stats = algo.token_loss(inp)
    assert loss_NT[:, 0].tolist() == pytest.approx([-math.exp(0.3), -2 * 0.5 / 0.6])
    assert stats["is_weight"][0, 0].item() == pytest.approx(math.exp(0.3))
