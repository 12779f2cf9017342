"""Curriculum: train rows come from stages of the task (each the configured task with some
generator parameters replaced and / or its own rollout length budget, configs/curriculum.py), and
a schedule, chosen by name, says which
stage serves the next draw. Each stage has its own prompt sampler (order, selection history);
the schedule's state (stage, accuracy window) is saved with them in the checkpoint, so a resumed
run draws exactly what the uninterrupted one drew.

The stage changes after a step's reward stage, for the draws that follow (a dynamic-sampling
refill of that same step already draws from the new stage, under the new stage's budget)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rlvr.configs.curriculum import AccuracyCurriculumConfig, StepCurriculumConfig
from rlvr.trainer.prompts import PromptSampler, step_stats
from rlvr.types import Group, TaskRow


class StepSchedule:
    """Stage k serves the steps below ``stages[k].until_step``."""

    def __init__(self, cfg: StepCurriculumConfig) -> None:
        self.ends = [s.until_step for s in cfg.stages[:-1]]
        self.stage = self.stage_at(0)
        self.window: list[float] = []

    def stage_at(self, step: int) -> int:
        return sum(step >= end for end in self.ends)

    def observe(self, accuracy: float, step: int) -> float:
        """Moves to the stage of step + 1; returns the window accuracy (this step's)."""
        self.window = [accuracy]
        self.stage = self.stage_at(step + 1)
        return accuracy


class AccuracySchedule:
    """The next stage starts once the mean of the last ``window`` step accuracies reaches
    ``advance_at``; the window then starts empty."""

    def __init__(self, cfg: AccuracyCurriculumConfig) -> None:
        self.cfg = cfg
        self.last = len(cfg.stages) - 1
        self.stage = 0
        self.window: list[float] = []

    def observe(self, accuracy: float, step: int) -> float:
        """Adds the step's accuracy; returns the window mean the decision used."""
        self.window = (self.window + [accuracy])[-self.cfg.window:]
        mean = sum(self.window) / len(self.window)
        if (self.stage < self.last and len(self.window) == self.cfg.window
                and mean >= self.cfg.advance_at):
            self.stage, self.window = self.stage + 1, []
        return mean


SCHEDULES = {"steps": StepSchedule, "accuracy": AccuracySchedule}


def stage_rows(rows: list[TaskRow], stage: int) -> list[TaskRow]:
    """Row ids name the stage (``stage1/chain_sum/train/3``): stages share generator seeds."""
    return [replace(row, row_id=f"stage{stage}/{row.row_id}") for row in rows]


class CurriculumSampler:
    """The PromptSampler interface over one sampler per stage, switched by the schedule."""

    def __init__(self, cfg: Any, samplers: list[PromptSampler], max_new_tokens: int) -> None:
        self.schedule = SCHEDULES[cfg.name](cfg)
        self.samplers = samplers
        self.budgets = [s.max_new_tokens or max_new_tokens for s in cfg.stages]

    def next(self, count: int) -> list[TaskRow]:
        return self.samplers[self.schedule.stage].next(count)

    def max_new_tokens(self) -> int:
        """The length budget of the stage that serves the next draw."""
        return self.budgets[self.schedule.stage]

    def observe(self, groups: list[Group], step: int) -> dict[str, float]:
        """The serving stage's ``select/*`` metrics, then ``curriculum/stage`` (the stage these
        groups came from), its ``curriculum/max_new_tokens`` and ``curriculum/window_accuracy``;
        may move to the next stage."""
        stage = self.schedule.stage
        metrics = self.samplers[stage].observe(groups, step)
        accuracy = step_stats(groups)["accuracy"]
        window = self.schedule.observe(accuracy, step)
        return {**metrics, "curriculum/stage": float(stage),
                "curriculum/max_new_tokens": float(self.budgets[stage]),
                "curriculum/window_accuracy": window}

    def state(self) -> dict[str, Any]:
        return {"curriculum": {"stage": self.schedule.stage, "window": list(self.schedule.window)},
                "stages": [s.state() for s in self.samplers]}

    def load_state(self, state: dict[str, Any]) -> None:
        if "curriculum" not in state or len(state["stages"]) != len(self.samplers):
            raise ValueError("the checkpoint's prompt state has no curriculum of "
                             f"{len(self.samplers)} stages (data.curriculum changed?)")
        self.schedule.stage = int(state["curriculum"]["stage"])
        self.schedule.window = [float(x) for x in state["curriculum"]["window"]]
        for sampler, saved in zip(self.samplers, state["stages"]):
            sampler.load_state(saved)


def step_budget(sampler: Any, default: int) -> int:
    """The rollout's max new tokens for the next draw: the curriculum stage's, else ``default``
    (``rollout.max_new_tokens``)."""
    budget = getattr(sampler, "max_new_tokens", None)  # only a CurriculumSampler has one
    return budget() if budget is not None else default


def build_curriculum(cfg: Any, task_cfg: Any, seed: int, selection: Any, task: Any,
                     max_new_tokens: int) -> CurriculumSampler:
    """One task per stage (``task_cfg`` with the stage's params merged over its own; the run's
    ``task`` for a stage without params) and a sampler over each stage's train rows."""
    from rlvr.data.tasks import build_task

    samplers = []
    for index, stage in enumerate(cfg.stages):
        if stage.params:
            stage_cfg = type(task_cfg).model_validate(
                {**task_cfg.model_dump(), "params": {**task_cfg.params, **stage.params}})
            rows = build_task(stage_cfg).train_rows()
        else:
            rows = task.train_rows()
        samplers.append(PromptSampler(stage_rows(rows, index), seed * 1_000 + index, selection))
    return CurriculumSampler(cfg, samplers, max_new_tokens)
