"""Tiny random Llama / Qwen2 / Qwen3 models for the fast-path tests."""

from __future__ import annotations

import torch


def tiny(model_type: str = "llama", layers: int = 2, sharpen: float = 8.0):
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    extra = {"attention_bias": True} if model_type == "qwen2" else {}
    config = AutoConfig.for_model(model_type, vocab_size=96, hidden_size=32, intermediate_size=64,
                                  num_hidden_layers=layers, num_attention_heads=4,
                                  num_key_value_heads=2, head_dim=8, max_position_embeddings=256,
                                  tie_word_embeddings=False, pad_token_id=0, eos_token_id=3,
                                  **extra)
    model = AutoModelForCausalLM.from_config(config).eval()
    with torch.no_grad():  # a sharper random model: greedy paths with clear winners
        model.lm_head.weight.mul_(sharpen)
    return model
