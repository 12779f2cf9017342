"""Sample weighting and masking applied between the advantage and the loss."""

from __future__ import annotations

import torch

from rlvr.configs.algorithm_extras import SampleWeightsConfig


def sign_weights(advantages_N: torch.Tensor, cfg: SampleWeightsConfig) -> torch.Tensor:
    """Positive/negative sample reinforcement (Zhu et al. 2025, "The surprising effectiveness of
    negative reinforcement in LLM reasoning"): A * positive where A > 0, A * negative where A < 0.
    NSR (positive 0) only pushes wrong answers down and keeps pass@k at large k; PSR (negative 0)
    sharpens pass@1; W-REINFORCE uses positive 0.1, negative 1."""
    weight_N = torch.where(advantages_N > 0, cfg.positive, cfg.negative)
    return advantages_N * weight_N


def mask_truncated(mask_NT: torch.Tensor, truncated_N: torch.Tensor) -> torch.Tensor:
    """DAPO overlong filtering (Yu et al. 2025): completions cut off at max_new_tokens leave the
    loss (an unfinished answer's reward says little about its tokens)."""
    return mask_NT * (~truncated_N.bool()).to(mask_NT.dtype).unsqueeze(1)
