"""Completion logprobs from a padding-free forward: every real token computed once, no padding.

A padded micro-batch of N sequences costs N * (P + T) tokens of work in every linear layer,
although a group's G sequences share one prompt and most completions stop long before T. The
packed forward (for models ``models/fastpath.py`` supports) lays the real tokens end to end:
each distinct prompt once, then each completion's real tokens. Linear layers, norms, MLPs and
the LM head run on that stream only. Attention alone needs rows: one per prompt (its own causal
attention) and one per completion (its prompt's keys, then its own), gathered from the stream
by index and padded to the longest row, which costs little next to the linear layers. The LM
head runs only at the positions that predict a completion token, in chunks.

Layout letters: K packed tokens, R attention rows (U prompts + N completions, in buckets of
similar length), Q query slots and S key slots per row, M predicted completion tokens, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.checkpoint import checkpoint

from rlvr.memory import MMAP_THRESHOLD
from rlvr.models.fastpath import Decoder
from rlvr.models.prefix import distinct_prompts
from rlvr.models.target_logprob import target_logprob
from rlvr.types import TrainBatch

HEAD_CHUNK_TOKENS = 2048
"""Above this many completion tokens the LM-head blocks are recomputed in the backward pass."""

HEAD_BLOCK_BYTES = MMAP_THRESHOLD - 2**16  # the allocator's threshold, less malloc's headroom
"""Each LM-head block's fp32 [rows, vocab] tensors stay below glibc's 32 MiB mmap threshold
(rlvr/memory.py), so they are reused from the heap instead of page-faulted in afresh: a fresh
245 MB logits tensor cost 0.1-0.4 s to fault in on a 2-core Xeon VM (fp32 update 4 % faster
with blocks of 170 rows than of 2,048, docs/performance.md)."""


MIN_HEAD_BLOCK_ROWS = 64  # GEMMs get inefficient below


def head_block_rows(lm_head: torch.nn.Module, vocab: int) -> int:
    """Rows per LM-head block of a ``vocab``-wide head; HEAD_CHUNK_TOKENS for
    an FSDP2-sharded head, which all-gathers its weight at each call, so every rank must make
    the same number of calls (launch/checks.py keeps its tokens within one chunk)."""
    if torch.distributed.is_available():
        from torch.distributed.fsdp import FSDPModule

        if isinstance(lm_head, FSDPModule):
            return HEAD_CHUNK_TOKENS
    return max(MIN_HEAD_BLOCK_ROWS, HEAD_BLOCK_BYTES // (4 * vocab))


ROW_BUCKETS = 1
"""Attention rows are sorted by length and padded per bucket. One bucket measured fastest on
the 2-core CPU for 64-token completions (more buckets mean more, smaller kernels); batches
with very ragged long completions may prefer more."""


@dataclass(frozen=True)
class RowBucket:
    """Attention rows of similar length, padded to the longest among them."""

    query_index_RQ: torch.Tensor  # packed index of each query slot (0 where empty)
    key_index_RS: torch.Tensor  # packed index of each key slot (0 where empty)
    mask_R1QS: torch.Tensor  # True where a query may attend to a key


@dataclass(frozen=True)
class PackedLayout:
    ids_K: torch.Tensor
    positions_K: torch.Tensor
    buckets: list[RowBucket]
    slot_of_token_K: torch.Tensor  # each token's query slot in the buckets' flat R*Q slots
    predictor_M: torch.Tensor  # packed index whose output predicts completion token m
    target_M: torch.Tensor  # the completion token ids
    row_M: torch.Tensor  # (row, column) of token m in the [N, T] completion layout
    col_M: torch.Tensor


def _segments(batch: TrainBatch):
    """Real prompt tokens of each distinct prompt and real completion tokens of each row."""
    T = batch.completion_len
    P = batch.input_ids_NL.shape[1] - T
    first_U, inverse_N = distinct_prompts(batch)
    ids_NL, mask_NL = batch.input_ids_NL.cpu(), batch.attention_mask_NL.bool().cpu()
    prompts = [ids_NL[n, :P][mask_NL[n, :P]] for n in first_U.tolist()]
    if min(len(p) for p in prompts) == 0:
        raise ValueError("the packed forward needs every prompt to have at least one token")
    completions = [ids_NL[n, P:][mask_NL[n, P:]] for n in range(batch.num_sequences)]
    return prompts, completions, inverse_N.cpu()


def _padded(rows: list[torch.Tensor], width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[R, width] values (0 where empty) and the bool mask of filled slots."""
    out = torch.zeros(len(rows), width, dtype=torch.long)
    filled = torch.zeros(len(rows), width, dtype=torch.bool)
    for r, row in enumerate(rows):
        out[r, :len(row)], filled[r, :len(row)] = row, True
    return out, filled


