"""Several sampling temperatures within a group (``rollout.temperatures``).

The split is deterministic and the same for every group: with K temperatures and G samples,
sample j (0..G-1) gets ``temperatures[j * K // G]``, so the group is cut into K contiguous blocks
as equal as possible (G=8, [0.6, 1.0, 1.2] -> 0.6 x3, 1.0 x3, 1.2 x2). One listed temperature
is the plain scalar path (bit-identical to ``rollout.temperature``).
"""

from __future__ import annotations

import torch

from rlvr.rollout.engine import SamplingParams


def split(temperatures: list[float], group_size: int) -> tuple[float, ...]:
    """The temperature of each of a group's ``group_size`` samples, in sample order."""
    k = len(temperatures)
    return tuple(float(temperatures[j * k // group_size]) for j in range(group_size))


def rollout_params(max_new_tokens: int, temperature: float, top_p: float,
                   temperatures: list[float] | None, group_size: int) -> SamplingParams:
    """The rollout's SamplingParams: a per-sample temperature tuple only when there are several."""
    if temperatures is None:
        return SamplingParams(max_new_tokens, temperature, top_p)
    if len(set(temperatures)) == 1:
        return SamplingParams(max_new_tokens, float(temperatures[0]), top_p)
    return SamplingParams(max_new_tokens, temperature, top_p,
                          temperatures=split(temperatures, group_size))


def row_temperatures(params: SamplingParams, num_prompts: int) -> torch.Tensor | None:
    """[num_prompts * n] temperatures of the decode rows (prompt b's samples at b*n..), or None."""
    if params.temperatures is None:
        return None
    return torch.tensor(params.temperatures, dtype=torch.float32).repeat(num_prompts)
