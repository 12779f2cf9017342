"""rollout.oversample: sample factor * G per prompt, keep G (hand-built scored groups)."""

from __future__ import annotations

import pytest

from rlvr.configs.run import RolloutConfig
from rlvr.rollout.oversample import keep_balanced, keep_first, keep_groups, sampled_group_size
from rlvr.types import Group, RewardResult, Sample, TaskRow

ROW = TaskRow("r", "p", "1")


def _group(outcomes: str) -> Group:
    """'1' correct, '0' wrong, '?' unscorable, one character per sample."""
    reward = {"1": RewardResult.scored(1.0), "0": RewardResult.scored(0.0),
              "?": RewardResult.unscorable("no answer")}
    return Group(ROW, [Sample(ROW, [1], [i], [0.0], "stop", str(i), reward=reward[c])
                       for i, c in enumerate(outcomes)])


@pytest.mark.parametrize("outcomes, size, kept", [
    ("00100111", 4, [0, 1, 2, 5]),   # two of each kind, each kind in sample order
    ("11110000", 4, [0, 1, 4, 5]),
    ("11111110", 4, [0, 1, 2, 7]),   # one wrong only: three correct fill the rest
    ("00000000", 4, [0, 1, 2, 3]),   # no correct: the first wrong ones
    ("1?0?1?0?", 4, [0, 2, 4, 6]),   # unscorable ones are never preferred
    ("??1?????", 4, [0, 1, 2, 3]),   # ... but fill the group when the rest run out
    ("010101", 3, [0, 1, 3]),        # G odd: two correct (1, 3), one wrong (0)
])
def test_balanced_keeps_as_many_right_as_wrong(outcomes, size, kept):
    assert keep_balanced(_group(outcomes).samples, size) == kept


def test_first_keeps_the_first_g():
    assert keep_first(_group("000111").samples, 3) == [0, 1, 2]


def test_keep_groups_cuts_each_group_and_reports_shares():
    cfg = RolloutConfig(group_size=2, oversample={"factor": 3, "keep": "balanced"})
    assert sampled_group_size(cfg) == 6
    groups = [_group("000001"), _group("000000")]
    kept, metrics = keep_groups(groups, cfg)
    assert [[s.completion_ids[0] for s in g.samples] for g in kept] == [[0, 5], [0, 1]]
    assert metrics == {"rollout/oversample_kept_share": 4 / 12,
                       "rollout/oversample_mixed_share_sampled": 1 / 2,
                       "rollout/oversample_mixed_share_kept": 1 / 2}
    first, _ = keep_groups(groups, RolloutConfig(group_size=2, oversample={"keep": "first"}))
    assert [[s.completion_ids[0] for s in g.samples] for g in first] == [[0, 1], [0, 1]]


def test_no_oversampling_leaves_groups_alone():
    cfg = RolloutConfig(group_size=6)
    groups = [_group("000001")]
    assert sampled_group_size(cfg) == 6
    assert keep_groups(groups, cfg) == (groups, {})


@pytest.mark.parametrize("bad, needle", [({"factor": 1}, "factor"), ({"keep": "best"}, "keep")])
def test_bad_oversample_names_the_key(bad, needle):
    with pytest.raises(ValueError, match=needle):
        RolloutConfig(oversample=bad)
