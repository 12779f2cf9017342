"""Sampling temperatures that vary within a group (``rollout.temperatures``) or along the
sequence (``rollout.temperature_schedule``); docs/data.md "Sampling schedules".

Several temperatures: the split is deterministic and the same for every group: with K
temperatures and G samples, sample j (0..G-1) gets ``temperatures[j * K // G]``, so the group is
cut into K contiguous blocks as equal as possible (G=8, [0.6, 1.0, 1.2] -> 0.6 x3, 1.0 x3,
1.2 x2). One listed temperature is the plain scalar path (bit-identical to
``rollout.temperature``).

A schedule maps each completion position t to a temperature (``SCHEDULES``: name -> function of
(config, max_new_tokens) returning the T temperatures); every sample of every group shares it.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from rlvr.rollout.engine import SamplingParams


def ead_temperatures(cfg: Any, max_new_tokens: int) -> tuple[float, ...]:
    """EAD: tau_t = end + (start - end) * exp(-t / decay) for t = 0..max_new_tokens-1."""
    return tuple(cfg.end + (cfg.start - cfg.end) * math.exp(-t / cfg.decay)
                 for t in range(max_new_tokens))


SCHEDULES: dict[str, Callable[[Any, int], tuple[float, ...]]] = {"ead": ead_temperatures}
"""``rollout.temperature_schedule.name`` -> the per-position temperatures."""


def split(temperatures: list[float], group_size: int) -> tuple[float, ...]:
    """The temperature of each of a group's ``group_size`` samples, in sample order."""
    k = len(temperatures)
    return tuple(float(temperatures[j * k // group_size]) for j in range(group_size))


def rollout_params(max_new_tokens: int, temperature: float, top_p: float,
                   temperatures: list[float] | None, group_size: int,
                   schedule: Any = None, copies: int = 1) -> SamplingParams:
    """The rollout's SamplingParams: a per-sample temperature tuple only when there are several
    (the split of ``group_size``, repeated ``copies`` times when oversampling, so every block of
    G samples has the same temperatures); a per-position tuple when a ``schedule`` config is
    given (the config refuses both)."""
    if schedule is not None:
        return SamplingParams(max_new_tokens, temperature, top_p, position_temperatures=(
            SCHEDULES[schedule.name](schedule, max_new_tokens)))
    if temperatures is None:
        return SamplingParams(max_new_tokens, temperature, top_p)
    if len(set(temperatures)) == 1:
        return SamplingParams(max_new_tokens, float(temperatures[0]), top_p)
    return SamplingParams(max_new_tokens, temperature, top_p,
                          temperatures=split(temperatures, group_size) * copies)


def row_temperatures(params: SamplingParams, num_prompts: int, sample_start: int = 0,
                     count: int | None = None) -> torch.Tensor | None:
    """[num_prompts * count] temperatures of the decode rows: samples sample_start ..
    sample_start+count-1 of each prompt (prompt b's at b*count..), or None."""
    if params.temperatures is None:
        return None
    temps = params.temperatures[sample_start:None if count is None else sample_start + count]
    return torch.tensor(temps, dtype=torch.float32).repeat(num_prompts)


def position_temperatures(params: SamplingParams) -> torch.Tensor | None:
    """[max_new_tokens] temperature of each completion position, or None."""
    if params.position_temperatures is None:
        return None
    return torch.tensor(params.position_temperatures, dtype=torch.float32)
