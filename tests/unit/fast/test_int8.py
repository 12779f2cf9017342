"""The int8 rollout copy (rollout/int8.py): hand-computed quantization, exact integer products,
shared non-linear weights, refresh after a step, and a bounded sampler-logprob gap."""

from __future__ import annotations

import pytest
import torch

from rlvr.models.fastpath import Decoder
from rlvr.rollout.decode import Sampler, static_decode
from rlvr.rollout.int8 import Int8Copy, Int8Linear, quantize_rows

from fast_models import tiny

PROMPTS = [[1, 40, 41, 42, 43, 44, 2], [1, 50, 51], [1, 60, 61, 62, 63]]


def test_quantize_rows_by_hand():
    q_MK, scale_M1 = quantize_rows(torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]]))
    # row 0: scale 2/127; 1 / (2/127) = 63.5 -> 64 (round half to even), -127, 31.75 -> 32
    assert q_MK.dtype == torch.int8
    assert q_MK.tolist() == [[64, -127, 32], [0, 0, 0]]
    torch.testing.assert_close(scale_M1[0, 0], torch.tensor(2 / 127))
    assert scale_M1[1, 0] > 0  # an all-zero row gets a tiny scale, not a division by zero


def test_int8_linear_is_the_integer_product_rescaled():
    torch.manual_seed(0)
    linear = torch.nn.Linear(24, 40)
    x_BTK = torch.randn(2, 3, 24)
    layer = Int8Linear(linear)
    q_x, s_x = quantize_rows(x_BTK.reshape(-1, 24))
    q_w, s_w = quantize_rows(linear.weight.detach())
    exact_MN = (q_x.long() @ q_w.long().t()).double() * s_x.double() * s_w.double().t()
    y_BTN = layer(x_BTK)
    assert y_BTN.shape == (2, 3, 40)
    torch.testing.assert_close(y_BTN.reshape(-1, 40).double(),
                               exact_MN + linear.bias.detach().double(), atol=1e-5, rtol=1e-5)
    # and close to the fp32 layer: each factor is off by at most half a quantization step
    assert (y_BTN - linear(x_BTK)).abs().max() < 0.05


def test_copy_shares_embeddings_and_norms_and_follows_a_refresh():
    model = tiny("llama")
    copy = Int8Copy(model)
    assert copy.model.model.embed_tokens.weight is model.model.embed_tokens.weight
    assert copy.model.model.norm.weight is model.model.norm.weight
    linears = [m for m in copy.model.modules() if isinstance(m, torch.nn.Linear)]
    assert linears == [] and isinstance(copy.model.lm_head, Int8Linear)
    assert model.lm_head.weight.requires_grad  # the source is untouched
    ids = torch.tensor([PROMPTS[0]])
    with torch.no_grad():
        before = copy.model(ids).logits
        model.model.layers[0].mlp.down_proj.weight.mul_(3.0)  # an optimizer step
        stale = copy.model(ids).logits
        copy.refresh()
        after = copy.model(ids).logits
    torch.testing.assert_close(stale, before)
    assert (after - before).abs().max() > 1e-3
    torch.testing.assert_close(after, Int8Copy(model).model(ids).logits)


def _decode(model, seeds=(11, 12, 13)):
    sampler = Sampler(1.0, 1.0, False, [3], seeds=list(seeds), group_size=4)
    return static_decode(Decoder(model), PROMPTS, 4, 10, sampler, 0, torch.device("cpu"))


def _trainer_logprobs(model, out):
    rows = []
    with torch.no_grad():
        for n in range(out.tokens_NT.shape[0]):
            prompt, new = PROMPTS[n // 4], out.tokens_NT[n].tolist()
            logits = model(torch.tensor([prompt + new])).logits[0, len(prompt) - 1:-1]
            rows.append(torch.log_softmax(logits.float(), -1).gather(
                1, torch.tensor(new)[:, None])[:, 0])
    return torch.stack(rows)


@pytest.mark.parametrize("model_type", ["llama", "qwen2", "qwen3"])
def test_int8_decode_is_deterministic_and_its_logprob_gap_is_bounded(model_type):
    model = tiny(model_type, sharpen=2.0)
    copy = Int8Copy(model)
    first, second = _decode(copy.model), _decode(copy.model)
    assert torch.equal(first.tokens_NT, second.tokens_NT)
    assert torch.equal(first.logprobs_NT, second.logprobs_NT)
    stopped_NT = (first.tokens_NT == 3).long().cumsum(1)
    real_NT = (stopped_NT == 0) | ((stopped_NT == 1) & (first.tokens_NT == 3))  # up to the stop
    gap_NT = (first.logprobs_NT - _trainer_logprobs(model, first)).abs()[real_NT]
    # the sampler's logprob is the int8 model's, not the trained one's: close, not equal
    assert 0 < gap_NT.mean() < 0.05 and gap_NT.max() < 0.5


def test_engine_decodes_from_the_int8_copy_requantized_at_each_rollout(tiny_model_dir):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.engine import SamplingParams
    from rlvr.rollout.hf import HFEngine
    from rlvr.types import TaskRow

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off"))
    engine = HFEngine(policy, None, None, batch_size=4, weights="int8")
    decoded = engine.decode_model()
    assert decoded is not policy.model and isinstance(decoded.lm_head, Int8Linear)
    old_KN = decoded.lm_head.weight_KN.clone()
    with torch.no_grad():
        policy.model.lm_head.weight.mul_(-1.0)  # an optimizer step
    engine.generate([TaskRow("r0", "2 + 2", "4")], 2, SamplingParams(max_new_tokens=2))
    assert engine.decode_model() is decoded
    assert torch.equal(decoded.lm_head.weight_KN, -old_KN)


def test_int8_weights_need_the_offpolicy_correction():
    from rlvr.config import load_config
    from rlvr.configs.base import ConfigError

    load_config(None, ["rollout.engine.weights=int8"])
    with pytest.raises(ConfigError, match="needs algorithm.offpolicy"):
        load_config(None, ["rollout.engine.weights=int8", "algorithm.offpolicy=null"])


def test_a_lora_policy_is_quantized_from_its_merged_copy(tiny_model_dir):
    pytest.importorskip("peft")
    from rlvr.rollout.hf import HFEngine
    from rlvr.rollout.inference_copy import InferenceCopy
    from test_inference_copy import _perturb_adapters, logits, lora_policy

    policy = lora_policy(tiny_model_dir)
    engine = HFEngine(policy, None, None, batch_size=4, weights="int8")
    decoded = engine.decode_model()
    assert isinstance(decoded.lm_head, Int8Linear)
    assert (logits(decoded) - logits(policy.model)).abs().max() < 0.25  # int8 of the merged
    _perturb_adapters(policy.model, seed=1)  # an optimizer step on the adapters
    stale = logits(decoded)
    engine._before_generate()  # what every generate call does first
    fresh = Int8Copy(InferenceCopy(policy.model, None).model).model
    assert (logits(decoded) - stale).abs().max() > 1e-3
    torch.testing.assert_close(logits(decoded), logits(fresh))
