"""The rollout engine seam: what the trainer and the evaluations ask of any engine.

Two entries:

* the **group API** ``generate(rows, group_size, params, progress, on_groups, seeds)`` returns one
  ``Group`` of ``group_size`` samples per task row (what the loop and ``evaluate`` call);
* the **token-level entry** ``generate_tokens(requests)``: token ids in, token ids out, nothing
  but plain data (lists, numbers, strings), so an engine in another process or on another machine
  can serve it. Each ``TokenRequest`` carries the *full running token sequence* to continue from.
  A first turn sends the rendered prompt; a continuation (multi-turn: a tool result or feedback
  appended after a completion) sends ``prompt + completion + appended tokens`` as the new
  ``prompt_ids`` and gets back only the tokens generated after them. Engines never re-tokenize
  text, so the running sequence stays exactly the tokens that were sampled.

``sync_weights(named_tensors, version)`` hands the trainer's weights after optimizer step
``version`` to the engine; an engine that decodes the trainer's own model never iterates them.
Every completion records the ``policy_version`` it was sampled with. ``capabilities`` declares
what an engine can do ("logits": full logits, so self-certainty; "lora": it decodes adapters
itself; without it a LoRA run syncs merged weights).

A new engine is one module with a class that has ``capabilities`` and
``from_config(cfg, policy, run_dir, min_batch)``, plus one line in ``ENGINES`` (and its config
class in ``rlvr/configs/engine.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from rlvr.registry import resolve
from rlvr.types import FinishReason, Group, Sample, TaskRow

NamedTensors = Iterable[tuple[str, torch.Tensor]]
"""HF-named weights, e.g. ("model.layers.0.self_attn.q_proj.weight", tensor); may be lazy."""


@dataclass(frozen=True)
class SamplingParams:
    """How to sample: at most ``max_new_tokens`` new tokens, logits / ``temperature``, then
    nucleus ``top_p``; ``greedy`` takes the argmax instead."""

    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    greedy: bool = False
    temperatures: tuple[float, ...] | None = None
    """One temperature per sample of a group (length n; rollout/temperatures.py), replacing
    ``temperature``; None: every sample at ``temperature``."""
    position_temperatures: tuple[float, ...] | None = None
    """One temperature per completion position (length max_new_tokens; an annealed schedule),
    replacing ``temperature`` for every sample; None: not used."""


@dataclass(frozen=True)
class TokenRequest:
    """``n`` completions continuing ``prompt_ids`` (the full running sequence: for a
    continuation, the earlier prompt, completion and appended tokens). ``seed`` seeds all of
    this request's randomness (None: the engine's global generator)."""

    prompt_ids: list[int]
    n: int
    params: SamplingParams
    seed: int | None = None


@dataclass(frozen=True)
class TokenCompletion:
    """One completion: the new tokens only (a stop token, when reached, is the last one), the
    sampler's logprob of each (after temperature / top-p), why it ended, the policy version
    that produced it, and its mean self-certainty when the engine was asked to record it."""

    completion_ids: list[int]
    logprobs: list[float]
    finish_reason: FinishReason
    policy_version: int
    self_certainty: float | None = None


class RolloutEngine(Protocol):
    capabilities: frozenset[str]
    policy_version: int

    def generate(self, rows: list[TaskRow], group_size: int, params: SamplingParams,
                 progress: Callable[[int], Any] | None = None,
                 on_groups: Callable[[list[Group]], Any] | None = None,
                 seeds: Sequence[int] | None = None) -> list[Group]: ...

    def generate_tokens(self, requests: Sequence[TokenRequest]) -> list[list[TokenCompletion]]: ...

    def sync_weights(self, named_tensors: NamedTensors, version: int) -> dict[str, float]: ...

    def close(self) -> None: ...


class TokenGroupEngine:
    """The group API written on the token-level entry: render each row's prompt, request
    ``group_size`` completions per prompt in chunks of whole groups (``batch_size`` sequences),
    decode the text for the verifier. Subclasses implement ``_complete(requests)``."""

    batch_size: int
    tokenizer: Any
    system_prompt: str | None
    instruction: str | None

    def prompt_ids(self, row: TaskRow) -> list[int]:
        from rlvr.data.templates import render_prompt_ids

        return render_prompt_ids(self.tokenizer, row, self.system_prompt, self.instruction)

    def _before_generate(self) -> None:
        """Called once per public call (e.g. to refresh a LoRA inference copy)."""

    def _complete(self, requests: Sequence[TokenRequest]) -> list[list[TokenCompletion]]:
        raise NotImplementedError

    def generate_tokens(self, requests: Sequence[TokenRequest]) -> list[list[TokenCompletion]]:
        self._before_generate()
        return self._complete(requests)

    def generate(self, rows: list[TaskRow], group_size: int, params: SamplingParams,
                 progress=None, on_groups=None, seeds: Sequence[int] | None = None) -> list[Group]:
        """``group_size`` completions for each row, decoded in chunks of whole groups.
        ``on_groups(groups)`` is called with each finished chunk (to start scoring early);
        ``seeds[i]`` seeds all randomness of row i's group."""
        if seeds is not None and len(seeds) != len(rows):
            raise ValueError(f"generate: {len(seeds)} seeds for {len(rows)} rows")
        self._before_generate()
        prompts_per_chunk = max(1, self.batch_size // group_size)
        groups: list[Group] = []
        for start in range(0, len(rows), prompts_per_chunk):
            chunk = rows[start:start + prompts_per_chunk]
            requests = [TokenRequest(self.prompt_ids(row), group_size, params,
                                     None if seeds is None else int(seeds[start + i]))
                        for i, row in enumerate(chunk)]
            temps = params.temperatures or [None] * group_size
            done = [Group(row=row, samples=[self._to_sample(row, req.prompt_ids, c, temp,
                                                            params.position_temperatures)
                                            for c, temp in zip(out, temps)])
                    for row, req, out in zip(chunk, requests, self._complete(requests))]
            if on_groups is not None:
                on_groups(done)
            groups.extend(done)
            if progress is not None:
                progress(len(chunk))
        return groups

    def _to_sample(self, row: TaskRow, prompt: list[int], c: TokenCompletion,
                   temperature: float | None = None,
                   positions: tuple[float, ...] | None = None) -> Sample:
        text = self.tokenizer.decode(c.completion_ids, skip_special_tokens=True)
        token_temps = None if positions is None else list(positions[:len(c.completion_ids)])
        return Sample(row=row, prompt_ids=prompt, completion_ids=c.completion_ids,
                      sampler_logprobs=c.logprobs, finish_reason=c.finish_reason, text=text,
                      self_certainty=c.self_certainty, policy_version=c.policy_version,
                      temperature=temperature, token_temperatures=token_temps)

    def close(self) -> None:
        """Nothing to release in this process."""


ENGINES: dict[str, str] = {
    "hf": "rlvr.rollout.hf:HFEngine",
    "hf_process": "rlvr.rollout.process:ProcessEngine",
}
"""Engine name (``rollout.engine.name``) -> ``module:Class``, imported when chosen."""


def engine_class(name: str) -> Any:
    return resolve(ENGINES, name, "rollout engine ")


def required_capabilities(cfg: Any) -> dict[str, str]:
    """Capability -> the config setting that needs it."""
    needs = {}
    if cfg.reward.needs_self_certainty:
        needs["logits"] = "reward term 'self_certainty'"
    return needs


def check_engine(cfg: Any) -> None:
    """Fail in one line, before any model loads, when the config asks for something the chosen
    engine cannot do."""
    name = cfg.rollout.engine.name
    have = engine_class(name).capabilities
    for capability, wanted_by in required_capabilities(cfg).items():
        if capability not in have:
            raise ValueError(
                f"{wanted_by} needs an engine with capability {capability!r}, but "
                f"rollout.engine.name={name} has: {', '.join(sorted(have)) or 'none'}")


def build_engine(cfg: Any, policy: Any, run_dir: str | Path | None = None,
                 min_batch: int = 1) -> RolloutEngine:
    """The engine ``cfg.rollout.engine`` names, for ``policy`` (the trainer's, or the evaluated
    model); ``min_batch`` raises the decode batch (``rlvr eval -n`` decodes whole groups)."""
    check_engine(cfg)
    return engine_class(cfg.rollout.engine.name).from_config(cfg, policy, run_dir, min_batch)
