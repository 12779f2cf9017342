"""Very large groups (BroRL-style, hundreds of samples per prompt) decode in chunks of at most
``rollout.engine.max_batch_rows`` rows; the per-sample random streams make the samples, and so
the advantages, independent of the chunk size."""

from __future__ import annotations

import pytest
import torch

from rlvr.algorithms import build_algorithm
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.sampling import EADScheduleConfig
from rlvr.rollout.decode import row_seed
from rlvr.rollout.temperatures import rollout_params
from rlvr.types import TaskRow

G = 512


@pytest.fixture(scope="module")
def policy(tiny_model_dir):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy

    return load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off"))


def _groups(policy, max_rows, params):
    from rlvr.rollout.hf import HFEngine

    engine = HFEngine(policy, None, "Answer.", batch_size=64, decoder="static",
                      max_batch_rows=max_rows)
    rows = [TaskRow("a", "12 + 30 = ?", "42"), TaskRow("b", "7 + 5?", "12")]
    return engine.generate(rows, G, params, seeds=[7, 8])


def _advantages(groups) -> torch.Tensor:
    """GRPO advantages of a reward computed from the tokens (parity of their sum)."""
    rewards_BG = torch.tensor([[float(sum(s.completion_ids) % 2) for s in g.samples]
                               for g in groups])
    tokens_BG = torch.tensor([[float(len(s.completion_ids)) for s in g.samples] for g in groups])
    algo = build_algorithm(AlgorithmConfig())
    return algo.sample_advantages(rewards_BG, torch.ones_like(rewards_BG, dtype=torch.bool),
                                  tokens_BG)


@pytest.mark.parametrize("schedule", ["constant", "multi", "ead"])
def test_chunked_group_gives_the_same_samples_and_advantages(policy, schedule):
    params = rollout_params(4, 1.0, 0.95, [0.6, 1.0, 1.4] if schedule == "multi" else None, G,
                            EADScheduleConfig(decay=2.0) if schedule == "ead" else None)
    whole = _groups(policy, G, params)
    ids = [[s.completion_ids for s in g.samples] for g in whole]
    assert len({tuple(c) for c in ids[0]}) > 50  # many distinct samples, not one repeated
    for max_rows in (100, 7):
        chunked = _groups(policy, max_rows, params)
        assert [[s.completion_ids for s in g.samples] for g in chunked] == ids
        for got, ref in zip(chunked, whole):
            for a, b in zip(got.samples, ref.samples):
                assert a.temperature == b.temperature
                assert a.token_temperatures == b.token_temperatures
                torch.testing.assert_close(torch.tensor(a.sampler_logprobs),
                                           torch.tensor(b.sampler_logprobs), atol=1e-5, rtol=0)
        assert torch.equal(_advantages(chunked), _advantages(whole))


def test_chunks_never_exceed_max_batch_rows(policy, monkeypatch):
    from rlvr.rollout import hf

    calls = []
    real = hf.static_decode

    def counting(dec, prompts, group_size, *args, **kwargs):
        calls.append(len(prompts) * group_size)
        return real(dec, prompts, group_size, *args, **kwargs)

    monkeypatch.setattr(hf, "static_decode", counting)
    _groups(policy, 100, rollout_params(2, 1.0, 1.0, None, G))
    assert calls == [100] * 5 + [12] + [100] * 5 + [12]  # 512 = 5 * 100 + 12, per prompt


def test_row_seeds_differ_by_prompt_and_sample():
    seeds = {row_seed(s, j) for s in (7, 8) for j in range(G)}
    assert len(seeds) == 2 * G and all(0 <= s < 2**63 for s in seeds)
    assert row_seed(7, 3) == row_seed(7, 3)
