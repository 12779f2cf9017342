"""Curriculum: the step and accuracy schedules on hand-built accuracy histories, the sampler
switching stage samplers, its state surviving a checkpoint round trip mid-window, the stage
tasks built with their own generator parameters, and the config's errors."""

from __future__ import annotations

import json

import pytest

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.configs.curriculum import (AccuracyCurriculumConfig, CurriculumStageConfig,
                                     StepCurriculumConfig)
from rlvr.configs.task import ReasoningGymTaskConfig
from rlvr.runs.state_codec import decode, encode
from rlvr.trainer.curriculum import (AccuracySchedule, CurriculumSampler, StepSchedule,
                                     build_curriculum)
from rlvr.trainer.prompts import PromptSampler
from rlvr.types import Group, RewardResult, Sample, TaskRow


def group(row: TaskRow, *scores: float) -> Group:
    return Group(row, [Sample(row, [], [], [], "stop", "", reward=RewardResult.scored(s))
                       for s in scores])


def steps_cfg(*ends: int | None) -> StepCurriculumConfig:
    return StepCurriculumConfig(stages=[{"until_step": e} for e in ends])


def accuracy_cfg(stages: int = 3, advance_at: float = 0.5, window: int = 3):
    return AccuracyCurriculumConfig(stages=[{}] * stages, advance_at=advance_at, window=window)


def test_step_schedule_serves_each_stage_until_its_step():
    schedule = StepSchedule(steps_cfg(2, 5, None))
    served = []
    for step in range(7):
        served.append(schedule.stage)
        schedule.observe(0.0, step)
    assert served == [0, 0, 1, 1, 1, 2, 2]
    assert schedule.stage_at(4) == 1 and schedule.stage_at(5) == 2 and schedule.stage_at(99) == 2


def test_accuracy_schedule_advances_exactly_when_the_window_mean_reaches_the_threshold():
    schedule = AccuracySchedule(accuracy_cfg(advance_at=0.5, window=3))
    history = [0.9, 0.9, 0.0,  # window not full, then mean 0.6 >= 0.5: stage 1, window empties
               0.2, 0.4, 0.6,  # mean 0.4: stays
               0.6,            # window [0.4, 0.6, 0.6]: mean 1.6 / 3 = 0.533: stage 2
               1.0, 1.0, 1.0]  # last stage: stays
    stages, means = [], []
    for step, accuracy in enumerate(history):
        means.append(schedule.observe(accuracy, step))
        stages.append(schedule.stage)
    assert stages == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert means[:7] == pytest.approx([0.9, 0.9, 0.6, 0.2, 0.3, 0.4, 1.6 / 3])
    assert schedule.window == [1.0, 1.0, 1.0]  # at the last stage the window just rolls


def test_accuracy_schedule_at_the_threshold_exactly_advances():
    schedule = AccuracySchedule(accuracy_cfg(stages=2, advance_at=0.75, window=2))
    schedule.observe(0.5, 0)
    assert schedule.stage == 0
    schedule.observe(1.0, 1)  # (0.5 + 1.0) / 2 = 0.75
    assert schedule.stage == 1 and schedule.window == []


def stage_samplers(stages: int = 2) -> list[PromptSampler]:
    return [PromptSampler([TaskRow(f"s{k}/r{i}", f"q{i}", str(i)) for i in range(4)], k)
            for k in range(stages)]


def test_sampler_draws_from_the_serving_stage_and_logs_it():
    sampler = CurriculumSampler(accuracy_cfg(stages=2, advance_at=0.5, window=1),
                                stage_samplers(), 32)
    rows = sampler.next(2)
    assert all(r.row_id.startswith("s0/") for r in rows)
    metrics = sampler.observe([group(rows[0], 1.0, 0.0), group(rows[1], 1.0, 1.0)], step=0)
    assert metrics["curriculum/stage"] == 0.0  # the stage these groups came from
    assert metrics["curriculum/window_accuracy"] == pytest.approx(0.75)
    assert metrics["select/unseen_share"] == pytest.approx(2 / 4)
    assert all(r.row_id.startswith("s1/") for r in sampler.next(3))


def test_state_round_trip_mid_window_continues_identically():
    def run(resume_after: int | None) -> list[str]:
        sampler = CurriculumSampler(accuracy_cfg(stages=3, advance_at=0.5, window=2),
                                    stage_samplers(3), 32)
        drawn = []
        for step, score in enumerate([1.0, 0.0, 1.0, 1.0, 0.0, 1.0]):
            if step == resume_after:
                tensors: dict = {}  # as a checkpoint stores it: JSON beside the tensors
                saved = decode(json.loads(json.dumps(encode(sampler.state(), tensors))), tensors)
                sampler = CurriculumSampler(accuracy_cfg(stages=3, advance_at=0.5, window=2),
                                            stage_samplers(3), 32)
                sampler.load_state(saved)
            rows = sampler.next(2)
            drawn += [r.row_id for r in rows]
            sampler.observe([group(r, score) for r in rows], step)
        return drawn

    straight = run(None)
    assert straight[:4] == [r for r in straight[:4] if r.startswith("s0/")]
    assert any(r.startswith("s2/") for r in straight)
    assert run(3) == straight and run(1) == straight


def test_load_state_refuses_another_number_of_stages():
    two = CurriculumSampler(steps_cfg(1, None), stage_samplers(2), 32)
    three = CurriculumSampler(steps_cfg(1, 2, None), stage_samplers(3), 32)
    with pytest.raises(ValueError, match="curriculum of 3 stages"):
        three.load_state(two.state())


def test_build_curriculum_generates_each_stage_with_its_params():
    task = ReasoningGymTaskConfig(name="chain_sum", train_size=6, eval_size=2,
                                  params={"min_digits": 1, "max_digits": 1})
    cfg = StepCurriculumConfig(stages=[
        CurriculumStageConfig(params={"min_terms": 2, "max_terms": 2}, until_step=1),
        CurriculumStageConfig(params={"min_terms": 4, "max_terms": 4})])
    sampler = build_curriculum(cfg, task, seed=0, selection=None, task=None, max_new_tokens=32)
    first, second = (s.rows for s in sampler.samplers)
    assert [r.row_id for r in first][:2] == ["stage0/chain_sum/train/0", "stage0/chain_sum/train/1"]
    terms = [r.metadata["entry"]["metadata"]["num_terms"] for r in first + second]
    assert terms == [2] * 6 + [4] * 6


@pytest.mark.parametrize("value, message", [
    ("{name: steps, stages: [{until_step: 3}, {until_step: 5}]}", "drop its until_step=5"),
    ("{name: steps, stages: [{}, {}]}", "stages\\[0\\] needs until_step"),
    ("{name: steps, stages: [{until_step: 4}, {until_step: 4}, {}]}", "must increase"),
    ("{name: accuracy, stages: [{until_step: 2}, {}]}", "until_step is for name: steps"),
    ("{name: accuracy, stages: [{}]}", "at least 2"),
    ("{name: ladder, stages: [{}]}", "steps"),
])
def test_config_errors_name_the_problem(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [f"data.curriculum={value}"])


def test_curriculum_needs_a_generated_task(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(f'{{"prompt": "{i}", "reference": "{i}"}}\n' for i in range(4)))
    with pytest.raises(ConfigError, match="task.kind in reasoning_gym, reasoning_gym_math"):
        load_config(None, ["task.kind=file", f"task.path={rows}", "task.eval_size=1",
                           "data.curriculum={name: steps, stages: [{params: {a: 1}}]}"])
