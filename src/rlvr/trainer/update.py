"""The policy update: epochs x minibatches x micro-batches, with no variant names.

Every variant-specific choice was resolved into ``Algorithm`` before the loop; this module only
calls its members and computes the inputs it declares it needs (old logprobs, entropies,
reference logprobs). Normalisers are counted over the whole minibatch (``BatchNorm``), so the
gradient does not depend on the micro-batch size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import torch

from rlvr.algorithms import Algorithm, BatchNorm, LossInputs
from rlvr.models.loader import Policy
from rlvr.runs.faultpoints import fault_point
from rlvr.models.logprobs import completion_logprobs
from rlvr.models.prefix import group_aligned_order
from rlvr.trainer.parallel import Dist, unwrap_grad_norm
from rlvr.types import TrainBatch


def build_optimizer(model: torch.nn.Module, cfg) -> tuple[torch.optim.Optimizer, object]:
    """AdamW with linear warmup to ``cfg.lr`` over ``cfg.warmup_steps``, then constant."""
    params = [p for p in model.parameters() if p.requires_grad]
    # The fused kernel makes one pass over each tensor (~3x faster than foreach on a CPU,
    # where the step of 135M fp32 parameters is memory-bound); same update, tested.
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas,
                                  weight_decay=cfg.weight_decay, fused=fused or None)
    warmup = cfg.warmup_steps
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) if warmup else 1.0)
    return optimizer, scheduler


class StatSums:
    """Masked token sums of per-token statistics, turned into means at the end."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.tokens = 0.0

    def add(self, stats_NT: dict[str, torch.Tensor], mask_NT: torch.Tensor) -> None:
        self.tokens += float(mask_NT.sum())
        for name, value_NT in stats_NT.items():
            self.sums[name] += float((value_NT.detach().float() * mask_NT).sum())

    def merge(self, other: "StatSums") -> None:
        self.tokens += other.tokens
        for name, total in other.sums.items():
            self.sums[name] += total

    def means(self) -> dict[str, float]:
        return {name: total / max(self.tokens, 1.0) for name, total in self.sums.items()}

    def reduced(self, dist: Dist) -> StatSums:
        """The sums over every rank (the same names on each: the same loss runs everywhere)."""
        names = sorted(self.sums)
        totals = dist.sum_floats([self.tokens, *(self.sums[n] for n in names)])
        out = StatSums()
        out.tokens = totals[0]
        out.sums.update(zip(names, totals[1:]))
        return out


def global_norm(mask_NT: torch.Tensor, max_new_tokens: int, dist: Dist) -> BatchNorm:
    """``BatchNorm`` of the optimizer batch across all ranks (each rank holds its rows)."""
    local = BatchNorm.of(mask_NT, max_new_tokens)
    tokens, sequences = dist.sum_floats([local.num_tokens, local.num_sequences])
    return BatchNorm(int(tokens), int(sequences), max_new_tokens)


@dataclass(frozen=True)
class StepSettings:
    """The non-algorithm settings an optimizer step needs."""

    micro_batch_size: int
    max_grad_norm: float
    max_new_tokens: int  # Dr.GRPO's constant normaliser
    temperature: float  # the sampling temperature: trainer logprobs score the same distribution


@torch.no_grad()
def prepass(policy: Policy, batch: TrainBatch, micro_batch_size: int, temperature: float):
    """logprobs_NT and entropy_NT of the rollout policy, before the first optimizer step."""
    logps, entropies = [], []
    for idx in torch.arange(batch.num_sequences).split(micro_batch_size):
        with policy.autocast():
            logp_NT, entropy_NT = completion_logprobs(policy.model, batch.select(idx),
                                                      temperature, entropy="detached")
        logps.append(logp_NT.float())
        entropies.append(entropy_NT.float())
    return torch.cat(logps), torch.cat(entropies)


