"""Hints for all-fail groups: which groups, tier texts, the hint-free samples, the stage's tier
progression (engine and verifier replaced by plain functions) and the metrics."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rlvr.algorithms.hints import all_fail, hint_metrics, hint_text, hinted_row, tiers
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.hints import HintsConfig
from rlvr.trainer.hints import hint_groups
from rlvr.types import Group, RewardResult, Sample, TaskRow

PLAIN = [1, 2, 3]  # the hint-free prompt ids of every group


def row(rid: str, reference: str = "abcdefgh", **metadata) -> TaskRow:
    return TaskRow(row_id=rid, prompt=f"question {rid}", reference=reference, metadata=metadata)


def sample(r: TaskRow, reward: RewardResult | None, ids=(7, 8), prompt=PLAIN) -> Sample:
    return Sample(row=r, prompt_ids=list(prompt), completion_ids=list(ids),
                  sampler_logprobs=[-0.5] * len(ids), finish_reason="stop", text="x",
                  reward=reward)


def group(r: TaskRow, *scores) -> Group:
    rewards = [RewardResult.unscorable("bad") if s is None else RewardResult.scored(s)
               for s in scores]
    return Group(row=r, samples=[sample(r, rw) for rw in rewards])


def test_all_fail_ignores_unscorable_samples():
    r = row("a")
    assert all_fail(group(r, 0.0, 0.0))
    assert all_fail(group(r, 0.0, None))  # the unscorable one is not wrong, nor right
    assert not all_fail(group(r, None, None))  # nothing scored: a broken row, no hint
    assert not all_fail(group(r, 0.0, 1.0))
    assert not all_fail(group(r, 1.0, 1.0))
    assert all_fail(group(r, 0.5, 0.9))  # partial credit is below CORRECT_AT


def test_reference_prefix_tiers_by_hand():
    cfg = HintsConfig()  # fractions 0.25 / 0.5 / 0.75
    r = row("a", reference="abcdefgh")
    assert [hint_text(r, k, cfg) for k in (1, 2, 3)] == ["ab", "abcd", "abcdef"]
    short = row("b", reference="42")  # floor(0.25 * 2) = 0 -> at least one character
    assert [hint_text(short, k, cfg) for k in (1, 2, 3)] == ["4", "4", "4"]
    assert hinted_row(r, 2, cfg).prompt == "question a\n\nHint: abcd"
    assert tiers(row("c", reference="  "), cfg) == 0


def test_metadata_tiers_are_cumulative_and_capped_by_the_list():
    cfg = HintsConfig(source="metadata", levels=3)
    r = row("a", hints=["use algebra", "x = 2"])
    assert tiers(r, cfg) == 2
    assert hint_text(r, 1, cfg) == "use algebra"
    assert hint_text(r, 2, cfg) == "use algebra\nx = 2"
    with pytest.raises(ValueError, match="row a: hint tier 3 outside 1..2"):
        hint_text(r, 3, cfg)
    assert tiers(row("b"), cfg) == 0 and tiers(row("c", hints="not a list"), cfg) == 0


def test_config_refuses_bad_values():
    with pytest.raises(ValidationError, match="increasing"):
        HintsConfig(fractions=[0.5, 0.25])
    with pytest.raises(ValidationError, match="levels=4 but fractions has 3"):
        HintsConfig(levels=4)
    with pytest.raises(ValidationError, match="must contain"):
        HintsConfig(template="Hint:")
    with pytest.raises(ValidationError, match="needs algorithm.offpolicy"):
        AlgorithmConfig(hints=HintsConfig(), offpolicy=None)


class FakeRollout:
    """Hinted groups whose completion ids name the tier; correct from tier ``solves[row]``."""

    def __init__(self, solves: dict[str, int]) -> None:
        self.solves, self.calls = solves, []

    def generate(self, rows: list[TaskRow], level: int) -> list[Group]:
        self.calls.append((level, [r.row_id for r in rows], [r.prompt for r in rows]))
        hinted_prompt = PLAIN + [99, level]  # the engine rendered the longer, hinted prompt
        return [Group(row=r, samples=[Sample(r, hinted_prompt, [50 + level, j], [-1.0, -2.0 - j],
                                             "stop", f"t{level}") for j in range(2)])
                for r in rows]

    def score(self, groups: list[Group]) -> None:
        for g in groups:
            ok = self.solves.get(g.row.row_id, 99) <= g.samples[0].hint_level
            for j, s in enumerate(g.samples):
                s.reward = RewardResult.scored(1.0 if ok and j == 0 else 0.0)


def test_only_all_fail_groups_are_hinted_and_tiers_progress():
    rows = {k: row(k) for k in "abcde"}
    rows["e"] = row("e", reference="")  # all-fail, nothing to hint with
    groups = [group(rows["a"], 0.0, 0.0), group(rows["b"], 0.0, 1.0), group(rows["c"], 1.0, 1.0),
              group(rows["d"], 0.0, 0.0), group(rows["e"], 0.0, 0.0)]
    fake = FakeRollout(solves={"d": 2})  # d is solved under tier 2, a never
    out, counts = hint_groups(groups, HintsConfig(), fake.generate, fake.score)
    assert [(lvl, ids) for lvl, ids, _ in fake.calls] == [(1, ["a", "d"]), (2, ["a", "d"]),
                                                          (3, ["a"])]
    assert fake.calls[0][2] == ["question a\n\nHint: ab", "question d\n\nHint: ab"]
    for i in (1, 2, 4):  # mixed, all-correct and no-source groups: the very same objects
        assert out[i] is groups[i]
    assert [s.hint_level for s in out[0].samples] == [3, 3]
    assert [s.hint_level for s in out[3].samples] == [2, 2]
    for g, level in ((out[0], 3), (out[3], 2)):
        assert g.row is groups[0 if level == 3 else 3].row  # the hint-free row
        for j, s in enumerate(g.samples):
            assert s.prompt_ids == PLAIN  # trained under the hint-free prompt ids
            assert s.completion_ids == [50 + level, j]  # exactly what was sampled
            assert s.sampler_logprobs == [-1.0, -2.0 - j]  # under the hint: offpolicy sees it
    assert counts == [2.0, 5.0, 5.0, 1.0, 4.0, 1.0]
    assert hint_metrics(counts) == {"hints/groups_share": 2 / 5, "hints/level_mean": 2.5,
                                    "hints/accuracy": 1 / 4, "hints/no_source": 1.0}


def test_nothing_to_hint_runs_no_rollout():
    fake = FakeRollout(solves={})
    groups = [group(row("a"), 0.0, 1.0)]
    out, counts = hint_groups(groups, HintsConfig(), fake.generate, fake.score)
    assert out == groups and fake.calls == []
    assert hint_metrics(counts) == {"hints/groups_share": 0.0, "hints/level_mean": 0.0,
                                    "hints/accuracy": 0.0, "hints/no_source": 0.0}


def test_the_train_batch_holds_the_plain_prompt_and_the_sampled_tokens():
    from rlvr.trainer.batch import pad_groups

    fake = FakeRollout(solves={"a": 1})
    out, _ = hint_groups([group(row("a"), 0.0, 0.0)], HintsConfig(), fake.generate, fake.score)
    batch = pad_groups(out, pad_id=0)
    for n, s in enumerate(out[0].samples):
        real = batch.input_ids_NL[n][batch.attention_mask_NL[n].bool()].tolist()
        assert real == PLAIN + [51, n]  # hint-free prompt ids, then the sampled completion
        assert batch.sampler_logprobs_NT[n].tolist() == [-1.0, -2.0 - n]


def test_refused_with_a_multi_turn_env_and_on_several_ranks():
    from rlvr.config import load_config
    from rlvr.configs.base import ConfigError
    from rlvr.launch.checks import check_world

    with pytest.raises(ConfigError, match="algorithm.hints does not work with env.name=try_again"):
        load_config(None, ["algorithm.hints={}", "env.name=try_again"])
    with pytest.raises(ConfigError, match="algorithm.expert_traces does not work with env"):
        load_config(None, ["algorithm.expert_traces={}", "env.name=try_again"])
    with pytest.raises(ConfigError, match="algorithm.hints does not run on several ranks"):
        check_world(load_config(None, ["algorithm.hints={}", "rollout.prompts_per_step=4"]), 2)
