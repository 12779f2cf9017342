"""Shared pieces of tasks whose rows are fixed lists: the held-out tail, the accessors, and the
answer key that majority votes compare (training's ``majority_vote`` term and eval's maj@k)."""

from __future__ import annotations

import re
from typing import Any

from rlvr.rewards.basic import last_number
from rlvr.types import RewardResult, TaskRow

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def default_extract_answer(completion: str) -> str | None:
    """The last <answer>…</answer>, else the last number, else None."""
    tagged = _ANSWER_TAG.findall(completion)
    return tagged[-1] if tagged else last_number(completion)


def answer_key(task: Any, completion: str) -> str | None:
    """The one answer key votes are taken over: ``task.extract_answer(completion)`` (the
    default above for a task without one), whitespace collapsed and casefolded; None when the
    completion states no answer."""
    extract = getattr(task, "extract_answer", None)
    raw = extract(completion) if callable(extract) else default_extract_answer(completion)
    if raw is None:
        return None
    key = " ".join(str(raw).split()).casefold()
    return key or None


def hold_out_tail(rows: list[TaskRow], eval_size: int, source: Any) -> tuple[list, list]:
    """(train, held-out): the last ``eval_size`` rows are held out; at least one row must train."""
    if len(rows) <= eval_size:
        raise ValueError(f"{source}: {len(rows)} rows cannot hold out eval_size={eval_size} "
                         "and still train")
    return rows[:-eval_size], rows[-eval_size:]


class RowListTask:
    """``train_rows`` / ``eval_rows`` from ``_train`` / ``_eval``, ``verify`` through the
    picklable ``verifier`` (which the reward worker pool ships to its workers), and the default
    ``extract_answer``."""

    _train: list[TaskRow]
    _eval: list[TaskRow]
    verifier: Any

    def train_rows(self) -> list[TaskRow]:
        return self._train

    def eval_rows(self) -> list[TaskRow]:
        return self._eval

    def verify(self, completion: str, row: TaskRow) -> RewardResult:
        return self.verifier(completion, row)

    def extract_answer(self, completion: str) -> str | None:
        """The final answer majority votes compare; tasks with a richer extraction override it."""
        return default_extract_answer(completion)
