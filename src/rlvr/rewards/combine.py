"""Composition of reward terms: ``reward = sum_i weight_i * score_i``, each score a component.

Terms run where they belong:

* text terms — ``task``, ``format``, ``judge``, ``python`` — are ``(completion, row)`` verifiers;
  they are bundled into one picklable ``CompositeVerifier`` that runs inside a pool worker;
* sample terms — ``overlong``, ``target_length`` — need the token count and run in the parent;
* group terms — ``majority_vote``, ``self_certainty`` — need the whole group and run in the parent.

A term that says unscorable or infra error makes the whole sample so (never a silent 0).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import Any, Callable

from rlvr.configs.reward import (FormatTerm, JudgeTerm, MajorityVoteTerm, OverlongTerm, PythonTerm,
                                 RewardConfig, SelfCertaintyTerm, TargetLengthTerm, TaskTerm,
                                 term_label)
from rlvr.rewards.format import FormatVerifier
from rlvr.rewards.judge import JudgeVerifier
from rlvr.rewards.length import overlong_penalty, target_length_penalty
from rlvr.rewards.unsupervised import majority_vote_rewards
from rlvr.types import Group, RewardResult, Sample, TaskRow

Verifier = Callable[[str, TaskRow], RewardResult]
TEXT_TERMS = (TaskTerm, FormatTerm, JudgeTerm, PythonTerm)


def load_function(path: str) -> Verifier:
    """Import ``package.module:function``; a clear error names what is missing."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"reward term python: cannot import {module_name!r} ({err})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"reward term python: {module_name!r} has no function {attr!r}")
    return fn


def text_verifier(term: Any, task_verifier: Verifier) -> Verifier:
    if isinstance(term, TaskTerm):
        return task_verifier
    if isinstance(term, FormatTerm):
        return FormatVerifier(term.think)
    if isinstance(term, JudgeTerm):
        return JudgeVerifier(task_verifier, term.url, term.model, term.timeout_s,
                             term.max_answer_chars, term.api_key_env)
    return load_function(term.path)


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


def build_composite(cfg: RewardConfig, task_verifier: Verifier) -> CompositeVerifier | None:
    terms = tuple((term_label(t), t.weight, text_verifier(t, task_verifier))
                  for t in cfg.terms if isinstance(t, TEXT_TERMS))
    return CompositeVerifier(terms) if terms else None


def _add(result: RewardResult, label: str, weight: float, value: float) -> RewardResult:
    components = {**result.components, label: value}
    return replace(result, score=(result.score or 0.0) + weight * value, components=components)


def _correct(result: RewardResult, correct_at: float) -> bool:
    for key in ("task", "judge"):
        if key in result.components:
            return result.components[key] >= correct_at
    return (result.score or 0.0) >= correct_at


def apply_sample_terms(sample: Sample, cfg: RewardConfig) -> None:
    """Add the length terms to a scored sample (unscorable / infra samples stay as they are)."""
    result = sample.reward
    if result is None or result.outcome != "scored":
        return
    n = len(sample.completion_ids)
    for term in cfg.terms:
        if isinstance(term, OverlongTerm):
            value = overlong_penalty(n, term.max_tokens, term.buffer_tokens)
        elif isinstance(term, TargetLengthTerm):
            value = target_length_penalty(n, term.target_tokens, _correct(result, term.correct_at),
                                          term.one_sided)
        else:
            continue
        result = _add(result, term_label(term), term.weight, value)
    sample.reward = result


def apply_group_terms(group: Group, cfg: RewardConfig) -> None:
    """Add the label-free group terms (majority vote, self-certainty) to every sample."""
    for term in cfg.terms:
        label = term_label(term)
        if isinstance(term, MajorityVoteTerm):
            votes = majority_vote_rewards([s.text for s in group.samples], term.min_share)
            values: list[float | None] = votes if votes is not None else [None] * len(group.samples)
        elif isinstance(term, SelfCertaintyTerm):
            values = [getattr(s, "self_certainty", None) for s in group.samples]
        else:
            continue
        for sample, value in zip(group.samples, values):
            current = sample.reward or RewardResult.scored(0.0, label)
            if current.outcome != "scored":
                continue
            if value is None:
                sample.reward = (RewardResult.unscorable(f"{label}:no_majority")
                                 if isinstance(term, MajorityVoteTerm) else
                                 RewardResult.infra_error(f"{label}: the rollout engine did not "
                                                          "record Sample.self_certainty"))
                continue
            sample.reward = _add(current, label, term.weight, value)
