"""Hints for all-fail groups (docs/algorithms.md "Hints"): which groups get one, the hint text
of each tier, and turning hinted samples into samples of the hint-free prompt.

Engine and verifier calls live in ``rlvr.trainer.hints``; everything here is plain data.
"""

from __future__ import annotations

import math
from dataclasses import replace

from rlvr.configs.hints import HintsConfig
from rlvr.types import Group, TaskRow, is_correct


def all_fail(group: Group) -> bool:
    """At least one scored sample and no scored sample correct. Unscorable and infra-error
    samples are not wrong: they are ignored, and a group of only those is not all-fail."""
    scored = [s for s in group.samples if s.reward is not None and s.reward.outcome == "scored"]
    return bool(scored) and not any(is_correct(s.reward) for s in scored)


def _metadata_hints(row: TaskRow, cfg: HintsConfig) -> list[str]:
    hints = row.metadata.get(cfg.key)
    if not isinstance(hints, list):
        return []
    return [str(h) for h in hints if str(h).strip()]


def tiers(row: TaskRow, cfg: HintsConfig) -> int:
    """How many hint tiers ``row`` supports (0: its source is missing or empty)."""
    if cfg.source == "metadata":
        return min(cfg.levels, len(_metadata_hints(row, cfg)))
    return cfg.levels if row.reference.strip() else 0


def hint_text(row: TaskRow, level: int, cfg: HintsConfig) -> str:
    """The hint of tier ``level`` (1-based): the first ``level`` metadata hints, one a line, or
    the first floor(fractions[level-1] * len(reference)) characters (at least one)."""
    if not 1 <= level <= tiers(row, cfg):
        raise ValueError(f"row {row.row_id}: hint tier {level} outside 1..{tiers(row, cfg)}")
    if cfg.source == "metadata":
        return "\n".join(_metadata_hints(row, cfg)[:level])
    ref = row.reference.strip()
    return ref[:max(1, math.floor(cfg.fractions[level - 1] * len(ref)))]


def hinted_row(row: TaskRow, level: int, cfg: HintsConfig) -> TaskRow:
    """``row`` with the tier's hint appended to its prompt text (the engine renders it)."""
    return replace(row, prompt=row.prompt + cfg.template.replace("{hint}",
                                                                 hint_text(row, level, cfg)))


def under_plain_prompt(group: Group, row: TaskRow, prompt_ids: list[int], level: int) -> Group:
    """The hinted ``group`` as samples of the hint-free prompt: ``row`` and ``prompt_ids``
    replaced, completion ids and sampler logprobs (those under the hint) kept exactly."""
    samples = [replace(s, row=row, prompt_ids=list(prompt_ids), hint_level=level)
               for s in group.samples]
    return Group(row=row, samples=samples)


def hint_counts(hinted: list[Group], total: int, no_source: int) -> list[float]:
    """[groups hinted, groups, summed final tiers, correct, scored, no source] of one rank's
    batch (summed over ranks before ``hint_metrics``); ``hinted`` holds the final tiers."""
    scored = [s for g in hinted for s in g.samples
              if s.reward is not None and s.reward.outcome == "scored"]
    return [float(len(hinted)), float(total), float(sum(g.samples[0].hint_level for g in hinted)),
            float(sum(is_correct(s.reward) for s in scored)), float(len(scored)),
            float(no_source)]


def hint_metrics(counts: list[float]) -> dict[str, float]:
    """``hints/groups_share`` (of all groups), ``hints/level_mean`` (final tier of the hinted
    groups), ``hints/accuracy`` (of their scored samples) and ``hints/no_source`` (all-fail
    groups whose row has nothing to hint with)."""
    hinted, total, levels, correct, scored, no_source = counts
    return {"hints/groups_share": hinted / max(total, 1.0),
            "hints/level_mean": levels / hinted if hinted else 0.0,
            "hints/accuracy": correct / scored if scored else 0.0,
            "hints/no_source": no_source}
