"""Prompt draws of a task mixture: each prompt of a draw picks its task by weight from a
generator seeded by (seed, draws), then each task's own prompt sampler (order and selection
history) supplies that many rows. The draw counter, the step whose weights serve the next draw
and every task's sampler state are saved in the checkpoint, so a resumed run draws exactly what
the uninterrupted one drew. Logged per task: ``task/<label>/accuracy``, ``reward_mean``,
``prompts`` and its ``select/*`` statistics."""

from __future__ import annotations

import random
from typing import Any

from rlvr.data.mixture import TASK_KEY
from rlvr.trainer.prompts import PromptSampler, step_stats
from rlvr.trainer.selection import base_stats
from rlvr.types import Group, TaskRow


def draw_tasks(weights: list[float], count: int, rng: random.Random) -> list[int]:
    """The task index of each of ``count`` prompts, drawn independently by weight."""
    return rng.choices(range(len(weights)), weights=weights, k=count)


class MixtureSampler:
    """The PromptSampler interface over one sampler per task of the mixture."""

    def __init__(self, cfg: Any, rows_by_task: dict[str, list[TaskRow]], seed: int,
                 selection: Any) -> None:
        self.cfg, self.seed = cfg, seed
        self.labels = list(rows_by_task)
        self.samplers = [PromptSampler(rows, seed * 1_000 + i, selection)
                         for i, rows in enumerate(rows_by_task.values())]
        self.draws = 0
        self.step = 0  # the step whose weights serve the next draw

    def next(self, count: int) -> list[TaskRow]:
        rng = random.Random(f"{self.seed}:mixture:{self.draws}")
        self.draws += 1
        picks = draw_tasks(self.cfg.weights_at(self.step), count, rng)
        batches = [iter(s.next(picks.count(i))) for i, s in enumerate(self.samplers)]
        return [next(batches[i]) for i in picks]  # the drawn order, each task's rows in turn

    def observe(self, groups: list[Group], step: int) -> dict[str, float]:
        """Each task's sampler sees its own groups; returns the per-task metrics and the
        overall ``select/*`` ones."""
        out: dict[str, float] = {"select/skipped": 0.0, "select/fallbacks": 0.0}
        for label, sampler in zip(self.labels, self.samplers):
            mine = [g for g in groups if g.row.metadata.get(TASK_KEY) == label]
            for key, value in sampler.observe(mine, step).items():
                if key in ("select/skipped", "select/fallbacks"):
                    out[key] += value
                else:
                    out[f"task/{label}/{key}"] = value
            out[f"task/{label}/prompts"] = float(len(mine))
            if mine:
                stats = step_stats(mine)
                out[f"task/{label}/accuracy"] = stats["accuracy"]
                out[f"task/{label}/reward_mean"] = stats["reward_mean"]
        history = {k: v for s in self.samplers for k, v in s.history.items()}
        out.update(base_stats(history, [r for s in self.samplers for r in s.row_ids]))
        self.step = step + 1
        return out

    def state(self) -> dict[str, Any]:
        return {"mixture": {"draws": self.draws, "step": self.step, "labels": self.labels},
                "tasks": [s.state() for s in self.samplers]}

    def load_state(self, state: dict[str, Any]) -> None:
        saved = state.get("mixture", {})
        if saved.get("labels") != self.labels:
            raise ValueError(f"the checkpoint's prompt state is of the mixture "
                             f"{saved.get('labels')}, this run's tasks are {self.labels}")
        self.draws, self.step = int(saved["draws"]), int(saved["step"])
        for sampler, task_state in zip(self.samplers, state["tasks"]):
            sampler.load_state(task_state)
