"""Off-policy correction between the rollout engine and the trainer:
``(old_logp_NT, sampler_logp_NT, mask_NT, cfg) -> (weight_NT, stats_NT)``.

The sampler's logprobs (vLLM, bf16 decoding, other batch shapes) differ from the trainer's for the
same weights, so the data is slightly off-policy even with one optimizer step per batch. The weight
w = pi_trainer_old / pi_sampler multiplies the policy loss of each token (Yao et al. 2025,
"Your efficient RL framework secretly brings you off-policy RL training"). Sequence level uses
the product of the token ratios of the completion.
"""

from __future__ import annotations

import math

import torch

from rlvr.configs.algorithm_extras import OffPolicyCorrectionConfig


def _log_weights(old_NT: torch.Tensor, sampler_NT: torch.Tensor, mask_NT: torch.Tensor,
                 level: str) -> torch.Tensor:
    log_w_NT = (old_NT - sampler_NT).detach() * mask_NT
    if level == "sequence":
        return log_w_NT.sum(1, keepdim=True).expand_as(log_w_NT)
    return log_w_NT


def truncate(old_NT: torch.Tensor, sampler_NT: torch.Tensor, mask_NT: torch.Tensor,
             cfg: OffPolicyCorrectionConfig):
    """Truncated IS: weight min(w, cap). Bias traded for bounded variance."""
    log_w_NT = _log_weights(old_NT, sampler_NT, mask_NT, cfg.level)
    w_NT = torch.exp(log_w_NT.clamp(max=math.log(cfg.cap)))
    return w_NT, {"is_weight": w_NT, "is_capped": (log_w_NT > math.log(cfg.cap)).float()}


def mask(old_NT: torch.Tensor, sampler_NT: torch.Tensor, mask_NT: torch.Tensor,
         cfg: OffPolicyCorrectionConfig):
    """Masked IS: weight 1 when w lies in [1/cap, cap], else 0 (the token, or the whole sequence,
    is dropped from the policy loss). No reweighting inside the band."""
    log_w_NT = _log_weights(old_NT, sampler_NT, mask_NT, cfg.level)
    keep_NT = (log_w_NT.abs() <= math.log(cfg.cap)).to(mask_NT.dtype)
    return keep_NT, {"is_weight": torch.exp(log_w_NT.clamp(-20, 20)), "is_capped": 1 - keep_NT}


CORRECTIONS = {"truncate": truncate, "mask": mask}
