"""Prompt order: seeded shuffled passes over the train rows, filtered or weighted by a selection
policy (trainer/selection.py) that reads a per-prompt history of pass rates.

The state a checkpoint keeps: epoch, position, the number of draws (each draw seeds its own
generator from (seed, draws)), the history and the skip counters, so a resumed run selects
exactly what the uninterrupted one selected.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from rlvr.trainer.selection import History, base_stats, build_policy, update_ema
from rlvr.types import Group, TaskRow, is_correct


def pass_rate(group: Group) -> float | None:
    """Share of the group's scored samples that are correct; None when none was scored."""
    scored = [s for s in group.samples if s.reward is not None and s.reward.outcome == "scored"]
    if not scored:
        return None
    return sum(is_correct(s.reward) for s in scored) / len(scored)


def step_stats(groups: list[Group]) -> dict[str, float]:
    """Mean score and share correct (``is_correct``, as ``pass_rate`` judges) over the groups'
    scored samples; 0 when none was scored."""
    scores = [s.reward for g in groups for s in g.samples
              if s.reward is not None and s.reward.score is not None]
    if not scores:
        return {"reward_mean": 0.0, "accuracy": 0.0}
    return {"reward_mean": sum(r.score for r in scores) / len(scores),
            "accuracy": sum(is_correct(r) for r in scores) / len(scores)}


class Sampler(Protocol):
    """What the loop and the checkpoint need of the train prompt order."""

    def next(self, count: int) -> list[TaskRow]: ...

    def observe(self, groups: list[Group], step: int) -> dict[str, float]: ...

    def state(self) -> dict[str, Any]: ...

    def load_state(self, state: dict[str, Any]) -> None: ...


def build_sampler(task: Any, data: Any, task_cfg: Any, seed: int,
                  max_new_tokens: int = 0) -> Sampler:
    """The run's prompt sampler: one per mixture task (trainer/mixture.py), one per curriculum
    stage (trainer/curriculum.py; ``max_new_tokens``: the budget of stages that set none), else
    one over the task's train rows."""
    if task_cfg.kind == "mixture":
        from rlvr.trainer.mixture import MixtureSampler

        return MixtureSampler(task_cfg, task.train_rows_by_task(), seed, data.selection)
    if data.curriculum is not None:
        from rlvr.trainer.curriculum import build_curriculum

        return build_curriculum(data.curriculum, task_cfg, seed, data.selection, task,
                                max_new_tokens)
    return PromptSampler(task.train_rows(), seed, data.selection)


class PromptSampler:
    """Yields train rows in a fresh seeded permutation each epoch (no row repeats within an
    epoch) as the selection policy allows; ``observe`` feeds the scored groups back."""

    def __init__(self, rows: list[TaskRow], seed: int, selection: Any = None) -> None:
        if not rows:
            raise ValueError("the task has no train rows")
        self.rows = rows
        self.row_ids = [row.row_id for row in rows]
        self.seed = seed
        self.policy = build_policy(selection)
        self.ema_weight = self.policy.cfg.ema_weight
        self.epoch = self.position = self.draws = self.skipped = self.fallbacks = 0
        self.history: History = {}
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> list[int]:
        order = list(range(len(self.rows)))
        random.Random(self.seed * 7919 + epoch).shuffle(order)
        return order

    def _advance(self) -> int:
        if self.position == len(self._order):
            self.epoch, self.position = self.epoch + 1, 0
            self._order = self._permutation(self.epoch)
        self.position += 1
        return self._order[self.position - 1]

    def next(self, count: int) -> list[TaskRow]:
        rng = random.Random(f"{self.seed}:{self.draws}")  # str seeds hash the same everywhere
        self.draws += 1
        if self.policy.weighted:
            return [self.rows[i] for i in self.policy.draw(self.row_ids, self.history, count, rng)]
        out: list[TaskRow] = []
        skipped_in_a_row = 0
        while len(out) < count:
            row = self.rows[self._advance()]
            if skipped_in_a_row >= len(self.rows):  # a whole round was skipped: take it anyway
                self.fallbacks += 1
            elif self.policy.keep(row.row_id, self.history, rng):
                skipped_in_a_row = 0
            else:
                self.skipped, skipped_in_a_row = self.skipped + 1, skipped_in_a_row + 1
                continue
            out.append(row)
        return out

    def observe(self, groups: list[Group], step: int) -> dict[str, float]:
        """Fold each group's pass rate into its prompt's history; returns the ``select/*``
        metrics (the skip counters since the last call, then reset)."""
        for group in groups:
            rate = pass_rate(group)
            if rate is None:
                continue
            old = self.history.get(group.row.row_id)
            ema = update_ema(old[0] if old else None, rate, self.ema_weight)
            self.history[group.row.row_id] = [ema, (old[1] if old else 0) + 1, step]
        metrics = {**base_stats(self.history, self.row_ids),
                   **self.policy.stats(self.history, self.row_ids),
                   "select/skipped": float(self.skipped), "select/fallbacks": float(self.fallbacks)}
        self.skipped = self.fallbacks = 0
        return metrics

    def state(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position, "draws": self.draws,
                "skipped": self.skipped, "fallbacks": self.fallbacks,
                "history": {k: list(v) for k, v in self.history.items()}}

    def load_state(self, state: dict[str, Any]) -> None:
        """Checkpoints written before the history existed hold only (epoch, position)."""
        self.epoch, self.position = state["epoch"], state["position"]
        self.draws = state.get("draws", 0)
        self.skipped, self.fallbacks = state.get("skipped", 0), state.get("fallbacks", 0)
        self.history = {k: [float(v[0]), int(v[1]), int(v[2])]
                        for k, v in state.get("history", {}).items()}
        self._order = self._permutation(self.epoch)
