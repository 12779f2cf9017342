"""Config of prompt selection (``data.selection``): which train prompts each RL step samples,
chosen by ``name`` from the policies of trainer/selection.py (docs/data.md).

Every policy reads the same per-prompt history (pass-rate EMA, times seen, last step seen),
updated after each step's reward stage and saved in the checkpoint.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from rlvr.configs.base import Node
from rlvr.configs.curriculum import CurriculumConfig


class SelectionCommonConfig(Node):
    ema_weight: float = Field(0.5, gt=0, le=1)
    """Weight w of the newest pass rate in the EMA: ema = (1 - w) * ema + w * pass_rate (the
    first sighting sets ema = pass_rate)."""


class UniformSelectionConfig(SelectionCommonConfig):
    """Seeded shuffled epochs over the train rows, each row once per epoch (the default; the
    history is kept and logged but never changes the order)."""

    name: Literal["uniform"] = "uniform"


class BandSelectionConfig(SelectionCommonConfig):
    """Online difficulty filter: walk the seeded epoch order and skip prompts whose pass-rate EMA
    is outside [low, high]; unseen prompts count as inside. When a whole epoch's worth of
    candidates in a row is skipped, the next one is taken anyway (counted as a fallback)."""

    name: Literal["band"] = "band"
    low: float = Field(0.1, ge=0, le=1)
    """Lowest pass-rate EMA kept (inclusive)."""
    high: float = Field(0.9, ge=0, le=1)
    """Highest pass-rate EMA kept (inclusive)."""

    @model_validator(mode="after")
    def _ordered(self) -> "BandSelectionConfig":
        if self.low > self.high:
            raise ValueError(f"data.selection.low={self.low} is above high={self.high}")
        return self


class VarianceSelectionConfig(SelectionCommonConfig):
    """Variance-aware priority: each step draws distinct prompts with probability proportional
    to max(p (1 - p), floor) of their pass-rate EMA p; unseen prompts get ``unseen_priority``."""

    name: Literal["variance"] = "variance"
    floor: float = Field(0.01, gt=0, le=0.25)
    """Smallest priority of a seen prompt, so solved and unsolved prompts still come back."""
    unseen_priority: float = Field(0.25, gt=0)
    """Priority of a prompt never scored (0.25 = the largest p (1 - p))."""


class RetireSelectionConfig(SelectionCommonConfig):
    """Retire mastered prompts: in the seeded epoch order, a prompt whose pass-rate EMA reached
    ``threshold`` over at least ``min_seen`` sightings is skipped, except that each retired
    candidate is revisited with probability ``revisit_rate``."""

    name: Literal["retire"] = "retire"
    threshold: float = Field(0.9, ge=0, le=1)
    """Pass-rate EMA at or above which a prompt counts as mastered."""
    min_seen: int = Field(2, ge=1)
    """Sightings (scored steps) a prompt needs before it can be retired."""
    revisit_rate: float = Field(0.1, ge=0, le=1)
    """Probability that a retired candidate is sampled anyway (0 = never again)."""


SelectionConfig = Annotated[Union[UniformSelectionConfig, BandSelectionConfig,
                                  VarianceSelectionConfig, RetireSelectionConfig],
                            Field(discriminator="name")]
SELECTION_NAMES = ("uniform", "band", "variance", "retire")


class DataConfig(Node):
    """How train prompts are chosen each step (``data:`` of the run config): the selection
    policy and an optional curriculum."""

    selection: SelectionConfig = UniformSelectionConfig()
    """The prompt-selection policy: uniform, band, variance or retire (a name or a mapping,
    e.g. ``data.selection={name: band, low: 0.2, high: 0.8}``)."""
    curriculum: CurriculumConfig | None = None
    """Train on stages of the task's generator parameters, moved through by step or by train
    accuracy (``steps`` / ``accuracy``, configs/curriculum.py); null = the task as configured."""

    @field_validator("selection", mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        """A bare policy name stands for its mapping with defaults."""
        if isinstance(value, str):
            if value not in SELECTION_NAMES:
                raise ValueError(f"unknown selection policy {value!r}; allowed: "
                                 f"{', '.join(SELECTION_NAMES)}")
            return {"name": value}
        return value
