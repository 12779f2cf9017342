"""The policy update: epochs x minibatches x micro-batches, with no variant names.

Every variant-specific choice was resolved into ``Algorithm`` before the loop; this module only
calls ``algo.objective`` and ``algo.aggregate``. Normalisers are counted over the whole
minibatch (``BatchNorm``), so the gradient does not depend on the micro-batch size.
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch

from rlvr.algorithms import Algorithm, BatchNorm, LossInputs
from rlvr.models.loader import Policy
from rlvr.trainer.logprobs import completion_logprobs
from rlvr.types import TrainBatch


def build_optimizer(model: torch.nn.Module, cfg) -> tuple[torch.optim.Optimizer, object]:
    """AdamW with linear warmup to ``cfg.lr`` over ``cfg.warmup_steps``, then constant."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas,
                                  weight_decay=cfg.weight_decay)
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

    def means(self) -> dict[str, float]:
        return {name: total / max(self.tokens, 1.0) for name, total in self.sums.items()}


@torch.no_grad()
def old_logprobs(policy: Policy, batch: TrainBatch, micro_batch_size: int) -> torch.Tensor:
    """logprobs_NT of the rollout policy, computed once before the first optimizer step."""
    parts = []
    for idx in torch.arange(batch.num_sequences).split(micro_batch_size):
        with policy.autocast():
            logp_NT, _ = completion_logprobs(policy.model, batch.select(idx))
        parts.append(logp_NT.float())
    return torch.cat(parts)


def update(policy: Policy, optimizer, scheduler, batch: TrainBatch, algo: Algorithm,
           optim_cfg, max_new_tokens: int, generator: torch.Generator) -> dict[str, float]:
    """Run ``algo.epochs`` passes over ``batch`` in ``algo.minibatches`` optimizer steps each."""
    policy.model.train()
    old_NT = None if algo.reuses_rollout_policy else old_logprobs(policy, batch,
                                                                   optim_cfg.micro_batch_size)
    stats, step_metrics = StatSums(), defaultdict(list)
    for _ in range(algo.epochs):
        order = torch.randperm(batch.num_sequences, generator=generator)
        for mb_idx in order.chunk(algo.minibatches):
            metrics = _optimizer_step(policy, optimizer, batch.select(mb_idx),
                                      None if old_NT is None else old_NT[mb_idx],
                                      algo, optim_cfg, max_new_tokens, stats)
            scheduler.step()
            for name, value in metrics.items():
                step_metrics[name].append(value)
    out = {f"update/{k}": v for k, v in stats.means().items()}
    out.update({k: sum(v) / len(v) for k, v in step_metrics.items()})
    return out


def _optimizer_step(policy: Policy, optimizer, mb: TrainBatch, old_NT: torch.Tensor | None,
                    algo: Algorithm, optim_cfg, max_new_tokens: int,
                    stats: StatSums) -> dict[str, float]:
    norm = BatchNorm(num_tokens=int(mb.completion_mask_NT.sum()), num_sequences=mb.num_sequences,
                     max_completion_len=max_new_tokens)
    total_loss = 0.0
    for idx in torch.arange(mb.num_sequences).split(optim_cfg.micro_batch_size):
        micro = mb.select(idx)
        with policy.autocast():
            logp_NT, entropy_NT = completion_logprobs(policy.model, micro, with_entropy=True)
        logp_NT = logp_NT.float()
        old = logp_NT.detach() if old_NT is None else old_NT[idx]
        inputs = LossInputs(logprobs_NT=logp_NT, old_logprobs_NT=old,
                            advantages_N=micro.advantages_N, mask_NT=micro.completion_mask_NT)
        loss_NT, stats_NT = algo.objective(inputs)
        loss = algo.aggregate(loss_NT, micro.completion_mask_NT, norm)
        loss.backward()
        total_loss += float(loss.detach())
        stats_NT = {**stats_NT, "entropy": entropy_NT,
                    "sampler_logprob_gap": (micro.sampler_logprobs_NT - logp_NT.detach()).abs()}
        stats.add(stats_NT, micro.completion_mask_NT)
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.model.parameters(), optim_cfg.max_grad_norm)
    lr = optimizer.param_groups[0]["lr"]
    finite = math.isfinite(float(grad_norm))
    if finite:  # a non-finite gradient never reaches the weights; the skip is counted
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return {"loss": total_loss, "grad_norm": float(grad_norm), "lr": lr,
            "nonfinite_skipped": float(not finite)}
