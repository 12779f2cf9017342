"""A oneDNN-packed copy of the policy for CPU rollouts (``rollout.engine.weights=onednn``).

A decode step multiplies a few rows (the live sequences, 4-64) by every weight matrix. MKL's
sgemm, which ``F.linear`` calls on a CPU, runs those skinny shapes far below the machine's
bandwidth and compute: on a 2-core Zen 4 (fp32) the 49,152 x 576 LM head of SmolLM2-135M takes
17.6 ms at 4 rows (6 GB/s of weight reads against 24-33 GB/s streaming) and the 576-wide
projections ~3x their weight-read time. oneDNN's inner-product primitive on a weight stored once
in its own blocked layout (``Tensor.to_mkldnn``) runs the same products 1.9-4x faster
(benchmarks/README.md). The weights are the trained ones in the same precision (fp32, or the
autocast dtype when autocast is on); only the summation order differs, so logits match the full
model to float rounding (~1e-5 relative) and no off-policy correction is needed.

Each layer is reloaded from the trained weights at the start of every rollout (a copy of
0.54 GB for SmolLM2-135M in fp32: 0.09-0.38 s measured on the 2-core Zen 4,
AVX512 capability; building the copy 0.48 s).
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import torch

from rlvr.rollout.linear_copy import LinearSwapCopy

_LAYERS: weakref.WeakValueDictionary[int, OneDNNLinear] = weakref.WeakValueDictionary()
_NEXT_ID = itertools.count()


@torch.library.custom_op("rlvr::onednn_linear", mutates_args=())
def onednn_linear(x_MK: torch.Tensor, layer_id: int, out_features: int) -> torch.Tensor:
    """Layer ``layer_id``'s product, as one opaque op: ``torch.compile`` (which cannot trace
    oneDNN-layout tensors) calls it between the kernels it fuses (rollout.engine.compile)."""
    layer = _LAYERS[layer_id]
    return torch.ops.mkldnn._linear_pointwise(x_MK, layer.weight_mkldnn, layer.bias_N, "none",
                                              [None], "")


@onednn_linear.register_fake
def _(x_MK: torch.Tensor, layer_id: int, out_features: int) -> torch.Tensor:
    return x_MK.new_empty(x_MK.shape[0], out_features)


def onednn_available() -> bool:
    return torch.backends.mkldnn.is_available()


class OneDNNLinear(torch.nn.Module):
    """``y = x W^T + b`` by oneDNN's inner product, W kept in oneDNN's layout, in ``dtype``."""

    def __init__(self, linear: torch.nn.Linear, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.dtype = dtype
        self.weight_mkldnn: torch.Tensor | None = None
        self.bias_N: torch.Tensor | None = None
        self.layer_id = next(_NEXT_ID)
        _LAYERS[self.layer_id] = self
        self.load(linear)

    @torch.no_grad()
    def load(self, linear: torch.nn.Linear) -> None:
        """Pack ``linear``'s current weight (and copy its bias) into this layer."""
        self.weight_mkldnn = linear.weight.detach().to(self.dtype).to_mkldnn()
        self.bias_N = None if linear.bias is None else linear.bias.detach().to(self.dtype).clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        x_MK = x.reshape(-1, self.in_features).to(self.dtype).contiguous()
        if torch.compiler.is_compiling():
            y_MN = onednn_linear(x_MK, self.layer_id, self.out_features)
        else:  # the direct call: no custom-op dispatch on each of a step's ~200 products
            y_MN = torch.ops.mkldnn._linear_pointwise(x_MK, self.weight_mkldnn, self.bias_N,
                                                      "none", [None], "")
        return y_MN.reshape(*lead, self.out_features)


class OneDNNCopy(LinearSwapCopy):
    """A copy of a causal LM with every ``nn.Linear`` a ``OneDNNLinear`` in ``dtype``."""

    def __init__(self, source: Any, dtype: torch.dtype | None = None) -> None:
        if not onednn_available():
            raise ValueError("rollout.engine.weights=onednn: this torch build has no oneDNN "
                             "(torch.backends.mkldnn.is_available() is False); use weights=full")
        dtype = dtype or torch.float32
        super().__init__(source, lambda linear: OneDNNLinear(linear, dtype), "onednn")
