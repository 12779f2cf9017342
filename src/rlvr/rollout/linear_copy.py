"""A frozen rollout copy of a causal LM whose ``nn.Linear`` layers are swapped for another
implementation (``rollout.engine.weights``: int8 in rollout/int8.py, oneDNN-packed in
rollout/onednn.py), kept in step with the trained model by ``refresh`` at every rollout.

Only the linear matrices get new storage (in the layer's own format); every other parameter
(embeddings, norms; a tied embedding too) is shared with the source, so it is always the trained
value without a copy. The LM head gets its own copy of a tied embedding.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch


class LinearSwapCopy:
    """``model``: the copy; ``pairs``: (its layer, the source ``nn.Linear``) for each swap.
    ``make_layer(linear)`` builds a layer from a source linear; ``layer.load(linear)`` reloads
    it from that linear's current weights."""

    def __init__(self, source: Any, make_layer: Callable[[torch.nn.Linear], torch.nn.Module],
                 label: str) -> None:
        self.source = source
        linears = {name for name, m in source.named_modules() if isinstance(m, torch.nn.Linear)}
        if not linears:
            raise ValueError(f"rollout.engine.weights={label}: the model has no nn.Linear layers")
        memo: dict[int, Any] = {id(p): p for p in source.parameters()}
        tied = {id(m.weight) for m in source.modules() if isinstance(m, torch.nn.Embedding)}
        for name in linears:  # not copied: the layers hold them in their own format
            weight = source.get_submodule(name).weight
            if id(weight) not in tied:
                memo[id(weight)] = torch.empty(0)
        self.model = copy.deepcopy(source, memo).eval()
        self.pairs = []
        for name in sorted(linears):
            parent_name, _, child = name.rpartition(".")
            parent = self.model.get_submodule(parent_name) if parent_name else self.model
            layer = make_layer(source.get_submodule(name))
            setattr(parent, child, layer)
            self.pairs.append((layer, source.get_submodule(name)))

    @torch.no_grad()
    def refresh(self) -> None:
        """Reload every layer from the source's current weights (after optimizer steps)."""
        for layer, linear in self.pairs:
            layer.load(linear)
