"""Shared-prefix logits equal the full forward (values and gradients), on a tiny model."""

from __future__ import annotations

import pytest
import torch

from rlvr.models.prefix import (completion_logits, distinct_prompts, full_logits,
                                 group_aligned_order, shared_prefix_logits)

from batches import grouped_batch


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)


def _loss_and_grads(model, logits_NTV, batch):
    mask = batch.completion_mask_NT.bool()
    model.zero_grad()
    targets_NT = batch.input_ids_NL[:, -batch.completion_len:]
    logp_NT = logits_NTV.log_softmax(-1).gather(2, targets_NT.unsqueeze(2)).squeeze(2)
    (logp_NT[mask] * 0.37).sum().backward()
    return logp_NT.detach()[mask], [p.grad.clone() for p in model.parameters()]


def test_shared_prefix_matches_full_forward(tiny_model):
    batch = grouped_batch()
    batch = batch.select(torch.randperm(batch.num_sequences, generator=torch.Generator().manual_seed(1)))
    full, grads_full = _loss_and_grads(tiny_model, full_logits(tiny_model, batch), batch)
    shared, grads_shared = _loss_and_grads(tiny_model, shared_prefix_logits(tiny_model, batch), batch)
    assert torch.allclose(full, shared, atol=1e-5)
    for a, b in zip(grads_full, grads_shared):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)


def test_completion_logits_falls_back_when_no_prompt_repeats(tiny_model):
    batch = grouped_batch(B=3, G=1)
    assert torch.allclose(completion_logits(tiny_model, batch), full_logits(tiny_model, batch))


def test_single_token_completions(tiny_model):
    batch = grouped_batch(T=1)
    assert torch.allclose(shared_prefix_logits(tiny_model, batch), full_logits(tiny_model, batch),
                          atol=1e-5)


def test_group_aligned_order_keeps_groups_together():
    batch = grouped_batch(B=4, G=3)
    order = group_aligned_order(batch, torch.Generator().manual_seed(0))
    assert sorted(order.tolist()) == list(range(12))
    _, prompt_of_N = distinct_prompts(batch)
    blocks = prompt_of_N[order].reshape(4, 3)
    assert all(len(set(row.tolist())) == 1 for row in blocks)
