"""Config classes of the verified task kinds: GSM8K-style math files, reasoning-gym tasks scored
by the math verifier, and the SQL task. Imported by rlvr.config for the ``TaskConfig`` union
(import them from there)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from rlvr.config import ReasoningGymTask, TaskCommon
from rlvr.rewards.config import MathPolicy, SqlPolicy


def shipped_file(name: str) -> Path:
    """A data file shipped inside the package (rlvr/data/files/)."""
    return Path(str(resources.files("rlvr.data").joinpath("files", name)))


def _must_exist(value: Path) -> Path:
    if not value.is_file():
        raise ValueError(f"file not found: {value}")
    return value


class MathFileTask(TaskCommon):
    """Math word problems from a JSONL/Parquet file with a question and an answer field. With
    ``answer_format: gsm8k`` the gold answer is the text after the last '####'."""

    kind: Literal["math_file"] = "math_file"
    path: Path = Field(default_factory=lambda: shipped_file("gsm8k_sample.jsonl"))
    question_field: str = "question"
    answer_field: str = "answer"
    answer_format: Literal["gsm8k", "plain"] = "gsm8k"
    eval_size: int = Field(16, ge=1)
    math: MathPolicy = MathPolicy()

    _exists = field_validator("path")(_must_exist)


class ReasoningGymMathTask(ReasoningGymTask):
    """A reasoning-gym generator whose answers are checked by the bounded math verifier
    (extraction, normalisation, exact and symbolic equivalence) instead of its own scorer."""

    kind: Literal["reasoning_gym_math"] = "reasoning_gym_math"  # type: ignore[assignment]
    name: str = "basic_arithmetic"
    math: MathPolicy = MathPolicy()


class SqlTask(TaskCommon):
    """Text-to-SQL over a SQLite database: rows with a question and a gold query."""

    kind: Literal["sql"] = "sql"
    db: Path = Field(default_factory=lambda: shipped_file("shop.sqlite"))
    questions: Path = Field(default_factory=lambda: shipped_file("shop_questions.jsonl"))
    eval_size: int = Field(6, ge=1)
    sql: SqlPolicy = SqlPolicy()

    _exist = field_validator("db", "questions")(_must_exist)
