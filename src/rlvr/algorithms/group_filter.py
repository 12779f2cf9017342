"""Group filters (dynamic sampling): which groups of a rollout batch carry a learning signal.

``zero_variance`` decides per group; ``fill_groups`` keeps sampling until the batch is full or
the round bound is reached. The trainer passes it a ``sample_more(n_prompts) -> groups`` callable
that runs rollout and reward; nothing here knows about engines or verifiers.
"""

from __future__ import annotations

from typing import Callable

import torch

from rlvr.configs.algorithm_extras import GroupFilterConfig
from rlvr.types import Group


def group_rewards(groups: list[Group]) -> tuple[torch.Tensor, torch.Tensor]:
    """rewards_BG (0 where not scored) and valid_BG (False for unscorable / infra errors)."""
    rewards_BG = torch.tensor([[s.reward.score if s.reward.score is not None else 0.0
                                for s in g.samples] for g in groups], dtype=torch.float32)
    valid_BG = torch.tensor([[s.reward.outcome == "scored" for s in g.samples] for g in groups])
    return rewards_BG, valid_BG


def zero_variance(rewards_BG: torch.Tensor, valid_BG: torch.Tensor,
                  cfg: GroupFilterConfig) -> torch.Tensor:
    """DAPO dynamic sampling (Yu et al. 2025): keep_B is False for a group whose valid rewards have
    a (biased) std <= min_std, i.e. all-right or all-wrong groups whose advantages are all zero.
    A threshold, not an exact ``std != 0`` test, so float noise in shaped rewards cannot pass."""
    valid = valid_BG.to(rewards_BG.dtype)
    n_B = valid.sum(1).clamp(min=1)
    mean_B1 = ((rewards_BG * valid).sum(1) / n_B).unsqueeze(1)
    std_B = ((((rewards_BG - mean_B1) * valid) ** 2).sum(1) / n_B).sqrt()
    return std_B > cfg.min_std


def fill_groups(groups: list[Group], cfg: GroupFilterConfig | None,
                sample_more: Callable[[int], list[Group]]) -> tuple[list[Group], dict[str, float]]:
    """Drop the groups without signal and sample more prompts until ``len(groups)`` are kept or
    ``max_rounds`` rounds (the first included) have run. The kept groups, at most the target
    number; when none survives, the last round's groups (zero advantages: a no-op policy step).
    Metrics: share of sampled groups dropped, rounds used, batch fill (kept / target)."""
    if cfg is None:
        return groups, {}
    target, kept, sampled, rounds, latest = len(groups), [], 0, 0, groups
    while True:
        rounds += 1
        sampled += len(latest)
        keep_B = zero_variance(*group_rewards(latest), cfg)
        kept += [g for g, k in zip(latest, keep_B.tolist()) if k]
        if len(kept) >= target or rounds >= cfg.max_rounds:
            break
        latest = sample_more(target - len(kept))
    out = kept[:target] if kept else latest
    return out, {"groups/dropped_share": 1 - len(kept) / max(sampled, 1),
                 "groups/filter_rounds": float(rounds),
                 "groups/batch_fill": min(len(kept), target) / max(target, 1)}
