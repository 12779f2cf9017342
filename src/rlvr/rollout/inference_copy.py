"""The weights a LoRA policy is decoded with: adapters merged in, matrices already in bf16.

Decoding a peft model token by token pays twice on a CPU: every adapter adds two small matrix
products per projection per token, and the frozen base weights (which do not require grad) fall
outside autocast's weight cache, so each decode step casts all of them to bf16 again. The
engine therefore decodes a LoRA policy from a plain copy: W + (alpha / r) B A in every adapted
projection, linear weights stored in the autocast dtype (what autocast would have cast them
to), embeddings and norms as they are. ``refresh`` rewrites the adapted projections in place
after each optimizer step (the engine's weight sync); nothing else changes under LoRA.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from rlvr.models.lora import require_peft


class InferenceCopy:
    """A plain, frozen copy of a peft-wrapped causal LM for rollouts."""

    def __init__(self, peft_model: Any, matmul_dtype: torch.dtype | None) -> None:
        peft = require_peft()
        self.source = peft_model
        with _full_precision(peft_model):
            self.model = copy.deepcopy(peft_model).merge_and_unload().eval()
        self.model.requires_grad_(False)
        self._untie_head()
        if matmul_dtype is not None:  # only the Linear weights: the residual stream stays fp32
            for module in self.model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(matmul_dtype)
        self.pairs = [(self.model.get_submodule(name.removeprefix("base_model.model.")), layer)
                      for name, layer in peft_model.named_modules()
                      if isinstance(layer, peft.tuners.lora.LoraLayer)]
        self.refresh()  # the same arithmetic as every later sync (a resumed run is identical)

    def _untie_head(self) -> None:
        """Give the LM head its own weight, so casting it leaves the (fp32) embedding alone."""
        head, embed = self.model.get_output_embeddings(), self.model.get_input_embeddings()
        if head is not None and head.weight is embed.weight:
            head.weight = torch.nn.Parameter(embed.weight.detach().clone(), requires_grad=False)

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy base + adapter deltas of every adapted projection into the inference weights
        (in full precision even when called under autocast, so the copy never depends on
        where it was made: a resumed run decodes exactly as an uninterrupted one)."""
        with _full_precision(self.source):
            self._refresh()

    def _refresh(self) -> None:
        for plain, layer in self.pairs:
            merged = layer.get_base_layer().weight.detach().clone()
            for adapter in layer.active_adapters:
                if adapter in layer.lora_A:
                    merged += layer.get_delta_weight(adapter).to(merged.dtype)
            plain.weight.copy_(merged)


def _full_precision(model: Any):
    """Autocast off on the model's device (B @ A would otherwise run in bf16)."""
    return torch.autocast(next(model.parameters()).device.type, enabled=False)
