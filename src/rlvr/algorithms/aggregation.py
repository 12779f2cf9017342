"""Loss aggregation: ``(loss_NT, mask_NT, norm) -> scalar``.

The normalisers in ``BatchNorm`` are counted over the whole optimizer batch (minibatch), so summing
the aggregated losses of its micro-batches gives the same gradient whatever the micro-batch layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BatchNorm:
    """Counts over the whole optimizer batch that the aggregators divide by."""

    num_tokens: int  # loss-mask tokens in the optimizer batch
    num_sequences: int  # sequences in the optimizer batch
    max_completion_len: int  # the configured max new tokens (Dr.GRPO's constant)


def token_mean(loss_NT: torch.Tensor, mask_NT: torch.Tensor, norm: BatchNorm) -> torch.Tensor:
    """DAPO: every valid token of the optimizer batch weighs the same: sum(loss*mask) / tokens."""
    return (loss_NT * mask_NT).sum() / max(norm.num_tokens, 1)


AGGREGATIONS = {"token_mean": token_mean}
