"""Completion logits with each group's shared prompt computed once.

The G samples of a group share one prompt. Instead of running the model over N = B*G full
sequences, run it over the U distinct prompts (U = B when a micro-batch holds whole groups),
copy each prompt's key/value cache to its sequences, and run only the completion tokens on top.
Gradients flow back through the copied cache into the single prompt forward, so the result is
the same function of the weights as the full forward, with about (B*P + N*T) / (N*(P+T)) of the
token work.
"""

from __future__ import annotations

import torch

from rlvr.types import TrainBatch


def full_logits(model, batch: TrainBatch) -> torch.Tensor:
    """logits_NTV of the completion tokens from one forward over the whole sequences."""
    T = batch.completion_len
    # Positions count real tokens only, as in generation with a left-padded prompt.
    position_ids_NL = (batch.attention_mask_NL.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=batch.input_ids_NL, attention_mask=batch.attention_mask_NL,
                position_ids=position_ids_NL, logits_to_keep=T + 1, use_cache=False)
    return out.logits[:, :-1, :]  # position P-1+t predicts completion token t


def distinct_prompts(batch: TrainBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of one representative row per distinct prompt ([U]) and each row's prompt ([N])."""
    P = batch.input_ids_NL.shape[1] - batch.completion_len
    _, inverse_N = torch.unique(batch.input_ids_NL[:, :P], dim=0, return_inverse=True)
    first_U = torch.full((int(inverse_N.max()) + 1,), -1, dtype=torch.long)
    order = torch.arange(len(inverse_N) - 1, -1, -1)  # reversed, so the first occurrence wins
    first_U[inverse_N[order]] = order
    return first_U, inverse_N


def shared_prefix_logits(model, batch: TrainBatch) -> torch.Tensor:
    """Same values as ``full_logits`` (to float rounding), computing every distinct prompt once."""
    T = batch.completion_len
    P = batch.input_ids_NL.shape[1] - T
    first_U, inverse_N = distinct_prompts(batch)
    mask_NL = batch.attention_mask_NL
    prompt_mask_UP = mask_NL[first_U, :P]
    prompt = model(input_ids=batch.input_ids_NL[first_U, :P], attention_mask=prompt_mask_UP,
                   position_ids=(prompt_mask_UP.cumsum(-1) - 1).clamp(min=0),
                   use_cache=True, logits_to_keep=1)
    first_N1V = prompt.logits[inverse_N]  # the last prompt position predicts completion token 0
    if T == 1:
        return first_N1V
    cache = prompt.past_key_values
    cache.reorder_cache(inverse_N)  # [U, ...] -> [N, ...]; an index_select, so differentiable
    positions_NL = (mask_NL.cumsum(-1) - 1).clamp(min=0)
    rest = model(input_ids=batch.input_ids_NL[:, P:P + T - 1], attention_mask=mask_NL[:, :P + T - 1],
                 position_ids=positions_NL[:, P:P + T - 1], past_key_values=cache, use_cache=True)
    return torch.cat([first_N1V, rest.logits], dim=1)


def completion_logits(model, batch: TrainBatch) -> torch.Tensor:
    """logits_NTV of the completion tokens, sharing prompt work when rows repeat a prompt."""
    P = batch.input_ids_NL.shape[1] - batch.completion_len
    distinct = torch.unique(batch.input_ids_NL[:, :P], dim=0).shape[0]
    if distinct == batch.num_sequences:
        return full_logits(model, batch)
    return shared_prefix_logits(model, batch)


def group_aligned_order(batch: TrainBatch, generator: torch.Generator) -> torch.Tensor:
    """A random order of the rows that keeps the rows of each prompt together (groups in random
    order), so minibatches and micro-batches hold whole groups and share their prompt work."""
    _, inverse_N = distinct_prompts(batch)
    rank_U = torch.randperm(int(inverse_N.max()) + 1, generator=generator)
    return torch.sort(rank_U[inverse_N], stable=True).indices
