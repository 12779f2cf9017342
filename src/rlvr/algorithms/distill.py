"""On-policy distillation as a per-token advantage:
``(advantages_N, old_NT, teacher_NT, mask_NT, cfg) -> (advantages_NT, stats_NT)``.

The student samples, the frozen teacher scores those same tokens, and each token's advantage is
the negative of the sampled reverse-KL estimate log pi_student(y_t) - log pi_teacher(y_t) (GKD,
Agarwal et al. 2024; Thinking Machines "On-policy distillation", 2025; Qwen3's on-policy stage).
Tokens the teacher finds likelier than the student are pushed up, the others down. The result
goes through the unchanged policy-gradient objective (ratio, clip, importance weights).
"""

from __future__ import annotations

import torch

from rlvr.configs.distill import DistillConfig


def reverse_kl_NT(old_NT: torch.Tensor, teacher_NT: torch.Tensor,
                  mask_NT: torch.Tensor) -> torch.Tensor:
    """Per-token sampled reverse KL(student || teacher) = logp_student - logp_teacher, zero off
    the mask (padding positions hold arbitrary logprobs)."""
    return (old_NT - teacher_NT).detach() * mask_NT


def distill_advantages(advantages_N: torch.Tensor, old_NT: torch.Tensor,
                       teacher_NT: torch.Tensor, mask_NT: torch.Tensor, cfg: DistillConfig):
    """advantages_NT: -coef * reverse KL per token, alone ('only') or plus the sample's RL
    advantage on every token ('add'); stats ``distill/reverse_kl`` and
    ``distill/teacher_logprob`` per token (the trainer averages them over the mask)."""
    kl_NT = reverse_kl_NT(old_NT, teacher_NT, mask_NT)
    advantages_NT = -cfg.coef * kl_NT
    if cfg.mode == "add":
        advantages_NT = advantages_NT + advantages_N.reshape(-1, 1)
    stats = {"distill/reverse_kl": kl_NT, "distill/teacher_logprob": teacher_NT.detach()}
    return advantages_NT, stats
