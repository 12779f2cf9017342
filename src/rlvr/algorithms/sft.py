"""The SFT term: demonstrations as a TrainBatch and their masked negative log-likelihood.

A demonstration is a row's reference, tokenized on its own and ended by the stop token, placed
after the row's chat-templated prompt ids: exactly the token sequence the rollout engine would
have to generate to answer with the reference. The loss is the token mean of -log p over the
whole optimizer batch (``BatchNorm``), so splitting it into micro-batches leaves it unchanged:

    L_sft = -sum_{n,t} mask_NT * logp_NT / num_tokens(optimizer batch)
"""

from __future__ import annotations

import torch

from rlvr.algorithms.aggregation import BatchNorm, token_mean
from rlvr.types import TaskRow


def sft_loss(logp_NT: torch.Tensor, mask_NT: torch.Tensor, norm: BatchNorm) -> torch.Tensor:
    """This micro-batch's share of the optimizer batch's token-mean NLL (summing the shares of
    every micro-batch gives the batch's loss)."""
    return token_mean(-logp_NT, mask_NT, norm)


def has_reference(row: TaskRow) -> bool:
    """A row can be a demonstration when its reference is not blank."""
    return bool(row.reference.strip())


def demonstration_ids(tokenizer, reference: str, stop_id: int | None,
                      max_target_tokens: int) -> list[int]:
    """The reference's tokens (no special tokens added) and the stop token, cut at
    ``max_target_tokens``."""
    ids = tokenizer(reference, add_special_tokens=False)["input_ids"]
    ids = ids + ([] if stop_id is None else [stop_id])
    return ids[:max_target_tokens]
