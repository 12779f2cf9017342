"""Local JSONL / Parquet task files with a field mapping (prompt, reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rlvr.configs.task import FileTaskConfig
from rlvr.data import quarantine
from rlvr.data.split import RowListTask, hold_out_tail
from rlvr.rewards.basic import BASIC_VERIFIERS
from rlvr.types import TaskRow


def read_records(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """All records of a .jsonl or .parquet file; a broken row fails naming file and line, or is
    quarantined while rlvr.data.quarantine is collecting (then ``required`` fields are checked)."""
    return [record for _, record in read_numbered(path, required)]


def read_numbered(path: Path, required: tuple[str, ...] = ()) -> list[tuple[int, dict[str, Any]]]:
    """``(row number, record)`` pairs: the 1-based line of a JSONL file, the row of a Parquet one."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        records = pq.read_table(path).to_pylist()
        return quarantine.keep_valid(path, list(enumerate(records, start=1)), len(records), required)
    numbered, total = _jsonl_lines(path)
    return quarantine.keep_valid(path, numbered, total, required)


def _jsonl_lines(path: Path) -> tuple[list[tuple[int, Any]], int]:
    limit = quarantine.max_row_bytes()
    lines = path.read_bytes().split(b"\n")
    numbered, total = [], 0
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        total += 1
        if limit is not None and len(line) > limit:
            quarantine.reject(path, line_no, f"row of {len(line)} bytes exceeds "
                                             f"reliability.max_row_bytes={limit}")
            continue
        try:
            numbered.append((line_no, json.loads(line.decode("utf-8"))))
        except UnicodeDecodeError as err:
            quarantine.reject(path, line_no, f"not UTF-8 ({err.reason} at byte {err.start})")
        except json.JSONDecodeError as err:
            torn = "; the last line is truncated" if line_no == len(lines) else ""
            quarantine.reject(path, line_no, f"not valid JSON ({err.msg}){torn}")
    return numbered, total


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


class FileTask(RowListTask):
    """Train rows from ``path``; held-out rows from ``eval_path`` or the last ``eval_size`` rows."""

    def __init__(self, cfg: FileTaskConfig) -> None:
        self.cfg = cfg
        self.name = cfg.path.stem
        self.verifier = BASIC_VERIFIERS[cfg.verifier]
        fields = (cfg.prompt_field, cfg.reference_field)
        rows = rows_from_records(read_records(cfg.path, fields), cfg.path, cfg.prompt_field,
                                 cfg.reference_field, "train")
        if cfg.eval_path is not None:
            self._train = rows
            self._eval = rows_from_records(read_records(cfg.eval_path, fields), cfg.eval_path,
                                           cfg.prompt_field, cfg.reference_field, "eval")
        else:
            self._train, self._eval = hold_out_tail(rows, cfg.eval_size, cfg.path)
        self._eval = self._eval[:cfg.eval_size]

