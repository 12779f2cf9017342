"""Per-token logprobs (and entropy) of the completion tokens under the current policy."""

from __future__ import annotations

from typing import Literal

import torch

from rlvr.models.fastpath import fast_path_blocker
from rlvr.models.packed import packed_logprobs
from rlvr.models.prefix import completion_logits
from rlvr.types import TrainBatch

EntropyMode = Literal["off", "detached", "grad"]


def completion_logprobs(model, batch: TrainBatch, temperature: float = 1.0,
                        entropy: EntropyMode = "off"):
    """logprobs_NT (and entropy_NT, or None when ``entropy='off'``) of the completion tokens.

    The logits are divided by the sampling ``temperature``, so the trainer scores the
    distribution the rollout engine sampled from (the sampler's logprobs are taken after the
    temperature, too). Models the fast path supports run padding-free (models/packed.py);
    others run padded, with a prompt shared by several rows computed once (models/prefix.py).
    Either way only completion positions get logits. ``entropy='grad'`` keeps the entropy in
    the graph (entropy bonus); ``'detached'`` computes it as a diagnostic only. A batch with
    ``temperature_N`` scores each row ([N], rollout.temperatures) or each token ([N, T],
    rollout.temperature_schedule) at its own temperature instead.
    """
    if batch.temperature_N is not None:
        temperature = batch.temperature_N.to(batch.input_ids_NL.device)
    if fast_path_blocker(model) is None:
        return packed_logprobs(model, batch, temperature, entropy)
    return padded_logprobs(model, batch, temperature, entropy)


def padded_logprobs(model, batch: TrainBatch, temperature: float = 1.0,
                    entropy: EntropyMode = "off"):
    """``completion_logprobs`` through the model's own forward over the padded batch."""
    T = batch.completion_len
    logits_NTV = completion_logits(model, batch).float()  # [N, T, V]; shared prompts run once
    if isinstance(temperature, torch.Tensor):  # one per row [N] or per token [N, T]
        temp_NT = temperature[:, None] if temperature.dim() == 1 else temperature
        logits_NTV = logits_NTV / temp_NT[:, :T, None]
    elif temperature != 1.0:
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
