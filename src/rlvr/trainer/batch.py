"""From scored groups to a padded TrainBatch with advantages (the advantage stage)."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import torch

from rlvr.algorithms import Algorithm
from rlvr.algorithms.group_filter import group_rewards
from rlvr.trainer.parallel import Dist
from rlvr.types import Group, TrainBatch

__all__ = ["build_train_batch", "group_rewards", "pad_groups"]


def pad_groups(groups: list[Group], pad_id: int) -> TrainBatch:
    """Prompts left-padded and completions right-padded; advantages still zero."""
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
        # Environment tokens (tool output, feedback) are context, never trained.
        mask_NT[n, :t] = 1.0 if s.loss_mask is None else torch.tensor(s.loss_mask,
                                                                       dtype=torch.float)
        sampler_NT[n, :t] = torch.tensor(s.sampler_logprobs)
    truncated_N = torch.tensor([s.finish_reason == "length" for s in samples])
    temps = [s.temperature for s in samples]  # rollout.temperatures: each row's own
    temperature_N = None if None in temps else torch.tensor(temps, dtype=torch.float32)
    expert_N = torch.tensor([s.expert for s in samples]) if any(s.expert for s in samples) \
        else None  # algorithm.expert_traces: those rows take the expert loss
    if all(s.token_temperatures is not None for s in samples):  # a schedule: each token's own
        temperature_N = torch.ones(N, T)  # [N, T]; 1.0 on padding, which is never scored
        for n, s in enumerate(samples):
            temperature_N[n, :len(s.token_temperatures)] = torch.tensor(s.token_temperatures)
    return TrainBatch(input_ids_NL, attention_NL, mask_NT, torch.zeros(N), sampler_NT, truncated_N,
                      temperature_N=temperature_N, expert_N=expert_N)


def build_train_batch(groups: list[Group], algo: Algorithm, pad_id: int,
                      ref_logprobs: Callable[[TrainBatch], torch.Tensor] | None = None,
                      dist: Dist | None = None,
                      teacher_logprobs: Callable[[TrainBatch], torch.Tensor] | None = None
                      ) -> tuple[TrainBatch, dict[str, float]]:
    """Padded tensors, the loss mask, reference logprobs (only when KL is on), teacher logprobs
    (only with distillation), reward shaping by KL when it sits in the reward, then the
    advantages. Returns the batch and its metrics.
    With several ranks ``groups`` are this rank's; advantages see every rank's groups (batch
    whitening needs them all) and the metrics are those of the whole batch."""
    dist = dist or Dist()
    rewards_BG, valid_BG = group_rewards(groups)
    batch = pad_groups(groups, pad_id)
    # Samples without a score carry no learning signal: their tokens leave the loss entirely.
    mask_NT = batch.completion_mask_NT * valid_BG.reshape(-1, 1).float()
    mask_NT = algo.loss_mask(mask_NT, batch.truncated_N)
    ref_NT = None if ref_logprobs is None else ref_logprobs(batch)
    teacher_NT = None if teacher_logprobs is None else teacher_logprobs(batch)
    rewards_BG, metrics = algo.shape_rewards(rewards_BG, batch.sampler_logprobs_NT, ref_NT, mask_NT)
    if dist.active:  # per-rank means of the shaping statistics -> their mean over ranks
        metrics = dict(zip(metrics, (v / dist.world for v in dist.sum_floats(
            list(metrics.values())))))
    # Token counts after the loss mask: token-level whitening weighs what the loss will see.
    tokens_BG = mask_NT.sum(1).reshape(rewards_BG.shape)
    all_rewards_BG, all_tokens_BG = dist.cat(rewards_BG), dist.cat(tokens_BG)
    all_valid_BG = dist.cat(valid_BG.to(torch.uint8)).bool()
    all_advantages_N = algo.sample_advantages(all_rewards_BG, all_valid_BG, all_tokens_BG)
    advantages_N = all_advantages_N.reshape(dist.world, -1)[dist.rank]
    valid_N = all_valid_BG.reshape(-1)
    if valid_N.any():
        metrics["advantage/mean"] = float(all_advantages_N[valid_N].mean())
        metrics["advantage/abs_mean"] = float(all_advantages_N[valid_N].abs().mean())
        metrics["advantage/zero_share"] = float((all_advantages_N[valid_N] == 0).float().mean())
    kept, total = dist.sum_floats([float(mask_NT.sum()), float(batch.completion_mask_NT.sum())])
    metrics["update/loss_token_share"] = kept / max(total, 1.0)
    return replace(batch, completion_mask_NT=mask_NT, advantages_N=advantages_N,
                   ref_logprobs_NT=ref_NT, teacher_logprobs_NT=teacher_NT), metrics
