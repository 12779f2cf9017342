"""Demonstration batches of reference answers and the SFT backward over one optimizer batch,
shared by ``rlvr sft`` (trainer/sft.py) and ``algorithm.sft_mix`` (trainer/sft_mix.py)."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Demonstrations:
    """Turns task rows into demonstration batches with the rollout's prompt rendering."""

    tokenizer: Any
    system_prompt: str | None
    instruction: str | None
    stop_id: int | None
    max_target_tokens: int

    @classmethod
    def of(cls, policy: Policy, cfg, max_target_tokens: int) -> "Demonstrations":
        """From a run config: its task's system prompt and instruction, the policy's first stop
        token (the one a completion ends with)."""
        stops = stop_token_ids(policy)
        return cls(policy.tokenizer, cfg.task.system_prompt, cfg.task.instruction,
                   stops[0] if stops else None, max_target_tokens)

    def batch(self, rows: list[TaskRow], weight: float = 1.0) -> TrainBatch:
        """One padded row per demonstration, in the rollout batch's layout (prompts left-padded,
        completions right-padded); ``advantages_N`` holds ``weight`` for every row."""
        if not rows:
            raise ValueError("Demonstrations.batch: no rows")
        groups = []
        for row in rows:
            target = demonstration_ids(self.tokenizer, row.reference, self.stop_id,
                                       self.max_target_tokens)
            prompt = render_prompt_ids(self.tokenizer, row, self.system_prompt, self.instruction)
            sample = Sample(row=row, prompt_ids=prompt, completion_ids=target,
                            sampler_logprobs=[0.0] * len(target), finish_reason="stop",
                            text=row.reference)
            groups.append(Group(row=row, samples=[sample]))
        batch = pad_groups(groups, self.tokenizer.pad_token_id)
        return TrainBatch(batch.input_ids_NL, batch.attention_mask_NL, batch.completion_mask_NT,
                          torch.full((len(rows),), float(weight)), batch.sampler_logprobs_NT,
                          batch.truncated_N)


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
    """Token-mean NLL of the references of ``rows`` (those with one) under the policy in eval
    mode; None when no row has a reference."""
    usable = [r for r in rows if has_reference(r)]
    if not usable:
        return None
    was_training = policy.model.training
    policy.model.eval()
    try:
        loss, _ = sft_backward(policy, demos.batch(usable), 0.0, micro_batch_size)
    finally:
        policy.model.train(was_training)
    return loss
