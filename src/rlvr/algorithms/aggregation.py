"""Loss aggregation: ``(loss_NT, mask_NT, norm) -> scalar``.

The normalisers in ``BatchNorm`` are counted over the whole optimizer batch (minibatch), so summing
the aggregated losses of its micro-batches gives the same gradient whatever the micro-batch layout.
Per-sequence lengths are a property of one row and need no global count.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BatchNorm:
    """Counts over the whole optimizer batch that the aggregators divide by."""

    num_tokens: int  # loss-mask tokens in the optimizer batch
    num_sequences: int  # sequences with at least one loss token in the optimizer batch
    max_completion_len: int  # the configured max new tokens (Dr.GRPO's constant)

    @classmethod
    def of(cls, mask_NT: torch.Tensor, max_completion_len: int) -> "BatchNorm":
        """The counts of a whole optimizer batch's loss mask."""
        return cls(num_tokens=int(mask_NT.sum()), num_sequences=int((mask_NT.sum(1) > 0).sum()),
                   max_completion_len=max_completion_len)


def token_mean(loss_NT: torch.Tensor, mask_NT: torch.Tensor, norm: BatchNorm) -> torch.Tensor:
    """DAPO (Yu et al. 2025): every valid token of the optimizer batch weighs the same:
    sum(loss * mask) / tokens. Long completions weigh more than short ones, in proportion."""
    return (loss_NT * mask_NT).sum() / max(norm.num_tokens, 1)


def seq_mean_token_sum(loss_NT: torch.Tensor, mask_NT: torch.Tensor,
                       norm: BatchNorm) -> torch.Tensor:
    """Sum over each sequence's tokens, mean over sequences: sum(loss * mask) / sequences.
    The REINFORCE / RLOO form (the sequence's log-probability is a sum over tokens)."""
    return (loss_NT * mask_NT).sum() / max(norm.num_sequences, 1)


def seq_mean_token_mean(loss_NT: torch.Tensor, mask_NT: torch.Tensor,
                        norm: BatchNorm) -> torch.Tensor:
    """GRPO paper (Shao et al. 2024): mean over each sequence's tokens, then over sequences.
    Every sequence weighs the same, so each token of a long answer weighs less (length bias,
    Liu et al. 2025). A fully masked row adds 0 and is not counted."""
    per_seq_N = (loss_NT * mask_NT).sum(1) / mask_NT.sum(1).clamp(min=1)
    return per_seq_N.sum() / max(norm.num_sequences, 1)


def seq_mean_token_sum_norm(loss_NT: torch.Tensor, mask_NT: torch.Tensor,
                            norm: BatchNorm) -> torch.Tensor:
    """Dr.GRPO (Liu et al. 2025): sum(loss * mask) / (sequences * max_new_tokens). The normaliser
    is a constant of the config, so neither the answer length nor the padding changes a token's
    weight."""
    return (loss_NT * mask_NT).sum() / max(norm.num_sequences * norm.max_completion_len, 1)


AGGREGATIONS = {
    "token_mean": token_mean,
    "seq_mean_token_sum": seq_mean_token_sum,
    "seq_mean_token_mean": seq_mean_token_mean,
    "seq_mean_token_sum_norm": seq_mean_token_sum_norm,
}
