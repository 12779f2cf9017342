"""Padded TrainBatch builders for tests of the update's forward paths."""

from __future__ import annotations

import torch

from rlvr.types import TrainBatch


def grouped_batch(B=3, G=4, P=7, T=5, vocab=90, seed=0, one_token=None,
                  shuffle=False) -> TrainBatch:
    """B prompts of different lengths (prompt b has b tokens of left padding), G completions of
    different lengths each; ``one_token=(b, g)`` makes that completion a single token, and
    ``shuffle`` permutes the rows so groups are not contiguous."""
    gen = torch.Generator().manual_seed(seed)
    N = B * G
    ids_NL = torch.randint(5, vocab, (N, P + T), generator=gen)
    mask_NL = torch.ones(N, P + T, dtype=torch.long)
    for b in range(B):
        prompt_P = torch.randint(5, vocab, (P,), generator=gen)
        for g in range(G):
            n = b * G + g
            ids_NL[n, :P] = prompt_P
            ids_NL[n, :b], mask_NL[n, :b] = 0, 0
            length = 1 if (b, g) == one_token else T - g % 3
            ids_NL[n, P + length:], mask_NL[n, P + length:] = 0, 0
    batch = TrainBatch(ids_NL, mask_NL, mask_NL[:, P:].float(), torch.randn(N, generator=gen),
                       torch.zeros(N, T), torch.zeros(N, dtype=torch.bool))
    return batch.select(torch.randperm(N, generator=gen)) if shuffle else batch
