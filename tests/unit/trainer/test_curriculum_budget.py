"""Length-budget curriculum: a stage's ``max_new_tokens`` is the rollout budget while it serves
(hand-built stage sequences), survives a state round trip, and fits any task kind."""

from __future__ import annotations

import json

import pytest

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.configs.curriculum import AccuracyCurriculumConfig, StepCurriculumConfig
from rlvr.runs.state_codec import decode, encode
from rlvr.trainer.curriculum import CurriculumSampler, build_curriculum, step_budget
from rlvr.trainer.prompts import PromptSampler
from rlvr.types import Group, RewardResult, Sample, TaskRow


def group(row: TaskRow, score: float) -> Group:
    return Group(row, [Sample(row, [], [], [], "stop", "", reward=RewardResult.scored(score))])


def samplers(stages: int) -> list[PromptSampler]:
    return [PromptSampler([TaskRow(f"s{k}/r{i}", f"q{i}", str(i)) for i in range(4)], k)
            for k in range(stages)]


def budgets_served(sampler: CurriculumSampler, steps: int, score: float = 0.0) -> list[tuple]:
    """(step_budget before the draw, logged curriculum/max_new_tokens) of each step."""
    served = []
    for step in range(steps):
        budget = step_budget(sampler, 999)
        rows = sampler.next(1)
        logged = sampler.observe([group(rows[0], score)], step)["curriculum/max_new_tokens"]
        served.append((budget, logged))
    return served


def test_step_stages_set_the_budget_and_a_stage_without_one_uses_the_default():
    cfg = StepCurriculumConfig(stages=[{"max_new_tokens": 8, "until_step": 2},
                                       {"until_step": 3}, {"max_new_tokens": 16}])
    sampler = CurriculumSampler(cfg, samplers(3), max_new_tokens=32)
    assert budgets_served(sampler, 5) == [(8, 8.0), (8, 8.0), (32, 32.0), (16, 16.0), (16, 16.0)]


def test_accuracy_stages_change_the_budget_when_they_advance():
    cfg = AccuracyCurriculumConfig(stages=[{"max_new_tokens": 4}, {"max_new_tokens": 12}],
                                   advance_at=0.5, window=2)
    sampler = CurriculumSampler(cfg, samplers(2), max_new_tokens=32)
    # accuracy 1.0 each step: the window of 2 is full after step 1, stage 1 from step 2
    assert budgets_served(sampler, 4, score=1.0) == [(4, 4.0), (4, 4.0), (12, 12.0), (12, 12.0)]


def test_a_resumed_sampler_serves_the_same_stage_budget():
    cfg = StepCurriculumConfig(stages=[{"max_new_tokens": 8, "until_step": 2},
                                       {"max_new_tokens": 24}])
    sampler = CurriculumSampler(cfg, samplers(2), max_new_tokens=32)
    budgets_served(sampler, 2)  # steps 0-1; stage 1 serves step 2
    tensors: dict = {}
    saved = decode(json.loads(json.dumps(encode(sampler.state(), tensors))), tensors)
    resumed = CurriculumSampler(cfg, samplers(2), max_new_tokens=32)
    assert step_budget(resumed, 999) == 8  # before the state loads: stage 0
    resumed.load_state(saved)
    assert step_budget(resumed, 999) == 24 == step_budget(sampler, 999)


def test_without_a_curriculum_the_budget_is_the_default():
    assert step_budget(samplers(1)[0], 32) == 32


def test_budget_only_stages_reuse_the_task_rows_for_a_file_task(tmp_path):
    from rlvr.data.tasks import build_task

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(f'{{"prompt": "{i}", "reference": "{i}"}}\n' for i in range(4)))
    cfg = load_config(None, ["task.kind=file", f"task.path={rows}", "task.eval_size=1",
                             "rollout.max_new_tokens=16", "data.curriculum={name: steps, stages: "
                             "[{max_new_tokens: 4, until_step: 1}, {}]}"])
    task = build_task(cfg.task)
    sampler = build_curriculum(cfg.data.curriculum, cfg.task, 0, None, task, 16)
    ids = [[r.row_id for r in s.rows] for s in sampler.samplers]
    assert ids == [[f"stage{k}/{r.row_id}" for r in task.train_rows()] for k in (0, 1)]
    assert len(ids[0]) == 3 and sampler.budgets == [4, 16]


@pytest.mark.parametrize("overrides, message", [
    (["rollout.max_new_tokens=16",
      "data.curriculum={name: steps, stages: [{max_new_tokens: 17}]}"],
     "stages\\[0\\].max_new_tokens=17 is above rollout.max_new_tokens=16"),
    (["data.curriculum={name: steps, stages: [{max_new_tokens: 0}]}"], "greater than or equal"),
    (["task={kind: mixture, tasks: [{task: quickstart}, {task: arithmetic}]}",
      "data.curriculum={name: steps, stages: [{max_new_tokens: 8}]}"], "inside a task mixture"),
])
def test_budget_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)
