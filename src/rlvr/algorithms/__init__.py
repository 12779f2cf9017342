"""The algorithm axes, resolved from the config once, before the loop starts.

``build_algorithm`` picks one function per axis from the registries (plain dicts at the bottom of
each axis module); the trainer calls ``Algorithm``'s members and never looks at a variant name.
Adding an entry to an axis = one function in its module + one registry line + its config class.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

import torch

from rlvr.algorithms.advantages import ADVANTAGES
from rlvr.algorithms.aggregation import AGGREGATIONS, BatchNorm
from rlvr.algorithms.distill import distill_advantages
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.algorithm_extras import KlPenaltyConfig
from rlvr.configs.hints import PolicyShapingConfig
from rlvr.algorithms.entropy import EntropyCoef
from rlvr.algorithms.expert import expert_loss, unit_weight
from rlvr.algorithms.group_filter import fill_groups
from rlvr.algorithms.kl import ESTIMATORS, kl_in_reward_N
from rlvr.algorithms.objectives import OBJECTIVES, LossInputs
from rlvr.algorithms.offpolicy import CORRECTIONS
from rlvr.algorithms.token_select import top_entropy
from rlvr.algorithms import weighting

__all__ = ["Algorithm", "BatchNorm", "LossInputs", "build_algorithm"]


@dataclass(frozen=True)
class Algorithm:
    """The chosen function of every axis; the trainer calls these and never looks at names.
    An optional axis that is off is None, and the trainer skips the work it would need."""

    advantages: Callable  # (rewards_BG, valid_BG, tokens_BG) -> advantages_BG
    objective: Callable  # (LossInputs) -> (loss_NT, stats_NT)
    aggregate: Callable  # (loss_NT, mask_NT, BatchNorm) -> scalar
    epochs: int
    minibatches: int
    kl: KlPenaltyConfig | None = None
    kl_estimator: Callable | None = None  # (logp_NT, ref_logp_NT) -> kl_NT
    entropy_coef: EntropyCoef | None = None
    select_tokens: Callable | None = None  # (entropy_NT, mask_NT) -> keep_NT
    weight_samples: Callable | None = None  # (advantages_N) -> advantages_N
    importance: Callable | None = None  # (old_NT, sampler_NT, mask_NT) -> (weight_NT, stats_NT)
    fill_groups: Callable = partial(fill_groups, cfg=None)  # (groups, sample_more) -> (groups, m)
    mask_truncated: bool = False
    expert_shaping: PolicyShapingConfig | None = None  # LUFFY policy shaping of expert rows
    distill: Callable | None = None  # (adv_N, old_NT, teacher_NT, mask_NT) -> (adv_NT, stats_NT)

    @property
    def reuses_rollout_policy(self) -> bool:
        """True when each rollout batch gets exactly one optimizer step, so the policy that the
        ratio is taken against equals the current one and old logprobs need no extra forward."""
        return self.epochs * self.minibatches == 1

    @property
    def needs_reference(self) -> bool:
        return self.kl is not None

    @property
    def kl_in_loss(self) -> bool:
        return self.kl is not None and self.kl.placement == "loss"

    @property
    def needs_prepass(self) -> bool:
        """A no-grad forward over the rollout batch before the first step: for old logprobs
        (several optimizer steps per batch) or for batch-wide token-selection entropies."""
        return not self.reuses_rollout_policy or self.select_tokens is not None

    def stateful(self) -> dict[str, EntropyCoef]:
        """The axes that carry state across steps (saved in checkpoints), by name."""
        return {} if self.entropy_coef is None else {"entropy_coef": self.entropy_coef}

    def shape_rewards(self, rewards_BG: torch.Tensor, sampler_NT: torch.Tensor,
                      ref_NT: torch.Tensor | None, mask_NT: torch.Tensor):
        """Rewards minus coef * sequence KL when KL sits in the reward; else unchanged."""
        if self.kl is None or self.kl.placement != "reward" or ref_NT is None:
            return rewards_BG, {}
        kl_N = kl_in_reward_N(sampler_NT, ref_NT, mask_NT, self.kl)
        shaped_BG = rewards_BG - self.kl.coef * kl_N.reshape(rewards_BG.shape)
        return shaped_BG, {"kl/reward_kl_mean": float(kl_N.mean())}

    def sample_advantages(self, rewards_BG: torch.Tensor, valid_BG: torch.Tensor,
                          tokens_BG: torch.Tensor) -> torch.Tensor:
        """advantages_N in group order, after sample weighting; ``tokens_BG`` counts each
        sample's loss tokens (for token-level batch whitening)."""
        advantages_N = self.advantages(rewards_BG, valid_BG, tokens_BG).reshape(-1)  # [B,G]->[N]
        return advantages_N if self.weight_samples is None else self.weight_samples(advantages_N)

    def loss_mask(self, mask_NT: torch.Tensor, truncated_N: torch.Tensor) -> torch.Tensor:
        return weighting.mask_truncated(mask_NT, truncated_N) if self.mask_truncated else mask_NT

    def token_loss(self, inp: LossInputs) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """objective x (token selection x importance weight) + KL - entropy bonus, per token.
        With distillation the objective sees per-token advantages (the teacher's term)."""
        distill_stats = {}
        if self.distill is not None:
            if inp.teacher_logprobs_NT is None:
                raise ValueError("algorithm.distill is set but the batch has no teacher logprobs "
                                 "(build_train_batch needs the teacher's scorer)")
            advantages_NT, distill_stats = self.distill(inp.advantages_N, inp.old_logprobs_NT,
                                                        inp.teacher_logprobs_NT, inp.mask_NT)
            inp = replace(inp, advantages_N=advantages_NT)
        loss_NT, stats = self.objective(inp)
        loss_NT = expert_loss(loss_NT, inp.logprobs_NT, inp.advantages_N, inp.expert_N,
                              self.expert_shaping)  # LUFFY: expert rows, shaped
        stats.update(distill_stats)
        if inp.select_NT is not None:
            loss_NT = loss_NT * inp.select_NT
            stats["tokens_selected"] = inp.select_NT
        if self.importance is not None and inp.sampler_logprobs_NT is not None:
            weight_NT, is_stats = self.importance(inp.old_logprobs_NT, inp.sampler_logprobs_NT,
                                                  inp.mask_NT)
            weight_NT = unit_weight(weight_NT, inp.expert_N)  # no sampler behind a trace
            loss_NT = loss_NT * weight_NT
            stats.update(is_stats)
        if self.kl_in_loss:
            kl_NT = self.kl_estimator(inp.logprobs_NT, inp.ref_logprobs_NT)
            loss_NT = loss_NT + self.kl.coef * kl_NT
            stats["kl"] = kl_NT.detach()
        if self.entropy_coef is not None:
            loss_NT = loss_NT - self.entropy_coef.value * inp.entropy_NT
        return loss_NT, stats


