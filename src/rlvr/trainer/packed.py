"""Completion logprobs from a padding-free forward: every real token computed once, no padding.

A padded micro-batch of N sequences costs N * (P + T) tokens of work in every linear layer,
although a group's G sequences share one prompt and most completions stop long before T. The
packed forward (for models ``models/fastpath.py`` supports) lays the real tokens end to end:
each distinct prompt once, then each completion's real tokens. Linear layers, norms, MLPs and
the LM head run on that stream only. Attention alone needs rows: one per prompt (its own causal
attention) and one per completion (its prompt's keys, then its own), gathered from the stream
by index and padded to the longest row, which costs little next to the linear layers. The LM
head runs only at the positions that predict a completion token, in chunks.

Layout letters: K packed tokens, R attention rows (U prompts + N completions), Q query slots
and S key slots per row, M predicted completion tokens, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.checkpoint import checkpoint

from rlvr.models.fastpath import Decoder
from rlvr.trainer.prefix import distinct_prompts
from rlvr.types import TrainBatch

HEAD_CHUNK_TOKENS = 2048
"""Completion tokens per LM-head chunk; larger ones are recomputed in the backward pass."""


@dataclass(frozen=True)
class PackedLayout:
    ids_K: torch.Tensor
    positions_K: torch.Tensor
    query_index_RQ: torch.Tensor  # packed index of each query slot (0 where empty)
    key_index_RS: torch.Tensor  # packed index of each key slot (0 where empty)
    mask_R1QS: torch.Tensor  # True where a query may attend to a key
    slot_of_token_K: torch.Tensor  # flat R*Q slot holding each packed token's query
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
    query_index_RQ, query_ok_RQ = _padded(span, max(lengths))
    key_index_RS, key_ok_RS = _padded(keys, max(len(k) for k in keys))
    q_pos_RQ, k_pos_RS = positions_K[query_index_RQ], positions_K[key_index_RS]
    mask_RQS = key_ok_RS[:, None, :] & (k_pos_RS[:, None, :] <= q_pos_RQ[:, :, None])
    mask_RQS[:, :, 0] |= ~query_ok_RQ  # empty query slots look at one real key: no NaN
    slot_of_token_K = torch.empty(len(positions_K), dtype=torch.long)
    slot_of_token_K[query_index_RQ[query_ok_RQ]] = query_ok_RQ.flatten().nonzero().squeeze(1)
    # The prompt's last token predicts completion token 0, completion token t-1 predicts t.
    predictor_M = torch.cat([torch.cat([span[u][-1:], span[U + n][:-1]])[:lengths[U + n]]
                             for n, u in enumerate(group_N)])
    row_M = torch.cat([torch.full((len(c),), n) for n, c in enumerate(completions)])
    col_M = torch.cat([torch.arange(len(c)) for c in completions])
    return PackedLayout(torch.cat(prompts + completions), positions_K, query_index_RQ,
                        key_index_RS, mask_RQS[:, None], slot_of_token_K, predictor_M,
                        torch.cat(completions), row_M, col_M)


def packed_hidden(dec: Decoder, layout: PackedLayout, device: torch.device) -> torch.Tensor:
    """Last-layer hidden states h_KE of the packed stream (before the final norm)."""
    rows = _RowIndex(layout, device)
    h_1KE = dec.embed(layout.ids_K.to(device)[None])
    cos, sin = dec.rope(h_1KE, layout.positions_K.to(device)[None])
    for layer in dec.layers:
        q_1KHD, k_1KKD, v_1KKD = dec.qkv(layer, h_1KE, cos, sin)
        attn_KHD = row_attention(q_1KHD[0], k_1KKD[0], v_1KKD[0], rows,
                                 layer.self_attn.scaling)
        h_1KE = dec.finish_layer(layer, h_1KE, attn_KHD[None].transpose(1, 2))
    return h_1KE[0]


class _RowIndex:
    """The layout's row indices and masks on the compute device, with their shapes."""

    def __init__(self, layout: PackedLayout, device: torch.device) -> None:
        R, Q = layout.query_index_RQ.shape
        self.R, self.Q, self.S = R, Q, layout.key_index_RS.shape[1]
        self.query_flat = layout.query_index_RQ.flatten().to(device)
        self.key_flat = layout.key_index_RS.flatten().to(device)
        self.mask_R1QS = layout.mask_R1QS.to(device)
        self.slot_K = layout.slot_of_token_K.to(device)


