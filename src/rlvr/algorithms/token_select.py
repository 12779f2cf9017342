"""Token selection: which tokens keep their policy gradient.
``(entropy_NT, mask_NT, cfg) -> keep_NT``."""

from __future__ import annotations

import math

import torch

from rlvr.configs.algorithm_extras import TokenSelectConfig


def top_entropy(entropy_NT: torch.Tensor, mask_NT: torch.Tensor, cfg: TokenSelectConfig) -> torch.Tensor:
    """80/20 forking tokens (Wang et al. 2025, "Beyond the 80/20 rule"): keep the ceil(top * n)
    highest-entropy tokens among the n valid tokens of the optimizer batch (ties at the threshold
    are all kept); the rest get weight 0 in the policy loss.

    Called once per optimizer batch with the entropies of the rollout policy, so the threshold
    does not depend on the micro-batch layout. Normalisers still count every valid token: a kept
    token's gradient is what it would be without selection.
    """
    valid_NT = mask_NT > 0
    n = int(valid_NT.sum())
    if n == 0:
        return torch.zeros_like(mask_NT)
    k = max(1, math.ceil(cfg.top * n))
    threshold = torch.topk(entropy_NT[valid_NT], k).values.min()
    return ((entropy_NT >= threshold) & valid_NT).to(mask_NT.dtype)
