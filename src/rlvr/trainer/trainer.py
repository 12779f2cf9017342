"""The trainer's state: everything the loop needs, built once from the config by ``setup``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from rlvr.algorithms import Algorithm, build_algorithm
from rlvr.config import dump_config
from rlvr.configs.run import RunConfig
from rlvr.data.tasks import Task, build_checked_task
from rlvr.envs.engine import with_env
from rlvr.models.loader import Policy, load_policy, with_lora
from rlvr.rewards.pipeline import RewardPipeline
from rlvr.rollout.engine import RolloutEngine, build_engine, check_engine
from rlvr.rollout.sync import TrainerWeights
from rlvr.trainer.determinism import seed_everything, set_deterministic
from rlvr.trainer.metrics import MetricsLogger
from rlvr.trainer.parallel import Dist
from rlvr.trainer.prompts import Sampler, build_sampler
from rlvr.trainer.reference import AdapterOffReference, ReferencePolicy, build_reference
from rlvr.trainer.teacher import Teacher, build_teacher
from rlvr.trainer.trackers import build_trackers, require_trackers
from rlvr.trainer.update import build_optimizer


class Stateful(Protocol):
    """Something whose state a checkpoint saves and a resume restores."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass
class Trainer:
    """Everything the loop needs, built once from the config."""

    cfg: RunConfig
    run_dir: Path
    task: Task
    policy: Policy
    engine: RolloutEngine
    algo: Algorithm
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    prompts: Sampler
    """Train prompt order (trainer/prompts.py ``build_sampler``: one sampler, or one per
    curriculum stage or mixture task)."""
    logger: MetricsLogger
    generator: torch.Generator
    rewards: RewardPipeline | None = None
    """The verifier worker pool and reward terms (cfg.reward); closed by ``train``."""
    reference: ReferencePolicy | AdapterOffReference | None = None
    """The frozen KL reference; None (no copy of the weights) when the algorithm has no KL; the
    policy with its adapters off under LoRA."""
    weights: TrainerWeights | None = None
    """The policy's HF-named weights, read lazily by ``engine.sync_weights`` after each step."""
    stateful: dict[str, Stateful] = field(default_factory=dict)
    """Extra objects saved in every checkpoint by name, beside the ones the run always saves
    (``algo.stateful()``, the reference weights, the reward counters: runs/resume.py)."""
    dist: Dist = field(default_factory=Dist)
    """This process's rank in a multi-process run (trainer/parallel.py); world size 1 alone."""
    teacher: Teacher | None = None
    """The frozen distillation teacher (``algorithm.distill``); None when distillation is off."""


class NullLogger:
    """The logger of ranks other than 0: rank 0 alone writes metrics and samples."""

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Rank 0 logs the all-reduced metrics."""

    def resume_at(self, step: int) -> None:
        """Nothing to rewind."""

    def log_samples(self, step: int, groups) -> None:
        """Rank 0 writes every rank's samples."""

    def close(self) -> None:
        """Nothing to close."""


def setup(cfg: RunConfig, resume: bool = False, dist: Dist | None = None) -> Trainer:
    dist = dist or Dist()
    require_trackers(cfg.log.trackers)  # a missing optional package fails before any loading
    check_engine(cfg)  # so does a config the engine cannot serve (self-certainty, no logits)
    run_dir = Path(cfg.log.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume and dist.main:  # a resume rewrites config.yaml once the checkpoint accepted it
        (run_dir / "config.yaml").write_text(dump_config(cfg))
        for stale in ("metrics.jsonl", "samples.jsonl"):
            (run_dir / stale).unlink(missing_ok=True)
    seed_everything(cfg.seed)
    task = build_checked_task(cfg, run_dir)  # broken rows -> RUN_DIR/quarantine.json
    set_deterministic(cfg.reliability.deterministic)  # undone when the run ends
    policy = with_lora(load_policy(cfg.model), cfg.model.lora)  # adapters if model.lora is set
    # the teacher first: a bad one stops the run before the pipeline or engine starts
    teacher = build_teacher(cfg.algorithm.distill, cfg.model, policy)
    rewards = RewardPipeline(task, cfg.reward)
    algo = build_algorithm(cfg.algorithm)
    reference = build_reference(policy, algo)  # a full copy on every rank, before sharding
    dist.prepare(policy.model)  # fsdp2: sharded in place; ddp: rank 0's weights everywhere
    # env: episodes through the engine's token-level entry (unchanged engine without one)
    engine = with_env(build_engine(cfg, policy, run_dir), cfg, policy.tokenizer, rewards)
    optimizer, scheduler = build_optimizer(policy.model, cfg.optim)  # over the sharded params
    logger = MetricsLogger(run_dir, build_trackers(cfg.log.trackers, run_dir,
                                                   cfg.model_dump(mode="json"), resume)
                           ) if dist.main else NullLogger()
    return Trainer(cfg, run_dir, task, policy, engine, algo, optimizer,
                   scheduler, build_sampler(task, cfg.data, cfg.task, cfg.seed,
                                            cfg.rollout.max_new_tokens),
                   logger, torch.Generator().manual_seed(cfg.seed), rewards,
                   reference=reference, weights=TrainerWeights(policy), dist=dist,
                   teacher=teacher)
