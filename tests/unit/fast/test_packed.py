"""The packed (padding-free) forward equals the padded full forward: values and gradients."""

from __future__ import annotations

import pytest
import torch

from rlvr.models import packed
from rlvr.models.prefix import full_logits

import batches
from fast_models import tiny


def grouped_batch(seed=0):
    """Ragged prompts and completions, one completion of a single token, rows shuffled."""
    return batches.grouped_batch(T=6, seed=seed, one_token=(1, 2), shuffle=True)


def padded_logprobs(model, batch, temperature=1.0):
    logits_NTV = full_logits(model, batch).float() / temperature
    targets_NT = batch.input_ids_NL[:, -batch.completion_len:]
    logp_NTV = logits_NTV.log_softmax(-1)
    entropy_NT = -(logp_NTV.exp() * logp_NTV).sum(-1)
    return logp_NTV.gather(2, targets_NT[:, :, None]).squeeze(2), entropy_NT


def loss_and_grads(model, logp_NT, entropy_NT, batch):
    mask_NT = batch.completion_mask_NT
    model.zero_grad()
    weights_NT = torch.linspace(-1, 1, mask_NT.numel()).reshape(mask_NT.shape)
    ((logp_NT * weights_NT + 0.1 * entropy_NT) * mask_NT).sum().backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("model_type", ["llama", "qwen2", "qwen3"])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_packed_equals_padded_forward_and_gradients(model_type, temperature):
    model = tiny(model_type, layers=2, sharpen=1.0)
    batch = grouped_batch()
    mask_NT = batch.completion_mask_NT.bool()
    ref_NT, ref_entropy_NT = padded_logprobs(model, batch, temperature)
    ref_grads = loss_and_grads(model, ref_NT, ref_entropy_NT, batch)
    got_NT, got_entropy_NT = packed.packed_logprobs(model, batch, temperature, entropy="grad")
    got_grads = loss_and_grads(model, got_NT, got_entropy_NT, batch)
    torch.testing.assert_close(got_NT[mask_NT], ref_NT[mask_NT], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got_entropy_NT[mask_NT], ref_entropy_NT[mask_NT],
                               atol=1e-5, rtol=1e-5)
    assert (got_NT[~mask_NT] == 0).all()
    for got, ref in zip(got_grads, ref_grads):
        torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-4)
    with torch.no_grad():  # the diagnostic entropy (outside the graph) is the same number
        detached_NT = packed.packed_logprobs(model, batch, temperature, entropy="detached")[1]
        assert packed.packed_logprobs(model, batch, temperature, entropy="off")[1] is None
    torch.testing.assert_close(detached_NT[mask_NT], ref_entropy_NT[mask_NT].detach(),
                               atol=1e-5, rtol=1e-5)


def test_blocked_and_chunked_head_give_the_same_result(monkeypatch):
    model = tiny(layers=1, sharpen=1.0)
    batch = grouped_batch(seed=3)
    whole_NT, _ = packed.packed_logprobs(model, batch, entropy="grad")
    grads_whole = loss_and_grads(model, whole_NT, torch.zeros_like(whole_NT), batch)
    monkeypatch.setattr(packed, "MIN_HEAD_BLOCK_ROWS", 1)
    monkeypatch.setattr(packed, "HEAD_BLOCK_BYTES", 4 * model.config.vocab_size * 3)  # 3 rows
    blocked_NT, _ = packed.packed_logprobs(model, batch, entropy="grad")
    grads_blocked = loss_and_grads(model, blocked_NT, torch.zeros_like(blocked_NT), batch)
    monkeypatch.setattr(packed, "HEAD_CHUNK_TOKENS", 5)  # many blocks, each checkpointed
    chunked_NT, _ = packed.packed_logprobs(model, batch, entropy="grad")
    grads_chunked = loss_and_grads(model, chunked_NT, torch.zeros_like(chunked_NT), batch)
    for got_NT, got_grads in ((blocked_NT, grads_blocked), (chunked_NT, grads_chunked)):
        torch.testing.assert_close(got_NT, whole_NT)
        for got, ref in zip(got_grads, grads_whole):
            torch.testing.assert_close(got, ref)


