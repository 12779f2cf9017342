"""``rlvr.Session``: the RL step as Python primitives, for writing your own loop.

    with rlvr.Session.from_config("configs/quickstart.yaml", ["steps=10"]) as s:
        for _ in range(10):
            groups = s.sample()
            s.score(groups)
            metrics = s.forward_backward(groups)
            metrics.update(s.optim_step())
        s.save()

Each method calls the same functions ``rlvr train``'s loop (trainer/loop.py) runs, so a loop of
``sample / score / forward_backward / optim_step`` gives the parameters ``rlvr train`` gives, bit
for bit, and runs unchanged under ``torchrun`` (each rank holds its share of the groups; the
all-reduces happen inside the methods). docs/scaling.md "Your own loop".
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rlvr.configs.run import RunConfig
from rlvr.trainer import loop
from rlvr.types import Group


class Session:
    """A training run opened from a config: the model, engine, rewards, optimizer and checkpoint
    directory of ``cfg.log.run_dir``. ``resume=True`` continues from its newest checkpoint."""

    def __init__(self, cfg: RunConfig, resume: bool = False) -> None:
        from rlvr.launch.checks import preflight
        from rlvr.runs.session import RunSession, refuse_fresh_over_checkpoints
        from rlvr.trainer.parallel import init_dist
        from rlvr.trainer.trainer import setup

        preflight(cfg)  # world size and backend, before any model loads
        if not resume:
            refuse_fresh_over_checkpoints(Path(cfg.log.run_dir))
        dist = init_dist(cfg)
        try:
            self.trainer = setup(cfg, resume, dist)
        except BaseException:
            dist.close()
            raise
        self.run = None
        try:
            self.run = RunSession(self.trainer, resume)
            self.step = self.run.start_step
            """Optimizer steps taken so far: the step the next ``sample`` belongs to."""
            loop.sync_engine(self.trainer)  # a resume restored the weights after the engine
        except BaseException:
            self.close()
            raise
        self._drawn = 0  # prompts drawn this step: the next prompt's seed position
        self._sampled: dict[str, float] = {}
        self._closed = False

    @classmethod
    def from_config(cls, path: str | Path | None = None, overrides: list[str] = (),
                    resume: bool = False) -> Session:
        """A session from a YAML file and/or dotted ``key=value`` overrides (as ``rlvr train``)."""
        from rlvr.config import load_config

        return cls(load_config(path, list(overrides)), resume=resume)

    @property
    def cfg(self) -> RunConfig:
        return self.trainer.cfg

    def sample(self, num_prompts: int | None = None) -> list[Group]:
        """Groups of ``rollout.group_size`` completions for the next ``num_prompts`` prompts
        (default ``rollout.prompts_per_step``); under torchrun this rank's share of them. Each
        prompt is sampled under its own seed, from its step and position."""
        t = self.trainer
        count = num_prompts or self.cfg.rollout.prompts_per_step
        if count % t.dist.world:
            raise ValueError(f"sample({count}): the number of prompts must divide over the "
                             f"{t.dist.world} ranks")
        if self._drawn == 0:
            loop.seed_step(t, self.step)
        groups = loop.rollout(t, count, self.step, start=self._drawn)
        self._drawn += count
        return groups

    def score(self, groups: list[Group]) -> Counter:
        """Verify and score ``groups`` in place (``Sample.reward``); returns the outcome counts.
        The whole step's rollout metrics join the next ``forward_backward``'s."""
        counts, self._sampled = loop.score(self.trainer, groups, self.step)
        return counts

    def forward_backward(self, groups: list[Group]) -> dict[str, float]:
        """Advantages for scored ``groups``, then the loss's forward/backward over them;
        gradients accumulate until ``optim_step``. Returns the step's metrics so far."""
        from rlvr.models.prefix import group_aligned_order
        from rlvr.trainer.update import (
            StatSums,
            minibatch_backward,
            step_settings,
            update_inputs,
            update_stats,
        )

        t, algo = self.trainer, self.trainer.algo
        if algo.epochs * algo.minibatches != 1:
            raise ValueError(f"Session.forward_backward makes one optimizer step per batch; the "
                             f"algorithm asks for epochs={algo.epochs} x minibatches="
                             f"{algo.minibatches} (set both to 1, or train with `rlvr train`)")
        batch, metrics = loop.train_batch(t, groups, self.step)
        settings = step_settings(self.cfg)
        old_NT, entropy_NT = update_inputs(t.policy, batch, algo, settings)
        stats = StatSums()
        order_N = group_aligned_order(batch, t.generator)  # the order `rlvr train` uses
        loss = minibatch_backward(t.policy, batch, order_N, old_NT, entropy_NT, algo, settings,
                                  stats, t.dist)
        out = {**self._sampled, **metrics, **update_stats(stats.reduced(t.dist), algo)}
        out["loss"] = t.dist.sum_floats([loss])[0]
        return out

    def optim_step(self) -> dict[str, float]:
        """Reduce the gradients over ranks, clip, step the optimizer and the LR schedule, zero
        the gradients and hand the engine the new weights; the session moves to the next step."""
        from rlvr.trainer.update import optim_step

        t = self.trainer
        metrics = optim_step(t.policy, t.optimizer, t.scheduler, self.cfg.optim.max_grad_norm,
                             t.dist)
        metrics.update(loop.sync_engine(t))
        self.step += 1
        self._drawn = 0
        return metrics

    def log(self, metrics: dict[str, float]) -> None:
        """Append ``metrics`` to RUN_DIR/metrics.jsonl (and the trackers) as the last step's."""
        self.trainer.logger.log(max(self.step - 1, 0), metrics)

    def save(self) -> Path:
        """A resumable checkpoint of the ``step`` steps taken (runs/: verified, atomic)."""
        from rlvr.runs.checkpoint import step_dir_name

        self.run.save(self.step)
        return self.run.root / step_dir_name(self.step)

    def load(self) -> int:
        """Restore the newest verified checkpoint of ``cfg.log.run_dir``; returns the step."""
        self.step = self.run.load_newest()
        self._drawn = 0
        loop.sync_engine(self.trainer)
        return self.step

    def evaluate(self, label: str = "session") -> dict[str, Any] | None:
        """Greedy accuracy on the held-out rows (RUN_DIR/eval_<label>.json)."""
        return loop.greedy_evaluation(self.trainer, label)

    def save_final(self) -> Path:
        """The policy in Hugging Face format at RUN_DIR/final (LoRA merged)."""
        return loop.save_final(self.trainer)

    def close(self) -> None:
        """Release the engine, reward workers and process group (idempotent)."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        loop.close_trainer(self.trainer, self.run)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
