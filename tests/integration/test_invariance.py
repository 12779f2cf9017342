"""One optimizer batch split into 1, 2 or 4 micro-batches gives the same gradients (within 1e-5
relative) for every aggregation mode: normalisers are global, not per micro-batch. Token-level
REINFORCE++ whitening uses the whole rollout batch's token statistics, whatever the layout."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from rlvr.algorithms import build_algorithm
from rlvr.algorithms.aggregation import AGGREGATIONS
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.models.loader import Policy
from rlvr.trainer.update import StatSums, StepSettings, accumulate_gradients, prepass
from rlvr.types import TrainBatch

N, P, T, VOCAB = 8, 4, 6, 50
ALL_AXES = {"objective": {"name": "ppo_clip", "dual_clip": 3.0}, "kl": {"coef": 0.1},
            "entropy": {"coef": 0.01}, "token_select": {"top": 0.5},
            "offpolicy": {"level": "sequence"}, "sample_weights": {"positive": 0.5}}


@pytest.fixture(scope="module")
def policy() -> Policy:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=64, pad_token_id=0)
    return Policy(LlamaForCausalLM(config).float(), None, torch.device("cpu"), None)


@pytest.fixture(scope="module")
def batch() -> TrainBatch:
    g = torch.Generator().manual_seed(1)
    prompt_len = torch.tensor([4, 2, 3, 4, 1, 2, 4, 3])
    comp_len = torch.tensor([6, 1, 3, 5, 2, 6, 4, 3])
    ids = torch.randint(1, VOCAB, (N, P + T), generator=g)
    attention = torch.zeros(N, P + T, dtype=torch.long)
    mask = torch.zeros(N, T)
    for n in range(N):
        attention[n, P - prompt_len[n]:P + comp_len[n]] = 1
        mask[n, :comp_len[n]] = 1.0
    ids = ids * attention  # pad id 0
    mask[3] = 0.0  # an unscorable sample: fully masked row
    sampler = -3 * torch.rand(N, T, generator=g)
    ref = -3 * torch.rand(N, T, generator=g)
    return TrainBatch(ids, attention, mask, torch.randn(N, generator=g), sampler,
                      torch.zeros(N, dtype=torch.bool), ref)


def gradients(policy, batch, algo, micro_batch_size):
    settings = StepSettings(micro_batch_size, 1.0, max_new_tokens=8, temperature=0.7)
    select = None
    if algo.select_tokens is not None:
        _, entropy_NT = prepass(policy, batch, N, settings.temperature)
        select = algo.select_tokens(entropy_NT, batch.completion_mask_NT)
    policy.model.zero_grad(set_to_none=True)
    accumulate_gradients(policy, batch, None, select, algo, settings, StatSums())
    return torch.cat([p.grad.flatten() for p in policy.model.parameters() if p.grad is not None])


@pytest.mark.parametrize("extras", [{}, ALL_AXES], ids=["ppo_clip", "all_axes"])
@pytest.mark.parametrize("aggregation", sorted(AGGREGATIONS))
def test_micro_batching_does_not_change_gradients(policy, batch, aggregation, extras):
    algo = build_algorithm(AlgorithmConfig.model_validate({"aggregation": aggregation, **extras}))
    whole = gradients(policy, batch, algo, N)
    assert whole.norm() > 0
    for micro in (4, 2):  # 2 and 4 micro-batches
        split = gradients(policy, batch, algo, micro)
        assert ((split - whole).norm() / whole.norm()).item() < 1e-5, micro


def test_gspo_sequence_ratio_is_layout_invariant(policy, batch):
    algo = build_algorithm(AlgorithmConfig.model_validate(
        {"objective": {"name": "gspo"}, "aggregation": "seq_mean_token_mean"}))
    whole = gradients(policy, batch, algo, N)
    split = gradients(policy, batch, algo, 2)
    assert ((split - whole).norm() / whole.norm()).item() < 1e-5


def test_token_whitening_is_layout_invariant(policy, batch):
    algo = build_algorithm(AlgorithmConfig.model_validate(
        {"advantage": {"name": "reinforce_pp"}, "aggregation": "token_mean"}))
    rewards_BG = torch.tensor([[1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 1.0, 0.25]])
    tokens_BG = batch.completion_mask_NT.sum(1).reshape(2, 4)  # [6, 1, 3, 0], [2, 6, 4, 3]
    valid_BG = tokens_BG > 0
    adv_N = algo.sample_advantages(rewards_BG, valid_BG, tokens_BG)
    # Another order of the same samples gets the same advantage per sample.
    perm = torch.tensor([5, 2, 7, 0, 3, 6, 1, 4])
    adv_perm_N = algo.sample_advantages(rewards_BG.reshape(-1)[perm].reshape(2, 4),
                                        valid_BG.reshape(-1)[perm].reshape(2, 4),
                                        tokens_BG.reshape(-1)[perm].reshape(2, 4))
    assert torch.allclose(adv_perm_N, adv_N[perm], atol=1e-6)
    # Whitening each half alone (per micro-batch statistics) would give other advantages.
    halves_N = torch.cat([algo.sample_advantages(rewards_BG[b:b + 1], valid_BG[b:b + 1],
                                                 tokens_BG[b:b + 1]) for b in range(2)])
    assert not torch.allclose(halves_N, adv_N, atol=1e-3)
    whitened = replace(batch, advantages_N=adv_N)
    whole = gradients(policy, whitened, algo, N)
    for micro in (4, 2):
        split = gradients(policy, whitened, algo, micro)
        assert ((split - whole).norm() / whole.norm()).item() < 1e-5, micro
