"""Per-prompt seeds: a prompt's samples depend only on its seed, the model and the prompt."""

from __future__ import annotations

import pytest
import torch

from rlvr.models.fastpath import Decoder
from rlvr.rollout.decode import Sampler, static_decode

from fast_models import tiny

A, B = [1, 40, 41, 42, 43, 44, 2], [1, 50, 51]


def _decode(model, prompts, seeds, group_size=4, max_new=10):
    sampler = Sampler(temperature=1.0, top_p=0.95, greedy=False, stop_ids=[3], seeds=seeds,
                      group_size=group_size)
    return static_decode(Decoder(model), prompts, group_size, max_new, sampler, 0,
                         torch.device("cpu"))


def test_static_decoder_prompt_samples_do_not_depend_on_the_batch():
    model = tiny()
    torch.manual_seed(0)
    both = _decode(model, [A, B], [11, 22])
    torch.manual_seed(999)  # the global generator plays no part
    alone = _decode(model, [B], [22])
    assert torch.equal(both.tokens_NT[4:], alone.tokens_NT)
    torch.testing.assert_close(both.logprobs_NT[4:], alone.logprobs_NT, atol=1e-5, rtol=1e-5)
    other = _decode(model, [B], [23])
    assert not torch.equal(other.tokens_NT, alone.tokens_NT)  # the seed does matter


def test_seeded_draws_leave_the_global_generator_alone():
    model = tiny()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    _decode(model, [A], [1])
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("decoder", ["static", "generate"])
def test_engine_seeds_make_a_prompt_independent_of_its_batch(tiny_model_dir, decoder):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.hf import HFEngine, SamplingParams
    from rlvr.types import TaskRow

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off"))
    rows = [TaskRow("a", "12 + 30 = ?", "42"), TaskRow("b", "7 + 5?", "12")]
    params = SamplingParams(max_new_tokens=8, temperature=1.0)
    engine = HFEngine(policy, None, "Answer.", batch_size=8, decoder=decoder)

    def completions(groups):
        return [[s.completion_ids for s in g.samples] for g in groups]

    torch.manual_seed(1)
    both = engine.generate(rows, 3, params, seeds=[7, 8])
    torch.manual_seed(2)
    alone = engine.generate(rows[1:], 3, params, seeds=[8])
    assert completions(both)[1] == completions(alone)[0]
    assert len(set(map(tuple, completions(both)[1]))) > 1  # G distinct draws, not one repeated
    chunked = HFEngine(policy, None, "Answer.", batch_size=3, decoder=decoder)  # one per chunk
    assert completions(chunked.generate(rows, 3, params, seeds=[7, 8])) == completions(both)
    with pytest.raises(ValueError, match="2 rows"):
        engine.generate(rows, 3, params, seeds=[1])


def test_seeded_requests_batch_together_for_the_static_decoder():
    from rlvr.rollout.engine import SamplingParams, TokenRequest
    from rlvr.rollout.hf import _batches

    p = SamplingParams(4)
    reqs = [TokenRequest([1], 2, p, seed=1), TokenRequest([2], 2, p, seed=2),
            TokenRequest([3], 2, p), TokenRequest([4], 2, p, seed=4), TokenRequest([5], 3, p, 5)]
    runs = [[r.prompt_ids[0] for r in run] for run in _batches(reqs, seeded_together=True)]
    assert runs == [[1, 2], [3], [4], [5]]  # never seeded with unseeded, nor other n
    assert [[r.prompt_ids[0] for r in run] for run in _batches(reqs)] == [[1], [2], [3], [4], [5]]
