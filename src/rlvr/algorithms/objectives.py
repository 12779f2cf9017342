"""Per-token policy objectives: ``(LossInputs, cfg) -> (loss_NT, stats_NT)``.

``loss_NT`` is the per-token loss to minimise (before aggregation); ``stats_NT`` maps metric names
to per-token indicator or value tensors that the trainer averages over the loss mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rlvr.configs.algorithm import (CispoObjectiveConfig, GspoObjectiveConfig, PpoClipObjectiveConfig,
                                    ReinforceObjectiveConfig)


@dataclass(frozen=True)
class LossInputs:
    """Everything the per-token loss may need; optional fields are None when the algorithm has no
    use for them (the trainer computes only what ``Algorithm`` says it needs)."""

    logprobs_NT: torch.Tensor  # current policy, carries the gradient
    old_logprobs_NT: torch.Tensor  # the policy that the ratio is taken against (no gradient)
    advantages_N: torch.Tensor  # [N] per sample, or [N, T] per token (distillation)
    mask_NT: torch.Tensor
    sampler_logprobs_NT: torch.Tensor | None = None  # the rollout engine's own logprobs
    ref_logprobs_NT: torch.Tensor | None = None  # the frozen reference policy (KL in the loss)
    entropy_NT: torch.Tensor | None = None  # with gradient when an entropy bonus is on
    select_NT: torch.Tensor | None = None  # 1.0 where the token selector keeps the token
    expert_N: torch.Tensor | None = None  # bool: expert-trace rows (algorithm.expert_traces)
    teacher_logprobs_NT: torch.Tensor | None = None  # the distillation teacher's (no gradient)

    def advantages_NT(self) -> torch.Tensor:
        """The advantage in a shape that broadcasts against [N, T]: [N, 1] or [N, T]."""
        adv = self.advantages_N
        return adv.unsqueeze(1) if adv.dim() == 1 else adv


def ppo_clip(inp: LossInputs, cfg: PpoClipObjectiveConfig):
    """PPO-clip (Schulman et al. 2017) with DAPO's decoupled bounds (Yu et al. 2025):
    loss = -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A),
    ratio = exp(logp - logp_old).

    ``dual_clip`` c (Ye et al. 2020): for A < 0 the objective is also floored at c * A, so a token
    whose ratio has run far above 1 cannot produce an unbounded loss. ``delta`` (INTELLECT-2): the
    unclipped ratio is clamped at delta before the min. For A > 0 the min already stops at
    1 + eps_high, so both caps only bite for A < 0 and give the same values there.
    """
    adv_N1 = inp.advantages_NT()  # [N, 1], or [N, T] per token
    ratio_NT = torch.exp(inp.logprobs_NT - inp.old_logprobs_NT)
    capped_NT = ratio_NT if cfg.delta is None else ratio_NT.clamp(max=cfg.delta)
    clipped_NT = ratio_NT.clamp(1 - cfg.eps_low, 1 + cfg.eps_high)
    objective_NT = torch.minimum(capped_NT * adv_N1, clipped_NT * adv_N1)
    if cfg.dual_clip is not None:
        objective_NT = torch.where(adv_N1 < 0, torch.maximum(objective_NT, cfg.dual_clip * adv_N1),
                                   objective_NT)
    with torch.no_grad():
        stats = {
            "clip_frac_low": ((ratio_NT < 1 - cfg.eps_low) & (adv_N1 < 0)).float(),
            "clip_frac_high": ((ratio_NT > 1 + cfg.eps_high) & (adv_N1 > 0)).float(),
            "ratio": ratio_NT.detach(),
        }
        cap = min(c for c in (cfg.dual_clip, cfg.delta, float("inf")) if c is not None)
        if cap != float("inf"):
            stats["clip_frac_dual"] = ((ratio_NT > cap) & (adv_N1 < 0)).float()
    return -objective_NT, stats


def gspo(inp: LossInputs, cfg: GspoObjectiveConfig):
    """GSPO (Zheng et al. 2025): the ratio of a whole sequence, s = exp(mean_t(logp - logp_old))
    over its valid tokens, clipped to [1 - eps_low, 1 + eps_high] per sequence.

    Written per token as s_t = sg(s) * exp(logp_t - sg(logp_t)): its value is s for every token
    and its gradient is s * grad logp_t, so ``seq_mean_token_mean`` aggregation reproduces the
    paper's gradient s * A * mean_t grad logp_t exactly. Clip ranges are ~1e-4, not 0.2.
    """
    mask_NT = inp.mask_NT
    len_N = mask_NT.sum(1).clamp(min=1)
    log_s_N = ((inp.logprobs_NT - inp.old_logprobs_NT) * mask_NT).sum(1) / len_N
    s_NT = torch.exp(log_s_N.detach().unsqueeze(1) + inp.logprobs_NT - inp.logprobs_NT.detach())
    adv_N1 = inp.advantages_NT()  # [N, 1], or [N, T] per token
    clipped_NT = s_NT.clamp(1 - cfg.eps_low, 1 + cfg.eps_high)
    loss_NT = -torch.minimum(s_NT * adv_N1, clipped_NT * adv_N1)
    with torch.no_grad():
        stats = {
            "clip_frac_low": ((s_NT < 1 - cfg.eps_low) & (adv_N1 < 0)).float(),
            "clip_frac_high": ((s_NT > 1 + cfg.eps_high) & (adv_N1 > 0)).float(),
            "ratio": s_NT.detach(),
        }
    return loss_NT, stats


def cispo(inp: LossInputs, cfg: CispoObjectiveConfig):
    """CISPO (MiniMax-M1, 2025): loss = -sg(clip(ratio, 1 - eps_low, 1 + eps_high)) * A * logp.

    The importance weight is clipped but never zeroes a token's gradient (PPO's clip does for the
    clipped side), so rare tokens with large ratios keep contributing, at a bounded weight.
    ``eps_low: null`` leaves the weight unbounded below.
    """
    ratio_NT = torch.exp(inp.logprobs_NT - inp.old_logprobs_NT).detach()
    low = None if cfg.eps_low is None else 1 - cfg.eps_low
    weight_NT = ratio_NT.clamp(min=low, max=1 + cfg.eps_high)
    adv_N1 = inp.advantages_NT()  # [N, 1], or [N, T] per token
    loss_NT = -weight_NT * adv_N1 * inp.logprobs_NT
    stats = {"clip_frac_high": (ratio_NT > 1 + cfg.eps_high).float(), "ratio": ratio_NT}
    if low is not None:
        stats["clip_frac_low"] = (ratio_NT < low).float()
    return loss_NT, stats


def reinforce(inp: LossInputs, cfg: ReinforceObjectiveConfig):
    """REINFORCE (Williams 1992): loss = -A * logp. No ratio: it is exact only on-policy (one
    optimizer step per rollout batch); off-policy drift is left to ``offpolicy`` correction."""
    return -inp.advantages_NT() * inp.logprobs_NT, {}


OBJECTIVES = {"ppo_clip": ppo_clip, "gspo": gspo, "cispo": cispo, "reinforce": reinforce}
