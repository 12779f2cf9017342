"""Reward terms by stage: one registry per stage, keyed by the term config's ``name``, one builder
signature per registry. Where a term runs follows from the registry that holds it:

* ``TEXT_TERMS[name](term, task_verifier) -> Verifier`` — a picklable ``(completion, row) ->
  RewardResult``, bundled into the composite verifier that runs in a pool worker;
* ``SAMPLE_TERMS[name](term, task) -> SampleTerm`` — ``(sample, result so far) -> float``, run in
  the parent (it needs the token count);
* ``GROUP_TERMS[name](term, task) -> GroupTerm`` — ``(group) -> [float | RewardResult]``, run in
  the parent over the whole group; a RewardResult replaces a sample the term cannot score.

A new term kind adds its config class to ``RewardTerm`` (rlvr/configs/reward.py) and its builder to
exactly one registry here; ``build_reward`` (rewards/combine.py) refuses any other placement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlvr.configs.reward import term_label
from rlvr.data.split import answer_key
from rlvr.rewards.format import FormatVerifier
from rlvr.rewards.judge import JudgeVerifier
from rlvr.rewards.length import overlong_penalty, target_length_penalty
from rlvr.rewards.unsupervised import majority_vote_rewards
from rlvr.rewards.user_function import load_function
from rlvr.types import Group, RewardResult, Sample, TaskRow, is_correct

Verifier = Callable[[str, TaskRow], RewardResult]
SampleTerm = Callable[[Sample, RewardResult], float]
GroupTerm = Callable[[Group], list]  # one float, or a RewardResult that replaces it, per sample


def task_verifier(task: Any) -> Verifier:
    """The picklable verifier of a task: its ``verifier`` attribute, else its ``verify`` method."""
    return getattr(task, "verifier", None) or task.verify


def _judge(term: Any, task_verifier: Verifier) -> Verifier:
    return JudgeVerifier(task_verifier, term.url, term.model, term.timeout_s,
                         term.max_answer_chars, term.api_key_env)


TEXT_TERMS: dict[str, Callable[[Any, Verifier], Verifier]] = {
    "task": lambda term, task_verifier: task_verifier,
    "format": lambda term, task_verifier: FormatVerifier(term.think),
    "judge": _judge,
    "python": lambda term, task_verifier: load_function(term.path),
}


def _overlong(term: Any, task: Any) -> SampleTerm:
    return lambda sample, result: overlong_penalty(len(sample.completion_ids), term.max_tokens,
                                                   term.buffer_tokens)


def _target_length(term: Any, task: Any) -> SampleTerm:
    def value(sample: Sample, result: RewardResult) -> float:
        return target_length_penalty(len(sample.completion_ids), term.target_tokens,
                                     is_correct(result, term.correct_at), term.one_sided)
    return value


SAMPLE_TERMS: dict[str, Callable[[Any, Any], SampleTerm]] = {
    "overlong": _overlong,
    "target_length": _target_length,
}


def _majority_vote(term: Any, task: Any) -> GroupTerm:
    """Votes on the task's answer key (the one maj@k uses); a group with no majority is masked."""
    no_majority = RewardResult.unscorable(f"{term_label(term)}:no_majority")

    def values(group: Group) -> list:
        votes = majority_vote_rewards([s.text for s in group.samples], term.min_share,
                                      key=lambda text: answer_key(task, text))
        return votes if votes is not None else [no_majority] * len(group.samples)
    return values


def _self_certainty(term: Any, task: Any) -> GroupTerm:
    missing = RewardResult.infra_error(f"{term_label(term)}: the rollout engine did not record "
                                       "Sample.self_certainty")

    def values(group: Group) -> list:
        return [missing if s.self_certainty is None else s.self_certainty for s in group.samples]
    return values


GROUP_TERMS: dict[str, Callable[[Any, Any], GroupTerm]] = {
    "majority_vote": _majority_vote,
    "self_certainty": _self_certainty,
}
