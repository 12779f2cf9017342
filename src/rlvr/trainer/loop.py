"""The RL loop: a short sequence of named stages (DESIGN.md "One RL step").

    sample prompts -> rollout -> reward -> advantages / train batch -> update -> log

No variant names appear here: every algorithm choice was resolved by ``build_algorithm``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rlvr.algorithms import Algorithm, build_algorithm
from rlvr.config import RunConfig, dump_config
from rlvr.data.tasks import build_task
from rlvr.models.loader import Policy, load_policy
from rlvr.rewards.pipeline import RewardPipeline, score_groups
from rlvr.rollout.hf import HFEngine, SamplingParams
from rlvr.trainer.batch import build_train_batch
from rlvr.trainer.heldout import format_eval_table, greedy_eval
from rlvr.trainer.metrics import MetricsLogger, StageTimer, rollout_metrics
from rlvr.trainer.prompts import PromptSampler
from rlvr.trainer.update import build_optimizer, update


@dataclass
class Trainer:
    """Everything the loop needs, built once from the config."""

    cfg: RunConfig
    run_dir: Path
    task: Any
    policy: Policy
    engine: HFEngine
    algo: Algorithm
    optimizer: torch.optim.Optimizer
    scheduler: Any
    prompts: PromptSampler
    logger: MetricsLogger
    generator: torch.Generator
    rewards: RewardPipeline | None = None
    """The verifier worker pool and reward terms (cfg.reward); closed by ``train``."""


def setup(cfg: RunConfig) -> Trainer:
    run_dir = Path(cfg.log.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(dump_config(cfg))
    for stale in ("metrics.jsonl", "samples.jsonl"):
        (run_dir / stale).unlink(missing_ok=True)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    task = build_task(cfg.task)
    policy = load_policy(cfg.model)
    engine = HFEngine(policy, cfg.task.system_prompt, cfg.task.instruction, cfg.rollout.batch_size)
    optimizer, scheduler = build_optimizer(policy.model, cfg.optim)
    return Trainer(cfg, run_dir, task, policy, engine, build_algorithm(cfg.algorithm), optimizer,
                   scheduler, PromptSampler(task.train_rows(), cfg.seed),
                   MetricsLogger(run_dir, cfg.log.tensorboard),
                   torch.Generator().manual_seed(cfg.seed), RewardPipeline(task, cfg.reward))


def train_step(t: Trainer, step: int) -> dict[str, float]:
    """One RL step as named stages; returns the step's metrics."""
    cfg, timer = t.cfg, StageTimer()
    torch.manual_seed(cfg.seed * 100_003 + step)  # sampling is reproducible per step
    with timer.stage("rollout"):
        rows = t.prompts.next(cfg.rollout.prompts_per_step)
        params = SamplingParams(cfg.rollout.max_new_tokens, cfg.rollout.temperature,
                                cfg.rollout.top_p)
        groups = t.engine.generate(rows, cfg.rollout.group_size, params)
    with timer.stage("reward"):
        counts = score_groups(groups, t.task, t.rewards)
    with timer.stage("advantages"):
        batch = build_train_batch(groups, t.algo.advantages, t.policy.tokenizer.pad_token_id)
    with timer.stage("update"):
        update_metrics = update(t.policy, t.optimizer, t.scheduler, batch, t.algo, cfg.optim,
                                cfg.rollout.max_new_tokens, t.generator)
    if step % cfg.log.samples_every == 0 or step == cfg.steps - 1:
        t.logger.log_samples(step, groups)
    metrics = {**rollout_metrics(groups, counts), **update_metrics, **timer.seconds}
    tokens = sum(len(s.completion_ids) for g in groups for s in g.samples)
    metrics["throughput/tokens_per_s"] = tokens / max(sum(timer.seconds.values()), 1e-9)
    return metrics


def evaluate(t: Trainer, label: str) -> dict | None:
    if t.cfg.eval is None or not getattr(t.cfg.eval, label):
        return None
    max_new = t.cfg.eval.max_new_tokens or t.cfg.rollout.max_new_tokens
    return greedy_eval(t.engine, t.task, t.task.eval_rows(), max_new,
                       t.run_dir / f"eval_{label}.json", label, t.rewards)


def save_final(t: Trainer) -> Path:
    """The trained policy in Hugging Face format (``from_pretrained`` loads it)."""
    out = t.run_dir / "final"
    t.policy.model.save_pretrained(out, safe_serialization=True)
    t.policy.tokenizer.save_pretrained(out)
    return out


def train(cfg: RunConfig) -> dict[str, Any]:
    """Run training from a validated config; returns a summary."""
    started = time.perf_counter()
    t = setup(cfg)
    try:
        return _train(t, started)
    finally:
        if t.rewards is not None:
            t.rewards.close()


def _train(t: Trainer, started: float) -> dict[str, Any]:
    cfg = t.cfg
    before = evaluate(t, "before")
    bar = tqdm(range(cfg.steps), desc="rlvr train", disable=not cfg.log.progress, unit="step")
    for step in bar:
        metrics = train_step(t, step)
        t.logger.log(step, metrics)
        bar.set_postfix(reward=f"{metrics['reward/mean']:.3f}", acc=f"{metrics['accuracy']:.3f}",
                        len=f"{metrics['completion/len_mean']:.1f}",
                        step_s=f"{sum(v for k, v in metrics.items() if k.startswith('time/')):.1f}")
    after = evaluate(t, "after")
    final_dir = save_final(t)
    t.logger.close()
    table = format_eval_table(before, after)
    if before or after:
        (t.run_dir / "eval_summary.txt").write_text(table + "\n")
        print(table)
    return {"run_dir": str(t.run_dir), "final_dir": str(final_dir), "before": before,
            "after": after, "wall_s": time.perf_counter() - started}
