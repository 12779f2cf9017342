"""From scored groups to a padded TrainBatch with advantages (the advantage stage)."""

from __future__ import annotations

from typing import Callable

import torch

from rlvr.types import Group, TrainBatch


def group_rewards(groups: list[Group]):
    """rewards_BG (0 where not scored) and valid_BG (False for unscorable / infra errors)."""
    rewards_BG = torch.tensor([[s.reward.score if s.reward.score is not None else 0.0
                                for s in g.samples] for g in groups], dtype=torch.float32)
    valid_BG = torch.tensor([[s.reward.outcome == "scored" for s in g.samples] for g in groups])
    return rewards_BG, valid_BG


def build_train_batch(groups: list[Group], advantage_fn: Callable, pad_id: int) -> TrainBatch:
    """Advantages from the group rewards, then prompts left-padded and completions right-padded."""
    rewards_BG, valid_BG = group_rewards(groups)
    advantages_N = advantage_fn(rewards_BG, valid_BG).reshape(-1)  # [B, G] -> [N] in group order
    samples = [s for g in groups for s in g.samples]
    P = max(len(s.prompt_ids) for s in samples)
    T = max(max(len(s.completion_ids) for s in samples), 1)
    N = len(samples)
    input_ids_NL = torch.full((N, P + T), pad_id, dtype=torch.long)
    attention_NL = torch.zeros((N, P + T), dtype=torch.long)
    mask_NT = torch.zeros((N, T))
    sampler_NT = torch.zeros((N, T))
    for n, s in enumerate(samples):
        p, t = len(s.prompt_ids), len(s.completion_ids)
        input_ids_NL[n, P - p:P] = torch.tensor(s.prompt_ids)
        input_ids_NL[n, P:P + t] = torch.tensor(s.completion_ids, dtype=torch.long)
        attention_NL[n, P - p:P + t] = 1
        mask_NT[n, :t] = 1.0
        sampler_NT[n, :t] = torch.tensor(s.sampler_logprobs)
    # Samples without a score carry no learning signal: their tokens leave the loss entirely.
    mask_NT *= valid_BG.reshape(-1, 1).float()
    truncated_N = torch.tensor([s.finish_reason == "length" for s in samples])
    return TrainBatch(input_ids_NL, attention_NL, mask_NT, advantages_N, sampler_NT, truncated_N)
