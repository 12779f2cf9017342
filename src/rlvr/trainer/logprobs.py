"""Per-token logprobs (and entropy) of the completion tokens under the current policy."""

from __future__ import annotations

from typing import Literal

import torch

from rlvr.types import TrainBatch

EntropyMode = Literal["off", "detached", "grad"]


def completion_logprobs(model, batch: TrainBatch, temperature: float = 1.0,
                        entropy: EntropyMode = "off"):
    """logprobs_NT (and entropy_NT, or None when ``entropy='off'``) of the completion tokens.

    The logits are divided by the sampling ``temperature``, so the trainer scores the
    distribution the rollout engine sampled from (the sampler's logprobs are taken after the
    temperature, too). Only the last T+1 positions get logits (``logits_to_keep``), so the
    full-vocabulary logits of the prompt are never materialised. Position P-1+t predicts
    completion token t. ``entropy='grad'`` keeps the entropy in the graph (entropy bonus);
    ``'detached'`` computes it as a diagnostic only.
    """
    T = batch.completion_len
    # Positions count real tokens only, as in generation with a left-padded prompt.
    position_ids_NL = (batch.attention_mask_NL.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=batch.input_ids_NL, attention_mask=batch.attention_mask_NL,
                position_ids=position_ids_NL, logits_to_keep=T + 1, use_cache=False)
    logits_NTV = out.logits[:, :-1, :].float()  # [N, T, V]
    if temperature != 1.0:
        logits_NTV = logits_NTV / temperature
    targets_NT = batch.input_ids_NL[:, -T:]
    logp_NTV = torch.log_softmax(logits_NTV, dim=-1)
    logp_NT = logp_NTV.gather(2, targets_NT.unsqueeze(2)).squeeze(2)
    entropy_NT = None
    if entropy == "grad":
        entropy_NT = -(logp_NTV.exp() * logp_NTV).sum(-1)
    elif entropy == "detached":
        with torch.no_grad():
            entropy_NT = -(logp_NTV.exp() * logp_NTV).sum(-1)
    return logp_NT, entropy_NT
