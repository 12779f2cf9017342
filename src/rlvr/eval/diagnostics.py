"""Training diagnostics: the checklist of per-step metrics the trainer logs, which `rlvr report`
uses to flag diagnostics a run did not record, and the zero-variance share of rollout groups.

Every pattern names keys the training loop really writes to metrics.jsonl (an integration test
runs a tiny training and checks that each diagnostic matches exactly the keys expected of it).
The KL diagnostic is there only when the algorithm has a KL term; clip fractions only under a
clipped objective.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rlvr.types import Group

# Diagnostic -> regular expression its metrics.jsonl key must match.
EXPECTED_DIAGNOSTICS: dict[str, str] = {
    "reward": r"^reward/mean$",
    "reward components": r"^reward/(?!mean$).+",
    "accuracy": r"^accuracy$",
    "token entropy": r"^update/entropy$",
    "completion length (mean)": r"^completion/len_mean$",
    "completion length (max)": r"^completion/len_max$",
    "share truncated": r"^completion/truncated_share$",
    "clip fraction (low)": r"^update/clip_frac_low$",
    "clip fraction (high)": r"^update/clip_frac_high$",
    "KL to reference": r"^(update/kl|kl/reward_kl_mean)$",
    "zero-variance groups": r"^groups/zero_variance_share$",
    "gradient norm": r"^grad_norm$",
    "learning rate": r"^lr$",
    "sampler-vs-trainer logprob gap": r"^update/sampler_logprob_gap$",
    "tokens per second": r"^throughput/tokens_per_s$",
    "time: rollout": r"^time/rollout$",
    "time: reward": r"^time/reward$",
    "time: update": r"^time/update$",
    "time: weight sync": r"^time/weight_sync$",
}


def diagnostic_keys(metric_keys: Iterable[str]) -> dict[str, list[str]]:
    """For every expected diagnostic, the sorted keys of ``metric_keys`` that match it."""
    keys = sorted(set(metric_keys))
    return {name: [key for key in keys if re.search(pattern, key)]
            for name, pattern in EXPECTED_DIAGNOSTICS.items()}


def missing_diagnostics(metric_keys: Iterable[str]) -> list[str]:
    """Names of the expected diagnostics with no matching key in ``metric_keys``."""
    return [name for name, keys in diagnostic_keys(metric_keys).items() if not keys]


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
