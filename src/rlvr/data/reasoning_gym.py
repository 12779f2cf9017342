"""reasoning-gym tasks: procedural generators with their own scorers, offline."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

from rlvr.configs.task import ReasoningGymTaskConfig
from rlvr.rewards.basic import last_number
from rlvr.types import RewardResult, TaskRow

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_MAX_ANSWER_CHARS = 10_000  # scorers see at most this much text


@lru_cache(maxsize=1)
def task_names() -> tuple[str, ...]:
    from reasoning_gym.factory import DATASETS

    return tuple(sorted(DATASETS))


def check_task_name(name: str) -> None:
    names = task_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"unknown reasoning-gym task {name!r}{hint}; "
                         "see `rlvr tasks list` for the allowed names")


def extract_answer(completion: str, policy: str = "answer_tag") -> str:
    """What the scorer sees. 'answer_tag': the text inside the last <answer>…</answer>, else the
    stripped completion. 'last_number': the last number in the completion (or '' if none)."""
    text = completion[-_MAX_ANSWER_CHARS:]
    if policy == "last_number":
        return last_number(text) or ""
    tagged = _ANSWER_TAG.findall(text)
    return (tagged[-1] if tagged else text).strip()


class ReasoningGymTask:
    """Rows from one generator; train and held-out splits come from different seeds, and held-out
    rows whose question also occurs in the train split are dropped (the splits are disjoint)."""

    def __init__(self, cfg: ReasoningGymTaskConfig) -> None:
        import reasoning_gym

        self.cfg = cfg
        self.name = cfg.name
        make = reasoning_gym.create_dataset
        try:
            self._train = make(cfg.name, size=cfg.train_size, seed=cfg.train_seed, **cfg.params)
            # Generate extra held-out rows so that dropping overlaps still leaves eval_size.
            self._eval = make(cfg.name, size=cfg.eval_size * 8, seed=cfg.eval_seed, **cfg.params)
        except TypeError as err:
            raise ValueError(f"task.params for reasoning-gym task {cfg.name!r}: {err}") from None

    def _rows(self, dataset: Any, split: str, limit: int, exclude: set[str]) -> list[TaskRow]:
        rows = []
        for index, entry in enumerate(dataset):
            if entry["question"] in exclude:
                continue
            rows.append(TaskRow(row_id=f"{self.name}/{split}/{index}", prompt=entry["question"],
                                reference=str(entry["answer"]),
                                metadata={"task": self.name, "entry": entry,
                                          "extract": self.cfg.extract}))
            if len(rows) == limit:
                break
        return rows

    def train_rows(self) -> list[TaskRow]:
        return self._rows(self._train, "train", self.cfg.train_size, set())

    def eval_rows(self) -> list[TaskRow]:
        seen = {entry["question"] for entry in self._train}
        rows = self._rows(self._eval, "eval", self.cfg.eval_size, seen)
        if len(rows) < self.cfg.eval_size:
            raise ValueError(f"reasoning-gym task {self.name!r}: only {len(rows)} held-out rows "
                             f"differ from the train split; lower task.eval_size or widen params")
        return rows

    def verify(self, completion: str, row: TaskRow) -> RewardResult:
        return verify_reasoning_gym(completion, row)

    def extract_answer(self, completion: str) -> str | None:
        """The answer the scorer sees (majority votes are taken over these), or None."""
        return extract_answer(completion, self.cfg.extract) or None


def verify_reasoning_gym(completion: str, row: TaskRow) -> RewardResult:
    """reasoning-gym's own scorer on the extracted answer. Partial credit is kept as the score;
    accuracy counts a score of 1. A pure function of (completion, row): the generator entry
    travels in ``row.metadata``."""
    from reasoning_gym import get_score_answer_fn

    entry = row.metadata.get("entry")
    if entry is None:
        return RewardResult.unscorable("row has no reasoning-gym entry")
    score = float(get_score_answer_fn(row.metadata["task"])(
        extract_answer(completion, row.metadata.get("extract", "answer_tag")), entry))
    return RewardResult.scored(score, "correct" if score >= 1.0 else "wrong")
