"""try_again's discounted reward, the pipeline keeping an environment's reward, and the
loss mask: environment tokens get exactly zero gradient."""

from __future__ import annotations

import torch

from rlvr.algorithms import BatchNorm, LossInputs, build_algorithm
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.env import EnvConfig
from rlvr.envs.builtin import EnvContext
from rlvr.envs.feedback import TryAgainEnv, discounted
from rlvr.envs.transcript import Episode
from rlvr.rewards.pipeline import env_scored
from rlvr.trainer.batch import pad_groups
from rlvr.types import Group, RewardResult, Sample, TaskRow, is_correct

ROW = TaskRow("r", "2+2?", "4")


def exact(text, row):
    return RewardResult.scored(float(text.strip() == row.reference), "ok", task=float(
        text.strip() == row.reference))


def test_try_again_feeds_back_and_discounts_a_later_correct_answer():
    env = TryAgainEnv(EnvContext(EnvConfig(name="try_again", max_turns=3, discount=0.5,
                                           hint=True), verify=exact))
    env.reset(ROW)
    first = env.step("5")
    assert not first.done and first.observation == "That answer is not correct (verdict: ok). " \
        "Try again."
    assert not env.step("3").done
    third = env.step("4")
    assert third.done and third.reward.score == 0.25  # 1 * 0.5 ** 2
    assert third.reward.components["task"] == 1.0 and is_correct(third.reward)


def test_try_again_last_turn_is_final_and_infra_errors_pass_through():
    env = TryAgainEnv(EnvContext(EnvConfig(name="try_again", max_turns=1), verify=exact))
    env.reset(ROW)
    assert env.step("5").reward.score == 0.0
    broken = TryAgainEnv(EnvContext(EnvConfig(name="try_again"),
                                    verify=lambda t, r: RewardResult.infra_error("pool died")))
    broken.reset(ROW)
    out = broken.step("4")
    assert out.done and out.reward.outcome == "infra_error"


def test_discount_keeps_other_components():
    r = discounted(RewardResult.scored(0.5, "partial", task=0.5, format=1.0), 0.9, 2)
    assert r.score == 0.45 and r.components == {"task": 0.5, "format": 1.0, "turn_discount": 0.9}


def test_only_episodes_with_an_env_reward_skip_the_verifier():
    s = Sample(ROW, [1], [2], [0.0], "stop", "4")
    assert not env_scored(s)
    s.reward = RewardResult.scored(1.0)
    assert not env_scored(s)  # single-turn: always the verifier's
    s.episode = Episode()
    assert env_scored(s)


def test_environment_tokens_get_exactly_zero_gradient():
    mask = [1, 1, 0, 0, 0, 1, 1]
    samples = [Sample(ROW, [5, 6], [7, 8, 9, 10, 11, 12, 13], [-0.1, -0.2, 0.0, 0.0, 0.0, -0.3,
                                                                 -0.4], "stop", "", loss_mask=mask),
               Sample(ROW, [5, 6], [7, 8, 9], [-0.1] * 3, "stop", "")]
    batch = pad_groups([Group(ROW, samples)], 0)
    assert batch.completion_mask_NT.tolist() == [mask, [1, 1, 1, 0, 0, 0, 0]]
    algo = build_algorithm(AlgorithmConfig())
    logp_NT = torch.randn(2, 7, requires_grad=True)
    inputs = LossInputs(logprobs_NT=logp_NT, old_logprobs_NT=logp_NT.detach(),
                        advantages_N=torch.tensor([1.0, -1.0]), mask_NT=batch.completion_mask_NT,
                        sampler_logprobs_NT=batch.sampler_logprobs_NT, ref_logprobs_NT=None,
                        entropy_NT=torch.zeros(2, 7), select_NT=None)
    loss_NT, _ = algo.token_loss(inputs)
    norm = BatchNorm.of(batch.completion_mask_NT, 32)
    algo.aggregate(loss_NT, batch.completion_mask_NT, norm).backward()
    env_NT = batch.completion_mask_NT == 0
    assert (logp_NT.grad[env_NT] == 0).all() and (logp_NT.grad[~env_NT] != 0).all()
    # every normaliser counts model tokens only: 4 + 3 trained tokens
    assert float(batch.completion_mask_NT.sum()) == 7.0
