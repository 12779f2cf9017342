"""rlvr's own decode loop: a static KV cache, shared prompts prefilled once, finished rows dropped.

``generate`` in transformers grows a dynamic cache by concatenation, rebuilds masks and runs a
chain of logits processors on every token; on a 2-core CPU that overhead is as large as the
model's matrix products. This loop (used by the ``hf`` engine when ``models/fastpath.py``
supports the model) writes keys and values into a preallocated cache, prefills each distinct
prompt once and copies its cache to the group's rows, and compacts the batch when a quarter
of its rows have finished, so late tokens are computed only for the rows still writing.

Sampling follows ``generate``: logits / temperature, then top-p, then a draw (by inverse CDF, see
``draw``) from the global torch generator, or with ``Sampler.seeds`` from one random stream per
row, a function of (prompt seed, sample index) only (``row_seed``), so a sample does not depend
on which prompts share its batch nor on how a large group is cut into decode chunks; the
recorded logprob is that of the processed (sampled-from) distribution. The temperature may be
one per row (``row_temperatures``) or one per completion position (``position_temperatures``).
Equality with ``generate`` on a fixed seed is tested in tests/unit/test_fast_decode.py.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import torch

from rlvr.models.fastpath import Decoder
from rlvr.rollout.draw import draw
from rlvr.rewards.unsupervised import token_self_certainty_NT


@dataclass
class DecodeResult:
    """New tokens (``pad`` after a row finished), their sampler logprobs, and per-token
    self-certainty when asked for; rows in group order (prompt b's samples at b*G..b*G+G-1)."""

    tokens_NT: torch.Tensor
    logprobs_NT: torch.Tensor
    certainty_NT: torch.Tensor | None = None


@dataclass
class KVCache:
    """Per-layer keys and values [B, K, S, D] for the rows still decoding, plus their masks."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    valid_BS: torch.Tensor  # key slots holding a real token
    positions_B: torch.Tensor  # position id of the next token of each row
    rows_B: torch.Tensor  # which output row each cache row is
    length: int  # slots filled so far (the same for every row: prompts are left-padded)

    def keep(self, idx_B: torch.Tensor) -> None:
        """Drop every row not in ``idx_B`` (a copy; done rarely)."""
        self.keys = [k[idx_B] for k in self.keys]
        self.values = [v[idx_B] for v in self.values]
        self.valid_BS, self.positions_B = self.valid_BS[idx_B], self.positions_B[idx_B]
        self.rows_B = self.rows_B[idx_B]


def row_seed(prompt_seed: int, sample_index: int) -> int:
    """The seed of sample ``sample_index``'s own stream of prompt ``prompt_seed``: a hash, so
    nearby seeds and indices give unrelated streams."""
    digest = hashlib.blake2b(f"{int(prompt_seed)}:{int(sample_index)}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") % 2**63


@dataclass
class Sampler:
    temperature: float
    top_p: float
    greedy: bool
    stop_ids: list[int]
    record_certainty: bool = False
    certainty: list[torch.Tensor] = field(default_factory=list)
    seeds: list[int] | None = None
    """One seed per prompt: each row draws from its own stream, seeded by ``row_seed(seed,
    sample index)`` (None: the global generator)."""
    group_size: int = 1
    sample_start: int = 0
    """Sample index of each prompt's first row in this call (a later chunk of a large group)."""
    row_temperatures: torch.Tensor | None = None
    """Temperature of each output row [N] (several within a group); None: ``temperature``."""
    position_temperatures: torch.Tensor | None = None
    """Temperature at each completion position t [T] (an annealed schedule); None: not used."""
    _uniforms_NT: torch.Tensor | None = None

    def start(self, device: torch.device, steps: int = 1) -> None:
        """Move the temperatures to the device once per decode, and draw every row's ``steps``
        uniforms up front from its own stream (on the CPU, so the numbers are the same on any
        device). A row draws one per step whether it is live or not."""
        if self.row_temperatures is not None:
            self.row_temperatures = self.row_temperatures.to(device)
        if self.position_temperatures is not None:
            self.position_temperatures = self.position_temperatures.to(device)
        if self.seeds is not None:
            rows = [torch.rand(steps, generator=torch.Generator().manual_seed(
                row_seed(seed, self.sample_start + j))) for seed in self.seeds
                for j in range(self.group_size)]
            self._uniforms_NT = torch.stack(rows).to(device)

    def uniforms(self, rows_B: torch.Tensor, t: int = 0) -> torch.Tensor | None:
        """u_B1 in [0, 1) of the output rows ``rows_B`` at step ``t``, or None for the global
        generator."""
        if self._uniforms_NT is None:
            return None
        return self._uniforms_NT[rows_B, t][:, None]

    def temperature_at(self, rows_B: torch.Tensor | None, t: int):
        """The temperature of each cache row at step ``t``: [B, 1], or a float."""
        if self.row_temperatures is not None:
            return self.row_temperatures[rows_B][:, None]
        if self.position_temperatures is not None:
            return self.position_temperatures[t]
        return self.temperature

    def __call__(self, logits_BV: torch.Tensor, u_B1: torch.Tensor | None = None,
                 rows_B: torch.Tensor | None = None,
                 t: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Next token [B] and its logprob under the sampled-from distribution [B]; ``rows_B``:
        the output row of each cache row, ``t``: the completion position."""
        logits_BV = logits_BV.float()
        if self.record_certainty:
            self.certainty.append(token_self_certainty_NT([logits_BV])[:, 0])
        if self.greedy:
            logp_BV = torch.log_softmax(logits_BV, dim=-1)
            token_B = logits_BV.argmax(dim=-1)
        else:
            temp = self.temperature_at(rows_B, t)
            logp_BV = torch.log_softmax(top_p_filter(logits_BV / temp, self.top_p), -1)
            token_B = draw(logp_BV.exp(), u_B1)
        return token_B, logp_BV.gather(1, token_B[:, None]).squeeze(1)


def top_p_filter(logits_BV: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability reaches ``top_p`` (as transformers'
    TopPLogitsWarper: the token crossing the threshold stays); the rest get -inf."""
    if top_p >= 1.0:
        return logits_BV
    sorted_BV, order_BV = torch.sort(logits_BV, descending=False)
    cumulative_BV = sorted_BV.softmax(dim=-1).cumsum(dim=-1)
    drop_sorted_BV = cumulative_BV <= (1 - top_p)
    drop_sorted_BV[:, -1] = False
    drop_BV = drop_sorted_BV.scatter(1, order_BV, drop_sorted_BV)
    return logits_BV.masked_fill(drop_BV, float("-inf"))


def left_pad(prompts: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ids_BP and a bool mask_BP of real tokens, prompts aligned to the right."""
    width = max(len(p) for p in prompts)
    ids_BP = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask_BP = torch.zeros((len(prompts), width), dtype=torch.bool)
    for b, prompt in enumerate(prompts):
        ids_BP[b, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
        mask_BP[b, width - len(prompt):] = True
    return ids_BP, mask_BP


def prefill(dec: Decoder, prompts: list[list[int]], group_size: int, max_new_tokens: int,
            pad_id: int, device: torch.device) -> tuple[KVCache, torch.Tensor]:
    """Run each distinct prompt once; return the cache for all U*G rows and the logits_UV
    of each prompt's last position (the first token's distribution)."""
    ids_UP, mask_UP = (t.to(device) for t in left_pad(prompts, pad_id))
    U, P = ids_UP.shape
    positions_UP = (mask_UP.long().cumsum(-1) - 1).clamp(min=0)
    causal_PP = torch.ones(P, P, dtype=torch.bool, device=device).tril()
    # Padding queries may look at themselves (no empty rows -> no NaN); real ones never see padding.
    self_PP = torch.eye(P, dtype=torch.bool, device=device)
    mask_U1PP = (causal_PP & mask_UP[:, None, :] | self_PP)[:, None]
    h_UPE = dec.embed(ids_UP)
    cos, sin = dec.rope(h_UPE, positions_UP)
    keys, values = [], []
    S = P + max_new_tokens
    cache_dtype = attention_dtype(h_UPE)
    for layer in dec.layers:
        q_UPHD, k_UPKD, v_UPKD = dec.qkv(layer, h_UPE, cos, sin)
        k_UKPD, v_UKPD = k_UPKD.transpose(1, 2), v_UPKD.transpose(1, 2)
        attn = dec.attend(layer, q_UPHD.transpose(1, 2), k_UKPD, v_UKPD, mask_U1PP)
        h_UPE = dec.finish_layer(layer, h_UPE, attn)
        keys.append(_expand_to_slots(k_UKPD, group_size, S, cache_dtype))
        values.append(_expand_to_slots(v_UKPD, group_size, S, cache_dtype))
    logits_UV = dec.head(h_UPE[:, -1:])[:, 0]
    valid_NS = torch.zeros(U * group_size, S, dtype=torch.bool, device=device)
    valid_NS[:, :P] = mask_UP.repeat_interleave(group_size, dim=0)
    positions_N = (mask_UP.sum(-1)).repeat_interleave(group_size)
    rows_N = torch.arange(U * group_size, device=device)
    return KVCache(keys, values, valid_NS, positions_N, rows_N, P), logits_UV


def attention_dtype(like: torch.Tensor) -> torch.dtype:
    """The dtype attention computes in: autocast's when it is on (scaled_dot_product_attention
    casts its inputs to it anyway, so a cache kept in it is the same numbers, cast once), else
    the activations' own."""
    device = like.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else like.dtype


def _expand_to_slots(x_UKPD: torch.Tensor, group_size: int, slots: int,
                     dtype: torch.dtype) -> torch.Tensor:
    """[U, K, P, D] -> [U*G, K, S, D]: each prompt's cache copied to its G rows, room for S."""
    U, K, P, D = x_UKPD.shape
    out = x_UKPD.new_zeros(U * group_size, K, slots, D, dtype=dtype)
    out[:, :, :P] = x_UKPD.repeat_interleave(group_size, dim=0)
    return out


def decode_step(dec: Decoder, cache: KVCache, token_B: torch.Tensor,
                forward=None) -> torch.Tensor:
    """Feed one token per cache row, append its keys/values, return the next logits_BV;
    ``forward``: ``step_forward`` or a compiled copy of it."""
    slot = cache.length
    cache.valid_BS[:, slot] = True
    logits_BV = (forward or step_forward)(dec, cache.keys, cache.values,
                                          cache.valid_BS[:, None, None, :slot + 1],
                                          cache.positions_B[:, None], token_B,
                                          torch.tensor([slot], device=token_B.device))
    cache.length += 1
    cache.positions_B += 1
    return logits_BV


def step_forward(dec: Decoder, keys: list[torch.Tensor], values: list[torch.Tensor],
                 mask_B11S: torch.Tensor, positions_B1: torch.Tensor, token_B: torch.Tensor,
                 slot_1: torch.Tensor) -> torch.Tensor:
    """The model part of a step: writes each layer's keys/values at ``slot_1``, returns
    logits_BV. Everything that changes between steps is a tensor argument (the slot too; the
    filled length is the mask's), so one dynamic compilation serves every step."""
    S = mask_B11S.shape[-1]
    h_B1E = dec.embed(token_B[:, None])
    cos, sin = dec.rope(h_B1E, positions_B1)
    for layer, keys_BKSD, values_BKSD in zip(dec.layers, keys, values):
        q_B1HD, k_B1KD, v_B1KD = dec.qkv(layer, h_B1E, cos, sin)
        keys_BKSD.index_copy_(2, slot_1, k_B1KD.transpose(1, 2).to(keys_BKSD.dtype))
        values_BKSD.index_copy_(2, slot_1, v_B1KD.transpose(1, 2).to(values_BKSD.dtype))
        attn = dec.attend(layer, q_B1HD.transpose(1, 2), keys_BKSD[:, :, :S],
                          values_BKSD[:, :, :S], mask_B11S)
        h_B1E = dec.finish_layer(layer, h_B1E, attn)
    return dec.head(h_B1E)[:, 0]


def compiled_decode_step():
    """``decode_step`` with its model part under ``torch.compile`` (dynamic shapes: the cache
    length and the live rows change every step), so one compilation serves a whole rollout
    and the next."""
    return functools.partial(decode_step, forward=torch.compile(step_forward, dynamic=True))


@torch.no_grad()
def static_decode(dec: Decoder, prompts: list[list[int]], group_size: int, max_new_tokens: int,
                  sampler: Sampler, pad_id: int, device: torch.device,
                  step=decode_step) -> DecodeResult:
    """``group_size`` completions of each prompt, at most ``max_new_tokens`` each; ``step`` is
    ``decode_step`` or a compiled copy of it (``compiled_decode_step``)."""
    cache, logits_UV = prefill(dec, prompts, group_size, max_new_tokens, pad_id, device)
    logits_BV = logits_UV.repeat_interleave(group_size, dim=0)
    N = len(prompts) * group_size
    tokens_NT = torch.full((N, max_new_tokens), pad_id, dtype=torch.long, device=device)
    logp_NT = torch.zeros(N, max_new_tokens, device=device)
    stop_V = torch.zeros(logits_UV.shape[-1], dtype=torch.bool, device=device)
    stop_V[[i for i in sampler.stop_ids if i < len(stop_V)]] = True
    live_B = torch.ones(N, dtype=torch.bool, device=device)
    sampler.start(device, max_new_tokens)
    for t in range(max_new_tokens):
        token_B, logp_B = sampler(logits_BV, sampler.uniforms(cache.rows_B, t), cache.rows_B, t)
        rows = cache.rows_B[live_B]
        tokens_NT[rows, t], logp_NT[rows, t] = token_B[live_B], logp_B[live_B]
        if sampler.record_certainty:
            sampler.certainty[-1] = _scatter_rows(sampler.certainty[-1], cache.rows_B, live_B, N)
        live_B &= ~stop_V[token_B]
        if t + 1 == max_new_tokens or not bool(live_B.any()):
            break
        if int((~live_B).sum()) * 4 >= len(live_B):  # a quarter has finished: compact
            keep_B = live_B.nonzero().squeeze(1)
            cache.keep(keep_B)
            token_B, live_B = token_B[keep_B], live_B[keep_B]
        logits_BV = step(dec, cache, token_B)
    certainty = None
    if sampler.record_certainty:
        steps = torch.stack(sampler.certainty, dim=1)
        certainty = torch.zeros(N, max_new_tokens)
        certainty[:, :steps.shape[1]] = steps.cpu()
    return DecodeResult(tokens_NT.cpu(), logp_NT.cpu(), certainty)


def _scatter_rows(values_B: torch.Tensor, rows_B: torch.Tensor, live_B: torch.Tensor,
                  N: int) -> torch.Tensor:
    out_N = torch.zeros(N, dtype=values_B.dtype, device=values_B.device)
    out_N[rows_B[live_B]] = values_B[live_B]
    return out_N
