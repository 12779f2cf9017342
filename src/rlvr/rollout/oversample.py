"""Oversampling (``rollout.oversample``): sample factor * G completions per prompt, score them
all, keep G per group (docs/data.md "Sampling schedules").

A keep rule (``KEEPERS``: name -> function) gets one group's scored samples and G and returns the
indices of the samples it keeps, in sample order. 'balanced' raises the share of groups whose
kept samples are both right and wrong, so fewer groups have all-zero advantages. The prompt
selection's pass-rate history and the rollout metrics see every sampled completion (an unbiased
pass rate); advantages and the update see the kept ones only.
"""

from __future__ import annotations

from typing import Any, Callable

from rlvr.types import Group, Sample, is_correct

Keeper = Callable[[list[Sample], int], list[int]]


def keep_first(samples: list[Sample], size: int) -> list[int]:
    """The first ``size`` samples."""
    return list(range(size))


def keep_balanced(samples: list[Sample], size: int) -> list[int]:
    """ceil(size/2) correct and floor(size/2) incorrect where the group has them, the rest from
    the other kind, unscorable samples only when both run out; each kind in sample order."""
    scored = [i for i, s in enumerate(samples) if s.reward is not None
              and s.reward.outcome == "scored"]
    right = [i for i in scored if is_correct(samples[i].reward)]
    wrong = [i for i in scored if not is_correct(samples[i].reward)]
    unscored = sorted(set(range(len(samples))) - set(scored))
    n_right = min(len(right), max(size - size // 2, size - len(wrong)))
    n_wrong = min(len(wrong), size - n_right)
    chosen = right[:n_right] + wrong[:n_wrong] + unscored[:size - n_right - n_wrong]
    return sorted(chosen)


KEEPERS: dict[str, Keeper] = {"first": keep_first, "balanced": keep_balanced}
"""``rollout.oversample.keep`` -> the rule choosing a group's kept samples."""


def sampled_group_size(rollout_cfg: Any) -> int:
    """Completions decoded per prompt: G, or factor * G when oversampling."""
    over = rollout_cfg.oversample
    return rollout_cfg.group_size * (1 if over is None else over.factor)


def _mixed(samples: list[Sample]) -> bool:
    """Both a correct and a scored incorrect sample: the group's advantages are not all zero."""
    kinds = {is_correct(s.reward) for s in samples
             if s.reward is not None and s.reward.outcome == "scored"}
    return len(kinds) == 2


def keep_groups(groups: list[Group], rollout_cfg: Any) -> tuple[list[Group], dict[str, float]]:
    """Each scored group cut to G samples by the configured rule (unchanged without
    oversampling), and the share kept, the share of mixed groups before and after."""
    over = rollout_cfg.oversample
    if over is None or not groups:
        return groups, {}
    size, keeper = rollout_cfg.group_size, KEEPERS[over.keep]
    kept = [Group(row=g.row, samples=[g.samples[i] for i in keeper(g.samples, size)])
            for g in groups]
    sampled = sum(len(g.samples) for g in groups)
    return kept, {
        "rollout/oversample_kept_share": sum(len(g.samples) for g in kept) / sampled,
        "rollout/oversample_mixed_share_sampled": sum(map(_mixed, (g.samples for g in groups)))
        / len(groups),
        "rollout/oversample_mixed_share_kept": sum(map(_mixed, (g.samples for g in kept)))
        / len(kept)}
