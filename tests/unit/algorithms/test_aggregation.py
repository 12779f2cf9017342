"""Every aggregation mode against hand-computed values; global normalisers across micro-batches."""

from __future__ import annotations

import pytest
import torch

from rlvr.algorithms.aggregation import AGGREGATIONS, BatchNorm

# Row 0: tokens 1, 2 valid; row 1: token 4 valid; row 2 fully masked (an unscorable sample).
LOSS = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
NORM = BatchNorm.of(MASK, max_completion_len=4)  # 3 tokens, 2 sequences with tokens, L_max 4

EXPECTED = {
    "token_mean": (1 + 2 + 4) / 3,  # 7/3: every valid token weighs the same
    "seq_mean_token_sum": (3 + 4) / 2,  # row sums 3 and 4, over 2 sequences = 3.5
    "seq_mean_token_mean": (1.5 + 4) / 2,  # row means 1.5 and 4, over 2 sequences = 2.75
    "seq_mean_token_sum_norm": 7 / (2 * 4),  # sum 7 over sequences * max_new_tokens = 0.875
}


def test_batch_norm_counts():
    assert NORM == BatchNorm(num_tokens=3, num_sequences=2, max_completion_len=4)


@pytest.mark.parametrize("mode", sorted(AGGREGATIONS))
def test_hand_computed(mode):
    assert AGGREGATIONS[mode](LOSS, MASK, NORM).item() == pytest.approx(EXPECTED[mode])


@pytest.mark.parametrize("mode", sorted(AGGREGATIONS))
def test_micro_batches_sum_to_the_whole_with_global_counts(mode):
    # Rows [0] and [1, 2] aggregated separately with the whole batch's counts add up to the whole.
    agg = AGGREGATIONS[mode]
    parts = agg(LOSS[:1], MASK[:1], NORM) + agg(LOSS[1:], MASK[1:], NORM)
    assert parts.item() == pytest.approx(EXPECTED[mode])


@pytest.mark.parametrize("mode", sorted(AGGREGATIONS))
def test_fully_masked_batch_is_zero_not_nan(mode):
    mask = torch.zeros(2, 3)
    out = AGGREGATIONS[mode](LOSS[:2], mask, BatchNorm.of(mask, 4))
    assert out.item() == 0.0
