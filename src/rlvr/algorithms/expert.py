"""LUFFY expert traces (Yan et al. 2025, "Learning to Reason under Off-Policy Guidance"):
the row's reference solution as an off-policy sample of its group, and the loss of its tokens.

The trace was not sampled, so it has no sampler logprobs; as LUFFY we take pi_expert = 1
(``sampler_logprobs`` = 0.0). Its tokens' ratio is then x = pi_theta(y_t | x, y_<t) and, with
policy shaping, their loss is -f(x) * A with f(x) = x / (x + gamma), unclipped: the gradient
gamma / (x + gamma)^2 * grad x lifts the expert's low-probability tokens most. The importance
weight of ``algorithm.offpolicy`` (pi_old / pi_sampler) is 1 on expert rows: there is no sampler.
"""

from __future__ import annotations

from typing import Any

import torch

from rlvr.configs.hints import ExpertTracesConfig, PolicyShapingConfig
from rlvr.types import Group, Sample, TaskRow


def expert_sample(row: TaskRow, prompt_ids: list[int], tokenizer: Any, cfg: ExpertTracesConfig,
                  stop_ids: list[int], max_new_tokens: int, version: int = 0,
                  temperature: float | None = None) -> Sample:
    """The reference as the assistant completion after ``prompt_ids``: its tokens plus the
    first stop token, cut at ``max_new_tokens`` (finish_reason 'length' then, like a sample)."""
    text = cfg.template.replace("{reference}", row.reference)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + list(stop_ids[:1])
    finish = "length" if len(ids) > max_new_tokens else "stop"
    ids = ids[:max_new_tokens]
    return Sample(row=row, prompt_ids=list(prompt_ids), completion_ids=ids,
                  sampler_logprobs=[0.0] * len(ids), finish_reason=finish,
                  text=tokenizer.decode(ids, skip_special_tokens=True), policy_version=version,
                  temperature=temperature, expert=True)


def policy_shaping(logp_NT: torch.Tensor, gamma: float) -> torch.Tensor:
    """f(x) = x / (x + gamma) of the ratio x = exp(logp) (pi_expert = 1)."""
    x_NT = torch.exp(logp_NT)
    return x_NT / (x_NT + gamma)


def expert_loss(loss_NT: torch.Tensor, logp_NT: torch.Tensor, advantages_N: torch.Tensor,
                expert_N: torch.Tensor | None, cfg: PolicyShapingConfig | None) -> torch.Tensor:
    """The objective's ``loss_NT`` with expert rows replaced by -f(pi_theta) * A (policy
    shaping); unchanged without expert rows or with shaping off."""
    if expert_N is None or cfg is None:
        return loss_NT
    adv = advantages_N.unsqueeze(1) if advantages_N.dim() == 1 else advantages_N  # [N,T] with distill
    shaped_NT = -policy_shaping(logp_NT, cfg.gamma) * adv
    return torch.where(expert_N.unsqueeze(1), shaped_NT, loss_NT)


def unit_weight(weight_NT: torch.Tensor, expert_N: torch.Tensor | None) -> torch.Tensor:
    """Importance weights with expert rows set to 1 (a trace has no sampler to correct for)."""
    if expert_N is None:
        return weight_NT
    return torch.where(expert_N.unsqueeze(1), torch.ones_like(weight_NT), weight_NT)


def expert_counts(groups: list[Group]) -> list[float]:
    """[expert samples, samples, summed expert rewards, scored expert samples, groups without a
    reference] of a batch."""
    samples = [s for g in groups for s in g.samples]
    scored = [s.reward.score for s in samples
              if s.expert and s.reward is not None and s.reward.score is not None]
    return [float(sum(s.expert for s in samples)), float(len(samples)), float(sum(scored)),
            float(len(scored)), float(sum(not g.row.reference.strip() for g in groups))]


def expert_metrics(counts: list[float]) -> dict[str, float]:
    """``expert/share`` (of the batch's samples), ``expert/reward_mean`` (scored traces) and
    ``expert/no_reference`` (groups whose row has no reference: no trace, counted)."""
    experts, total, reward_sum, scored, no_reference = counts
    return {"expert/share": experts / max(total, 1.0),
            "expert/reward_mean": reward_sum / scored if scored else 0.0,
            "expert/no_reference": no_reference}
