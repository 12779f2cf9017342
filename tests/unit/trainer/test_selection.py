"""Prompt selection: the history's EMA by hand, each policy on hand-built histories, the
uniform policy's order unchanged, and the sampler state surviving a checkpoint round trip."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from rlvr.configs.base import ConfigError
from rlvr.configs.selection import (BandSelectionConfig, DataConfig, RetireSelectionConfig,
                                    VarianceSelectionConfig)
from rlvr.runs.state_codec import decode, encode
from rlvr.trainer.prompts import PromptSampler, pass_rate
from rlvr.trainer.selection import VariancePolicy, update_ema
from rlvr.types import Group, RewardResult, Sample, TaskRow

ROWS = [TaskRow(f"r{i}", f"q{i}", str(i)) for i in range(6)]
EPOCH0 = ["r4", "r2", "r1", "r0", "r5", "r3"]  # random.Random(0 * 7919 + 0).shuffle(range(6))
EPOCH1 = ["r2", "r3", "r5", "r0", "r4", "r1"]  # random.Random(0 * 7919 + 1)


def group(row: TaskRow, *scores: float | None) -> Group:
    rewards = [RewardResult.unscorable("x") if s is None else RewardResult.scored(s)
               for s in scores]
    return Group(row, [Sample(row, [], [], [], "stop", "", reward=r) for r in rewards])


def ids(rows: list[TaskRow]) -> list[str]:
    return [r.row_id for r in rows]


def with_history(selection, history: dict[str, list[float]]) -> PromptSampler:
    sampler = PromptSampler(ROWS, 0, selection)
    sampler.history = {k: list(v) for k, v in history.items()}
    return sampler


def legacy_order(seed: int, epochs: int) -> list[str]:
    """The order before selection policies existed: one seeded shuffle per epoch."""
    out = []
    for epoch in range(epochs):
        order = list(range(len(ROWS)))
        random.Random(seed * 7919 + epoch).shuffle(order)
        out += [ROWS[i].row_id for i in order]
    return out


def test_ema_by_hand():
    assert update_ema(None, 0.75, 0.5) == 0.75
    assert update_ema(1.0, 0.0, 0.5) == 0.5
    assert update_ema(0.0, 1.0, 0.25) == 0.25 and update_ema(0.25, 1.0, 0.25) == 0.4375


def test_observe_builds_the_history():
    sampler = PromptSampler(ROWS, 0, VarianceSelectionConfig(ema_weight=0.25))
    sampler.observe([group(ROWS[0], 1.0, 0.0, 1.0, 1.0), group(ROWS[1], None, None)], step=0)
    assert sampler.history == {"r0": [0.75, 1, 0]}  # r1 had no scored sample
    metrics = sampler.observe([group(ROWS[0], 0.0, 0.0), group(ROWS[2], 1.0, None)], step=3)
    # r0: 0.75 * 0.75 + 0.25 * 0 = 0.5625; r2: 1 of its 1 scored sample
    assert sampler.history == {"r0": [0.5625, 2, 3], "r2": [1.0, 1, 3]}
    assert metrics["select/unseen_share"] == pytest.approx(4 / 6)
    assert metrics["select/mean_pass_ema"] == pytest.approx((0.5625 + 1.0) / 2)
    # priorities: r0 0.5625 * 0.4375, r2 floor 0.01, four unseen 0.25
    assert metrics["select/mean_priority"] == pytest.approx((0.24609375 + 0.01 + 1.0) / 6)


def test_pass_rate_counts_scored_samples_only():
    assert pass_rate(group(ROWS[0], 1.0, 0.5, None)) == 0.5  # 0.5 is below CORRECT_AT
    assert pass_rate(group(ROWS[0], None)) is None


def test_uniform_keeps_todays_order_whatever_the_history():
    sampler = PromptSampler(ROWS, 0)
    assert ids(sampler.next(4)) == EPOCH0[:4] == legacy_order(0, 1)[:4]
    assert legacy_order(0, 2)[6:] == EPOCH1
    sampler.observe([group(ROWS[4], 1.0), group(ROWS[2], 0.0)], step=0)
    got = ids(sampler.next(4)) + ids(sampler.next(10))
    assert got == legacy_order(0, 4)[4:18]
    other = PromptSampler(ROWS, 5)
    assert ids(other.next(12)) == legacy_order(5, 2)


def test_band_skips_prompts_outside_the_band():
    history = {"r2": [0.0, 3, 1], "r0": [1.0, 1, 1], "r5": [0.5, 2, 1], "r3": [0.1, 1, 0]}
    sampler = with_history(BandSelectionConfig(low=0.1, high=0.9), history)
    assert ids(sampler.next(4)) == ["r4", "r1", "r5", "r3"]  # r2 (0.0) and r0 (1.0) skipped
    metrics = sampler.observe([], step=2)
    assert metrics["select/skipped"] == 2 and metrics["select/fallbacks"] == 0
    assert metrics["select/in_band_share"] == pytest.approx(4 / 6)  # r1, r4 unseen + r5, r3


def test_band_takes_candidates_anyway_when_none_is_eligible():
    history = {r.row_id: [0.0, 1, 0] for r in ROWS}
    sampler = with_history(BandSelectionConfig(), history)
    # one round (6 candidates) skipped, then the next candidates are taken as they come
    assert ids(sampler.next(2)) == legacy_order(0, 2)[6:8]
    metrics = sampler.observe([], step=0)
    assert metrics["select/fallbacks"] == 2 and metrics["select/skipped"] == 6
    assert sampler.epoch == 1 and sampler.position == 2


@pytest.mark.parametrize("rate, expected", [(0.0, ["r1", "r0", "r5", "r3", "r3"]),
                                            (1.0, ["r4", "r2", "r1", "r0", "r5"])])
def test_retire_skips_mastered_prompts_unless_revisited(rate, expected):
    history = {"r4": [0.95, 2, 1], "r2": [1.0, 5, 1], "r1": [1.0, 1, 1], "r0": [0.8, 4, 1]}
    sampler = with_history(RetireSelectionConfig(threshold=0.9, min_seen=2, revisit_rate=rate),
                           history)
    # r4 and r2 are retired; r1 has EMA 1.0 but one sighting, r0 is below the threshold; the
    # fifth comes from EPOCH1 (r2 skipped again, then r3)
    assert ids(sampler.next(5)) == expected
    assert sampler.observe([], step=2)["select/retired_share"] == pytest.approx(2 / 6)


def test_variance_priorities_by_hand():
    policy = VariancePolicy(VarianceSelectionConfig(floor=0.02, unseen_priority=0.3))
    assert [policy.priority(p) for p in (0.5, 0.9, 1.0, 0.0, None)] == \
        pytest.approx([0.25, 0.09, 0.02, 0.02, 0.3])


def test_variance_draws_distinct_prompts_by_priority():
    history = {"r0": [1.0, 3, 0], "r1": [0.0, 3, 0], "r2": [1.0, 1, 0], "r3": [0.0, 1, 0]}
    sampler = with_history(VarianceSelectionConfig(floor=1e-9), history)
    for _ in range(20):  # the two unseen prompts outweigh the solved / unsolved ones 2.5e8 : 1
        assert sorted(ids(sampler.next(2))) == ["r4", "r5"]
    assert sorted(ids(sampler.next(6))) == sorted(ids(ROWS))  # one full round: all distinct


def test_variance_frequencies_follow_the_priorities():
    rows = ROWS[:3]
    sampler = PromptSampler(rows, 1, VarianceSelectionConfig(floor=0.01))
    sampler.history = {"r0": [0.5, 1, 0], "r1": [0.9, 1, 0], "r2": [1.0, 1, 0]}
    counts = Counter(r.row_id for _ in range(7000) for r in sampler.next(1))
    total = 0.25 + 0.09 + 0.01
    for row_id, weight in (("r0", 0.25), ("r1", 0.09), ("r2", 0.01)):
        assert counts[row_id] / 7000 == pytest.approx(weight / total, abs=0.02)


@pytest.mark.parametrize("selection", [VarianceSelectionConfig(), BandSelectionConfig(),
                                       RetireSelectionConfig(min_seen=1, revisit_rate=0.5)])
def test_state_round_trip_continues_the_same_selection(selection):
    a = PromptSampler(ROWS, 2, selection)
    for step in range(3):
        a.observe([group(r, 1.0 if r.row_id < "r3" else 0.5, 0.0) for r in a.next(3)], step)
    tensors: dict = {}
    b = PromptSampler(ROWS, 2, selection)
    b.load_state(decode(encode(a.state(), tensors), tensors))
    assert b.state() == a.state()
    assert [ids(a.next(3)) for _ in range(4)] == [ids(b.next(3)) for _ in range(4)]


def test_a_checkpoint_without_history_still_loads():
    sampler = PromptSampler(ROWS, 0)
    sampler.load_state({"epoch": 1, "position": 2})
    assert ids(sampler.next(2)) == legacy_order(0, 2)[8:10] and sampler.history == {}


def test_selection_config():
    assert DataConfig(selection="band").selection == BandSelectionConfig()
    assert DataConfig().selection.name == "uniform"
    with pytest.raises(ValueError, match="allowed: uniform, band, variance, retire"):
        DataConfig(selection="hard")
    with pytest.raises(ValueError, match="low=0.8 is above high=0.2"):
        BandSelectionConfig(low=0.8, high=0.2)


def test_selection_from_overrides():
    from rlvr.config import load_config

    cfg = load_config(None, ["data.selection={name: retire, revisit_rate: 0.2}"])
    assert cfg.data.selection == RetireSelectionConfig(revisit_rate=0.2)
    with pytest.raises(ConfigError, match="data.selection"):
        load_config(None, ["data.selection={name: band, lo: 0.2}"])
