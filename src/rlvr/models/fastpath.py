"""Direct access to a Llama-family decoder's layers, for rlvr's own decode loop and packed update.

Hugging Face's ``forward`` is general (any cache, any mask, any attention backend) and pays for
that on every call: on a 2-core CPU a batch-32 decode step of SmolLM2-135M costs ~60-70 ms in
``model(...)``, of which the matrix products are about half. rlvr drives the layers itself: it
calls the model's own submodules (norms, projections, MLP, rotary embedding, LM head, so LoRA
layers and autocast behave as in the model) and does only the attention bookkeeping itself,
with a static KV cache (rollout/decode.py) or a packed token stream (models/packed.py).

Only architectures whose layer is exactly ``x + attn(norm(x))`` then ``x + mlp(norm(x))`` with
rotary attention are accepted (``fast_path_blocker`` says why not otherwise); everything else
uses the general Hugging Face path. Tensors carry their layout in their names: B batch rows,
T tokens, H query heads, K key/value heads, S key positions, D head dim, E hidden size.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from rlvr.models.loader import causal_lm

FAST_MODEL_TYPES = ("llama", "qwen2", "qwen3")


def fast_path_blocker(model: Any) -> str | None:
    """Why the fast path cannot run ``model`` (a sentence), or None when it can."""
    lm = causal_lm(model)
    config = lm.config
    model_type = getattr(config, "model_type", None)
    if model_type not in FAST_MODEL_TYPES:
        return f"model_type {model_type!r} is not one of {', '.join(FAST_MODEL_TYPES)}"
    if getattr(config, "use_sliding_window", False) and getattr(config, "sliding_window", None):
        return "sliding-window attention is not supported by the fast path"
    base = getattr(lm, "model", None)
    if base is None or not hasattr(base, "rotary_emb") or not hasattr(lm, "lm_head"):
        return "the model does not expose model.rotary_emb and lm_head"
    return None


class Decoder:
    """The layers of a supported causal LM, called piece by piece."""

    def __init__(self, model: Any) -> None:
        reason = fast_path_blocker(model)
        if reason is not None:
            raise ValueError(f"fast path unavailable: {reason}")
        self.lm = causal_lm(model)
        self.base = self.lm.model
        config = self.lm.config
        self.num_heads = config.num_attention_heads
        self.num_kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.num_heads
        self.layers = list(self.base.layers)
        # A bool fixed here: under torch.compile(dynamic=True) a comparison of the two int
        # attributes would be a SymBool, which scaled_dot_product_attention refuses.
        self.enable_gqa = bool(self.num_heads != self.num_kv_heads)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.base.embed_tokens(ids)

    def rope(self, h_BTE: torch.Tensor, positions_BT: torch.Tensor):
        """cos_BTD, sin_BTD for these positions (the model's own rotary module)."""
        return self.base.rotary_emb(h_BTE, positions_BT)

    def qkv(self, layer, h_BTE: torch.Tensor, cos_BTD: torch.Tensor, sin_BTD: torch.Tensor):
        """Normalised, projected and rotated q_BTHD, k_BTKD, v_BTKD of one layer (token-major:
        callers transpose to head-major for attention, or index tokens directly)."""
        x_BTE = layer.input_layernorm(h_BTE)
        attn = layer.self_attn
        B, T, _ = x_BTE.shape
        q_BTHD = attn.q_proj(x_BTE).view(B, T, -1, self.head_dim)
        k_BTKD = attn.k_proj(x_BTE).view(B, T, -1, self.head_dim)
        v_BTKD = attn.v_proj(x_BTE).view(B, T, -1, self.head_dim)
        if hasattr(attn, "q_norm"):  # Qwen3 normalises each head before the rotation
            q_BTHD, k_BTKD = attn.q_norm(q_BTHD), attn.k_norm(k_BTKD)
        cos_BT1D, sin_BT1D = cos_BTD.unsqueeze(2), sin_BTD.unsqueeze(2)
        return rotate(q_BTHD, cos_BT1D, sin_BT1D), rotate(k_BTKD, cos_BT1D, sin_BT1D), v_BTKD

    def finish_layer(self, layer, h_BTE: torch.Tensor, attn_BHTD: torch.Tensor) -> torch.Tensor:
        """Output projection, residual, post-attention norm, MLP and residual."""
        B, _, T, _ = attn_BHTD.shape
        h_BTE = h_BTE + layer.self_attn.o_proj(attn_BHTD.transpose(1, 2).reshape(B, T, -1))
        return h_BTE + layer.mlp(layer.post_attention_layernorm(h_BTE))

    def attend(self, layer, q_BHTD, k_BKSD, v_BKSD, mask_B1TS: torch.Tensor) -> torch.Tensor:
        """Scaled dot-product attention with the layer's scaling; ``mask`` is True where allowed."""
        return F.scaled_dot_product_attention(q_BHTD, k_BKSD, v_BKSD, attn_mask=mask_B1TS,
                                              scale=layer.self_attn.scaling,
                                              enable_gqa=self.enable_gqa)

    def head(self, h_BTE: torch.Tensor) -> torch.Tensor:
        """Logits from the last hidden states: final norm, then the LM head."""
        return self.lm.lm_head(self.base.norm(h_BTE))


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding, in the rotate-half convention of Llama checkpoints
    (``cos``/``sin`` broadcast against ``x``; the last dim is the head dim)."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin
