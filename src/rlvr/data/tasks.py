"""Tasks: rows (train / held-out) and the verifier bound to them, built from the task config.

A task object offers ``name``, ``train_rows()``, ``eval_rows()``,
``verify(completion, row) -> RewardResult`` and ``extract_answer(completion)``; the same verifier
scores training rewards and evaluation, and the same ``answer_key`` (built on ``extract_answer``;
default in ``RowListTask``, data/split.py) serves the training majority vote and eval's maj@k. New task kinds register a builder in ``TASK_BUILDERS`` and a config class in the
``TaskConfig`` union of rlvr.configs.run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from rlvr.configs.run import RunConfig, TaskConfig
from rlvr.data import quarantine
from rlvr.data.catalogue import SHIPPED_TASKS
from rlvr.data.code_tasks import CODE_TASK_BUILDERS
from rlvr.data.files import FileTask
from rlvr.data.math_tasks import MathFileTask, ReasoningGymMathTask
from rlvr.data.mixture import MixtureTask
from rlvr.data.reasoning_gym import ReasoningGymTask
from rlvr.data.split import answer_key
from rlvr.data.sql_tasks import SqlTask
from rlvr.types import RewardResult, TaskRow


class Task(Protocol):
    name: str

    def train_rows(self) -> list[TaskRow]: ...

    def eval_rows(self) -> list[TaskRow]: ...

    def verify(self, completion: str, row: TaskRow) -> RewardResult: ...

    def extract_answer(self, completion: str) -> str | None: ...


TASK_BUILDERS: dict[str, Any] = {
    "reasoning_gym": ReasoningGymTask,
    "file": FileTask,
    **CODE_TASK_BUILDERS,
    "math_file": MathFileTask,
    "reasoning_gym_math": ReasoningGymMathTask,
    "sql": SqlTask,
    "mixture": lambda cfg: MixtureTask(cfg, [build_task(entry.task) for entry in cfg.tasks]),
}


# Tasks that ship with rlvr, by name (data/catalogue.py): the raw task config each name stands
# for. Any reasoning-gym generator name also works (``task: chain_sum``), as does a file path.
NAMED_TASKS: dict[str, dict[str, Any]] = {name: t.config for name, t in SHIPPED_TASKS.items()}

__all__ = [
    "NAMED_TASKS",
    "TASK_BUILDERS",
    "Task",
    "answer_key",
    "build_checked_task",
    "build_task",
    "task_config_for",
]


def task_config_for(name: str) -> dict[str, Any]:
    """The raw task config that ``task: NAME`` stands for."""
    if name in NAMED_TASKS:
        return dict(NAMED_TASKS[name])
    if name.endswith((".jsonl", ".parquet")):
        return {"kind": "file", "path": name}
    return {"kind": "reasoning_gym", "name": name}


def build_task(cfg: TaskConfig) -> Task:
    return TASK_BUILDERS[cfg.kind](cfg)


def build_checked_task(cfg: RunConfig, run_dir: Path) -> Task:
    """Build the run's task with row validation on; writes ``RUN_DIR/quarantine.json`` (the
    counts and every quarantined row) and prints a one-line summary when rows were dropped."""
    limits = cfg.reliability
    with quarantine.collecting(limits.max_row_bytes, limits.max_quarantined_share) as report:
        task = build_task(cfg.task)
    report.write(run_dir / quarantine.REPORT_NAME)
    if report.rows:
        print(f"rlvr: warning: {len(report.rows)} broken dataset rows quarantined "
              f"(see {run_dir / quarantine.REPORT_NAME})", flush=True)
    return task
