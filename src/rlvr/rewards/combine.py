"""Composition of reward terms: ``reward = sum_i weight_i * score_i``, each score a component.

``build_reward(cfg, task)`` resolves every term of the config once, through the stage registries
of rewards/terms.py: text terms (``task``, ``format``, ``judge``, ``python``) become one picklable
``CompositeVerifier`` that runs in a pool worker; sample terms (``overlong``, ``target_length``)
and group terms (``majority_vote``, ``self_certainty``) run in the parent, in config order. A term
that no registry (or more than one) places is an error at setup, never silently skipped.

A term that says unscorable or infra error makes the whole sample so (never a silent 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rlvr.configs.base import ConfigError
from rlvr.configs.reward import RewardConfig, term_label
from rlvr.rewards.terms import (
    GROUP_TERMS,
    SAMPLE_TERMS,
    TEXT_TERMS,
    GroupTerm,
    SampleTerm,
    Verifier,
    task_verifier,
)
from rlvr.types import Group, RewardResult, Sample, TaskRow

STAGES = {"text": TEXT_TERMS, "sample": SAMPLE_TERMS, "group": GROUP_TERMS}


@dataclass(frozen=True)
class CompositeVerifier:
    """The weighted sum of several text verifiers; the verdict is the first term's."""

    terms: tuple[tuple[str, float, Verifier], ...]

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        components: dict[str, float] = {}
        total, verdict = 0.0, ""
        for label, weight, fn in self.terms:
            result = fn(completion, row)
            if not isinstance(result, RewardResult):
                raise TypeError(f"reward term {label!r} returned {type(result).__name__}")
            if result.outcome != "scored":
                return replace(result, verdict=f"{label}:{result.verdict}", components=components)
            components[label] = float(result.score)
            total += weight * float(result.score)
            verdict = verdict or result.verdict
        return RewardResult(score=total, components=components, verdict=verdict)


def _add(result: RewardResult, label: str, weight: float, value: float) -> RewardResult:
    components = {**result.components, label: value}
    return replace(result, score=(result.score or 0.0) + weight * value, components=components)


@dataclass(frozen=True)
class Reward:
    """A run's reward terms, resolved: the worker-side verifier and the parent-side terms."""

    verifier: CompositeVerifier | None
    sample_terms: tuple[tuple[str, float, SampleTerm], ...] = ()
    group_terms: tuple[tuple[str, float, GroupTerm], ...] = ()

    def apply_sample_terms(self, sample: Sample) -> None:
        """Add the sample terms to a scored sample (unscorable / infra samples stay as they are)."""
        result = sample.reward
        if result is None or result.outcome != "scored":
            return
        for label, weight, fn in self.sample_terms:
            result = _add(result, label, weight, fn(sample, result))
        sample.reward = result

    def apply_group_terms(self, group: Group) -> None:
        """Add the group terms to every still-scored sample of the group."""
        for label, weight, fn in self.group_terms:
            for sample, value in zip(group.samples, fn(group)):
                current = sample.reward or RewardResult.scored(0.0, label)
                if current.outcome != "scored":
                    continue
                sample.reward = (value if isinstance(value, RewardResult)
                                 else _add(current, label, weight, value))


def stage_of(name: str) -> str:
    """The one stage whose registry holds term ``name``; a ConfigError otherwise."""
    stages = [stage for stage, registry in STAGES.items() if name in registry]
    if len(stages) != 1:
        known = sorted(n for registry in STAGES.values() for n in registry)
        where = "no stage registry" if not stages else f"several stages ({', '.join(stages)})"
        raise ConfigError(f"reward.terms: term {name!r} is in {where}; allowed names: "
                          f"{', '.join(known)}")
    return stages[0]


def build_reward(cfg: RewardConfig, task: Any) -> Reward:
    """Resolve every term of ``cfg`` once (at setup), in config order within each stage."""
    built: dict[str, list] = {stage: [] for stage in STAGES}
    for term in cfg.terms:
        stage = stage_of(term.name)
        context = task_verifier(task) if stage == "text" else task
        built[stage].append((term_label(term), term.weight, STAGES[stage][term.name](term, context)))
    text = tuple(built["text"])
    return Reward(CompositeVerifier(text) if text else None, tuple(built["sample"]),
                  tuple(built["group"]))
