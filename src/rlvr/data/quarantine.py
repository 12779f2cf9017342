"""Dataset validation at load time: broken rows go to a quarantine report instead of crashing.

While ``collecting(...)`` is active (the trainer wraps task construction in it), ``read_records``
(rlvr.data.files, used by every file-based task) sends each broken row here with its row number
and reason: non-UTF-8 bytes, invalid JSON, a truncated last line, not an object, larger than
``max_row_bytes``, a duplicate ``id``, a missing required field or one of the wrong type. Outside
``collecting`` the first broken row raises as before. When the block ends, a file whose quarantined
share exceeds ``max_share`` aborts the run with a one-line error naming the file and first reason.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

REPORT_NAME = "quarantine.json"


class DatasetRejected(ValueError):
    """Too many broken rows in a dataset file."""


@dataclass
class QuarantineReport:
    max_row_bytes: int = 1_000_000
    max_share: float = 1.0
    rows: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, int]] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {"quarantined_rows": len(self.rows), "files": self.files}

    def write(self, path: Path) -> None:
        rows = sorted(self.rows, key=lambda r: (r["file"], r["row"]))
        path.write_text(json.dumps({**self.counts(), "rows": rows}, indent=1) + "\n")


_ACTIVE: ContextVar[QuarantineReport | None] = ContextVar("rlvr_quarantine", default=None)


@contextmanager
def collecting(max_row_bytes: int, max_share: float) -> Iterator[QuarantineReport]:
    report = QuarantineReport(max_row_bytes, max_share)
    token = _ACTIVE.set(report)
    try:
        yield report
    finally:
        _ACTIVE.reset(token)
    _check_threshold(report)


def _check_threshold(report: QuarantineReport) -> None:
    for name, counts in report.files.items():
        total, bad = counts["rows"], counts["quarantined"]
        if total and bad / total > report.max_share:
            first = min((r for r in report.rows if r["file"] == name), key=lambda r: r["row"])
            raise DatasetRejected(
                f"{name}: {bad} of {total} rows ({bad / total:.0%}) are broken, above "
                f"reliability.max_quarantined_share={report.max_share}; first: row {first['row']}: "
                f"{first['reason']}")


def max_row_bytes() -> int | None:
    report = _ACTIVE.get()
    return None if report is None else report.max_row_bytes


def count_rows(path: Path, rows: int) -> None:
    report = _ACTIVE.get()
    if report is not None:
        entry = report.files.setdefault(str(path), {"rows": 0, "quarantined": 0})
        entry["rows"] += rows


def reject(path: Path, row: int, reason: str) -> None:
    """Quarantine row ``row`` (1-based line number) of ``path``, or raise when not collecting."""
    report = _ACTIVE.get()
    if report is None:
        raise ValueError(f"{path}:{row}: {reason}")
    report.rows.append({"file": str(path), "row": row, "reason": reason})
    report.files.setdefault(str(path), {"rows": 0, "quarantined": 0})["quarantined"] += 1


def record_problem(record: Any, required: tuple[str, ...], seen_ids: set) -> str | None:
    """Why a parsed record is unusable, or None."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    for key in required:
        if key not in record:
            return f"missing field {key!r} (fields present: {', '.join(sorted(record))[:200]})"
        value = record[key]
        if value is None or isinstance(value, (bool, dict, list)):
            return f"field {key!r} is {type(value).__name__}, expected text or a number"
    row_id = record.get("id")
    if isinstance(row_id, (str, int)):
        if row_id in seen_ids:
            return f"duplicate id {row_id!r}"
        seen_ids.add(row_id)
    return None


def drop(path: Path, row: int, reason: str) -> bool:
    """Quarantine a row a task finds unusable after parsing (gold answer unparseable, gold query
    failing); returns False when not collecting, so the task keeps its old behaviour."""
    if _ACTIVE.get() is None:
        return False
    reject(path, row, reason)
    return True


def keep_valid(path: Path, numbered: list[tuple[int, Any]], total: int,
               required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """The usable ``(row number, record)`` pairs; the others are quarantined (or raise)."""
    count_rows(path, total)
    if _ACTIVE.get() is None:
        for row, record in numbered:
            if not isinstance(record, dict):
                reject(path, row, "expected a JSON object per line")
        return numbered
    seen: set = set()
    kept = []
    for row, record in numbered:
        problem = record_problem(record, required, seen)
        if problem is None:
            kept.append((row, record))
        else:
            reject(path, row, problem)
    return kept
