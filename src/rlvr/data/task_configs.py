"""Config classes of the verified task kinds: GSM8K-style math files, reasoning-gym tasks scored
by the math verifier, and the SQL task (kept free of heavy imports; rlvr.config includes them)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rlvr.config_base import Node
from rlvr.rewards.config import MathPolicy, SqlPolicy


def shipped_file(name: str) -> Path:
    """A data file shipped inside the package (rlvr/data/files/)."""
    return Path(str(resources.files("rlvr.data").joinpath("files", name)))


def _must_exist(value: Path) -> Path:
    if not value.is_file():
        raise ValueError(f"file not found: {value}")
    return value


class _VerifiedTaskCommon(Node):
    system_prompt: str | None = None
    """Optional system message placed before the prompt in the chat template."""
    instruction: str | None = None
    """Optional text appended to every prompt (for example an answer-format request)."""
    eval_size: int = Field(16, ge=1)
    """Held-out prompts used for evaluation."""


class MathFileTask(_VerifiedTaskCommon):
    """Math word problems from a JSONL/Parquet file with a question and an answer field. With
    ``answer_format: gsm8k`` the gold answer is the text after the last '####'."""

    kind: Literal["math_file"] = "math_file"
    path: Path = Field(default_factory=lambda: shipped_file("gsm8k_sample.jsonl"))
    question_field: str = "question"
    answer_field: str = "answer"
    answer_format: Literal["gsm8k", "plain"] = "gsm8k"
    math: MathPolicy = MathPolicy()

    _exists = field_validator("path")(_must_exist)


class ReasoningGymMathTask(_VerifiedTaskCommon):
    """A reasoning-gym generator whose answers are checked by the bounded math verifier
    (extraction, normalisation, exact and symbolic equivalence) instead of its own scorer."""

    kind: Literal["reasoning_gym_math"] = "reasoning_gym_math"
    name: str = "basic_arithmetic"
    params: dict[str, Any] = Field(default_factory=dict)
    """Generator parameters, passed to reasoning_gym.create_dataset."""
    train_size: int = Field(2000, ge=1)
    train_seed: int = 1
    eval_seed: int = 1_000_000
    """Row i comes from Random(seed + i): the seed ranges of the two splits must not overlap."""
    extract: Literal["answer_tag", "last_number"] = "answer_tag"
    """Unused by the math verifier (it extracts \\boxed{}, Answer:, tags, last number)."""
    math: MathPolicy = MathPolicy()

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        from rlvr.data.reasoning_gym import check_task_name

        check_task_name(value)
        return value

    @model_validator(mode="after")
    def _disjoint_seeds(self) -> "ReasoningGymMathTask":
        train = range(self.train_seed, self.train_seed + self.train_size)
        held_out = range(self.eval_seed, self.eval_seed + 8 * self.eval_size)
        if train.start < held_out.stop and held_out.start < train.stop:
            raise ValueError(f"eval_seed={self.eval_seed} reuses generator seeds of the train split")
        return self


class SqlTask(_VerifiedTaskCommon):
    """Text-to-SQL over a SQLite database: rows with a question and a gold query."""

    kind: Literal["sql"] = "sql"
    db: Path = Field(default_factory=lambda: shipped_file("shop.sqlite"))
    questions: Path = Field(default_factory=lambda: shipped_file("shop_questions.jsonl"))
    eval_size: int = Field(6, ge=1)
    sql: SqlPolicy = SqlPolicy()

    _exist = field_validator("db", "questions")(_must_exist)
