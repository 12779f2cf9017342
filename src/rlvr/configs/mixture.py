"""Config of a task mixture (``task: {kind: mixture, tasks: [...]}``): several single tasks,
each step's prompts drawn from them by weight; every row is scored by its own task's verifier
(data/mixture.py). Single-task configs are unchanged."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from rlvr.configs.base import Node
from rlvr.configs.code_task import CodeFileTaskConfig, HumanEvalTaskConfig
from rlvr.configs.task import (FileTaskConfig, MathFileTaskConfig, ReasoningGymMathTaskConfig,
                               ReasoningGymTaskConfig, SqlTaskConfig)

SingleTaskConfig = Annotated[Union[ReasoningGymTaskConfig, FileTaskConfig, HumanEvalTaskConfig,
                                   CodeFileTaskConfig, MathFileTaskConfig,
                                   ReasoningGymMathTaskConfig, SqlTaskConfig],
                             Field(discriminator="kind")]
_LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")  # used in row ids and metric names


class MixtureEntryConfig(Node):
    """One task of a mixture and its share of the prompts."""

    task: SingleTaskConfig
    """The task: a mapping with ``kind`` or a task name (``quickstart``, a reasoning-gym
    generator, a .jsonl path), as for the top-level ``task``."""
    weight: float = Field(1.0, gt=0)
    """Relative share of each step's prompts (weights need not sum to 1)."""
    label: str | None = None
    """Name of the task in row ids (``LABEL:row``) and metrics (``task/LABEL/accuracy``);
    default: the task's ``name``, else its ``kind``."""

    @field_validator("task", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        """A bare name stands for the task config it names (data/tasks.py:task_config_for)."""
        if isinstance(value, str):
            from rlvr.data.tasks import task_config_for

            return task_config_for(value)
        return value

    @field_validator("label")
    @classmethod
    def _label_chars(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL.match(value):
            raise ValueError(f"label {value!r}: use letters, digits, '_', '-', '.'")
        return value

    def resolved_label(self) -> str:
        return self.label or getattr(self.task, "name", None) or self.task.kind


class MixtureWeightStageConfig(Node):
    """Weights for the steps below ``until_step`` (a weight schedule)."""

    until_step: int = Field(ge=1)
    """The first step these weights no longer serve."""
    weights: list[float]
    """One weight per task of the mixture, in order (>= 0, not all 0)."""


class MixtureTaskConfig(Node):
    """Several tasks trained together: each prompt of a step picks its task at random by weight
    (seeded, resume-exact); the held-out split holds every task's held-out rows."""

    kind: Literal["mixture"] = "mixture"
    name: str = "mixture"
    """Name of the mixture (results files, banners)."""
    system_prompt: str | None = None
    """System message before every prompt of every task (the tasks' own ``system_prompt`` must
    stay unset: the engine renders one per run)."""
    instruction: str | None = None
    """Text appended to every prompt, after the task's own ``instruction`` (which each task's
    rows carry in their prompt)."""
    tasks: list[MixtureEntryConfig] = Field(min_length=2)
    """The tasks and their weights; labels must differ."""
    weight_schedule: list[MixtureWeightStageConfig] = Field(default_factory=list)
    """Optional weights by step, in increasing ``until_step``; steps after the last entry use
    the tasks' own ``weight``."""

    @model_validator(mode="after")
    def _consistent(self) -> "MixtureTaskConfig":
        for index, entry in enumerate(self.tasks):
            if entry.task.system_prompt is not None:
                raise ValueError(f"task.tasks[{index}].task.system_prompt: a mixture has one "
                                 "system prompt for all its tasks; set task.system_prompt")
        labels = [t.resolved_label() for t in self.tasks]
        doubled = sorted({x for x in labels if labels.count(x) > 1})
        if doubled:
            raise ValueError(f"task.tasks: label {doubled[0]!r} is used twice; set label: on "
                             "each entry")
        ends = [w.until_step for w in self.weight_schedule]
        if any(b <= a for a, b in zip(ends, ends[1:])):
            raise ValueError(f"task.weight_schedule: until_step must increase, got {ends}")
        for index, stage in enumerate(self.weight_schedule):
            if len(stage.weights) != len(self.tasks) or min(stage.weights) < 0 \
                    or sum(stage.weights) <= 0:
                raise ValueError(f"task.weight_schedule[{index}].weights: need {len(self.tasks)} "
                                 f"weights >= 0, not all 0; got {stage.weights}")
        return self

    def labels(self) -> list[str]:
        return [t.resolved_label() for t in self.tasks]

    def weights_at(self, step: int) -> list[float]:
        """The weights that serve ``step``."""
        for stage in self.weight_schedule:
            if step < stage.until_step:
                return list(stage.weights)
        return [t.weight for t in self.tasks]