def update(policy: Policy, optimizer, scheduler, batch: TrainBatch, algo: Algorithm,
           settings: StepSettings, generator: torch.Generator,
           dist: Dist | None = None,
           extra_backward: Callable[[int], dict[str, float]] | None = None) -> dict[str, float]:
    """Run ``algo.epochs`` passes over ``batch`` in ``algo.minibatches`` optimizer steps each.
    With several ranks ``batch`` is this rank's rows; normalisers, gradients and statistics are
    summed over the ranks. Each optimizer step is ``minibatch_backward`` then ``optim_step``,
    the same two calls ``rlvr.Session`` makes. ``extra_backward(i)`` adds another loss term's
    gradients to minibatch i before its step (``algorithm.sft_mix``) and returns its metrics."""
    dist = dist or Dist()
    old_NT, entropy_NT = update_inputs(policy, batch, algo, settings)
    stats, step_metrics, per_epoch = StatSums(), defaultdict(list), {}
    for epoch in range(algo.epochs):
        epoch_stats = StatSums()
        order = group_aligned_order(batch, generator)
        for i, mb_idx in enumerate(order.chunk(algo.minibatches)):
            loss = minibatch_backward(policy, batch, mb_idx, old_NT, entropy_NT, algo, settings,
                                      epoch_stats, dist)
            extra = {} if extra_backward is None else extra_backward(i)
            metrics = optim_step(policy, optimizer, scheduler, settings.max_grad_norm, dist)
            metrics["loss"] = dist.sum_floats([loss])[0]
            metrics.update(extra)
            for name, value in metrics.items():
                step_metrics[name].append(value)
        epoch_stats = epoch_stats.reduced(dist)
        stats.merge(epoch_stats)
        if algo.epochs > 1:  # clipping grows as the policy leaves the rollout policy: per epoch
            per_epoch.update({f"update/epoch{epoch}/{k}": v for k, v in epoch_stats.means().items()
                              if k.startswith("clip_frac")})
    out = update_stats(stats, algo)
    out.update(per_epoch)
    out.update({k: sum(v) / len(v) for k, v in step_metrics.items()})
    return out


def update_inputs(policy: Policy, batch: TrainBatch, algo: Algorithm, settings: StepSettings):
    """(old_NT, entropy_NT): the rollout policy's logprobs and entropies when the algorithm
    needs them (None otherwise), computed before the batch's first optimizer step."""
    policy.model.train()
    if not algo.needs_prepass:
        return None, None
    old_NT, entropy_NT = prepass(policy, batch, settings.micro_batch_size, settings.temperature)
    if algo.reuses_rollout_policy:
        old_NT = None  # one step per batch: the current logprobs, detached, are the old ones
    return old_NT, entropy_NT


def minibatch_backward(policy: Policy, batch: TrainBatch, mb_idx: torch.Tensor,
                       old_NT: torch.Tensor | None, entropy_NT: torch.Tensor | None,
                       algo: Algorithm, settings: StepSettings, stats: StatSums,
                       dist: Dist | None = None) -> float:
    """Forward/backward of the rows ``mb_idx`` of ``batch`` (gradients accumulate, nothing is
    reduced across ranks yet); returns this rank's share of the minibatch loss."""
    mb = batch.select(mb_idx)
    select_NT = None if algo.select_tokens is None else algo.select_tokens(
        entropy_NT[mb_idx], mb.completion_mask_NT)
    return accumulate_gradients(policy, mb, None if old_NT is None else old_NT[mb_idx],
                                select_NT, algo, settings, stats, dist)


def optim_step(policy: Policy, optimizer, scheduler, max_grad_norm: float,
               dist: Dist | None = None) -> dict[str, float]:
    """Sum the gradients over ranks, clip, step (skipped when not finite), zero them and step
    the LR schedule; returns ``grad_norm``, ``lr`` (before the schedule steps) and
    ``nonfinite_skipped``."""
    (dist or Dist()).reduce_gradients(policy.model)
    metrics = _optimizer_step(policy, optimizer, max_grad_norm)
    scheduler.step()
    return metrics


