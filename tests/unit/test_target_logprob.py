"""models/target_logprob.py: the fused target log-probability equals log_softmax + gather, in
value and gradient, with the entropy of each row; hand-computed on a 2-token vocabulary."""

from __future__ import annotations

import math

import torch

from rlvr.models.target_logprob import target_logprob


def test_by_hand_on_two_tokens():
    logits = torch.tensor([[0.0, math.log(3.0)]], requires_grad=True)  # p = (1/4, 3/4)
    logp, entropy = target_logprob(logits, torch.tensor([1]), with_entropy=True)
    torch.testing.assert_close(logp, torch.tensor([math.log(0.75)]))
    torch.testing.assert_close(entropy, torch.tensor([-(0.25 * math.log(0.25)
                                                        + 0.75 * math.log(0.75))]))
    logp.sum().backward()
    torch.testing.assert_close(logits.grad, torch.tensor([[-0.25, 0.25]]))  # onehot - p


def test_equals_log_softmax_gather_in_value_and_gradient():
    torch.manual_seed(0)
    logits_MV = (torch.randn(7, 50) * 4).requires_grad_()
    target_M = torch.randint(0, 50, (7,))
    weights_M = torch.randn(7)
    logp_M, entropy_M = target_logprob(logits_MV, target_M, with_entropy=True)
    (logp_M * weights_M).sum().backward()
    fused_grad = logits_MV.grad.clone()
    logits_MV.grad = None
    ref_MV = torch.log_softmax(logits_MV, -1)
    ref_M = ref_MV.gather(1, target_M[:, None])[:, 0]
    (ref_M * weights_M).sum().backward()
    torch.testing.assert_close(logp_M, ref_M)
    torch.testing.assert_close(entropy_M, -(ref_MV.exp() * ref_MV).sum(-1).detach())
    torch.testing.assert_close(fused_grad, logits_MV.grad)
    assert not entropy_M.requires_grad


def test_bf16_logits_get_a_bf16_gradient_and_fp32_logprobs():
    logits = torch.randn(3, 16, dtype=torch.bfloat16, requires_grad=True)
    logp, entropy = target_logprob(logits, torch.tensor([0, 5, 15]))
    assert logp.dtype == torch.float32 and entropy is None
    logp.sum().backward()
    assert logits.grad.dtype == torch.bfloat16
