"""The SFT term through the packed forward (completion_logprobs on a TrainBatch) equals a
padded reference computation, values and gradients, for any micro-batch size."""

from __future__ import annotations

import pytest
import torch

from rlvr.models.fastpath import fast_path_blocker
from rlvr.models.loader import Policy
from rlvr.models.prefix import full_logits
from rlvr.trainer.demos import sft_backward

import batches
from fast_models import tiny


def padded_sft_loss(model, batch):
    """-mean over real completion tokens of log p, from the model's own padded forward."""
    logits_NTV = full_logits(model, batch).float()
    targets_NT = batch.input_ids_NL[:, -batch.completion_len:]
    logp_NT = logits_NTV.log_softmax(-1).gather(2, targets_NT[:, :, None]).squeeze(2)
    mask_NT = batch.completion_mask_NT
    return -(logp_NT * mask_NT).sum() / mask_NT.sum()


def grads(model):
    out = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    return out


@pytest.mark.parametrize("micro_batch_size", [1, 5, 100])
def test_sft_backward_equals_the_padded_loss_and_its_gradient(micro_batch_size):
    model = tiny(layers=2, sharpen=1.0).train()
    assert fast_path_blocker(model) is None  # the packed path is the one under test
    batch = batches.grouped_batch(T=6, seed=1, one_token=(1, 2), shuffle=True)
    reference = padded_sft_loss(model, batch)
    reference.backward()
    want = grads(model)
    policy = Policy(model, None, torch.device("cpu"), None)
    got, tokens = sft_backward(policy, batch, 1.0, micro_batch_size)
    assert tokens == int(batch.completion_mask_NT.sum())
    assert got == pytest.approx(float(reference.detach()), rel=1e-5)
    for g, w in zip(grads(model), want):
        torch.testing.assert_close(g, w, atol=1e-6, rtol=1e-4)


def test_coef_scales_the_gradient_and_zero_leaves_none():
    model = tiny(layers=1, sharpen=1.0).train()
    batch = batches.grouped_batch(T=4, seed=2)
    policy = Policy(model, None, torch.device("cpu"), None)
    loss_one, _ = sft_backward(policy, batch, 1.0, 4)
    one = grads(model)
    loss_half, _ = sft_backward(policy, batch, 0.5, 4)
    for g, w in zip(grads(model), one):
        torch.testing.assert_close(g, 0.5 * w)
    loss_zero, _ = sft_backward(policy, batch, 0.0, 4)  # logged only: no graph, no gradient
    assert all(p.grad is None for p in model.parameters())
    assert loss_one == pytest.approx(loss_half) and loss_one == pytest.approx(loss_zero)

