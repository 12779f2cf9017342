"""Demonstration batches of reference answers and the SFT backward over one optimizer batch,
shared by ``rlvr sft`` (trainer/sft.py) and ``algorithm.sft_mix`` (trainer/sft_mix.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import torch

from rlvr.algorithms.sft import demonstration_ids, has_reference, sft_loss
from rlvr.data.templates import render_prompt_ids
from rlvr.models.loader import Policy, stop_token_ids
from rlvr.models.logprobs import completion_logprobs
from rlvr.trainer.batch import pad_groups
from rlvr.trainer.parallel import Dist
from rlvr.trainer.update import global_norm
from rlvr.types import Group, Sample, TaskRow, TrainBatch

NO_REFERENCE = "no reference answer: nothing to fine-tune on (rlvr sft)"


@dataclass(frozen=True)
class Demonstrations:
    """Turns task rows into demonstration batches with the rollout's prompt rendering.

    With ``turns`` (``sft.turns``), a row's demonstration is those model turns filled from the
    row; with a ``driver`` (the run's environment) it is replayed as an episode, so the trained
    tokens are laid out exactly as the rollout lays them out (envs/rollout.py)."""

    tokenizer: Any
    system_prompt: str | None
    instruction: str | None
    stop_id: int | None
    max_target_tokens: int
    turns: tuple[str, ...] | None = None
    driver: Any = None

    @classmethod
    def of(cls, policy: Policy, cfg, max_target_tokens: int, engine: Any = None,
           turns: list[str] | None = None) -> "Demonstrations":
        """From a run config: its task's system prompt and instruction, the policy's first stop
        token (the one a completion ends with); the episode driver of ``engine`` when it runs an
        environment."""
        stops = stop_token_ids(policy)
        return cls(policy.tokenizer, cfg.task.system_prompt, cfg.task.instruction,
                   stops[0] if stops else None, max_target_tokens,
                   None if turns is None else tuple(turns), getattr(engine, "driver", None))

    def turn_texts(self, row: TaskRow) -> list[str]:
        """The row's model turns: ``turns`` filled from the row, or its reference."""
        if self.turns is None:
            return [row.reference]
        fields = {**row.metadata, "reference": row.reference, "prompt": row.prompt}
        return [fill_turn(t, fields, row.row_id) for t in self.turns]

    def sample(self, row: TaskRow) -> Sample:
        """The demonstration of ``row`` as a one-sample episode (ValueError when it cannot be
        built: a missing template field, or an environment that ends it off its last turn)."""
        texts = self.turn_texts(row)
        turns_ids = [demonstration_ids(self.tokenizer, t, self.stop_id, self.max_target_tokens)
                     for t in texts]
        if self.driver is not None:
            sample = self.driver.replay(row, turns_ids)
            if len(sample.completion_ids) > self.max_target_tokens:
                raise ValueError(f"the demonstration has {len(sample.completion_ids)} tokens, "
                                 f"over sft.max_target_tokens={self.max_target_tokens}")
            return sample
        if len(texts) != 1:
            raise ValueError(f"sft.turns: {len(texts)} turns need a multi-turn env (env.name)")
        target = turns_ids[0]
        prompt = render_prompt_ids(self.tokenizer, row, self.system_prompt, self.instruction)
        return Sample(row=row, prompt_ids=prompt, completion_ids=target,
                      sampler_logprobs=[0.0] * len(target), finish_reason="stop", text=texts[0])

    def problem(self, row: TaskRow) -> str | None:
        """Why ``row`` cannot be a demonstration, or None."""
        if self.turns is None and not has_reference(row):
            return NO_REFERENCE
        try:
            self.sample(row)
        except ValueError as err:
            return f"demonstration not built: {err}"
        return None

    def batch(self, rows: list[TaskRow], weight: float = 1.0) -> TrainBatch:
        """One padded row per demonstration, in the rollout batch's layout (prompts left-padded,
        completions right-padded, environment tokens masked out); ``advantages_N`` holds
        ``weight`` for every row."""
        if not rows:
            raise ValueError("Demonstrations.batch: no rows")
        groups = [Group(row=row, samples=[self.sample(row)]) for row in rows]
        batch = pad_groups(groups, self.tokenizer.pad_token_id)
        return TrainBatch(batch.input_ids_NL, batch.attention_mask_NL, batch.completion_mask_NT,
                          torch.full((len(rows),), float(weight)), batch.sampler_logprobs_NT,
                          batch.truncated_N)


_FIELD = re.compile(r"\{([A-Za-z_][\w.]*)\}")


def fill_turn(template: str, fields: dict[str, Any], row_id: str) -> str:
    """``template`` with each ``{name}`` / ``{name.key.key}`` replaced by that row field (dicts
    are walked by key); every other brace is literal text, so JSON needs no escaping."""
    def value(match: re.Match) -> str:
        node: Any = fields
        for key in match.group(1).split("."):
            if not isinstance(node, dict) or key not in node:
                raise ValueError(f"sft.turns: row {row_id!r} has no field {match.group(1)!r} "
                                 f"(top-level fields: {sorted(fields)})")
            node = node[key]
        return str(node)
    return _FIELD.sub(value, template)


def sft_backward(policy: Policy, demo: TrainBatch | None, coef: float, micro_batch_size: int,
                 dist: Dist | None = None) -> tuple[float, int]:
    """Backward of ``coef`` x the SFT loss of ``demo`` (this rank's rows of one optimizer batch;
    gradients accumulate in ``.grad``). Returns the batch's SFT loss and token count over every
    rank. ``coef == 0`` runs the forward without a graph: logged, never trained on."""
    dist = dist or Dist()
    mask_NT = torch.zeros(0, 1) if demo is None else demo.completion_mask_NT
    norm = global_norm(mask_NT, 1, dist)  # a collective: every rank calls it, rows or not
    total = 0.0
    rows = 0 if demo is None else demo.num_sequences
    for idx in torch.arange(rows).split(micro_batch_size):
        micro = demo.select(idx)
        with torch.set_grad_enabled(coef != 0 and torch.is_grad_enabled()), policy.autocast():
            logp_NT, _ = completion_logprobs(policy.model, micro)
            loss = sft_loss(logp_NT.float(), micro.completion_mask_NT, norm)
        if loss.requires_grad:
            (loss * (coef * dist.loss_scale)).backward()
        total += float(loss.detach())
    return dist.sum_floats([total])[0], norm.num_tokens


@torch.no_grad()
def heldout_sft_loss(policy: Policy, demos: Demonstrations, rows: list[TaskRow],
                     micro_batch_size: int) -> float | None:
    """Token-mean NLL of the demonstrations of ``rows`` (those that have one) under the policy
    in eval mode; None when no row has one."""
    usable = [r for r in rows if demos.problem(r) is None]
    if not usable:
        return None
    was_training = policy.model.training
    policy.model.eval()
    try:
        loss, _ = sft_backward(policy, demos.batch(usable), 0.0, micro_batch_size)
    finally:
        policy.model.train(was_training)
    return loss
