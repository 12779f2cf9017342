"""The state codec (no pickle), JSONL truncation on resume, identity diffs, step guards."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from rlvr.trainer.guards import NonFiniteAbort, NonFiniteGuard, mask_invalid_rewards
from rlvr.runs.identity import config_changes, mismatches
from rlvr.runs.resume import truncate_jsonl
from rlvr.runs.state_codec import StateEncodeError, decode, encode
from rlvr.types import Group, RewardResult, Sample, TaskRow


def _roundtrip(obj, tmp_path):
    tensors: dict = {}
    tree = json.loads(json.dumps(encode(obj, tensors)))
    save_file(tensors, str(tmp_path / "s.safetensors"))
    return decode(tree, load_file(str(tmp_path / "s.safetensors")))


def test_optimizer_and_rng_state_roundtrip_exactly(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = {"opt": opt.state_dict(), "py": random.getstate(), "np": np.random.get_state(),
             "torch": torch.get_rng_state(), "odd": {1: (math.inf, None), "nan": math.nan}}
    back = _roundtrip(state, tmp_path)
    fresh = torch.optim.AdamW(model.parameters(), lr=1e-3)
    fresh.load_state_dict(back["opt"])
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert torch.equal(fresh.state_dict()["state"][0][key], opt.state_dict()["state"][0][key])
    assert fresh.param_groups[0]["betas"] == (0.9, 0.99)
    random.setstate(back["py"])
    np.random.set_state(back["np"])
    assert back["odd"][1][0] == math.inf and math.isnan(back["odd"]["nan"])
    assert torch.equal(back["torch"], state["torch"])


def test_shared_tensors_are_stored_separately(tmp_path):
    weight = torch.ones(4)
    back = _roundtrip({"a": weight, "b": weight}, tmp_path)
    assert torch.equal(back["a"], back["b"])


def test_unknown_types_are_refused():
    with pytest.raises(StateEncodeError, match="state at 's.f': cannot store a builtin_function"):
        encode({"f": print}, {})


def test_truncate_jsonl_drops_replayed_steps_and_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in range(5)) + '{"step": 5, "lo')
    assert truncate_jsonl(path, 3) == 3
    assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [0, 1, 2]


def test_config_changes_name_the_keys():
    saved = {"seed": 1, "optim": {"lr": 0.1}, "steps": 5, "log": {"run_dir": "a"}}
    now = {"seed": 1, "optim": {"lr": 0.2}, "steps": 9, "log": {"run_dir": "b"}}
    assert config_changes(saved, now) == ["optim.lr: 0.1 -> 0.2"]  # steps/log may change


def test_mismatches_report_each_kind():
    base = {"config_sha256": "a", "config": {}, "dataset": {"rows": 4, "sha256": "x" * 64},
            "tokenizer_sha256": "t" * 64, "world_size": 1, "versions": {}}
    other = {**base, "dataset": {"rows": 5, "sha256": "y" * 64}, "tokenizer_sha256": "u" * 64,
             "world_size": 2}
    found = mismatches(base, other)
    assert set(found) == {"dataset", "tokenizer", "world_size"}


def _groups(scores):
    row = TaskRow("r", "p", "1")
    samples = [Sample(row, [1], [2], [-1.0], "stop", "x", RewardResult.scored(0.0)) for _ in scores]
    for sample, score in zip(samples, scores):
        object.__setattr__(sample, "reward", RewardResult(score=score))
    return [Group(row=row, samples=samples)]


def test_f11_invalid_scores_are_masked():
    groups = _groups([math.nan, math.inf, -math.inf, 1e30, 0.5, None])
    assert mask_invalid_rewards(groups) == {"reward/invalid": 4.0, "outcome/scored": -4.0,
                                            "outcome/unscorable": 4.0}
    outcomes = [s.reward.outcome for s in groups[0].samples]
    assert outcomes == ["unscorable"] * 4 + ["scored", "unscorable"]
    assert groups[0].samples[0].reward.verdict.startswith("invalid_reward:nan")


def test_nonfinite_guard_counts_resets_and_aborts():
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(model.parameters())
    guard = NonFiniteGuard(limit=2)
    for step, skipped in enumerate([1.0, 0.0, 1.0]):
        metrics = {"nonfinite_skipped": skipped, "loss": 0.1}
        guard.observe(step, metrics)
        guard.check(model, opt)
    assert metrics["nonfinite/skipped_total"] == 2.0 and metrics["nonfinite/consecutive"] == 1.0
    restored = NonFiniteGuard(limit=2)
    restored.load_state_dict(json.loads(json.dumps(guard.state_dict())))
    restored.observe(3, {"loss": math.nan})
    with pytest.raises(NonFiniteAbort, match="2 consecutive steps"):
        restored.check(model, opt)


def _trainer(rewards):
    """The parts of a Trainer that ``stateful_objects`` reads: no algorithm state, no reference."""
    from types import SimpleNamespace

    return SimpleNamespace(rewards=rewards, stateful={}, reference=None,
                           algo=SimpleNamespace(stateful=dict))


def test_reward_counters_are_found_and_restored():
    from collections import Counter
    from types import SimpleNamespace

    from rlvr.runs.resume import stateful_objects

    rewards = SimpleNamespace(totals=Counter({"outcome/infra_error": 3}),
                              pool=SimpleNamespace(counts=Counter({"timeouts": 2})))
    state = stateful_objects(_trainer(rewards))["rewards"].state_dict()
    fresh = SimpleNamespace(totals=Counter(), pool=SimpleNamespace(counts=Counter({"timeouts": 0})))
    stateful_objects(_trainer(fresh))["rewards"].load_state_dict(
        json.loads(json.dumps(state)))
    assert fresh.totals["outcome/infra_error"] == 3 and fresh.pool.counts["timeouts"] == 2


def test_the_adaptive_entropy_coefficient_is_a_named_checkpoint_object():
    """Resume finds algorithm state through ``Algorithm.stateful()``, by name, not by scanning."""
    from types import SimpleNamespace

    from rlvr.algorithms import build_algorithm
    from rlvr.configs.algorithm import AlgorithmConfig
    from rlvr.runs.resume import stateful_objects

    plain = build_algorithm(AlgorithmConfig())
    adaptive = build_algorithm(AlgorithmConfig(entropy={"coef": 0.002, "target": 0.5}))
    assert plain.stateful() == {}
    trainer = SimpleNamespace(rewards=None, stateful={}, reference=None, algo=adaptive)
    objects = stateful_objects(trainer)
    assert list(objects) == ["algo.entropy_coef"]
    adaptive.entropy_coef.observe(0.1)  # below target: the coefficient grows by one step
    assert objects["algo.entropy_coef"].state_dict() == {"value": 0.002 + 0.0005}
