"""An int8 copy of the policy for rollouts (``rollout.engine.weights=int8``): W8A8 linear layers.

On a CPU the decode loop is bound by its matrix products (docs/performance.md): at 32-64 rows a
decode step of SmolLM2-135M is ~17 GFLOP, and fp32 GEMMs of those skinny shapes run well below
the machine's peak (the 49,152-row LM head worst of all). ``torch._int_mm`` (int8 x int8 ->
int32, oneDNN/MKL's integer GEMM, VNNI where the CPU has it) runs the same shapes several times
faster and reads a quarter of the weight bytes. Each ``nn.Linear`` of the decode model gets a
copy quantized symmetrically per output channel; each call quantizes its input per row (token)
on the fly, multiplies in int8 and rescales to fp32. Embeddings, norms, rotary embedding and
attention stay in full precision. Integer products are exact, so the copy is deterministic.

The sampler's logprobs are then those of the int8 model, not the trainer's: the train-inference
mismatch is logged as ``sampler_logprob_gap`` and corrected by the off-policy importance weight
(``algorithm.offpolicy``, required with int8 weights). ``refresh`` requantizes every layer from
the trained weights at the start of each rollout.
"""

from __future__ import annotations

from typing import Any

import torch

from rlvr.rollout.linear_copy import LinearSwapCopy

QMAX = 127


def quantize_rows(x_MK: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per row: q_MK (int8) and scale_M1 (fp32) with x ~ q * scale."""
    x_MK = x_MK.float()
    scale_M1 = x_MK.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / QMAX
    q_MK = torch.round(x_MK / scale_M1).clamp(-QMAX, QMAX).to(torch.int8)
    return q_MK, scale_M1


class Int8Linear(torch.nn.Module):
    """``y = x W^T + b`` with W int8 per output channel and x int8 per row, products in int32."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight_KN", torch.empty(0, dtype=torch.int8), persistent=False)
        self.register_buffer("scale_1N", torch.empty(0), persistent=False)
        self.register_buffer("bias_N", None if linear.bias is None else torch.empty(0),
                             persistent=False)  # filled by load
        self.load(linear)

    @torch.no_grad()
    def load(self, linear: torch.nn.Linear) -> None:
        """Quantize ``linear``'s current weight (and copy its bias) into this layer."""
        q_NK, scale_N1 = quantize_rows(linear.weight.detach())
        self.weight_KN = q_NK.t().contiguous()  # _int_mm wants [K, N]
        self.scale_1N = scale_N1.t().contiguous()
        if linear.bias is not None:
            self.bias_N = linear.bias.detach().float().clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        q_MK, scale_M1 = quantize_rows(x.reshape(-1, self.in_features))
        y_MN = torch._int_mm(q_MK, self.weight_KN).float().mul_(scale_M1).mul_(self.scale_1N)
        if self.bias_N is not None:
            y_MN = y_MN.add_(self.bias_N)
        return y_MN.reshape(*lead, self.out_features).to(x.dtype)


class Int8Copy(LinearSwapCopy):
    """A frozen copy of a causal LM whose every ``nn.Linear`` is an ``Int8Linear`` (the LM head
    too, with its own copy of a tied embedding), requantized from the source by ``refresh``."""

    def __init__(self, source: Any) -> None:
        super().__init__(source, Int8Linear, "int8")
