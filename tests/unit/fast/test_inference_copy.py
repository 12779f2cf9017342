"""A LoRA policy is decoded from a merged copy that equals it and follows each weight sync."""

from __future__ import annotations

import torch

from rlvr.configs.run import LoraConfig, ModelConfig
from rlvr.models.loader import load_policy, with_lora
from rlvr.rollout.engine import SamplingParams
from rlvr.rollout.hf import HFEngine
from rlvr.rollout.inference_copy import InferenceCopy
from rlvr.types import TaskRow

IDS = torch.tensor([[5, 9, 14, 22, 31, 7], [8, 8, 40, 3, 12, 19]])


def lora_policy(model_dir, autocast="off"):
    policy = with_lora(load_policy(ModelConfig(name=str(model_dir), autocast=autocast)),
                       LoraConfig(r=4, alpha=8))
    _perturb_adapters(policy.model, seed=0)
    return policy


def _perturb_adapters(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.3)


def logits(model):
    with torch.no_grad():
        return model(input_ids=IDS).logits.float()


def test_engine_decodes_lora_from_a_merged_copy_refreshed_at_each_rollout(tiny_model_dir):
    policy = lora_policy(tiny_model_dir)
    policy.model.eval()
    engine = HFEngine(policy, None, None, batch_size=4)
    plain = engine.decode_model()
    assert plain is not policy.model and not any(p.requires_grad for p in plain.parameters())
    torch.testing.assert_close(logits(plain), logits(policy.model), atol=1e-5, rtol=1e-5)
    _perturb_adapters(policy.model, seed=1)  # what an optimizer step (or a resume) does
    assert (logits(engine.decode_model()) - logits(policy.model)).abs().max() > 1e-3
    engine.generate([TaskRow("r0", "2 + 2", "4")], 2, SamplingParams(max_new_tokens=2))
    torch.testing.assert_close(logits(engine.decode_model()), logits(policy.model),
                               atol=1e-5, rtol=1e-5)


def test_bf16_copy_keeps_embeddings_fp32_and_matches_autocast(tiny_model_dir):
    policy = lora_policy(tiny_model_dir, autocast="bf16")
    policy.model.eval()
    copy = InferenceCopy(policy.model, torch.bfloat16)
    plain = copy.model
    assert plain.get_input_embeddings().weight.dtype == torch.float32
    assert plain.get_output_embeddings().weight.dtype == torch.bfloat16
    assert plain.model.layers[0].self_attn.q_proj.weight.dtype == torch.bfloat16
    assert plain.model.norm.weight.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.testing.assert_close(logits(plain), logits(policy.model), atol=0.05, rtol=0.05)
