"""Prompt order: seeded shuffled passes over the train rows (its state is two integers)."""

from __future__ import annotations

import random

from rlvr.types import TaskRow


class PromptSampler:
    """Yields train rows in a fresh seeded permutation each epoch; no row repeats within an epoch."""

    def __init__(self, rows: list[TaskRow], seed: int) -> None:
        if not rows:
            raise ValueError("the task has no train rows")
        self.rows = rows
        self.seed = seed
        self.epoch = 0
        self.position = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> list[int]:
        order = list(range(len(self.rows)))
        random.Random(self.seed * 7919 + epoch).shuffle(order)
        return order

    def next(self, count: int) -> list[TaskRow]:
        out = []
        while len(out) < count:
            if self.position == len(self._order):
                self.epoch, self.position = self.epoch + 1, 0
                self._order = self._permutation(self.epoch)
            out.append(self.rows[self._order[self.position]])
            self.position += 1
        return out

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state(self, state: dict[str, int]) -> None:
        self.epoch, self.position = state["epoch"], state["position"]
        self._order = self._permutation(self.epoch)