def pack(batch: TrainBatch) -> PackedLayout:
    """The packed stream and its attention rows for ``batch`` (built on the CPU, once)."""
    prompts, completions, inverse_N = _segments(batch)
    group_N = inverse_N.tolist()
    U = len(prompts)
    lengths = [len(p) for p in prompts] + [len(c) for c in completions]
    starts = torch.tensor([0] + lengths).cumsum(0)[:-1].tolist()
    span = [torch.arange(s, s + n) for s, n in zip(starts, lengths)]
    positions_K = torch.cat([torch.arange(len(p)) for p in prompts]
                            + [torch.arange(len(c)) + len(prompts[group_N[n]])
                               for n, c in enumerate(completions)])
    keys = span[:U] + [torch.cat([span[u], span[U + n]]) for n, u in enumerate(group_N)]
    buckets, slot_of_token_K = _bucket_rows(span, keys, positions_K)
    # The prompt's last token predicts completion token 0, completion token t-1 predicts t.
    predictor_M = torch.cat([torch.cat([span[u][-1:], span[U + n][:-1]])[:lengths[U + n]]
                             for n, u in enumerate(group_N)])
    row_M = torch.cat([torch.full((len(c),), n) for n, c in enumerate(completions)])
    col_M = torch.cat([torch.arange(len(c)) for c in completions])
    return PackedLayout(torch.cat(prompts + completions), positions_K, buckets,
                        slot_of_token_K, predictor_M, torch.cat(completions), row_M, col_M)


def _bucket_rows(queries: list[torch.Tensor], keys: list[torch.Tensor],
                 positions_K: torch.Tensor) -> tuple[list[RowBucket], torch.Tensor]:
    """Rows sorted by key length in up to ROW_BUCKETS buckets; each token's flat query slot."""
    order = sorted(range(len(keys)), key=lambda r: len(keys[r]))
    buckets, offset = [], 0
    slot_of_token_K = torch.empty(len(positions_K), dtype=torch.long)
    for chunk in torch.tensor(order).tensor_split(min(ROW_BUCKETS, len(order))):
        rows = chunk.tolist()
        query_index_RQ, query_ok_RQ = _padded([queries[r] for r in rows],
                                              max(len(queries[r]) for r in rows))
        key_index_RS, key_ok_RS = _padded([keys[r] for r in rows], max(len(keys[r]) for r in rows))
        q_pos_RQ, k_pos_RS = positions_K[query_index_RQ], positions_K[key_index_RS]
        mask_RQS = key_ok_RS[:, None, :] & (k_pos_RS[:, None, :] <= q_pos_RQ[:, :, None])
        mask_RQS[:, :, 0] |= ~query_ok_RQ  # empty query slots look at one real key: no NaN
        slot_of_token_K[query_index_RQ[query_ok_RQ]] = (
            offset + query_ok_RQ.flatten().nonzero().squeeze(1))
        offset += query_index_RQ.numel()
        buckets.append(RowBucket(query_index_RQ, key_index_RS, mask_RQS[:, None]))
    return buckets, slot_of_token_K


def packed_hidden(dec: Decoder, layout: PackedLayout, device: torch.device) -> torch.Tensor:
    """Last-layer hidden states h_KE of the packed stream (before the final norm)."""
    buckets = [_RowIndex(bucket, device) for bucket in layout.buckets]
    slot_K = layout.slot_of_token_K.to(device)
    h_1KE = dec.embed(layout.ids_K.to(device)[None])
    cos, sin = dec.rope(h_1KE, layout.positions_K.to(device)[None])
    for layer in dec.layers:
        q_1KHD, k_1KKD, v_1KKD = dec.qkv(layer, h_1KE, cos, sin)
        scale = layer.self_attn.scaling
        slots = [row_attention(q_1KHD[0], k_1KKD[0], v_1KKD[0], rows, scale) for rows in buckets]
        attn_KHD = torch.cat(slots).index_select(0, slot_K)
        h_1KE = dec.finish_layer(layer, h_1KE, attn_KHD[None].transpose(1, 2))
    return h_1KE[0]


class _RowIndex:
    """A bucket's row indices on the compute device, and its additive attention mask."""

    def __init__(self, bucket: RowBucket, device: torch.device) -> None:
        R, Q = bucket.query_index_RQ.shape
        self.R, self.Q, self.S = R, Q, bucket.key_index_RS.shape[1]
        self.query_flat = bucket.query_index_RQ.flatten().to(device)
        self.key_flat = bucket.key_index_RS.flatten().to(device)
        self.mask_R1QS = bucket.mask_R1QS.to(device)
        self._bias: torch.Tensor | None = None

    def bias(self, groups: int, dtype: torch.dtype) -> torch.Tensor:
        """0 where allowed, -inf elsewhere, [R, 1, groups*Q, S] (heads outer); built once."""
        if self._bias is None or self._bias.dtype != dtype:
            allowed = self.mask_R1QS.repeat(1, 1, groups, 1)
            self._bias = torch.zeros(allowed.shape, dtype=dtype,
                                     device=allowed.device).masked_fill(~allowed, float("-inf"))
        return self._bias


