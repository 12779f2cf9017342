"""The oneDNN rollout copy (rollout/onednn.py, ``rollout.engine.weights=onednn``): each layer is
the linear it replaces up to float rounding, embeddings and norms are shared, a refresh follows
an optimizer step, and a seeded decode gives the full model's tokens and logprobs."""

from __future__ import annotations

import pytest
import torch

from rlvr.configs.base import ConfigError
from rlvr.models.fastpath import Decoder
from rlvr.rollout.decode import Sampler, static_decode
from rlvr.rollout.onednn import OneDNNCopy, OneDNNLinear, onednn_available

from fast_models import tiny

pytestmark = pytest.mark.skipif(not onednn_available(), reason="torch built without oneDNN")

PROMPTS = [[1, 40, 41, 42, 43, 44, 2], [1, 50, 51], [1, 60, 61, 62, 63]]


@pytest.mark.parametrize("bias", [False, True])
def test_layer_is_the_linear_up_to_rounding(bias):
    torch.manual_seed(0)
    linear = torch.nn.Linear(24, 40, bias=bias)
    x_BTK = torch.randn(2, 3, 24)
    layer = OneDNNLinear(linear)
    y_BTN = layer(x_BTK)
    assert y_BTN.shape == (2, 3, 40) and y_BTN.dtype == torch.float32
    torch.testing.assert_close(y_BTN, linear(x_BTK), atol=1e-5, rtol=1e-5)
    # by hand: the product of one row with one weight row
    by_hand = (x_BTK[1, 2].double() * linear.weight[7].double()).sum()
    by_hand = by_hand + (linear.bias[7].double() if bias else 0.0)
    torch.testing.assert_close(y_BTN[1, 2, 7].double(), by_hand, atol=1e-5, rtol=1e-5)


def test_bf16_layer_multiplies_in_bf16():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 32)
    x_MK = torch.randn(5, 64)
    y_MN = OneDNNLinear(linear, torch.bfloat16)(x_MK)
    assert y_MN.dtype == torch.bfloat16
    exact_MN = torch.nn.functional.linear(x_MK.bfloat16().float(), linear.weight.bfloat16().float(),
                                          linear.bias.bfloat16().float())
    torch.testing.assert_close(y_MN.float(), exact_MN, atol=0.05, rtol=0.02)


def test_copy_shares_embeddings_and_norms_and_follows_a_refresh():
    model = tiny("qwen2")  # with attention biases
    copy = OneDNNCopy(model)
    assert copy.model.model.embed_tokens.weight is model.model.embed_tokens.weight
    assert copy.model.model.norm.weight is model.model.norm.weight
    assert [m for m in copy.model.modules() if isinstance(m, torch.nn.Linear)] == []
    assert isinstance(copy.model.lm_head, OneDNNLinear) and model.lm_head.weight.requires_grad
    ids = torch.tensor([PROMPTS[0]])
    with torch.no_grad():
        torch.testing.assert_close(copy.model(ids).logits, model(ids).logits, atol=1e-4,
                                   rtol=1e-4)
        before = copy.model(ids).logits
        model.model.layers[0].mlp.down_proj.weight.mul_(3.0)  # an optimizer step
        stale = copy.model(ids).logits
        copy.refresh()
        after = copy.model(ids).logits
        torch.testing.assert_close(stale, before)
        assert (after - before).abs().max() > 1e-3
        torch.testing.assert_close(after, model(ids).logits, atol=1e-4, rtol=1e-4)


def _decode(model, greedy):
    sampler = Sampler(1.0, 1.0, greedy, [3], seeds=[11, 12, 13], group_size=4)
    return static_decode(Decoder(model), PROMPTS, 4, 10, sampler, 0, torch.device("cpu"))


@pytest.mark.parametrize("model_type", ["llama", "qwen2", "qwen3"])
def test_seeded_decode_equals_the_full_models(model_type):
    model = tiny(model_type)
    copy = OneDNNCopy(model)
    for greedy in (True, False):  # rows stop at different steps: the batch shrinks
        full, packed = _decode(model, greedy), _decode(copy.model, greedy)
        assert torch.equal(packed.tokens_NT, full.tokens_NT)
        torch.testing.assert_close(packed.logprobs_NT, full.logprobs_NT, atol=1e-4, rtol=1e-4)


def test_engine_decodes_from_the_copy_reloaded_at_each_rollout(tiny_model_dir):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.engine import SamplingParams
    from rlvr.rollout.hf import HFEngine
    from rlvr.types import TaskRow

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), autocast="off"))
    engine = HFEngine(policy, None, None, batch_size=4, weights="onednn")
    decoded = engine.decode_model()
    assert decoded is not policy.model and isinstance(decoded.lm_head, OneDNNLinear)
    ids = torch.tensor([[1, 5, 6, 7]])
    with torch.no_grad():
        policy.model.lm_head.weight.mul_(-1.0)  # an optimizer step
    engine.generate([TaskRow("r0", "2 + 2", "4")], 2, SamplingParams(max_new_tokens=2))
    assert engine.decode_model() is decoded
    with torch.no_grad():
        torch.testing.assert_close(decoded(ids).logits, policy.model(ids).logits, atol=1e-4,
                                   rtol=1e-4)


def test_onednn_weights_refuse_a_gpu_policy():
    from rlvr.rollout.hf import HFEngine

    class Policy:  # just what the constructor reads before it refuses
        tokenizer = None
        model = tiny()
        device = "cuda"
        autocast_dtype = None

    with pytest.raises(ConfigError, match="weights=onednn packs the weights"):
        HFEngine(Policy(), None, None, 8, weights="onednn")


def test_config_accepts_onednn_weights_without_the_offpolicy_correction():
    from rlvr.config import load_config

    cfg = load_config(None, ["rollout.engine.weights=onednn", "algorithm.offpolicy=null"])
    assert cfg.rollout.engine.weights == "onednn"


def test_auto_weights_are_onednn_for_fp32_on_an_amd_cpu_and_full_elsewhere():
    from rlvr.hardware import parse_vendor
    from rlvr.rollout.hf import resolve_weights

    assert resolve_weights("auto", "cpu", vendor="AuthenticAMD") == "onednn"
    assert resolve_weights("auto", "cpu", vendor="GenuineIntel") == "full"  # MKL measured faster
    assert resolve_weights("auto", "cpu", vendor="") == "full"
    assert resolve_weights("auto", "cuda", vendor="AuthenticAMD") == "full"
    assert resolve_weights("auto", "cpu", torch.bfloat16, vendor="AuthenticAMD") == "full"
    assert resolve_weights("onednn", "cpu", vendor="GenuineIntel") == "onednn"  # asked: kept
    assert parse_vendor("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t: avx2\n") == \
        "AuthenticAMD"
    assert parse_vendor("") == ""
    assert resolve_weights("int8", "cpu") == "int8"
