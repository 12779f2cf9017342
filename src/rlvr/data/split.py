"""Shared pieces of tasks whose rows are fixed lists: the held-out tail and the accessors."""

from __future__ import annotations

from typing import Any

from rlvr.types import RewardResult, TaskRow


def hold_out_tail(rows: list[TaskRow], eval_size: int, source: Any) -> tuple[list, list]:
    """(train, held-out): the last ``eval_size`` rows are held out; at least one row must train."""
    if len(rows) <= eval_size:
        raise ValueError(f"{source}: {len(rows)} rows cannot hold out eval_size={eval_size} "
                         "and still train")
    return rows[:-eval_size], rows[-eval_size:]


class RowListTask:
    """``train_rows`` / ``eval_rows`` from ``_train`` / ``_eval`` and ``verify`` through the
    picklable ``verifier`` (which the reward worker pool ships to its workers)."""

    _train: list[TaskRow]
    _eval: list[TaskRow]
    verifier: Any

    def train_rows(self) -> list[TaskRow]:
        return self._train

    def eval_rows(self) -> list[TaskRow]:
        return self._eval

    def verify(self, completion: str, row: TaskRow) -> RewardResult:
        return self.verifier(completion, row)
