"""Per-token policy objectives: ``(LossInputs, cfg) -> (loss_NT, stats_NT)``.

``loss_NT`` is the per-token loss to minimise (before aggregation); ``stats_NT`` maps metric names
to per-token indicator or value tensors that the trainer averages over the loss mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rlvr.algorithms.config import PpoClipObjective


@dataclass(frozen=True)
class LossInputs:
    """Everything an objective may need; optional fields are None when the algorithm has no use."""

    logprobs_NT: torch.Tensor  # current policy, carries the gradient
    old_logprobs_NT: torch.Tensor  # the policy that the ratio is taken against (no gradient)
    advantages_N: torch.Tensor
    mask_NT: torch.Tensor


def ppo_clip(inp: LossInputs, cfg: PpoClipObjective):
    """PPO-clip (Schulman et al. 2017) with DAPO's decoupled bounds:
    loss = -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A), ratio = exp(logp - logp_old).
    """
    adv_N1 = inp.advantages_N.unsqueeze(1)
    ratio_NT = torch.exp(inp.logprobs_NT - inp.old_logprobs_NT)
    clipped_NT = ratio_NT.clamp(1 - cfg.eps_low, 1 + cfg.eps_high)
    loss_NT = -torch.minimum(ratio_NT * adv_N1, clipped_NT * adv_N1)
    with torch.no_grad():
        stats = {
            "clip_frac_low": ((ratio_NT < 1 - cfg.eps_low) & (adv_N1 < 0)).float(),
            "clip_frac_high": ((ratio_NT > 1 + cfg.eps_high) & (adv_N1 > 0)).float(),
            "ratio": ratio_NT.detach(),
        }
    return loss_NT, stats


OBJECTIVES = {"ppo_clip": ppo_clip}
