"""KL estimators between the policy and a frozen reference: ``(logp_NT, ref_logp_NT) -> kl_NT``.

Schulman's estimators of KL(pi || ref) from samples of pi, with x = log(ref / pi) = ref - logp:
k1 = -x (unbiased, high variance, can be negative); k2 = x^2 / 2 (biased, low variance);
k3 = exp(x) - x - 1 (unbiased and always >= 0; GRPO's choice). Where the KL goes (loss or reward)
is decided by ``KlPenaltyConfig.placement``; ``kl_in_reward_N`` is the reward-side form.
"""

from __future__ import annotations

import torch

from rlvr.configs.algorithm_extras import KlPenaltyConfig


def k1(logp_NT: torch.Tensor, ref_logp_NT: torch.Tensor) -> torch.Tensor:
    """log(pi / ref): the plain log-ratio."""
    return logp_NT - ref_logp_NT


def k2(logp_NT: torch.Tensor, ref_logp_NT: torch.Tensor) -> torch.Tensor:
    """(log(pi / ref))^2 / 2: its gradient is the log-ratio times grad logp."""
    return 0.5 * (logp_NT - ref_logp_NT) ** 2


def k3(logp_NT: torch.Tensor, ref_logp_NT: torch.Tensor) -> torch.Tensor:
    """ref/pi - log(ref/pi) - 1 >= 0. The exponent is clamped at 20 so a token the reference
    finds far likelier than the policy cannot overflow to inf."""
    x_NT = (ref_logp_NT - logp_NT).clamp(max=20.0)
    return torch.exp(x_NT) - x_NT - 1


def kl_in_reward_N(sampler_logp_NT: torch.Tensor, ref_logp_NT: torch.Tensor,
                   mask_NT: torch.Tensor, cfg: KlPenaltyConfig) -> torch.Tensor:
    """The per-sequence KL that ``placement: reward`` subtracts (times coef) from the reward: the
    estimator summed over the completion's tokens, at the sampler's logprobs (the policy that
    produced the tokens). A sequence-level simplification of per-token KL rewards: with outcome
    rewards and no discount the two differ only in how the penalty spreads over positions."""
    return (ESTIMATORS[cfg.estimator](sampler_logp_NT, ref_logp_NT) * mask_NT).sum(1)


ESTIMATORS = {"k1": k1, "k2": k2, "k3": k3}
