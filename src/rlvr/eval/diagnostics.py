"""Training diagnostics: per-step numbers computed from rollout groups and update tensors, and
the checklist that `rlvr report` uses to flag diagnostics a run did not record.

Pure functions with no trainer imports; the training loop calls what it needs and logs the
returned flat dicts into metrics.jsonl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from rlvr.types import Group

# Diagnostic -> regular expression its metrics.jsonl key must match (first match counts).
EXPECTED_DIAGNOSTICS: dict[str, str] = {
    "reward": r"^reward/mean$",
    "reward components": r"^reward/(?!mean$|std$|unscorable_share$|infra_error_share$).+",
    "accuracy": r"^(accuracy|reward/accuracy)$",
    "token entropy": r"^(update/)?entropy$",
    "completion length (mean)": r"^(length/mean|completion/len_mean)$",
    "completion length (max)": r"^(length/max|completion/len_max)$",
    "share truncated": r"^(length|completion)/truncated_share$",
    "clip fraction (low)": r"^(clip/low_frac|(update/)?clip_frac_low)$",
    "clip fraction (high)": r"^(clip/high_frac|(update/)?clip_frac_high)$",
    "KL to reference": r"^((update/)?kl|kl/.+)$",
    "zero-variance groups": r"^groups/zero_variance_share$",
    "gradient norm": r"^(update/)?grad_norm$",
    "learning rate": r"^(update/)?lr$",
    "sampler-vs-trainer logprob gap": r"^(logprob_gap/.+|(update/)?sampler_logprob_gap)$",
    "tokens per second": r"^throughput/tokens_per_s$",
    "time: rollout": r"^time/rollout$",
    "time: reward": r"^time/reward$",
    "time: update": r"^time/update$",
    "time: weight sync": r"^time/(weight_sync|sync)$",
}


def missing_diagnostics(metric_keys: Iterable[str]) -> list[str]:
    """Names of the expected diagnostics with no matching key in ``metric_keys``."""
    keys = list(metric_keys)
    return [name for name, pattern in EXPECTED_DIAGNOSTICS.items()
            if not any(re.search(pattern, key) for key in keys)]


def rollout_diagnostics(groups: Sequence[Group]) -> dict[str, float]:
    """Reward (mean, std, each component), accuracy, completion lengths, truncation, the share of
    zero-variance groups (no learning signal under group-relative advantages) and the shares of
    unscorable and infra-error samples. Samples must already carry their RewardResult."""
    samples = [s for g in groups for s in g.samples]
    if not samples:
        return {}
    scores = [s.reward.score for s in samples if s.reward is not None and s.reward.score is not None]
    lengths = [len(s.completion_ids) for s in samples]
    out: dict[str, float] = {
        "length/mean": float(np.mean(lengths)), "length/max": float(max(lengths)),
        "length/truncated_share": float(np.mean([s.finish_reason == "length" for s in samples])),
        "reward/unscorable_share": _share(samples, "unscorable"),
        "reward/infra_error_share": _share(samples, "infra_error"),
        "groups/zero_variance_share": zero_variance_share(groups),
    }
    if scores:
        out.update({"reward/mean": float(np.mean(scores)), "reward/std": float(np.std(scores)),
                    "accuracy": float(np.mean([x >= 1.0 for x in scores]))})
    components: dict[str, list[float]] = {}
    for s in samples:
        if s.reward is not None and s.reward.score is not None:
            for name, value in s.reward.components.items():
                components.setdefault(name, []).append(value)
    out.update({f"reward/{name}": float(np.mean(v)) for name, v in components.items()})
    return out


def _share(samples: Sequence[Any], outcome: str) -> float:
    return float(np.mean([s.reward is not None and s.reward.outcome == outcome for s in samples]))


def zero_variance_share(groups: Sequence[Group], eps: float = 1e-6) -> float:
    """Share of groups whose scored rewards are all equal (within eps), or that have < 2 scores."""
    if not groups:
        return 0.0
    flat = 0
    for g in groups:
        scores = [s.reward.score for s in g.samples
                  if s.reward is not None and s.reward.score is not None]
        flat += len(scores) < 2 or (max(scores) - min(scores)) <= eps
    return flat / len(groups)


def masked_mean(x_NT: torch.Tensor, mask_NT: torch.Tensor) -> float:
    return float((x_NT * mask_NT).sum() / mask_NT.sum().clamp(min=1))


def clip_fractions(ratio_NT: torch.Tensor, advantages_N: torch.Tensor, mask_NT: torch.Tensor,
                   eps_low: float, eps_high: float) -> dict[str, float]:
    """Share of valid tokens where the PPO clip is active: low = ratio < 1 - eps_low with a
    negative advantage, high = ratio > 1 + eps_high with a positive advantage (only then does the
    clipped branch of min(r*A, clip(r)*A) cut the gradient)."""
    adv_NT = advantages_N[:, None].expand_as(ratio_NT)
    low_NT = ((ratio_NT < 1 - eps_low) & (adv_NT < 0)).float()
    high_NT = ((ratio_NT > 1 + eps_high) & (adv_NT > 0)).float()
    return {"clip/low_frac": masked_mean(low_NT, mask_NT),
            "clip/high_frac": masked_mean(high_NT, mask_NT)}


def logprob_gap(trainer_logp_NT: torch.Tensor, sampler_logp_NT: torch.Tensor,
                mask_NT: torch.Tensor) -> dict[str, float]:
    """How far the trainer's logprobs of the sampled tokens are from the sampler's: the mean and
    max absolute difference and the k3 estimate of KL(sampler || trainer),
    k3 = exp(d) - 1 - d with d = trainer - sampler (non-negative, unbiased)."""
    d_NT = (trainer_logp_NT - sampler_logp_NT) * mask_NT
    k3_NT = torch.exp(d_NT) - 1 - d_NT
    return {"logprob_gap/mean_abs": masked_mean(d_NT.abs(), mask_NT),
            "logprob_gap/max_abs": float((d_NT.abs() * mask_NT).max()) if mask_NT.any() else 0.0,
            "logprob_gap/kl_k3": masked_mean(k3_NT, mask_NT)}


def token_entropy(logits_NTV: torch.Tensor, mask_NT: torch.Tensor) -> float:
    """Mean over valid tokens of the entropy -sum_v p_v log p_v of the next-token distribution."""
    logp_NTV = torch.log_softmax(logits_NTV.float(), dim=-1)
    entropy_NT = -(logp_NTV.exp() * logp_NTV).sum(dim=-1)
    return masked_mean(entropy_NT, mask_NT)
