"""The ``hf`` rollout engine: transformers ``generate`` on CPU or GPU.

``HFEngine`` serves the token-level entry of rollout/engine.py (``_complete``) and gets the
group API from ``TokenGroupEngine``. It returns token ids, the sampler's per-token logprobs (of
the distribution actually sampled from, after temperature / top-p) and finish reasons;
downstream code never sees the tokenizer except to decode text for the verifier.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlvr.configs.base import ConfigError
from rlvr.models.fastpath import Decoder, fast_path_blocker
from rlvr.models.loader import Policy, stop_token_ids
from rlvr.models.lora import is_lora
from rlvr.rollout.decode import (Sampler, compiled_decode_step, left_pad, row_seed,
                                 static_decode)
from rlvr.rollout.inference_copy import InferenceCopy
from rlvr.rollout.int8 import Int8Copy
from rlvr.rollout.linear_copy import LinearSwapCopy
from rlvr.rollout.onednn import OneDNNCopy, onednn_available
from rlvr.rollout.engine import SamplingParams, TokenCompletion, TokenGroupEngine, TokenRequest
from rlvr.rewards.unsupervised import token_self_certainty_NT
from rlvr.rollout.temperatures import position_temperatures, row_temperatures


class HFEngine(TokenGroupEngine):
    """Generates groups of completions with the policy's own weights (weight sync
    ``inprocess``: nothing is copied)."""

    capabilities = frozenset({"logits", "lora"})

    def __init__(self, policy: Policy, system_prompt: str | None, instruction: str | None,
                 batch_size: int, decoder: str = "auto", max_batch_rows: int | None = None,
                 weights: str = "full", compile: bool = False) -> None:
        self.policy = policy
        self.compile = compile
        """torch.compile the static decoder's step (built at the first static rollout)."""
        self._step = None
        self._decoder: tuple[object, Decoder] | None = None  # (the model, its Decoder)
        self.weights = weights if weights in ("full", "int8") else resolve_weights(
            weights, policy.device, policy.autocast_dtype)
        """'full': decode the trained weights; 'int8': a W8A8 copy (rollout/int8.py);
        'onednn': a oneDNN-packed copy in the same precision (rollout/onednn.py)."""
        self._swapped: LinearSwapCopy | None = None
        self.tokenizer = policy.tokenizer
        self.decoder = pick_decoder(decoder, policy.model)
        if compile and self.decoder != "static":
            raise ConfigError("rollout.engine.compile compiles the static decoder's step; this "
                             f"engine decodes with {self.decoder!r}")
        self.system_prompt = system_prompt
        self.instruction = instruction
        self.batch_size = batch_size
        self.max_batch_rows = max_batch_rows
        """At most this many rows per decode call: a larger group decodes in chunks of samples."""
        self.stop_ids = stop_token_ids(policy)
        self._inference: InferenceCopy | None = None
        self.record_self_certainty = False
        """Record ``Sample.self_certainty`` (set from ``cfg.reward.needs_self_certainty``)."""
        self.policy_version = 0
        """The version of the weights decoded now (set by ``sync_weights``)."""

    @classmethod
    def from_config(cls, cfg, policy: Policy, run_dir=None, min_batch: int = 1) -> HFEngine:
        knobs = cfg.rollout.engine
        engine = cls(policy, cfg.task.system_prompt, cfg.task.instruction,
                     max(knobs.batch_size, min_batch), decoder=knobs.decoder,
                     max_batch_rows=knobs.max_batch_rows, weights=knobs.weights,
                     compile=knobs.compile)
        engine.record_self_certainty = cfg.reward.needs_self_certainty
        return engine

    def sync_weights(self, named_tensors=(), version: int = 0) -> dict[str, float]:
        """Nothing to copy after an optimizer step (``named_tensors`` is never read): a full
        model is decoded as it is, and a LoRA model's merged copy is refreshed at the start of
        each ``generate`` call. Records ``version`` for the samples that follow."""
        self.policy_version = version
        return {"sync/bytes": 0.0}

    def decode_model(self):
        """The model rollouts run: the policy itself, or for LoRA its merged inference copy
        (rollout/inference_copy.py; built at the first rollout); with ``weights='int8'`` or
        ``'onednn'`` a copy of that with swapped linear layers (built at the first rollout)."""
        model = self.policy.model
        if is_lora(model):
            if self._inference is None:
                dtype = None if self.weights == "int8" else self.policy.autocast_dtype
                self._inference = InferenceCopy(model, dtype)
            model = self._inference.model
        if self.weights == "full":
            return model
        if self._swapped is None:
            self._swapped = (Int8Copy(model) if self.weights == "int8" else
                             OneDNNCopy(model, self.policy.autocast_dtype))
        return self._swapped.model

    def _before_generate(self) -> None:
        if self._inference is not None:  # the adapters may have changed since (a step, a resume)
            self._inference.refresh()
        if self._swapped is not None:  # reload from the weights trained since
            self._swapped.refresh()

    def _complete(self, requests: Sequence[TokenRequest]) -> list[list[TokenCompletion]]:
        """Requests with the same n and sampling parameters decode as one batch. Seeded ones
        (all of a batch, or none) give completions that do not depend on what else is in the
        call: the static decoder draws each prompt's tokens from a generator of its own seed;
        ``generate``, which draws from the global generator, decodes a seeded request alone."""
        out: list[list[TokenCompletion]] = []
        for run in _batches(requests, seeded_together=self.decoder == "static"):
            out.extend(self._decode_run(run))
        return out

    def _decode_run(self, run: list[TokenRequest]) -> list[list[TokenCompletion]]:
        """One batch, cut so no decode call has more than ``max_batch_rows`` rows: whole
        groups when they fit, else one prompt's samples in chunks (the static decoder's
        per-row streams make the samples the same as undivided)."""
        n, limit = run[0].n, self.max_batch_rows or run[0].n * len(run)
        if n <= limit:
            per_call = max(1, limit // n)
            return [c for i in range(0, len(run), per_call)
                    for c in self._seeded_decode(run[i:i + per_call], 0, n)]
        return [[c for s in range(0, n, limit)
                 for c in self._seeded_decode([req], s, min(limit, n - s))[0]] for req in run]

    def _seeded_decode(self, run: list[TokenRequest], sample_start: int,
                       count: int) -> list[list[TokenCompletion]]:
        """``generate`` draws from the global generator: a seeded request decodes under its
        seed (its chunk's own, for a chunk of a large group)."""
        if run[0].seed is None or self.decoder == "static":
            return self._decode_batch(run, sample_start, count)
        on_cuda = torch.device(self.policy.device).type == "cuda"
        with torch.random.fork_rng(devices=[self.policy.device] if on_cuda else []):
            torch.manual_seed(run[0].seed if sample_start == 0 else
                              row_seed(run[0].seed, sample_start))
            return self._decode_batch(run, sample_start, count)

    @torch.no_grad()
    def _decode_batch(self, requests: list[TokenRequest], sample_start: int = 0,
                      count: int | None = None) -> list[list[TokenCompletion]]:
        """Samples sample_start .. sample_start+count-1 of each request (default: all n)."""
        prompts, params = [r.prompt_ids for r in requests], requests[0].params
        n = requests[0].n if count is None else count
        seeds = None if requests[0].seed is None else [r.seed for r in requests]
        self.policy.model.eval()
        with self.policy.autocast():
            if self.decoder == "static":
                new_NT, logp_NT, certainty_NT = self._static(prompts, n, params, seeds,
                                                             sample_start)
            else:
                new_NT, logp_NT, certainty_NT = self._hf_generate(prompts, n, params)
        return [[self._completion(new_NT[i], logp_NT[i],
                                  None if certainty_NT is None else certainty_NT[i])
                 for i in range(b * n, (b + 1) * n)] for b in range(len(prompts))]

    def _static(self, prompts: list[list[int]], group_size: int, params: SamplingParams,
                seeds: list[int] | None = None, sample_start: int = 0):
        """rlvr's decode loop (rollout/decode.py): static KV cache, finished rows dropped;
        ``seeds``: one stream per (prompt, sample index), so a prompt decoded alone, batched or
        in chunks of samples (from ``sample_start``) gets the same draws."""
        sampler = Sampler(params.temperature, params.top_p, params.greedy, self.stop_ids,
                          record_certainty=self.record_self_certainty, seeds=seeds,
                          group_size=group_size, sample_start=sample_start,
                          row_temperatures=row_temperatures(params, len(prompts), sample_start,
                                                            group_size),
                          position_temperatures=position_temperatures(params))
        out = static_decode(self._static_decoder(), prompts, group_size,
                            params.max_new_tokens, sampler, self.policy.tokenizer.pad_token_id,
                            self.policy.device, **self._step_kwargs())
        return out.tokens_NT, out.logprobs_NT, out.certainty_NT

    def _static_decoder(self) -> Decoder:
        """The Decoder of the model decoded now, kept while that model is (a compiled step
        guards on the objects it reads, so a new wrapper per call would recompile)."""
        model = self.decode_model()
        if self._decoder is None or self._decoder[0] is not model:
            self._decoder = (model, Decoder(model))
        return self._decoder[1]

    def _step_kwargs(self) -> dict:
        if not self.compile:
            return {}
        if self._step is None:
            self._step = compiled_decode_step()
        return {"step": self._step}

    def _hf_generate(self, prompts: list[list[int]], group_size: int, params: SamplingParams):
        """transformers ``generate`` (any model it supports)."""
        if params.temperatures is not None or params.position_temperatures is not None:
            raise ValueError("rollout.temperatures and rollout.temperature_schedule need "
                             "rollout.engine.decoder=static (transformers' generate samples a "
                             "batch at one temperature)")
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

    def _completion(self, new_T: torch.Tensor, logp_T: torch.Tensor,
                    certainty_T: torch.Tensor | None = None) -> TokenCompletion:
        ids = new_T.tolist()
        stop_at = next((i for i, t in enumerate(ids) if t in self.stop_ids), None)
        length = len(ids) if stop_at is None else stop_at + 1  # keep the stop token: it is trained
        certainty = None if certainty_T is None else float(certainty_T[:length].mean())
        return TokenCompletion(ids[:length], logp_T[:length].tolist(),
                               "length" if stop_at is None else "stop", self.policy_version,
                               certainty)


def _batches(requests: Sequence[TokenRequest],
             seeded_together: bool = False) -> list[list[TokenRequest]]:
    """Consecutive requests with equal n and parameters form one batch, all unseeded or (with
    ``seeded_together``: the static decoder's per-prompt generators) all seeded; otherwise a
    seeded request is a batch of its own."""
    runs: list[list[TokenRequest]] = []
    for r in requests:
        last = runs[-1][-1] if runs else None
        same_kind = (r.seed is None and last is not None and last.seed is None) or (
            seeded_together and r.seed is not None and last is not None
            and last.seed is not None)
        if last is not None and same_kind and r.n == last.n and r.params == last.params:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


def pick_decoder(choice: str, model) -> str:
    """'static' (rlvr's loop) when asked, or for 'auto' when the model supports it; else
    'generate'."""
    blocker = fast_path_blocker(model)
    if choice == "static" and blocker is not None:
        raise ValueError(f"rollout.decoder=static: {blocker}; use rollout.decoder=generate")
    if choice == "auto":
        return "generate" if blocker is not None else "static"
    return choice


def sampled_logprobs(scores: tuple[torch.Tensor, ...], new_NT: torch.Tensor) -> torch.Tensor:
    """Logprob of each generated token under the processed (sampled-from) distribution, [N, T]."""
    logp = [torch.log_softmax(s_NV.float(), dim=-1).gather(1, new_NT[:, t:t + 1]).squeeze(1)
            for t, s_NV in enumerate(scores)]
    return torch.stack(logp, dim=1).cpu()


def resolve_weights(weights: str, device, autocast_dtype=None, vendor: str | None = None) -> str:
    """``rollout.engine.weights`` for a policy on ``device``: 'auto' is 'onednn' for fp32
    decoding on an AMD CPU with oneDNN, else 'full'; 'onednn' off the CPU is refused. The
    packed copy was measured faster on a 2-core Zen 4 (1.05-1.7x a decode step) and slower on a
    2-core AMX Xeon (0.7-0.95x, at every row count from 1 to 32), where MKL's sgemm
    is already close to the weight read (docs/performance.md); under bf16 autocast ``F.linear``
    runs oneDNN's kernels anyway. ``vendor``: /proc/cpuinfo's vendor_id (None: read it)."""
    on_cpu = torch.device(device).type == "cpu"
    if weights == "auto":
        if not (on_cpu and autocast_dtype is None and onednn_available()):
            return "full"
        if vendor is None:
            from rlvr.hardware import parse_vendor, read_cpuinfo

            vendor = parse_vendor(read_cpuinfo())
        return "onednn" if vendor == "AuthenticAMD" else "full"
    if weights == "onednn" and not on_cpu:
        raise ConfigError("rollout.engine.weights=onednn packs the weights for oneDNN's CPU "
                          f"kernels; the policy is on {device}: use weights=full (or auto)")
    return weights