def update_stats(stats: StatSums, algo: Algorithm) -> dict[str, float]:
    """``update/*`` means of the (rank-reduced) statistics; the adaptive entropy coefficient
    observes the step's entropy."""
    # a stat named with its own section ("distill/reverse_kl") keeps it
    out = {k if "/" in k else f"update/{k}": v for k, v in stats.means().items()}
    if algo.entropy_coef is not None:
        out["entropy/coef"] = algo.entropy_coef.value
        algo.entropy_coef.observe(out.get("update/entropy", 0.0))
    return out


def accumulate_gradients(policy: Policy, mb: TrainBatch, old_NT: torch.Tensor | None,
                         select_NT: torch.Tensor | None, algo: Algorithm,
                         settings: StepSettings, stats: StatSums, dist: Dist | None = None
                         ) -> float:
    """Forward/backward over ``mb`` in micro-batches; gradients accumulate in ``.grad``.
    Returns the minibatch's aggregated loss (the sum of the micro-batches' shares)."""
    dist = dist or Dist()
    norm = global_norm(mb.completion_mask_NT, settings.max_new_tokens, dist)
    total_loss = 0.0
    for idx in torch.arange(mb.num_sequences).split(settings.micro_batch_size):
        micro = mb.select(idx)
        with policy.autocast():
            logp_NT, entropy_NT = completion_logprobs(
                policy.model, micro, settings.temperature,
                entropy="grad" if algo.entropy_coef is not None else "detached")
        logp_NT, entropy_NT = logp_NT.float(), entropy_NT.float()
        inputs = LossInputs(
            logprobs_NT=logp_NT,
            old_logprobs_NT=logp_NT.detach() if old_NT is None else old_NT[idx],
            advantages_N=micro.advantages_N, mask_NT=micro.completion_mask_NT,
            sampler_logprobs_NT=micro.sampler_logprobs_NT, ref_logprobs_NT=micro.ref_logprobs_NT,
            entropy_NT=entropy_NT, select_NT=None if select_NT is None else select_NT[idx],
            expert_N=micro.expert_N, teacher_logprobs_NT=micro.teacher_logprobs_NT)
        loss_NT, stats_NT = algo.token_loss(inputs)
        loss = algo.aggregate(loss_NT, micro.completion_mask_NT, norm)
        (loss * dist.loss_scale if dist.sharded else loss).backward()
        fault_point("backward")  # tests only: RLVR_FAULT
        total_loss += float(loss.detach())
        stats_NT = {**stats_NT, "entropy": entropy_NT.detach(),
                    "sampler_logprob_gap": (micro.sampler_logprobs_NT - logp_NT.detach()).abs()}
        stats.add(stats_NT, micro.completion_mask_NT)
    return total_loss


def _optimizer_step(policy: Policy, optimizer, max_grad_norm: float) -> dict[str, float]:
    grad_norm = unwrap_grad_norm(
        torch.nn.utils.clip_grad_norm_(policy.model.parameters(), max_grad_norm))
    lr = optimizer.param_groups[0]["lr"]
    finite = math.isfinite(float(grad_norm))
    if finite:  # a non-finite gradient never reaches the weights; the skip is counted
        optimizer.step()
        fault_point("optimizer_step")
    optimizer.zero_grad(set_to_none=True)
    return {"grad_norm": float(grad_norm), "lr": lr, "nonfinite_skipped": float(not finite)}


def step_settings(cfg) -> StepSettings:
    """The update's settings from a ``RunConfig``."""
    return StepSettings(micro_batch_size=cfg.optim.micro_batch_size,
                        max_grad_norm=cfg.optim.max_grad_norm,
                        max_new_tokens=cfg.rollout.max_new_tokens,
                        temperature=cfg.rollout.temperature)
