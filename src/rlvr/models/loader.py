"""Load a policy: an embedded model name, a local Hugging Face directory or a hub id."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from rlvr.configs.run import LoraConfig, ModelConfig
from rlvr.models import embedded, lora


@dataclass(frozen=True)
class Policy:
    model: Any  # a transformers PreTrainedModel (causal LM)
    tokenizer: Any
    device: torch.device
    autocast_dtype: torch.dtype | None  # bf16 autocast for forward passes, or None

    def autocast(self):
        enabled = self.autocast_dtype is not None
        return torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.bfloat16,
                              enabled=enabled)


def resolve_model_path(name: str) -> str:
    """An embedded model's cached directory (fetched on first use), else ``name`` unchanged."""
    if name in embedded.EMBEDDED:
        return str(embedded.fetch(name))
    return name


def cpu_has_fast_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls are faster than fp32 on this CPU (rlvr/hardware.py)."""
    from rlvr.hardware import has_fast_bf16, parse_cpuinfo, read_cpuinfo

    return has_fast_bf16(parse_cpuinfo(read_cpuinfo())[1])


def pick_device(choice: str) -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("model.device=cuda but CUDA is not available on this machine")
    return torch.device(choice)


def pick_autocast(choice: str, device: torch.device) -> torch.dtype | None:
    if choice == "off":
        return None
    if choice == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if cpu_has_fast_bf16() else None


def load_policy(cfg: ModelConfig, path: str | None = None, base: str | None = None) -> Policy:
    """Load model and tokenizer for ``cfg`` (a ModelConfig); ``path`` overrides ``cfg.name``.

    A training checkpoint (``RUN_DIR/ckpt/step_N``, or ``RUN_DIR`` for its newest one) loads as
    the plain model it holds, LoRA adapters merged (models/from_checkpoint.py); ``base`` replaces
    the base model named in it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.models.from_checkpoint import find_checkpoint, load_checkpoint_policy

    checkpoint = find_checkpoint(path or cfg.name)
    if checkpoint is not None:
        return load_checkpoint_policy(cfg, checkpoint, base)
    source = path or resolve_model_path(cfg.name)
    device = pick_device(cfg.device)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, cfg.dtype))
    model.to(device)
    model.config.use_cache = True
    return Policy(model, tokenizer, device, pick_autocast(cfg.autocast, device))


def with_lora(policy: Policy, cfg: LoraConfig | None) -> Policy:
    """``policy`` with fresh LoRA adapters from ``cfg`` (``model.lora``; None returns ``policy``
    unchanged). Only the adapters then require grad. Training calls this; evaluation loads plain
    models with ``load_policy`` alone."""
    if cfg is None:
        return policy
    return replace(policy, model=lora.apply_lora(policy.model, cfg))


def causal_lm(model: Any) -> Any:
    """The transformers ``*ForCausalLM`` module of a policy model: ``model`` itself, or the model
    a peft wrapper holds. Its submodules carry the LoRA layers, so calling them applies them."""
    return model.get_base_model() if lora.is_lora(model) else model


def stop_token_ids(policy: Policy) -> list[int]:
    """Token ids that end a completion: the generation config's eos ids plus the tokenizer's."""
    ids = policy.model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if policy.tokenizer.eos_token_id is not None and policy.tokenizer.eos_token_id not in ids:
        ids.append(policy.tokenizer.eos_token_id)
    return ids