def build_algorithm(cfg: AlgorithmConfig) -> Algorithm:
    """Resolve every axis of ``cfg`` to its function, once."""
    opt = cfg.offpolicy
    return Algorithm(
        advantages=partial(ADVANTAGES[cfg.advantage.name], cfg=cfg.advantage),
        objective=partial(OBJECTIVES[cfg.objective.name], cfg=cfg.objective),
        aggregate=AGGREGATIONS[cfg.aggregation],
        epochs=cfg.epochs,
        minibatches=cfg.minibatches,
        kl=cfg.kl,
        kl_estimator=None if cfg.kl is None else ESTIMATORS[cfg.kl.estimator],
        entropy_coef=None if cfg.entropy is None else EntropyCoef(cfg.entropy),
        select_tokens=None if cfg.token_select is None else partial(top_entropy,
                                                                    cfg=cfg.token_select),
        weight_samples=None if cfg.sample_weights is None else partial(weighting.sign_weights,
                                                                       cfg=cfg.sample_weights),
        importance=None if opt is None else partial(CORRECTIONS[opt.mode], cfg=opt),
        fill_groups=partial(fill_groups, cfg=cfg.group_filter),
        mask_truncated=cfg.mask_truncated,
        expert_shaping=None if cfg.expert_traces is None else cfg.expert_traces.shaping,
        distill=None if cfg.distill is None else partial(distill_advantages, cfg=cfg.distill),
    )
