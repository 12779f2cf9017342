"""Every objective against hand-computed losses and gradients, ratios on both sides of the clip
range for positive and negative advantages."""

from __future__ import annotations

import math

import torch

from rlvr.configs.algorithm import (CispoObjectiveConfig, GspoObjectiveConfig, PpoClipObjectiveConfig,
                                    ReinforceObjectiveConfig)
from rlvr.algorithms.objectives import LossInputs, cispo, gspo, ppo_clip, reinforce

RATIOS = [0.5, 1.1, 2.0, 5.0]


def inputs(ratios_NT, adv_N):
    """logp = log(ratio) against old = 0, with the gradient on logp."""
    logp = torch.log(torch.tensor(ratios_NT)).requires_grad_(True)
    return logp, LossInputs(logp, torch.zeros_like(logp), torch.tensor(adv_N),
                            torch.ones_like(logp))


def loss_and_grad(fn, cfg, ratios_NT, adv_N):
    logp, inp = inputs(ratios_NT, adv_N)
    loss, stats = fn(inp, cfg)
    loss.sum().backward()
    return loss.detach(), logp.grad, stats


def test_ppo_clip_dual_clip_both_signs():
    # Row 0, A=+1: -min(r, clip(r, 0.8, 1.2)) = [-0.5, -1.1, -1.2, -1.2]; d/dlogp = -r where the
    #   unclipped term is taken ([-0.5, -1.1]) and 0 where clipped high ([0, 0]).
    # Row 1, A=-1: min(-r, -clip(r)) = [-0.8, -1.1, -2.0, -5.0], floored at c*A = -3 ->
    #   [-0.8, -1.1, -2.0, -3.0]; loss = [0.8, 1.1, 2.0, 3.0]; grads [0 (clipped low), 1.1, 2.0,
    #   0 (dual-clipped)].
    loss, grad, stats = loss_and_grad(ppo_clip, PpoClipObjectiveConfig(dual_clip=3.0),
                                      [RATIOS, RATIOS], [1.0, -1.0])
    assert torch.allclose(loss, torch.tensor([[-0.5, -1.1, -1.2, -1.2], [0.8, 1.1, 2.0, 3.0]]))
    assert torch.allclose(grad, torch.tensor([[-0.5, -1.1, 0.0, 0.0], [0.0, 1.1, 2.0, 0.0]]))
    assert stats["clip_frac_high"].tolist() == [[0, 0, 1, 1], [0, 0, 0, 0]]
    assert stats["clip_frac_low"].tolist() == [[0, 0, 0, 0], [1, 0, 0, 0]]
    assert stats["clip_frac_dual"].tolist() == [[0, 0, 0, 0], [0, 0, 0, 1]]


def test_ppo_clip_without_dual_clip_is_unbounded_for_negative_advantage():
    # A=-1, r=5: min(-5, -1.2) = -5 -> loss 5 with gradient 5.
    loss, grad, _ = loss_and_grad(ppo_clip, PpoClipObjectiveConfig(), [[5.0]], [-1.0])
    assert math.isclose(loss.item(), 5.0, rel_tol=1e-6) and math.isclose(grad.item(), 5.0, rel_tol=1e-6)


def test_ppo_clip_delta_caps_the_ratio_like_dual_clip():
    # delta = 3: the unclipped ratio is clamped at 3 before the min. A=-1, r=5: min(-3, -1.2) = -3
    # -> loss 3, gradient 0; r = 2: min(-2, -1.2) = -2 -> loss 2. A=+1 is unchanged (min <= 1.2).
    loss, grad, _ = loss_and_grad(ppo_clip, PpoClipObjectiveConfig(delta=3.0),
                                  [RATIOS, RATIOS], [1.0, -1.0])
    assert torch.allclose(loss, torch.tensor([[-0.5, -1.1, -1.2, -1.2], [0.8, 1.1, 2.0, 3.0]]))
    assert torch.allclose(grad, torch.tensor([[-0.5, -1.1, 0.0, 0.0], [0.0, 1.1, 2.0, 0.0]]))


def test_ppo_clip_higher():
    # eps_high 0.28: A=+1, r=1.25 is inside [0.8, 1.28] -> loss -1.25, gradient -1.25.
    loss, grad, _ = loss_and_grad(ppo_clip, PpoClipObjectiveConfig(eps_high=0.28), [[1.25]], [1.0])
    assert math.isclose(loss.item(), -1.25, rel_tol=1e-6) and math.isclose(grad.item(), -1.25, rel_tol=1e-6)


def test_gspo_sequence_ratio_and_clip():
    # Row 0 (A=+1): token log-ratios [0.001, 0.003] -> mean 0.002, s = e^0.002 = 1.002002 >
    #   1 + 4e-4, clipped: loss -1.0004 on both tokens, gradient 0.
    # Row 1 (A=-1): log-ratios [0, 0.0002] and a masked token (value ignored) -> mean 1e-4,
    #   s = e^1e-4 = 1.0001; inside the range: loss = s, gradient s on each valid token.
    logp = torch.tensor([[0.001, 0.003, 0.0], [0.0, 0.0002, 9.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    loss, stats = gspo(LossInputs(logp, torch.zeros(2, 3), torch.tensor([1.0, -1.0]), mask),
                       GspoObjectiveConfig())
    (loss * mask).sum().backward()
    s1 = math.exp(1e-4)
    assert torch.allclose(loss * mask, torch.tensor([[-1.0004, -1.0004, 0], [s1, s1, 0]]), atol=1e-7)
    assert torch.allclose(logp.grad, torch.tensor([[0.0, 0.0, 0.0], [s1, s1, 0.0]]), atol=1e-7)
    assert stats["clip_frac_high"][0].tolist() == [1.0, 1.0, 1.0]


def test_cispo_keeps_the_gradient_of_clipped_tokens():
    # A=+2, ratios [0.5, 1.0, 2.0]; weight sg(clip(r, -, 1.28)) = [0.5, 1.0, 1.28].
    # loss = -w * A * logp = -[0.5, 1, 1.28] * 2 * [ln 0.5, 0, ln 2] = [0.693147, 0, -1.774457];
    # gradient -w * A = [-1, -2, -2.56] (the clipped token still learns, at weight 1.28).
    loss, grad, stats = loss_and_grad(cispo, CispoObjectiveConfig(eps_high=0.28), [[0.5, 1.0, 2.0]], [2.0])
    assert torch.allclose(loss, torch.tensor([[0.693147, 0.0, -1.774457]]), atol=1e-5)
    assert torch.allclose(grad, torch.tensor([[-1.0, -2.0, -2.56]]), atol=1e-6)
    assert stats["clip_frac_high"].tolist() == [[0.0, 0.0, 1.0]]


def test_cispo_lower_clip_for_negative_advantage():
    # A=-1, eps_low 0.2: ratio 0.5 -> weight 0.8; gradient -w * A = 0.8.
    _, grad, stats = loss_and_grad(cispo, CispoObjectiveConfig(eps_low=0.2), [[0.5]], [-1.0])
    assert math.isclose(grad.item(), 0.8, rel_tol=1e-6) and stats["clip_frac_low"].item() == 1.0


def test_reinforce_is_minus_advantage_times_logprob():
    # loss = -A * logp = -(-1.5) * ln 0.5 = -1.039721; gradient -A = 1.5 whatever the ratio.
    loss, grad, _ = loss_and_grad(reinforce, ReinforceObjectiveConfig(), [[0.5]], [-1.5])
    assert math.isclose(loss.item(), 1.5 * math.log(0.5), rel_tol=1e-6)
    assert math.isclose(grad.item(), 1.5, rel_tol=1e-6)