def test_head_blocks_stay_below_the_mmap_threshold():
    assert packed.head_block_rows(torch.nn.Linear(4, 49152), 49152) == 170
    assert packed.head_block_rows(torch.nn.Linear(4, 151936), 151936) == 64  # the floor
    assert 170 * 49152 * 4 < 32 * 2**20 < 171 * 49152 * 4


def test_layout_counts_each_real_token_once():
    batch = grouped_batch()
    layout = packed.pack(batch)
    prompt_tokens = 7 * 3 - (0 + 1 + 2)  # three prompts, with 0, 1, 2 tokens of padding
    completion_tokens = int(batch.attention_mask_NL[:, 7:].sum())
    assert len(layout.ids_K) == prompt_tokens + completion_tokens
    assert len(layout.target_M) == completion_tokens
    assert sum(b.query_index_RQ.shape[0] for b in layout.buckets) == 3 + batch.num_sequences
    assert len(layout.buckets) == packed.ROW_BUCKETS
    assert len(set(layout.slot_of_token_K.tolist())) == len(layout.ids_K)  # one slot per token


@pytest.mark.parametrize("buckets", [1, 2, 100])
def test_any_number_of_row_buckets_gives_the_same_logprobs(monkeypatch, buckets):
    model = tiny(sharpen=1.0)
    batch = grouped_batch(seed=4)
    reference_NT, _ = packed.packed_logprobs(model, batch)
    monkeypatch.setattr(packed, "ROW_BUCKETS", buckets)
    torch.testing.assert_close(packed.packed_logprobs(model, batch)[0], reference_NT)


def test_under_bf16_autocast_the_outputs_are_fp32_and_close_to_the_padded_forward():
    model = tiny(sharpen=1.0)
    batch = grouped_batch(seed=5)
    mask_NT = batch.completion_mask_NT.bool()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref_NT, ref_entropy_NT = padded_logprobs(model, batch)
        for mode in ("detached", "grad"):
            got_NT, got_entropy_NT = packed.packed_logprobs(model, batch, entropy=mode)
            assert got_NT.dtype == got_entropy_NT.dtype == torch.float32
            torch.testing.assert_close(got_NT[mask_NT], ref_NT[mask_NT], atol=0.05, rtol=0.05)
            torch.testing.assert_close(got_entropy_NT[mask_NT], ref_entropy_NT[mask_NT],
                                       atol=0.05, rtol=0.05)


def test_lora_adapters_are_applied_by_the_packed_forward():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(tiny(sharpen=1.0), LoraConfig(r=4, lora_alpha=8, target_modules=[
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    with torch.no_grad():  # non-zero adapters, so they change the outputs
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    batch = grouped_batch(seed=6)
    mask_NT = batch.completion_mask_NT.bool()
    ref_NT, _ = padded_logprobs(model, batch)
    got_NT, _ = packed.packed_logprobs(model, batch)
    torch.testing.assert_close(got_NT[mask_NT], ref_NT[mask_NT], atol=1e-5, rtol=1e-5)
    with model.disable_adapter():
        base_NT, _ = packed.packed_logprobs(model, batch)
    assert (base_NT[mask_NT] - got_NT[mask_NT]).abs().max() > 1e-3


def test_per_row_temperatures_score_each_row_at_its_own():
    from dataclasses import replace

    from rlvr.models.logprobs import completion_logprobs, padded_logprobs as model_padded

    model = tiny(layers=1, sharpen=1.0)
    batch = grouped_batch()
    temps_N = torch.linspace(0.5, 1.5, batch.num_sequences)
    mask_NT = batch.completion_mask_NT.bool()
    with torch.no_grad():
        ref_NT = torch.stack([padded_logprobs(model, batch, float(t))[0][n]
                              for n, t in enumerate(temps_N)])
        tempered = replace(batch, temperature_N=temps_N)
        got_NT, _ = completion_logprobs(model, tempered, temperature=1.0)  # packed path
        padded_NT, _ = model_padded(model, tempered, temps_N)
    torch.testing.assert_close(got_NT[mask_NT], ref_NT[mask_NT], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded_NT[mask_NT], ref_NT[mask_NT], atol=1e-5, rtol=1e-5)
    sub = tempered.select(torch.tensor([1, 0]))  # micro-batches keep their rows' temperatures
    assert torch.equal(sub.temperature_N, temps_N[[1, 0]])