def row_attention(q_KHD: torch.Tensor, k_KKD: torch.Tensor, v_KKD: torch.Tensor,
                  rows: _RowIndex, scale: float) -> torch.Tensor:
    """Causal attention of every packed token within its row, back in packed order: attn_KHD.

    Explicit products rather than SDPA: on a CPU the fused kernel's backward with a mask costs
    ~10x the math here. Rows are gathered with ``index_select`` (its backward is a row-wise
    ``index_add_``), and the H query heads are grouped by their shared K/V head (GQA) so keys
    and values are never repeated. Softmax runs in fp32, as in transformers' eager attention.
    """
    R, Q, S = rows.R, rows.Q, rows.S
    H, D = q_KHD.shape[1], q_KHD.shape[2]
    Kv = k_KKD.shape[1]
    q_RKgQD = (q_KHD.index_select(0, rows.query_flat).view(R, Q, Kv, H // Kv, D)
               .permute(0, 2, 3, 1, 4).reshape(R, Kv, H // Kv * Q, D))
    k_RKSD = k_KKD.index_select(0, rows.key_flat).view(R, S, Kv, D).transpose(1, 2)
    v_RKSD = v_KKD.index_select(0, rows.key_flat).view(R, S, Kv, D).transpose(1, 2)
    scores = torch.matmul(q_RKgQD, k_RKSD.transpose(2, 3)).float() * scale
    allowed = rows.mask_R1QS.repeat(1, 1, H // Kv, 1)  # [R, 1, g*Q, S], heads outer
    probs = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1).to(v_RKSD.dtype)
    out_RKgQD = torch.matmul(probs, v_RKSD)  # [R, Kv, g*Q, D]
    out_RQHD = out_RKgQD.view(R, Kv, H // Kv, Q, D).permute(0, 3, 1, 2, 4).reshape(R * Q, H, D)
    return out_RQHD.index_select(0, rows.slot_K)


def _head_logprobs(dec: Decoder, h_ME: torch.Tensor, target_M: torch.Tensor, temperature: float):
    """logp_M of the targets and the entropy_M of the (tempered) next-token distributions."""
    logits_MV = dec.head(h_ME).float()
    if temperature != 1.0:
        logits_MV = logits_MV / temperature
    logp_MV = torch.log_softmax(logits_MV, dim=-1)
    entropy_M = -(logp_MV.exp() * logp_MV).sum(-1)
    return logp_MV.gather(1, target_M[:, None]).squeeze(1), entropy_M


def packed_logprobs(model, batch: TrainBatch, temperature: float = 1.0, entropy: str = "off"):
    """logprobs_NT (and entropy_NT unless ``entropy='off'``), zero on padding: the same values
    as trainer/logprobs.completion_logprobs' padded forward, to float rounding."""
    dec = Decoder(model)
    device = batch.input_ids_NL.device
    layout = pack(batch)
    h_KE = packed_hidden(dec, layout, device)
    h_ME, target_M = h_KE[layout.predictor_M.to(device)], layout.target_M.to(device)
    logps, entropies = [], []
    for start in range(0, len(target_M), HEAD_CHUNK_TOKENS):
        part = slice(start, start + HEAD_CHUNK_TOKENS)
        if len(target_M) > HEAD_CHUNK_TOKENS and torch.is_grad_enabled():
            logp_M, entropy_M = checkpoint(_head_logprobs, dec, h_ME[part], target_M[part],
                                           temperature, use_reentrant=False)
        else:
            logp_M, entropy_M = _head_logprobs(dec, h_ME[part], target_M[part], temperature)
        logps.append(logp_M)
        entropies.append(entropy_M if entropy == "grad" else entropy_M.detach())
    N, T = batch.num_sequences, batch.completion_len
    rows, cols = layout.row_M.to(device), layout.col_M.to(device)
    logp_NT = torch.zeros(N, T, device=device).index_put((rows, cols), torch.cat(logps))
    if entropy == "off":
        return logp_NT, None
    entropy_NT = torch.zeros(N, T, device=device).index_put((rows, cols), torch.cat(entropies))
    return logp_NT, entropy_NT
