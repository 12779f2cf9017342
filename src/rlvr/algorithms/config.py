"""Config classes of the algorithm axes. Each variant's knobs live in its own class, selected by
its ``name``; a preset (``algorithm: dapo``) is a YAML bundle of these choices (see presets/)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from rlvr.config_base import Node


class GrpoAdvantage(Node):
    """GRPO (Shao et al. 2024, DeepSeekMath): (r - mean_group) / (std_group + eps)."""

    name: Literal["grpo"] = "grpo"
    std: Literal["unbiased", "biased"] = "unbiased"
    """Group std estimator: 'unbiased' divides by G-1 (torch default), 'biased' by G."""
    eps: float = Field(1e-6, gt=0)
    """Added to the std so an all-equal group gives 0/eps = 0, never NaN."""


Advantage = Annotated[Union[GrpoAdvantage], Field(discriminator="name")]


class PpoClipObjective(Node):
    """PPO clipped surrogate (Schulman et al. 2017) with decoupled bounds (DAPO's clip-higher)."""

    name: Literal["ppo_clip"] = "ppo_clip"
    eps_low: float = Field(0.2, gt=0, lt=1)
    """The ratio is clipped below at 1 - eps_low."""
    eps_high: float = Field(0.2, gt=0)
    """The ratio is clipped above at 1 + eps_high."""


Objective = Annotated[Union[PpoClipObjective], Field(discriminator="name")]

Aggregation = Literal["token_mean"]


class AlgorithmConfig(Node):
    """The algorithm as orthogonal axes (DESIGN.md). ``preset`` records which bundle, if any,
    supplied the defaults; every value below is what is actually used."""

    preset: str | None = None
    advantage: Advantage = GrpoAdvantage()
    objective: Objective = PpoClipObjective()
    aggregation: Aggregation = "token_mean"
    """How per-token losses become one scalar; normalisers span the whole optimizer batch."""
    epochs: int = Field(1, ge=1)
    """Update epochs (mu) over each rollout batch."""
    minibatches: int = Field(1, ge=1)
    """Optimizer steps per epoch; the rollout batch is split into this many minibatches."""

    @property
    def group_relative(self) -> bool:
        """Whether the advantage needs at least two samples per group."""
        return True

    @model_validator(mode="after")
    def _check(self) -> "AlgorithmConfig":
        return self
