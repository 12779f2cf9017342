"""Local JSONL / Parquet task files with a field mapping (prompt, reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rlvr.rewards.basic import BASIC_VERIFIERS
from rlvr.types import RewardResult, TaskRow


def read_records(path: Path) -> list[dict[str, Any]]:
    """All records of a .jsonl or .parquet file; a broken JSON line fails naming file and line."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    records = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{line_no}: expected a JSON object per line")
            records.append(record)
    return records


def rows_from_records(records: list[dict], path: Path, prompt_field: str,
                      reference_field: str, split: str) -> list[TaskRow]:
    rows = []
    for index, record in enumerate(records):
        for key in (prompt_field, reference_field):
            if key not in record:
                raise ValueError(f"{path}: row {index + 1} has no field {key!r} "
                                 f"(fields present: {', '.join(sorted(record))})")
        extra = {k: v for k, v in record.items() if k not in (prompt_field, reference_field)}
        rows.append(TaskRow(row_id=f"{path.stem}/{split}/{index}", prompt=str(record[prompt_field]),
                            reference=str(record[reference_field]), metadata=extra))
    return rows


class FileTask:
    """Train rows from ``path``; held-out rows from ``eval_path`` or the last ``eval_size`` rows."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.name = cfg.path.stem
        self._verify = BASIC_VERIFIERS[cfg.verifier]
        rows = rows_from_records(read_records(cfg.path), cfg.path, cfg.prompt_field,
                                 cfg.reference_field, "train")
        if cfg.eval_path is not None:
            self._train = rows
            self._eval = rows_from_records(read_records(cfg.eval_path), cfg.eval_path,
                                           cfg.prompt_field, cfg.reference_field, "eval")
        else:
            if len(rows) <= cfg.eval_size:
                raise ValueError(f"{cfg.path}: {len(rows)} rows cannot hold out eval_size="
                                 f"{cfg.eval_size} and still train; set task.eval_path")
            self._train, self._eval = rows[:-cfg.eval_size], rows[-cfg.eval_size:]
        self._eval = self._eval[:cfg.eval_size]

    def train_rows(self) -> list[TaskRow]:
        return self._train

    def eval_rows(self) -> list[TaskRow]:
        return self._eval

    def verify(self, completion: str, row: TaskRow) -> RewardResult:
        return self._verify(completion, row)
