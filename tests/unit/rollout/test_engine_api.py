"""The token-level entry of the engine protocol (rollout/engine.py) on the hf engine and a tiny
model: completions continue a running token sequence, seeded requests do not depend on their
neighbours, the group API is built on it, and every completion carries its policy version."""

from __future__ import annotations

import pytest
import torch

from rlvr.config import load_config
from rlvr.configs.run import ModelConfig
from rlvr.models.loader import load_policy
from rlvr.rollout.engine import SamplingParams, TokenRequest, build_engine, engine_class
from rlvr.rollout.hf import HFEngine, _batches
from rlvr.types import TaskRow


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    policy = load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off", device="cpu"))
    return HFEngine(policy, None, None, batch_size=8, decoder="static")


def test_build_engine_reads_the_engine_knobs(tiny_model_dir):
    cfg = load_config(None, [f"model.name={tiny_model_dir}", "rollout.engine.batch_size=4",
                             "rollout.engine.decoder=generate", "model.device=cpu"])
    policy = load_policy(cfg.model)
    built = build_engine(cfg, policy, min_batch=6)
    assert isinstance(built, HFEngine)
    assert (built.batch_size, built.decoder) == (6, "generate")  # min_batch raises the batch
    assert engine_class("hf").capabilities == {"logits", "lora"}
    with pytest.raises(ValueError, match="unknown rollout engine 'nope'; registered: hf"):
        engine_class("nope")


def test_a_continuation_sends_the_running_sequence(engine):
    """Greedy: 6 tokens from the prompt equal 3 tokens, then 3 more continuing prompt + those."""
    greedy = SamplingParams(max_new_tokens=6, greedy=True)
    prompt = engine.prompt_ids(TaskRow("r", "1 + 2 = ?", "3"))
    (full,), = engine.generate_tokens([TokenRequest(prompt, 1, greedy)])
    if full.finish_reason == "stop" and len(full.completion_ids) < 6:
        pytest.skip("the tiny model stopped early")
    (first,), = engine.generate_tokens([TokenRequest(prompt, 1, SamplingParams(3, greedy=True))])
    (rest,), = engine.generate_tokens([TokenRequest(prompt + first.completion_ids, 1,
                                                    SamplingParams(3, greedy=True))])
    assert first.completion_ids + rest.completion_ids == full.completion_ids
    assert len(first.logprobs) == 3 and all(lp <= 0 for lp in first.logprobs)
    assert (full.finish_reason, len(full.logprobs)) == ("length", 6)


def test_a_seeded_request_does_not_depend_on_its_neighbours(engine):
    params = SamplingParams(max_new_tokens=5, temperature=1.5)
    a = engine.prompt_ids(TaskRow("a", "2 + 2 = ?", "4"))
    b = engine.prompt_ids(TaskRow("b", "10 + 7 = ?", "17"))
    alone = engine.generate_tokens([TokenRequest(a, 3, params, seed=11)])[0]
    torch.manual_seed(123)  # a different global stream must not matter
    together = engine.generate_tokens([TokenRequest(b, 2, params), TokenRequest(a, 3, params, 11),
                                       TokenRequest(b, 2, params, seed=5)])
    assert [c.completion_ids for c in together[1]] == [c.completion_ids for c in alone]
    assert [len(out) for out in together] == [2, 3, 2]


def test_batches_group_unseeded_requests_with_equal_settings():
    p, q = SamplingParams(4), SamplingParams(4, greedy=True)
    reqs = [TokenRequest([1], 2, p), TokenRequest([2], 2, p), TokenRequest([3], 2, q),
            TokenRequest([4], 2, q, seed=1), TokenRequest([5], 2, q), TokenRequest([6], 3, q)]
    assert [[r.prompt_ids[0] for r in run] for run in _batches(reqs)] == [[1, 2], [3], [4], [5],
                                                                           [6]]


def test_group_api_records_the_version_of_the_last_sync(engine):
    rows = [TaskRow("a", "2 + 2 = ?", "4"), TaskRow("b", "3 + 3 = ?", "6")]
    params = SamplingParams(max_new_tokens=3, greedy=True)
    assert engine.sync_weights(iter(()), 5) == {"sync/bytes": 0.0}
    chunks = []
    groups = engine.generate(rows, 2, params, on_groups=chunks.append, seeds=[1, 2])
    assert [g.row.row_id for g in groups] == ["a", "b"] and len(chunks) == 1
    assert {s.policy_version for g in groups for s in g.samples} == {5}
    tokens = engine.generate_tokens([TokenRequest(engine.prompt_ids(rows[0]), 2, params)])[0]
    assert [s.completion_ids for s in groups[0].samples] == [c.completion_ids for c in tokens]
    with pytest.raises(ValueError, match="1 seeds for 2 rows"):
        engine.generate(rows, 2, params, seeds=[1])
    engine.sync_weights((), 0)
