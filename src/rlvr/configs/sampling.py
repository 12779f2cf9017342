"""Config of the rollout's sampling schedules (``rollout.temperature_schedule``) and of
oversampling (``rollout.oversample``); the code is in rlvr/rollout/temperatures.py and
rlvr/rollout/oversample.py (docs/data.md "Sampling schedules")."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from rlvr.configs.base import Node


class EADScheduleConfig(Node):
    """Exploratory annealed decoding (EAD, Yang et al. 2025): the temperature of completion
    position t (0-based) is ``end + (start - end) * exp(-t / decay)``, high on the first tokens
    (which set a completion's direction) and close to ``end`` later."""

    name: Literal["ead"] = "ead"
    start: float = Field(1.2, gt=0)
    """Temperature of the first completion token (t = 0)."""
    end: float = Field(0.8, gt=0)
    """Temperature the schedule approaches as t grows."""
    decay: float = Field(32.0, gt=0)
    """e-folding length in tokens: at t = decay the gap start - end has shrunk to 1/e."""


TemperatureScheduleConfig = Annotated[Union[EADScheduleConfig], Field(discriminator="name")]


class OversampleConfig(Node):
    """Sample ``factor`` * G completions per prompt, score them all, keep G (``keep``)."""

    factor: int = Field(2, ge=2)
    """Completions sampled per kept one (a group of G decodes factor * G)."""
    keep: Literal["balanced", "first"] = "balanced"
    """Which G stay: 'balanced' as many correct as incorrect where the group has them (G odd:
    one more correct), filled from the other kind, unscorable ones last, each kind in sample
    order; 'first' the first G in sample order."""
