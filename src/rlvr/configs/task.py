"""Config classes of the verified task kinds: GSM8K-style math files, reasoning-gym tasks scored
by the math verifier, and the SQL task (kept free of heavy imports; rlvr.config includes them)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rlvr.configs.base import Node
from rlvr.configs.reward import MathPolicyConfig, SqlPolicyConfig


def shipped_file(name: str) -> Path:
    """A data file shipped inside the package (rlvr/data/files/)."""
    return Path(str(resources.files("rlvr.data").joinpath("files", name)))


def _must_exist(value: Path) -> Path:
    if not value.is_file():
        raise ValueError(f"file not found: {value}")
    return value


class TaskCommonConfig(Node):
    system_prompt: str | None = None
    """Optional system message placed before the prompt in the chat template."""
    instruction: str | None = None
    """Optional text appended to every prompt (for example an answer-format request)."""
    eval_size: int = Field(64, ge=1)
    """Held-out prompts used for evaluation."""


class ReasoningGymTaskConfig(TaskCommonConfig):
    """A reasoning-gym generator. Train and held-out rows are generated from different seeds and
    any held-out question that also appears in the train split is dropped, so they are disjoint."""

    kind: Literal["reasoning_gym"] = "reasoning_gym"
    name: str = "chain_sum"
    """The reasoning-gym dataset name (checked against the installed package)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Generator parameters, passed to reasoning_gym.create_dataset."""
    extract: Literal["answer_tag", "last_number"] = "answer_tag"
    """What the task's scorer sees: the last <answer>…</answer> (else the whole completion), or
    the last number of the completion."""
    train_size: int = Field(2000, ge=1)
    """Training rows generated."""
    train_seed: int = 1
    """Seed of the training split (row i uses seed train_seed + i)."""
    eval_seed: int = 1_000_000
    """reasoning-gym draws row i from Random(seed + i), so the two seeds must be further apart
    than the rows each split generates (checked)."""

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        from rlvr.data.reasoning_gym import check_task_name

        check_task_name(value)
        return value

    @model_validator(mode="after")
    def _seeds_differ(self) -> "ReasoningGymTaskConfig":
        lo, hi = self.train_seed, self.train_seed + self.train_size
        eval_lo, eval_hi = self.eval_seed, self.eval_seed + 8 * self.eval_size
        if eval_lo < hi and lo < eval_hi:
            raise ValueError(f"eval_seed={self.eval_seed} reuses generator seeds of the train split "
                             f"(rows use seeds {lo}..{hi - 1}, held-out {eval_lo}..{eval_hi - 1})")
        return self


class FileTaskConfig(TaskCommonConfig):
    """Rows from a local JSONL or Parquet file with a field mapping."""

    kind: Literal["file"] = "file"
    path: Path
    """The rows (.jsonl or .parquet; must exist)."""
    eval_path: Path | None = None
    """Held-out rows; when absent, the last ``eval_size`` rows of ``path`` are held out."""
    prompt_field: str = "prompt"
    """Field of each row holding the prompt text."""
    reference_field: str = "reference"
    """Field of each row holding the reference answer."""
    verifier: Literal["numeric", "exact", "exact_nocase"] = "numeric"
    """'numeric': equal as numbers; 'exact': equal strings; 'exact_nocase': equal ignoring case."""

    @field_validator("path", "eval_path")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        if value is not None and value.suffix not in (".jsonl", ".parquet"):
            raise ValueError(f"{value}: expected a .jsonl or .parquet file")
        return value


class MathFileTaskConfig(TaskCommonConfig):
    """Math word problems from a JSONL/Parquet file with a question and an answer field. With
    ``answer_format: gsm8k`` the gold answer is the text after the last '####'."""

    kind: Literal["math_file"] = "math_file"
    eval_size: int = Field(16, ge=1)
    """Held-out prompts used for evaluation."""
    path: Path = Field(default_factory=lambda: shipped_file("gsm8k_sample.jsonl"))
    """The rows (.jsonl or .parquet); default: a GSM8K sample shipped with rlvr."""
    question_field: str = "question"
    """Field of each row holding the question."""
    answer_field: str = "answer"
    """Field of each row holding the gold answer."""
    answer_format: Literal["gsm8k", "plain"] = "gsm8k"
    """'gsm8k': the gold answer is the text after the last '####'; 'plain': the whole field."""
    math: MathPolicyConfig = MathPolicyConfig()
    """How answers are compared (units, percent, tolerances, symbolic check)."""

    _exists = field_validator("path")(_must_exist)


class ReasoningGymMathTaskConfig(ReasoningGymTaskConfig):
    """A reasoning-gym generator whose answers are checked by the bounded math verifier
    (extraction, normalisation, exact and symbolic equivalence) instead of its own scorer.
    ``extract`` is unused: the math verifier extracts \\boxed{}, Answer:, tags, the last number."""

    kind: Literal["reasoning_gym_math"] = "reasoning_gym_math"  # type: ignore[assignment]
    name: str = "basic_arithmetic"
    """The reasoning-gym dataset name."""
    eval_size: int = Field(16, ge=1)
    """Held-out prompts used for evaluation."""
    math: MathPolicyConfig = MathPolicyConfig()
    """How answers are compared (units, percent, tolerances, symbolic check)."""


class SqlTaskConfig(TaskCommonConfig):
    """Text-to-SQL over a SQLite database: rows with a question and a gold query."""

    kind: Literal["sql"] = "sql"
    db: Path = Field(default_factory=lambda: shipped_file("shop.sqlite"))
    """The SQLite database queries run against (opened read-only); default: a shipped shop DB."""
    questions: Path = Field(default_factory=lambda: shipped_file("shop_questions.jsonl"))
    """JSONL rows with a question and its gold query; default: shipped questions."""
    eval_size: int = Field(6, ge=1)
    """Held-out questions used for evaluation."""
    sql: SqlPolicyConfig = SqlPolicyConfig()
    """How queries run and how results compare."""

    _exist = field_validator("db", "questions")(_must_exist)
