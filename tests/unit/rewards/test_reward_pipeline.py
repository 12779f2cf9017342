"""The reward pipeline: weighted terms logged as components, user Python-path verifiers, the three
outcomes counted apart, the infra-error abort, and submit/collect for overlap with generation."""

from __future__ import annotations

import pytest

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.configs.reward import (FormatTerm, MajorityVoteTerm, OverlongTerm, PythonTerm, RewardConfig,
                                 SelfCertaintyTerm, TargetLengthTerm, TaskTerm)
from rlvr.rewards.math import MathVerifier
from rlvr.rewards.pipeline import RewardInfraError, RewardPipeline, score_groups
from rlvr.types import Group, Sample, TaskRow


class _Task:
    def __init__(self, verifier=None):
        self.verifier = verifier or MathVerifier()


def _group(texts, reference="4", lengths=None):
    row = TaskRow("r/0", "What is 2 + 2?", reference)
    lengths = lengths or [5] * len(texts)
    return Group(row, [Sample(row, [1], [7] * n, [0.0] * n, "stop", t) for t, n in zip(texts, lengths)])


def test_weighted_terms_are_separate_components(pool):
    cfg = RewardConfig(terms=[TaskTerm(), FormatTerm(weight=0.5),
                              OverlongTerm(max_tokens=10, buffer_tokens=4),
                              PythonTerm(path="reward_helpers:politeness", weight=0.25)])
    group = _group(["<think>please</think><answer>\\boxed{4}</answer>", "\\boxed{5}"], lengths=[8, 3])
    counts = RewardPipeline(_Task(), cfg, pool=pool).score([group])
    first, second = (s.reward for s in group.samples)
    # first: task 1 + 0.5 * format 1 + overlong (6 - 8) / 4 = -0.5 + 0.25 * politeness 1
    assert first.components == {"task": 1.0, "format": 1.0, "overlong": -0.5, "politeness": 1.0}
    assert first.score == pytest.approx(1.0 + 0.5 - 0.5 + 0.25)
    assert second.components == {"task": 0.0, "format": 0.0, "overlong": 0.0, "politeness": 0.0}
    assert counts["outcome/scored"] == 2


def test_target_length_applies_to_correct_answers_only(pool):
    cfg = RewardConfig(terms=[TaskTerm(), TargetLengthTerm(target_tokens=4, weight=1.0)])
    group = _group(["\\boxed{4}", "\\boxed{3}"], lengths=[6, 6])
    RewardPipeline(_Task(), cfg, pool=pool).score([group])
    assert [s.reward.components["target_length"] for s in group.samples] == [-0.5, 0.0]


def test_label_free_terms_need_no_pool():
    cfg = RewardConfig(terms=[MajorityVoteTerm(), SelfCertaintyTerm(weight=0.1)])
    pipeline = RewardPipeline(_Task(), cfg)
    assert pipeline.pool is None
    group = _group(["\\boxed{7}", "\\boxed{7}", "\\boxed{4}"])
    for value, sample in zip((1.0, 2.0, 3.0), group.samples):
        sample.self_certainty = value
    pipeline.score([group])
    assert [s.reward.score for s in group.samples] == pytest.approx([1.1, 1.2, 0.3])
    missing = _group(["\\boxed{7}"])
    with pytest.raises(RewardInfraError, match="self_certainty"):
        pipeline.score([missing])


def test_outcomes_are_counted_apart_and_the_run_aborts_above_the_threshold(pool):
    from reward_helpers import raises_sometimes

    cfg = RewardConfig(max_infra_error_share=0.25)
    pipeline = RewardPipeline(_Task(raises_sometimes), cfg, pool=pool)
    ok = [_group(["4", "5", "boom", "4"], reference="4"), _group(["4", "4", "4", "4"])]
    counts = pipeline.score(ok)  # 1 of 8 = 12.5 %: keeps going
    assert counts["outcome/scored"] == 7 and counts["outcome/infra_error"] == 1
    assert ok[0].samples[2].reward.outcome == "infra_error"
    bad = [_group(["boom", "boom", "4", "4"])]
    with pytest.raises(RewardInfraError, match=r"2 of 4 samples \(50%\).*max_infra_error_share=0.25"):
        pipeline.score(bad)
    assert all(s.reward is not None for s in bad[0].samples)  # rewards set before the abort
    assert pipeline.totals["outcome/infra_error"] == 3


def test_unscorable_rows_are_masked_not_zero(pool):
    group = _group(["\\boxed{4}"], reference="")
    counts = RewardPipeline(_Task(), pool=pool).score([group])
    assert group.samples[0].reward.outcome == "unscorable" and counts["outcome/unscorable"] == 1


def test_submit_then_collect_overlaps_generation(pool):
    pipeline = RewardPipeline(_Task(), pool=pool)
    first, second = _group(["\\boxed{4}"]), _group(["\\boxed{3}"])
    pipeline.submit(first)  # scoring starts while "generation" of the second group goes on
    pipeline.submit(second)
    pipeline.collect([first, second])
    assert [first.samples[0].reward.score, second.samples[0].reward.score] == [1.0, 0.0]


def test_score_groups_keeps_its_signature():
    group = _group(["\\boxed{4}"])
    counts = score_groups([group], _Task())
    assert counts["outcome/scored"] == 1 and group.samples[0].reward.score == 1.0


def test_reward_config_from_yaml_overrides():
    cfg = load_config(None, ["reward.max_infra_error_share=0.5", "reward.pool.deadline_s=2"])
    assert cfg.reward.max_infra_error_share == 0.5 and cfg.reward.pool.deadline_s == 2
    with pytest.raises(ConfigError, match="reward"):
        load_config(None, ["reward.max_infra_error_share=2"])


def test_python_term_path_is_validated():
    with pytest.raises(ValueError, match="package.module:function"):
        PythonTerm(path="not a path")
    with pytest.raises(ValueError, match="label"):
        RewardConfig(terms=[TaskTerm(), TaskTerm()])
