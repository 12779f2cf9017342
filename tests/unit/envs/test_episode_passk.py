"""pass@k and maj@k of multi-turn episodes, against hand-computed values: one episode is one
sample (never weighted by its turns), judged by its final verdict's correctness component (a
discounted right answer on a later turn counts as correct)."""

from __future__ import annotations

import pytest

from rlvr.configs.env import EnvConfig
from rlvr.envs.builtin import EnvContext
from rlvr.envs.feedback import TryAgainEnv
from rlvr.envs.transcript import Episode, Segment
from rlvr.eval.evaluate import _record
from rlvr.eval.results import PromptRecord
from rlvr.eval.summary import summarize
from rlvr.types import Group, RewardResult, Sample, TaskRow

ROW = TaskRow("r", "2+2?", "4")


def exact(text, row):
    ok = float(text.split()[-1] == row.reference)
    return RewardResult.scored(ok, "ok", task=ok)


def episode(turns: list[str]) -> Sample:
    """One try_again episode (discount 0.5) as the driver builds it: model and env segments,
    the reward of the last step, ``text`` = the last model turn."""
    env = TryAgainEnv(EnvContext(EnvConfig(name="try_again", max_turns=3, discount=0.5),
                                 verify=exact))
    env.reset(ROW)
    ep = Episode()
    for i, text in enumerate(turns):
        ep.add(Segment("model", [10 + i, 11], [-0.1, -0.2], text))
        ep.turns += 1
        result = env.step(text)
        if result.done:
            break
        ep.add(Segment("env", [99], [0.0], result.observation))
    ep.ended_by = "done"
    return Sample(row=ROW, prompt_ids=[1, 2], completion_ids=ep.ids, sampler_logprobs=ep.logprobs,
                  finish_reason="stop", text=turns[-1], reward=result.reward,
                  loss_mask=ep.loss_mask, episode=ep)


def test_pass_and_maj_at_k_count_episodes_not_turns():
    # A: 3 turns, right on the third (score 0.25, correct); B, C: 3 wrong turns each, final
    # answers 5 and 5. 9 model turns, 1 of them right: per turn pass@1 would be 1/9.
    samples = [episode(["answer 5", "answer 3", "answer 4"]),
               episode(["answer 7", "answer 6", "answer 5"]),
               episode(["answer 1", "answer 2", "answer 5"])]
    assert [s.reward.score for s in samples] == [0.25, 0.0, 0.0]
    record = _record(None, Group(ROW, samples), None)
    assert (record.n, record.c) == (3, 1)
    assert record.answers == ["4", "5", "5"]
    summary = summarize([record], [1, 2, 3], resamples=10)
    pass_k = {k: summary["pass@k"][str(k)]["value"] for k in (1, 2, 3)}
    maj_k = {k: summary["maj@k"][str(k)]["value"] for k in (1, 2, 3)}
    # pass@k = 1 - C(2, k) / C(3, k): 1 - 2/3, 1 - 1/3, 1
    assert pass_k == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 1.0})
    # maj@2: {A,B} and {A,C} tie 4-vs-5 -> 1/2 each, {B,C} -> 0: mean 1/3; maj@3: 5 wins -> 0
    assert maj_k == pytest.approx({1: 1 / 3, 2: 1 / 3, 3: 0.0})


def test_records_without_correctness_flags_fall_back_to_scores():
    old = PromptRecord.from_json({"row_id": "r", "scores": [1.0, 0.25, None], "answers": [None] * 3,
                                  "finish": ["stop"] * 3, "lengths": [1] * 3})
    assert (old.n, old.c) == (2, 1)
    new = PromptRecord.from_json({**old.to_json(), "correct": [True, True, True]})
    assert (new.n, new.c) == (2, 2)  # an unscorable sample is never correct
