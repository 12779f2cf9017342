"""Per-token logprobs (and entropy) of the completion tokens under the current policy."""

from __future__ import annotations

import torch

from rlvr.types import TrainBatch


def completion_logprobs(model, batch: TrainBatch, with_entropy: bool = False):
    """logprobs_NT (and entropy_NT or None) of the completion tokens.

    Only the last T+1 positions get logits (``logits_to_keep``), so the full-vocabulary logits of
    the prompt are never materialised. Position P-1+t predicts completion token t.
    """
    T = batch.completion_len
    # Positions count real tokens only, as in generation with a left-padded prompt.
    position_ids_NL = (batch.attention_mask_NL.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=batch.input_ids_NL, attention_mask=batch.attention_mask_NL,
                position_ids=position_ids_NL, logits_to_keep=T + 1, use_cache=False)
    logits_NTV = out.logits[:, :-1, :].float()  # [N, T, V]
    targets_NT = batch.input_ids_NL[:, -T:]
    logp_NTV = torch.log_softmax(logits_NTV, dim=-1)
    logp_NT = logp_NTV.gather(2, targets_NT.unsqueeze(2)).squeeze(2)
    entropy_NT = None
    if with_entropy:  # a diagnostic here: no gradient flows through it
        with torch.no_grad():
            entropy_NT = -(logp_NTV.exp() * logp_NTV).sum(-1)
    return logp_NT, entropy_NT