def row_attention(q_KHD: torch.Tensor, k_KKD: torch.Tensor, v_KKD: torch.Tensor,
                  rows: _RowIndex, scale: float) -> torch.Tensor:
    """Causal attention of one bucket's rows: out [R*Q, H, D], one slot per query slot.

    Explicit products rather than SDPA: on a CPU the fused kernel's backward with a mask costs
    ~10x the math here. Rows are gathered with ``index_select`` (its backward is a row-wise
    ``index_add_``), and the H query heads are grouped by their shared K/V head (GQA) so keys
    and values are never repeated. As in transformers' eager attention, scores are scaled and
    masked in the compute dtype and the softmax runs in fp32.
    """
    R, Q, S = rows.R, rows.Q, rows.S
    H, D = q_KHD.shape[1], q_KHD.shape[2]
    Kv = k_KKD.shape[1]
    g = H // Kv
    q_RKgQD = (q_KHD.index_select(0, rows.query_flat).view(R, Q, Kv, g, D)
               .permute(0, 2, 3, 1, 4).reshape(R, Kv, g * Q, D))
    k_RKSD = k_KKD.index_select(0, rows.key_flat).view(R, S, Kv, D).transpose(1, 2)
    v_RKSD = v_KKD.index_select(0, rows.key_flat).view(R, S, Kv, D).transpose(1, 2)
    scores = torch.matmul(q_RKgQD, k_RKSD.transpose(2, 3))  # [R, Kv, g*Q, S]
    scores = scores.mul_(scale).add_(rows.bias(g, scores.dtype))
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(v_RKSD.dtype)
    out_RKgQD = torch.matmul(probs, v_RKSD)
    return out_RKgQD.view(R, Kv, g, Q, D).permute(0, 3, 1, 2, 4).reshape(R * Q, H, D)


def _head_logprobs(dec: Decoder, h_ME: torch.Tensor, target_M: torch.Tensor,
                   temperature: float, entropy: str):
    """logp_M of the targets and the entropy_M of the (tempered) next-token distributions
    (None when ``entropy='off'``; computed outside the graph unless ``entropy='grad'``)."""
    logits_MV = dec.head(h_ME)
    if isinstance(temperature, torch.Tensor):  # one per token (row or schedule temperatures)
        logits_MV = logits_MV.float() / temperature[:, None]
    elif temperature != 1.0:
        logits_MV = logits_MV.float() / temperature
    if entropy != "grad":  # one exp pass, the gradient formed in place (models/target_logprob.py)
        return target_logprob(logits_MV, target_M, with_entropy=entropy == "detached")
    logp_MV = torch.log_softmax(logits_MV, dim=-1, dtype=torch.float32)
    logp_M = logp_MV.gather(1, target_M[:, None]).squeeze(1)
    return logp_M, -(logp_MV.exp() * logp_MV).sum(-1)


def packed_logprobs(model, batch: TrainBatch, temperature: float = 1.0, entropy: str = "off"):
    """logprobs_NT (and entropy_NT unless ``entropy='off'``), zero on padding: the same values
    as trainer/logprobs.completion_logprobs' padded forward, to float rounding."""
    dec = Decoder(model)
    device = batch.input_ids_NL.device
    layout = pack(batch)
    h_KE = packed_hidden(dec, layout, device)
    h_ME = h_KE.index_select(0, layout.predictor_M.to(device))
    target_M = layout.target_M.to(device)
    per_row = isinstance(temperature, torch.Tensor)
    if per_row:  # one per row [N] or per token [N, T]
        rows_M = layout.row_M.to(device)
        temp_M = temperature[rows_M] if temperature.dim() == 1 else (
            temperature[rows_M, layout.col_M.to(device)])
    else:
        temp_M = temperature
    logps, entropies = [], []
    block = head_block_rows(dec.lm.lm_head, dec.lm.config.vocab_size)
    for start in range(0, len(target_M), block):
        part = slice(start, start + block)
        temperature = temp_M[part] if per_row else temp_M
        if len(target_M) > HEAD_CHUNK_TOKENS and torch.is_grad_enabled():
            logp_M, entropy_M = checkpoint(_head_logprobs, dec, h_ME[part], target_M[part],
                                           temperature, entropy, use_reentrant=False)
        else:
            logp_M, entropy_M = _head_logprobs(dec, h_ME[part], target_M[part], temperature,
                                               entropy)
        logps.append(logp_M)
        entropies.append(entropy_M)
    N, T = batch.num_sequences, batch.completion_len
    rows, cols = layout.row_M.to(device), layout.col_M.to(device)
    logp_NT = torch.zeros(N, T, device=device).index_put((rows, cols), torch.cat(logps))
    if entropy == "off":
        return logp_NT, None
    entropy_NT = torch.zeros(N, T, device=device).index_put((rows, cols), torch.cat(entropies))
    return logp_NT, entropy_NT
