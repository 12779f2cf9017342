"""The scoring stage: a RewardResult for every sample, counts of the three outcomes, and the abort
rule for infrastructure errors (DESIGN.md "Rewards: three outcomes, never confused").

``RewardPipeline(task, cfg)`` is built once per run: it starts the verifier worker pool
(rewards/pool.py) and resolves the reward terms (``build_reward``, rewards/combine.py). ``score(groups)`` sets
``sample.reward`` on every sample and returns counts; ``submit(group)`` / ``collect(groups)`` let
a rollout engine hand over each group as soon as it is sampled, so scoring overlaps generation.

When more than ``reward.max_infra_error_share`` of one call's samples are infrastructure errors,
``score`` raises ``RewardInfraError`` with a message naming the share, the threshold and the
first error. Every sample has its reward set before that, so the caller can still log them.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from typing import Any

from rlvr.configs.reward import RewardConfig
from rlvr.rewards.combine import build_reward
from rlvr.rewards.errors import RewardInfraError
from rlvr.rewards.pool import POOL_COUNTERS, WorkerPool
from rlvr.types import Group, RewardResult, Sample


def env_scored(sample: Sample) -> bool:
    """An environment episode whose environment set the reward itself (envs/): the verifier
    does not score it again; sample and group terms still apply."""
    return sample.episode is not None and sample.reward is not None


class RewardPipeline:
    def __init__(self, task: Any, cfg: RewardConfig | None = None,
                 pool: WorkerPool | None = None) -> None:
        self.cfg = cfg or RewardConfig()
        self.reward = build_reward(self.cfg, task)  # every term resolved once; bad ones raise
        self.verifier = self.reward.verifier
        self._own_pool = pool is None and self.verifier is not None
        self.pool = pool
        if self._own_pool:
            p = self.cfg.pool
            self.pool = WorkerPool(p.workers, p.deadline_s, p.memory_mb, p.startup_timeout_s,
                                   p.queue_timeout_s)
        self.totals: Counter = Counter()
        self._futures: dict[int, list[Future]] = {}

    def submit(self, group: Group) -> None:
        """Start scoring one group in the workers (non-blocking)."""
        if self.verifier is None or self.pool is None:
            return
        self._futures[id(group)] = [None if env_scored(s) else
                                    self.pool.submit(self.verifier, s.text, group.row)
                                    for s in group.samples]

    def submit_all(self, groups: list[Group]) -> None:
        for group in groups:
            self.submit(group)

    def collect(self, groups: list[Group]) -> Counter:
        """Wait for the submitted groups, add the length and group terms, count and check."""
        self.submit_all([g for g in groups if id(g) not in self._futures])
        for group in groups:
            futures = self._futures.pop(id(group), None)
            for index, sample in enumerate(group.samples):
                if not env_scored(sample):
                    sample.reward = (futures[index].result() if futures
                                     else RewardResult.scored(0.0))
                self.reward.apply_sample_terms(sample)
            self.reward.apply_group_terms(group)
        counts = self._count(groups)
        self._check(groups, counts)
        return counts

    def score(self, groups: list[Group]) -> Counter:
        """Score the groups (those already submitted are not scored twice)."""
        return self.collect(groups)

    def _count(self, groups: list[Group]) -> Counter:
        counts: Counter = Counter()
        for group in groups:
            for sample in group.samples:
                reward = sample.reward
                assert reward is not None
                counts[f"outcome/{reward.outcome}"] += 1
                counts[f"verdict/{reward.verdict or 'none'}"] += 1
        self.totals.update(counts)
        if self.pool is not None:
            for key in POOL_COUNTERS:
                counts[f"reward_pool/{key}_total"] = self.pool.counts[key]
        counts["outcome/infra_error_total"] = self.totals["outcome/infra_error"]
        return counts

    def _check(self, groups: list[Group], counts: Counter) -> None:
        total = sum(len(g.samples) for g in groups)
        errors = counts["outcome/infra_error"]
        limit = self.cfg.max_infra_error_share
        if total and errors / total > limit:
            first = next(s.reward.error for g in groups for s in g.samples
                         if s.reward is not None and s.reward.error)
            raise RewardInfraError(
                f"reward: {errors} of {total} samples ({errors / total:.0%}) were infrastructure "
                f"errors in this step, above reward.max_infra_error_share={limit}; "
                f"first error: {first}. Fix the verifier or its service, or raise the threshold.")

    def close(self) -> None:
        if self._own_pool and self.pool is not None:
            self.pool.close()

    def __enter__(self) -> RewardPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def score_groups(groups: list[Group], task: Any, pipeline: RewardPipeline | None = None) -> Counter:
    """Score every sample (sets ``sample.reward``) and return outcome / verdict counts.

    Pass the run's ``pipeline``; without one, a temporary pipeline with the default reward config
    (the task's verifier in a bounded worker pool) is started and closed for this call."""
    if pipeline is not None:
        return pipeline.score(groups)
    with RewardPipeline(task) as temporary:
        return temporary.score(groups)
