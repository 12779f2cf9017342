"""Config of the curriculum (``data.curriculum``): train rows come from a sequence of stages,
each the configured task with some generator parameters replaced and / or its own length budget
(max new tokens of the rollout); a schedule (chosen by ``name``
from trainer/curriculum.py) says when the run moves to the next stage (docs/data.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from rlvr.configs.base import Node


class CurriculumStageConfig(Node):
    """One stage: the task's generator parameters it overrides, its length budget, and (step
    schedule) its end."""

    params: dict[str, Any] = Field(default_factory=dict)
    """Generator parameters merged over ``task.params`` for this stage's train rows (e.g.
    ``{min_terms: 2, max_terms: 2}``)."""
    max_new_tokens: int | None = Field(None, ge=1)
    """The rollout's length budget while this stage serves (null: ``rollout.max_new_tokens``,
    which is also its upper bound); a stage may set only this, for any task kind."""
    until_step: int | None = Field(None, ge=1)
    """Step schedule: the stage serves steps below this one (the last stage has none and lasts
    to the end); unused by the accuracy schedule."""


class StepCurriculumConfig(Node):
    """Stages by step: stage k serves the steps from the previous stage's ``until_step`` up to
    its own."""

    name: Literal["steps"] = "steps"
    stages: list[CurriculumStageConfig] = Field(min_length=1)
    """The stages in order; every one but the last sets ``until_step``, increasing."""

    @model_validator(mode="after")
    def _bounds(self) -> "StepCurriculumConfig":
        ends = [s.until_step for s in self.stages]
        if any(e is None for e in ends[:-1]):
            missing = next(i for i, e in enumerate(ends[:-1]) if e is None)
            raise ValueError(f"data.curriculum.stages[{missing}] needs until_step (only the "
                             "last stage may leave it out)")
        if ends[-1] is not None:
            raise ValueError("data.curriculum: the last stage lasts to the end of the run; "
                             f"drop its until_step={ends[-1]}")
        if any(b <= a for a, b in zip(ends[:-2], ends[1:-1])):
            raise ValueError(f"data.curriculum: until_step must increase, got {ends[:-1]}")
        return self


class AccuracyCurriculumConfig(Node):
    """Stages by progress: the run moves to the next stage once the mean train accuracy of the
    last ``window`` steps reaches ``advance_at`` (the window then starts afresh)."""

    name: Literal["accuracy"] = "accuracy"
    stages: list[CurriculumStageConfig] = Field(min_length=2)
    """The stages from easiest to hardest (``until_step`` is not used here)."""
    advance_at: float = Field(0.7, ge=0, le=1)
    """Mean window accuracy at or above which the next stage starts."""
    window: int = Field(5, ge=1)
    """Steps of train accuracy averaged (the window must be full before a stage ends)."""

    @model_validator(mode="after")
    def _no_steps(self) -> "AccuracyCurriculumConfig":
        for index, stage in enumerate(self.stages):
            if stage.until_step is not None:
                raise ValueError(f"data.curriculum.stages[{index}].until_step is for "
                                 "name: steps; the accuracy schedule advances on advance_at")
        return self


CurriculumConfig = Annotated[Union[StepCurriculumConfig, AccuracyCurriculumConfig],
                             Field(discriminator="name")]
CURRICULUM_KINDS = ("reasoning_gym", "reasoning_gym_math")
"""Task kinds whose rows come from generator parameters a stage's ``params`` can change (stages
that set only ``max_new_tokens`` fit every kind but a mixture)."""
