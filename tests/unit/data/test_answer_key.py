"""One answer key: ``Task.extract_answer`` (default in RowListTask) feeds both the training
majority vote and eval's maj@k."""

from __future__ import annotations

import pytest

from rlvr.configs.eval import EvalSettings
from rlvr.configs.reward import MajorityVoteTerm, RewardConfig
from rlvr.data.split import RowListTask, answer_key, default_extract_answer
from rlvr.eval.evaluate import evaluate, score_inline
from rlvr.rewards.pipeline import RewardPipeline
from rlvr.rollout.engine import SamplingParams
from rlvr.types import Group, RewardResult, Sample, TaskRow

ROW = TaskRow("t/0", "colour?", "red")


class ColourTask(RowListTask):
    """Answers are the first word; 'crimson' and 'red' are the same answer."""

    name = "colour"

    def __init__(self):
        self._train, self._eval = [ROW], [ROW]
        self.verifier = lambda completion, row: RewardResult.scored(
            float(self.extract_answer(completion) == row.reference))
        self.calls = 0

    def extract_answer(self, completion):
        self.calls += 1
        word = completion.split()[0].lower()
        return "red" if word == "crimson" else word


TEXTS = ["Crimson it is", "red  obviously", "blue", "green"]


def _group():
    return Group(ROW, [Sample(ROW, [1], [2], [0.0], "stop", t) for t in TEXTS])


class Engine:
    def generate(self, rows, group_size, params, progress=None):
        return [Group(row, [Sample(row, [1], [2], [0.0], "stop", TEXTS[i % 4])
                            for i in range(group_size)]) for row in rows]


def test_default_extraction():
    assert default_extract_answer("x <answer> 4 2 </answer> then 9") == " 4 2 "
    assert default_extract_answer("it is 12, or 13.5") == "13.5"
    assert default_extract_answer("no idea") is None
    assert RowListTask().extract_answer("<answer>a</answer>") == "a"
    assert answer_key(RowListTask(), "<answer> Big   Cat </answer>") == "big cat"
    assert answer_key(object(), "so 7") == "7"  # a task without extract_answer: the default


def test_majority_vote_uses_the_task_answer_key():
    task = ColourTask()
    group = _group()
    RewardPipeline(task, RewardConfig(terms=[MajorityVoteTerm()])).score([group])
    # "crimson" and "red" vote together (2 of 4): only the task's key can see that
    assert [s.reward.score for s in group.samples] == [1.0, 1.0, 0.0, 0.0]
    assert task.calls == 4


def test_maj_at_k_uses_the_same_answer_key():
    task = ColourTask()
    result = evaluate(Engine(), task, [ROW], EvalSettings(n=4, ks=[4], greedy=False), "m",
                      progress=False, scorer=score_inline(task), sampling_params=SamplingParams)
    assert result.prompts[0].answers == ["red", "red", "blue", "green"]
    assert result.prompts[0].c == 2
    assert result.summary["maj@k"]["4"]["value"] == pytest.approx(1.0)  # "red" wins 2-1-1
