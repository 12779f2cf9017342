"""The ``hf`` rollout engine: transformers ``generate`` on CPU or GPU.

It returns token ids, the sampler's per-token logprobs (of the distribution actually sampled
from, after temperature / top-p) and finish reasons; downstream code never sees the tokenizer
except to decode text for the verifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rlvr.data.templates import render_prompt_ids
from rlvr.models.fastpath import Decoder, fast_path_blocker
from rlvr.models.loader import Policy, stop_token_ids
from rlvr.models.lora import is_lora
from rlvr.rollout.decode import Sampler, left_pad, static_decode
from rlvr.rollout.inference_copy import InferenceCopy
from rlvr.rewards.unsupervised import token_self_certainty_NT
from rlvr.types import Group, Sample, TaskRow


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    greedy: bool = False


class HFEngine:
    """Generates groups of completions with the policy's own weights (no weight sync needed)."""

    def __init__(self, policy: Policy, system_prompt: str | None, instruction: str | None,
                 batch_size: int, decoder: str = "auto") -> None:
        self.policy = policy
        self.decoder = pick_decoder(decoder, policy.model)
        self.system_prompt = system_prompt
        self.instruction = instruction
        self.batch_size = batch_size
        self.stop_ids = stop_token_ids(policy)
        self._inference: InferenceCopy | None = None
        self.record_self_certainty = False
        """Record ``Sample.self_certainty`` (set from ``cfg.reward.needs_self_certainty``)."""

    def sync_weights(self) -> None:
        """Nothing to copy after an optimizer step: a full model is decoded as it is, and a
        LoRA model's merged copy is refreshed at the start of each ``generate`` call."""

    def decode_model(self):
        """The model rollouts run: the policy itself, or for LoRA its merged inference copy
        (rollout/inference_copy.py; built at the first rollout)."""
        if not is_lora(self.policy.model):
            return self.policy.model
        if self._inference is None:
            self._inference = InferenceCopy(self.policy.model, self.policy.autocast_dtype)
        return self._inference.model

    def prompt_ids(self, row: TaskRow) -> list[int]:
        return render_prompt_ids(self.policy.tokenizer, row, self.system_prompt, self.instruction)

    def generate(self, rows: list[TaskRow], group_size: int, params: SamplingParams,
                 progress=None, on_groups=None, seeds: Sequence[int] | None = None) -> list[Group]:
        """``group_size`` completions for each row, decoded in chunks of whole groups.
        ``on_groups(groups)`` is called with each finished chunk (to start scoring early).
        ``seeds[i]`` seeds all sampling of row i's group, so its samples do not depend on the
        other rows of the call or the chunking (None: the global torch generator)."""
        if seeds is not None and len(seeds) != len(rows):
            raise ValueError(f"generate: {len(seeds)} seeds for {len(rows)} rows; give one each")
        if self._inference is not None:  # the adapters may have changed since (a step, a resume)
            self._inference.refresh()
        prompts_per_chunk = max(1, self.batch_size // group_size)
        groups: list[Group] = []
        for start in range(0, len(rows), prompts_per_chunk):
            chunk = rows[start:start + prompts_per_chunk]
            chunk_seeds = None if seeds is None else list(seeds[start:start + prompts_per_chunk])
            done = self._generate_chunk(chunk, group_size, params, chunk_seeds)
            if on_groups is not None:
                on_groups(done)
            groups.extend(done)
            if progress is not None:
                progress(len(chunk))
        return groups

    @torch.no_grad()
    def _generate_chunk(self, rows: list[TaskRow], group_size: int, params: SamplingParams,
                        seeds: list[int] | None = None) -> list[Group]:
        prompts = [self.prompt_ids(row) for row in rows]
        self.policy.model.eval()
        with self.policy.autocast():
            if self.decoder == "static":
                new_NT, logp_NT, certainty_NT = self._static(prompts, group_size, params, seeds)
            elif seeds is None:
                new_NT, logp_NT, certainty_NT = self._hf_generate(prompts, group_size, params)
            else:
                new_NT, logp_NT, certainty_NT = self._hf_generate_seeded(prompts, group_size,
                                                                         params, seeds)
        groups = []
        for b, row in enumerate(rows):
            samples = [self._sample(row, prompts[b], new_NT[n], logp_NT[n],
                                    None if certainty_NT is None else certainty_NT[n])
                       for n in range(b * group_size, (b + 1) * group_size)]
            groups.append(Group(row=row, samples=samples))
        return groups

    def _static(self, prompts: list[list[int]], group_size: int, params: SamplingParams,
                seeds: list[int] | None = None):
        """rlvr's decode loop (rollout/decode.py): static KV cache, finished rows dropped."""
        sampler = Sampler(params.temperature, params.top_p, params.greedy, self.stop_ids,
                          record_certainty=self.record_self_certainty, seeds=seeds,
                          group_size=group_size)
        out = static_decode(Decoder(self.decode_model()), prompts, group_size,
                            params.max_new_tokens, sampler, self.policy.tokenizer.pad_token_id,
                            self.policy.device)
        return out.tokens_NT, out.logprobs_NT, out.certainty_NT

    def _hf_generate(self, prompts: list[list[int]], group_size: int, params: SamplingParams):
        """transformers ``generate`` (any model it supports)."""
        tok = self.policy.tokenizer
        ids_BP, mask_BP = left_pad(prompts, tok.pad_token_id)
        ids_BP, mask_BP = ids_BP.to(self.policy.device), mask_BP.long().to(self.policy.device)
        out = self.decode_model().generate(
            input_ids=ids_BP, attention_mask=mask_BP, max_new_tokens=params.max_new_tokens,
            do_sample=not params.greedy, temperature=params.temperature if not params.greedy else None,
            top_p=params.top_p if not params.greedy else None, top_k=None,
            num_return_sequences=group_size, eos_token_id=self.stop_ids,
            pad_token_id=tok.pad_token_id, output_scores=True, return_dict_in_generate=True,
            output_logits=self.record_self_certainty)
        new_NT = out.sequences[:, ids_BP.shape[1]:]
        certainty_NT = token_self_certainty_NT(out.logits) if self.record_self_certainty else None
        return new_NT, sampled_logprobs(out.scores, new_NT), certainty_NT

    def _hf_generate_seeded(self, prompts: list[list[int]], group_size: int,
                            params: SamplingParams, seeds: list[int]):
        """``generate`` one prompt at a time, each under its own seed (``generate`` draws from
        the global generator, so a shared call would tie prompts' samples together); the global
        generator's state is restored afterwards."""
        parts = []
        devices = [self.policy.device] if self.policy.device.type == "cuda" else []
        for prompt, seed in zip(prompts, seeds):
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(int(seed))
                parts.append(self._hf_generate([prompt], group_size, params))
        width = max(new_NT.shape[1] for new_NT, _, _ in parts)
        pad = self.policy.tokenizer.pad_token_id
        new_NT = torch.cat([_pad_right(n, width, pad) for n, _, _ in parts])
        logp_NT = torch.cat([_pad_right(lp, width, 0.0) for _, lp, _ in parts])
        certainty_NT = None if parts[0][2] is None else torch.cat(
            [_pad_right(c.cpu(), width, 0.0) for _, _, c in parts])
        return new_NT, logp_NT, certainty_NT

    def _sample(self, row: TaskRow, prompt: list[int], new_T: torch.Tensor,
                logp_T: torch.Tensor, certainty_T: torch.Tensor | None = None) -> Sample:
        ids = new_T.tolist()
        stop_at = next((i for i, t in enumerate(ids) if t in self.stop_ids), None)
        length = len(ids) if stop_at is None else stop_at + 1  # keep the stop token: it is trained
        completion = ids[:length]
        text = self.policy.tokenizer.decode(completion, skip_special_tokens=True)
        certainty = None if certainty_T is None else float(certainty_T[:length].mean())
        return Sample(row=row, prompt_ids=prompt, completion_ids=completion,
                      sampler_logprobs=logp_T[:length].tolist(),
                      finish_reason="length" if stop_at is None else "stop", text=text,
                      self_certainty=certainty)


def pick_decoder(choice: str, model) -> str:
    """'static' (rlvr's loop) when asked, or for 'auto' when the model supports it; else
    'generate'."""
    blocker = fast_path_blocker(model)
    if choice == "static" and blocker is not None:
        raise ValueError(f"rollout.decoder=static: {blocker}; use rollout.decoder=generate")
    if choice == "auto":
        return "generate" if blocker is not None else "static"
    return choice


def _pad_right(x_NT: torch.Tensor, width: int, value) -> torch.Tensor:
    """``x_NT`` padded with ``value`` to ``width`` columns (generate stops early when all
    rows of its call finished)."""
    return torch.nn.functional.pad(x_NT, (0, width - x_NT.shape[1]), value=value)


def sampled_logprobs(scores: tuple[torch.Tensor, ...], new_NT: torch.Tensor) -> torch.Tensor:
    """Logprob of each generated token under the processed (sampled-from) distribution, [N, T]."""
    logp = [torch.log_softmax(s_NV.float(), dim=-1).gather(1, new_NT[:, t:t + 1]).squeeze(1)
            for t, s_NV in enumerate(scores)]
    return torch.stack(logp, dim=1).cpu()
