"""A task mixture: several tasks behind the one Task interface. Every row is tagged with its
task's label (``row_id = LABEL:ROW``, ``metadata["mixture_task"] = LABEL``) and ``verify``
routes it to that task's verifier; the held-out split is every task's held-out rows, and the
evaluation summary holds one entry per task (``task_of``). Which task each train prompt comes
from is the trainer's choice (trainer/mixture.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rlvr.configs.mixture import MixtureTaskConfig
from rlvr.data.split import default_extract_answer
from rlvr.rewards.terms import task_verifier
from rlvr.types import RewardResult, TaskRow

TASK_KEY = "mixture_task"  # row metadata key naming the row's task (reasoning-gym uses "task")


def tag_rows(rows: list[TaskRow], label: str, instruction: str | None = None) -> list[TaskRow]:
    """Copies of ``rows`` whose id and metadata name the task ``label``; the task's own
    instruction joins the prompt as data/templates.py:build_messages would join it (the engine
    renders only the mixture's)."""
    return [replace(row, row_id=f"{label}:{row.row_id}",
                    prompt=f"{row.prompt}\n{instruction}" if instruction else row.prompt,
                    metadata={**row.metadata, TASK_KEY: label})
            for row in rows]


@dataclass
class MixtureVerifier:
    """Picklable router: each row is scored by the verifier of the task its metadata names."""

    verifiers: dict[str, Any]

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        label = row.metadata.get(TASK_KEY)
        if label not in self.verifiers:
            return RewardResult.unscorable(f"row {row.row_id!r} names no task of the mixture "
                                           f"(metadata[{TASK_KEY!r}]={label!r}; allowed: "
                                           f"{', '.join(self.verifiers)})")
        return self.verifiers[label](completion, row)


class MixtureTask:
    """The tasks of ``cfg`` (built by the caller, in config order) as one task."""

    def __init__(self, cfg: MixtureTaskConfig, tasks: list[Any]) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.labels = cfg.labels()
        self.tasks = dict(zip(self.labels, tasks))
        self.verifier = MixtureVerifier({k: task_verifier(t) for k, t in self.tasks.items()})
        notes = {k: e.task.instruction for k, e in zip(self.labels, cfg.tasks)}
        self._train = {k: tag_rows(t.train_rows(), k, notes[k]) for k, t in self.tasks.items()}
        self._eval = [row for k, t in self.tasks.items()
                      for row in tag_rows(t.eval_rows(), k, notes[k])]

    def train_rows(self) -> list[TaskRow]:
        return [row for rows in self._train.values() for row in rows]

    def train_rows_by_task(self) -> dict[str, list[TaskRow]]:
        return dict(self._train)

    def eval_rows(self) -> list[TaskRow]:
        return self._eval

    def verify(self, completion: str, row: TaskRow) -> RewardResult:
        return self.verifier(completion, row)

    def extract_answer(self, completion: str) -> str | None:
        """Votes see no row, so they cannot follow a task's own extraction: the default key
        (last <answer>…</answer>, else the last number) serves every task of the mixture."""
        return default_extract_answer(completion)

    @staticmethod
    def task_of(row_id: str) -> str:
        """The label of the task a tagged row id belongs to."""
        return row_id.split(":", 1)[0]
