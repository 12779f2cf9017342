"""Reward terms resolve through per-stage registries once, at setup; a term no registry places
(or that two registries claim) is an error that names it, never a silently skipped term."""

from __future__ import annotations

import typing
from types import SimpleNamespace

import pytest

from rlvr.configs.base import ConfigError
from rlvr.configs.reward import (
    MajorityVoteTerm,
    OverlongTerm,
    RewardConfig,
    RewardTerm,
    SelfCertaintyTerm,
    TaskTerm,
)
from rlvr.rewards import combine
from rlvr.rewards.combine import STAGES, build_reward, stage_of
from rlvr.rewards.pipeline import RewardPipeline
from rlvr.rewards.terms import GROUP_TERMS, SAMPLE_TERMS, TEXT_TERMS


def _term_names() -> list[str]:
    union = typing.get_args(RewardTerm)[0]
    return [cls.model_fields["name"].default for cls in typing.get_args(union)]


def test_every_config_term_is_in_exactly_one_stage():
    names = _term_names()
    assert sorted(names) == sorted([*TEXT_TERMS, *SAMPLE_TERMS, *GROUP_TERMS])
    assert {stage_of(n) for n in ("task", "format", "judge", "python")} == {"text"}
    assert {stage_of(n) for n in ("overlong", "target_length")} == {"sample"}
    assert {stage_of(n) for n in ("majority_vote", "self_certainty")} == {"group"}


def test_unplaceable_term_is_a_setup_error():
    bogus = SimpleNamespace(name="bogus", weight=1.0, label=None, default_label=lambda: "bogus")
    cfg = RewardConfig.model_construct(terms=[TaskTerm(), bogus])
    with pytest.raises(ConfigError, match=r"term 'bogus' is in no stage registry; allowed names:"
                                          r" format, judge, majority_vote"):
        build_reward(cfg, SimpleNamespace(verify=lambda c, r: None))
    with pytest.raises(ConfigError, match="bogus"):
        RewardPipeline(SimpleNamespace(verify=None), cfg)


def test_term_in_two_stages_is_a_setup_error(monkeypatch):
    monkeypatch.setitem(combine.STAGES, "sample", {**SAMPLE_TERMS, "task": SAMPLE_TERMS["overlong"]})
    with pytest.raises(ConfigError, match=r"'task' is in several stages \(text, sample\)"):
        build_reward(RewardConfig(), SimpleNamespace(verify=None))


def test_unknown_term_name_is_refused_by_the_config():
    with pytest.raises(ValueError, match="bogus"):
        RewardConfig.model_validate({"terms": [{"name": "bogus"}]})


def test_build_reward_places_terms_in_config_order():
    cfg = RewardConfig(terms=[SelfCertaintyTerm(weight=0.1), OverlongTerm(max_tokens=8,
                              buffer_tokens=2), MajorityVoteTerm(label="vote"), TaskTerm()])
    reward = build_reward(cfg, SimpleNamespace(verify=lambda c, r: None))
    assert [label for label, _, _ in reward.verifier.terms] == ["task"]
    assert [label for label, _, _ in reward.sample_terms] == ["overlong"]
    assert [(label, w) for label, w, _ in reward.group_terms] == [("self_certainty", 0.1),
                                                                   ("vote", 1.0)]
    assert set(STAGES) == {"text", "sample", "group"}
