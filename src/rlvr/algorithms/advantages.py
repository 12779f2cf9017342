"""Advantage estimators: ``(rewards_BG, valid_BG, cfg) -> advantages_BG``.

``valid_BG`` is False for unscorable samples and infrastructure errors: they are left out of every
baseline and statistic and get zero advantage.
"""

from __future__ import annotations

import torch

from rlvr.algorithms.config import GrpoAdvantage


def _masked_mean_std(x_BG: torch.Tensor, valid_BG: torch.Tensor, unbiased: bool):
    n_B1 = valid_BG.sum(dim=1, keepdim=True).clamp(min=1)
    mean_B1 = (x_BG * valid_BG).sum(dim=1, keepdim=True) / n_B1
    sq_B1 = (((x_BG - mean_B1) * valid_BG) ** 2).sum(dim=1, keepdim=True)
    dof_B1 = (n_B1 - 1).clamp(min=1) if unbiased else n_B1
    return mean_B1, (sq_B1 / dof_B1).sqrt()


def grpo(rewards_BG: torch.Tensor, valid_BG: torch.Tensor, cfg: GrpoAdvantage) -> torch.Tensor:
    """GRPO (DeepSeekMath, Shao et al. 2024): A_i = (r_i - mean(r_group)) / (std(r_group) + eps).

    The std is the unbiased (G-1) estimator by default, as torch.std and the peers compute it;
    ``std: biased`` divides by G. A group of one, or one whose rewards are all equal, gets 0.
    """
    valid_BG = valid_BG.to(rewards_BG.dtype)
    mean_B1, std_B1 = _masked_mean_std(rewards_BG, valid_BG, unbiased=cfg.std == "unbiased")
    return (rewards_BG - mean_B1) / (std_B1 + cfg.eps) * valid_BG


ADVANTAGES = {"grpo": grpo}
