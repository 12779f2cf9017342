"""LoRA adapters on the policy (``model.lora``, via peft): wrap for training, merge for saving.

The trained model is a ``peft.PeftModel`` around the transformers causal LM: only the adapter
weights require grad (so the optimizer holds only them), the base weights stay frozen and
byte-identical. The LoRA layers are injected into the base model's own modules, so code that calls
the decoder's submodules (``causal_lm(model).model.layers[i].self_attn.q_proj(...)``) runs them.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import warnings
from typing import Any, Iterator

import torch

from rlvr.configs.run import LoraConfig
from rlvr.configs.base import ConfigError

INSTALL_HINT = "model.lora needs peft, which is not installed: pip install 'rlvr[lora]'"


def require_peft() -> Any:
    """The peft module, or a one-line ConfigError saying how to install it."""
    try:
        import peft
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return peft


def is_lora(model: Any) -> bool:
    """Whether ``model`` is a peft wrapper (peft is not imported here: a model can only be one
    when peft was imported already)."""
    peft = sys.modules.get("peft")
    return peft is not None and isinstance(model, peft.PeftModel)


def apply_lora(model: torch.nn.Module, cfg: LoraConfig) -> torch.nn.Module:
    """``model`` wrapped with fresh adapters from ``cfg`` (a ``LoraConfig`` node); B starts at zero,
    so the wrapped model computes exactly what ``model`` did."""
    peft = require_peft()
    settings = peft.LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                               target_modules=list(cfg.target_modules), bias="none",
                               task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft asks transformers a deprecated question
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        wrapped = peft.get_peft_model(model, settings)
    return wrapped


@contextlib.contextmanager
def adapters_off(model: Any) -> Iterator[Any]:
    """The base model's function (adapters bypassed, eval mode) for the duration of the block."""
    was_training = model.training
    model.eval()
    try:
        with model.disable_adapter():
            yield model
    finally:
        model.train(was_training)


def merged_copy(model: Any) -> torch.nn.Module:
    """A plain transformers model with W + (alpha / r) B A in its weights; ``model`` itself keeps
    its separate adapters (merging in place and unmerging would round the base weights)."""
    return copy.deepcopy(model).merge_and_unload()
